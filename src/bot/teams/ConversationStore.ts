/**
 * Stored Teams conversation references (table `ChatConversation`, platform TEAMS): refreshed by
 * every inbound activity, read for proactive messages, and marked when a send shows the bot was
 * removed or the conversation is gone.
 */
import type { ConversationReference } from 'botbuilder';
import type { PrismaClient } from '../../generated/prisma/client.js';

export type ConversationKind = 'channel' | 'personal' | 'groupChat';

/** A stored conversation as the notifier needs it. */
export interface StoredConversation {
  conversationId: string;
  kind: ConversationKind;
  userId: string | null;
  teamId: string | null;
  serviceUrl: string | null;
  reference: Partial<ConversationReference>;
  removedAt: Date | null;
  lastError: string | null;
}

/**
 * The channel a Teams conversation id stands for. Teams puts the thread into the id of a channel
 * reply (`19:abc@thread.tacv2;messageid=123`); the incident binding and proactive posts use the
 * channel itself, so the suffix is dropped.
 */
export function channelKey(conversationId: string): string {
  return conversationId.split(';')[0]!;
}

function toStored(row: {
  conversationId: string;
  kind: string;
  userId: string | null;
  teamId: string | null;
  serviceUrl: string | null;
  reference: unknown;
  removedAt: Date | null;
  lastError: string | null;
}): StoredConversation {
  return { ...row, kind: row.kind as ConversationKind, reference: row.reference as Partial<ConversationReference> };
}

export class ConversationStore {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Insert or refresh a conversation from an inbound activity. A changed service URL or reference
   * replaces the stored one; a conversation the bot hears from again is no longer "removed".
   */
  async upsert(input: {
    conversationId: string;
    kind: ConversationKind;
    reference: Partial<ConversationReference>;
    serviceUrl: string | null;
    userId?: string | null;
    teamId?: string | null;
  }): Promise<void> {
    const data = {
      kind: input.kind,
      serviceUrl: input.serviceUrl,
      reference: JSON.parse(JSON.stringify(input.reference)) as object,
      removedAt: null,
      lastError: null,
      ...(input.userId ? { userId: input.userId } : {}),
      ...(input.teamId ? { teamId: input.teamId } : {}),
    };
    await this.prisma.chatConversation.upsert({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId: input.conversationId } },
      create: { platform: 'TEAMS', conversationId: input.conversationId, ...data },
      update: data,
    });
  }

  async get(conversationId: string): Promise<StoredConversation | null> {
    const row = await this.prisma.chatConversation.findUnique({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId } },
    });
    return row ? toStored(row) : null;
  }

  /** The newest usable personal (1:1) conversation with a stored user. */
  async findPersonal(userId: string): Promise<StoredConversation | null> {
    const row = await this.prisma.chatConversation.findFirst({
      where: { platform: 'TEAMS', kind: 'personal', userId, removedAt: null },
      orderBy: { updatedAt: 'desc' },
    });
    return row ? toStored(row) : null;
  }

  /** Any usable conversation (for the service URL and tenant when opening a new 1:1). */
  async findAny(preferTeamId?: string | null): Promise<StoredConversation | null> {
    const row =
      (preferTeamId
        ? await this.prisma.chatConversation.findFirst({ where: { platform: 'TEAMS', teamId: preferTeamId, removedAt: null }, orderBy: { updatedAt: 'desc' } })
        : null) ??
      (await this.prisma.chatConversation.findFirst({ where: { platform: 'TEAMS', removedAt: null }, orderBy: { updatedAt: 'desc' } }));
    return row ? toStored(row) : null;
  }

  /** Record that the bot can no longer post here (removed, conversation deleted). */
  async markRemoved(conversationId: string, reason: string): Promise<void> {
    await this.prisma.chatConversation.updateMany({
      where: { platform: 'TEAMS', conversationId },
      data: { removedAt: new Date(), lastError: reason.slice(0, 500) },
    });
  }

  /** Record a failed send that did not mean removal (kept for diagnosis). */
  async recordError(conversationId: string, reason: string): Promise<void> {
    await this.prisma.chatConversation.updateMany({
      where: { platform: 'TEAMS', conversationId },
      data: { lastError: reason.slice(0, 500) },
    });
  }
}
