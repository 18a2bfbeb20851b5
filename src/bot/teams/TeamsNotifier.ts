/**
 * The Teams `ChatNotifier`: one live Adaptive Card per run in the incident's conversation
 * (posted once, then updated in place), failure alerts to the team channel and as personal
 * messages to the incident assignee and the workflow author, and plain posts for `chat.post`.
 *
 * Everything goes out proactively through stored conversation references
 * (`continueConversationAsync`), paced per conversation and retried on throttling. A bot removed
 * from a conversation (403), a conversation that no longer exists (404) or any other failure is
 * recorded on the `ChatConversation` row and logged; it never throws into the run.
 */
import { ActivityTypes, CardFactory, TurnContext, type Activity, type CloudAdapter, type ConversationReference } from 'botbuilder';
import type { ChatNotifier, FailureAlert, Logger, RunView } from '../../engine/ports.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { neutralizeMentions, truncate } from '../text.js';
import { renderFailureCard, renderRunCard, type AdaptiveCard } from './cards.js';
import type { ConversationStore, StoredConversation } from './ConversationStore.js';
import { ConversationPacer, statusOf, withRetry, type RetryOptions } from './outbound.js';
import { replaceChatMessage } from '../../store/chat-messages.js';

/** What we keep in `WorkflowExecution.chatMessages` for a Teams run card. */
export interface TeamsChatMessage {
  platform: 'teams';
  conversationId: string;
  activityId: string;
  revision: number;
}

export interface TeamsNotifierDeps {
  adapter: CloudAdapter;
  /** The bot's Microsoft App ID ('' when running unauthenticated for the Emulator). */
  appId: string;
  prisma: PrismaClient;
  conversations: ConversationStore;
  logger: Logger;
  pacer?: ConversationPacer;
  retry?: RetryOptions;
}

/** A send that failed in a way that says the conversation cannot be used any more. */
function isGone(status: number | undefined): boolean {
  return status === 403 || status === 404;
}

function describeFailure(error: unknown): string {
  const status = statusOf(error);
  const code = (error as { code?: unknown; body?: { error?: { code?: unknown } } } | null)?.body?.error?.code ?? (error as { code?: unknown } | null)?.code;
  // The status and the service's error code say enough; the raw message can echo request details.
  return `HTTP ${status ?? '?'}${typeof code === 'string' ? ` ${code}` : ''}`;
}

export class TeamsNotifier implements ChatNotifier {
  private readonly pacer: ConversationPacer;
  /** Per-run chains so one run's card is never posted twice by overlapping calls in this process. */
  private readonly runChains = new Map<string, Promise<void>>();
  private readonly pendingViews = new Map<string, RunView>();
  /** Status of the last failed call per conversation (to tell a deleted card from a removed bot). */
  private readonly lastStatus = new Map<string, number | undefined>();

  constructor(private readonly deps: TeamsNotifierDeps) {
    this.pacer = deps.pacer ?? new ConversationPacer();
  }

  async publishProgress(view: RunView): Promise<void> {
    // Latest state wins: a call arriving while one is in flight replaces any older pending view.
    const pending = this.pendingViews.get(view.executionId);
    if (!pending || pending.revision <= view.revision) this.pendingViews.set(view.executionId, view);
    const previous = this.runChains.get(view.executionId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const latest = this.pendingViews.get(view.executionId);
      if (!latest) return;
      this.pendingViews.delete(view.executionId);
      await this.publishNow(latest).catch((error: unknown) =>
        this.deps.logger.error({ executionId: view.executionId, err: describeFailure(error) }, 'teams: progress update failed'),
      );
    });
    this.runChains.set(view.executionId, next);
    await next;
    if (this.runChains.get(view.executionId) === next) this.runChains.delete(view.executionId);
  }

  private async publishNow(view: RunView): Promise<void> {
    const channels = await this.deps.prisma.incidentChannel.findMany({
      where: { incidentId: view.incident.id, platform: 'TEAMS' },
      select: { channelId: true },
    });
    if (channels.length === 0) return;
    const execution = await this.deps.prisma.workflowExecution.findUnique({ where: { id: view.executionId }, select: { chatMessages: true } });
    const stored = ((execution?.chatMessages ?? []) as unknown as Array<Partial<TeamsChatMessage>>).filter(
      (m): m is TeamsChatMessage => m?.platform === 'teams' && typeof m.activityId === 'string',
    );
    const card = renderRunCard(view);
    for (const { channelId } of channels) {
      const existing = stored.find((m) => m.conversationId === channelId);
      if (existing && existing.revision >= view.revision) continue;
      const conversation = await this.deps.conversations.get(channelId);
      if (!conversation || conversation.removedAt) {
        this.deps.logger.warn({ executionId: view.executionId, conversationId: channelId, removed: Boolean(conversation?.removedAt) }, 'teams: incident conversation not reachable');
        continue;
      }
      let activityId = await this.sendCard(conversation, card, existing?.activityId, { executionId: view.executionId });
      // The card was deleted by someone (404 on update, conversation still there): post a new one.
      if (!activityId && existing && this.lastStatus.get(channelId) === 404 && !(await this.deps.conversations.get(channelId))?.removedAt)
        activityId = await this.sendCard(conversation, card, undefined, { executionId: view.executionId });
      if (activityId) await replaceChatMessage(this.deps.prisma, view.executionId, { platform: 'teams', conversationId: channelId, activityId, revision: view.revision });
    }
  }

  async notifyFailure(alert: FailureAlert): Promise<void> {
    const card = renderFailureCard(alert);
    const log = { executionId: alert.run.executionId };
    try {
      const team = await this.deps.prisma.team.findUnique({ where: { id: alert.teamId }, select: { teamsConversationId: true } });
      if (team?.teamsConversationId) {
        const conversation = await this.deps.conversations.get(team.teamsConversationId);
        if (conversation && !conversation.removedAt) await this.sendCard(conversation, card, undefined, log);
        else this.deps.logger.warn({ ...log, conversationId: team.teamsConversationId }, 'teams: team channel not reachable for the failure alert');
      }
      const people = [...new Set([alert.assigneeId, alert.authorId].filter((id): id is string => Boolean(id)))];
      for (const userId of people) await this.sendPersonal(userId, alert.teamId, card, log);
    } catch (error) {
      this.deps.logger.error({ ...log, err: describeFailure(error) }, 'teams: failure alert failed');
    }
  }

  /**
   * `chat.post`: a plain message to the incident's or the team's conversation. Returns the new
   * activity id, or '' when there is no Teams conversation for the target. Unlike the other two
   * methods this one throws when the post itself fails, so the action reports the failure.
   */
  async postMessage(target: { incidentId: string; teamId: string; channel: 'incident' | 'team' }, text: string): Promise<{ ref: string }> {
    let conversationId: string | null | undefined;
    if (target.channel === 'incident') {
      conversationId = (await this.deps.prisma.incidentChannel.findFirst({ where: { incidentId: target.incidentId, platform: 'TEAMS' }, select: { channelId: true } }))?.channelId;
    } else {
      conversationId = (await this.deps.prisma.team.findUnique({ where: { id: target.teamId }, select: { teamsConversationId: true } }))?.teamsConversationId;
    }
    if (!conversationId) return { ref: '' };
    const conversation = await this.deps.conversations.get(conversationId);
    if (!conversation || conversation.removedAt) return { ref: '' };
    const activity: Partial<Activity> = { type: ActivityTypes.Message, text: truncate(neutralizeMentions(text), 20_000), textFormat: 'markdown' };
    const id = await this.send(conversation, activity, undefined, { incidentId: target.incidentId });
    if (!id) throw new Error(`chat.post: Teams did not accept the message (${conversation.lastError ?? 'see logs'})`);
    return { ref: id };
  }

  /** Open (or reuse) a 1:1 conversation with a stored user and send them the card. */
  private async sendPersonal(userId: string, teamId: string, card: AdaptiveCard, log: Record<string, unknown>): Promise<void> {
    let conversation = await this.deps.conversations.findPersonal(userId);
    if (!conversation) conversation = await this.openPersonal(userId, teamId, log);
    if (!conversation) {
      this.deps.logger.info({ ...log, userId }, 'teams: no way to reach this person in Teams yet (they have not talked to the bot)');
      return;
    }
    await this.sendCard(conversation, card, undefined, log);
  }

  /** Create a 1:1 conversation (POST /v3/conversations) using the tenant and service URL of a known conversation. */
  private async openPersonal(userId: string, teamId: string, log: Record<string, unknown>): Promise<StoredConversation | null> {
    const user = await this.deps.prisma.user.findUnique({ where: { id: userId }, select: { teamsUserId: true } });
    if (!user?.teamsUserId) return null;
    const via = await this.deps.conversations.findAny(teamId);
    if (!via?.serviceUrl) return null;
    const tenantId = (via.reference.conversation as { tenantId?: string } | undefined)?.tenantId;
    let created: Partial<ConversationReference> | null = null;
    try {
      await withRetry(
        () =>
          this.deps.adapter.createConversationAsync(
            this.deps.appId,
            'msteams',
            via.serviceUrl!,
            'https://api.botframework.com',
            {
              isGroup: false,
              bot: via.reference.bot ?? { id: this.deps.appId, name: 'bot' },
              members: [{ id: user.teamsUserId!, name: '' }],
              ...(tenantId ? { tenantId, channelData: { tenant: { id: tenantId } } } : {}),
            } as never,
            async (context: TurnContext) => {
              created = context.activity ? { ...TurnContext.getConversationReference(context.activity) } : null;
            },
          ),
        this.deps.retry,
      );
    } catch (error) {
      this.deps.logger.warn({ ...log, userId, err: describeFailure(error) }, 'teams: could not open a personal conversation');
      return null;
    }
    const reference = created as Partial<ConversationReference> | null;
    if (!reference?.conversation?.id) return null;
    delete reference.activityId;
    await this.deps.conversations.upsert({
      conversationId: reference.conversation.id,
      kind: 'personal',
      reference,
      serviceUrl: via.serviceUrl,
      userId,
    });
    return this.deps.conversations.get(reference.conversation.id);
  }

  private sendCard(conversation: StoredConversation, card: AdaptiveCard, updateId: string | undefined, log: Record<string, unknown>): Promise<string | null> {
    return this.send(conversation, { type: ActivityTypes.Message, attachments: [CardFactory.adaptiveCard(card)] }, updateId, log);
  }

  /**
   * Send (or update, when `updateId` is given) one activity in a stored conversation. Returns the
   * activity id, or null when it could not be delivered (the reason is recorded on the row).
   */
  private async send(conversation: StoredConversation, activity: Partial<Activity>, updateId: string | undefined, log: Record<string, unknown>): Promise<string | null> {
    const reference = { ...conversation.reference, serviceUrl: conversation.serviceUrl ?? conversation.reference.serviceUrl } as Partial<ConversationReference>;
    try {
      return await this.pacer.run(conversation.conversationId, () =>
        withRetry(async () => {
          let id: string | null = null;
          await this.deps.adapter.continueConversationAsync(this.deps.appId, reference, async (context) => {
            if (updateId) {
              await context.updateActivity({ ...activity, id: updateId, conversation: reference.conversation } as Partial<Activity>);
              id = updateId;
            } else {
              // Why: the continuation activity carries a made-up id that sendActivity would turn into
              // `replyToId` (POST .../activities/{id}, a threaded reply). A proactive post belongs at the
              // top of the conversation (POST .../activities), so the id is dropped first.
              delete (context.activity as Partial<Activity>).id;
              id = (await context.sendActivity(activity))?.id ?? null;
            }
          });
          return id;
        }, {
          ...this.deps.retry,
          onRetry: (info) => this.deps.logger.info({ ...log, conversationId: conversation.conversationId, ...info }, 'teams: throttled or unavailable, retrying'),
        }),
      );
    } catch (error) {
      const status = statusOf(error);
      const reason = describeFailure(error);
      this.lastStatus.set(conversation.conversationId, status);
      if (this.lastStatus.size > 1000) this.lastStatus.delete(this.lastStatus.keys().next().value!);
      if (updateId && status === 404) {
        // An update of one message: 404 means that message is gone, not the conversation.
        this.deps.logger.info({ ...log, conversationId: conversation.conversationId }, 'teams: run card no longer exists; posting a new one');
        return null;
      }
      if (isGone(status)) {
        await this.deps.conversations.markRemoved(conversation.conversationId, reason).catch(() => undefined);
        this.deps.logger.warn({ ...log, conversationId: conversation.conversationId, status }, 'teams: bot removed or conversation gone; recorded');
      } else {
        await this.deps.conversations.recordError(conversation.conversationId, reason).catch(() => undefined);
        this.deps.logger.warn({ ...log, conversationId: conversation.conversationId, status, err: reason }, 'teams: send failed');
      }
      conversation.lastError = reason;
      return null;
    }
  }
}
