/**
 * A run's chat message references (`WorkflowExecution.chatMessages`), shared by the Slack and Teams
 * notifiers.
 */
import type { PrismaClient } from '../generated/prisma/client.js';

/** One stored reference: which platform, and the field that names where it was posted. */
export type ChatMessageRef = { platform: 'slack'; channel: string } | { platform: 'teams'; conversationId: string };

/**
 * Replace this platform's entry for the same place (Slack channel, Teams conversation) in one
 * statement, so an entry written at the same time by the other platform's notifier is never lost to a
 * read-modify-write race.
 */
export async function replaceChatMessage(prisma: PrismaClient, executionId: string, message: ChatMessageRef & Record<string, unknown>): Promise<void> {
  const [keyField, keyValue] = message.platform === 'slack' ? ['channel', message.channel] : ['conversationId', message.conversationId];
  await prisma.$executeRaw`
    UPDATE "WorkflowExecution"
    SET "chatMessages" = COALESCE((
          SELECT jsonb_agg(e) FROM jsonb_array_elements("chatMessages") e
          WHERE NOT (e->>'platform' = ${message.platform} AND e->>${keyField} = ${keyValue})
        ), '[]'::jsonb) || jsonb_build_array(${JSON.stringify(message)}::jsonb)
    WHERE id = ${executionId}::uuid`;
}
