/**
 * At-most-once handling of Slack deliveries. Slack retries Events API deliveries
 * (`X-Slack-Retry-Num`) and anyone holding a signed request can replay it within the five-minute
 * window, so every command, click and event claims a row in `ProcessedEvent` first
 * (`INSERT ... ON CONFLICT DO NOTHING`): only the claimant runs it.
 */
import { createHash } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client.js';

/**
 * The identity of one delivery: the Events API `event_id`; for slash commands and interactions the
 * `trigger_id` Slack mints per invocation (plus the click's `action_ts`); otherwise a hash of the body.
 */
export function deliveryKey(body: Record<string, unknown>): string {
  if (typeof body.event_id === 'string' && body.event_id) return `slack:event:${body.event_id}`;
  const actions = Array.isArray(body.actions) ? (body.actions as Array<Record<string, unknown>>) : [];
  const actionTs = actions.map((a) => (typeof a.action_ts === 'string' ? a.action_ts : '')).join(',');
  if (typeof body.trigger_id === 'string' && body.trigger_id) {
    const kind = typeof body.command === 'string' ? 'command' : 'interaction';
    return `slack:${kind}:${body.trigger_id}${actionTs ? `:${actionTs}` : ''}`;
  }
  return `slack:body:${createHash('sha256').update(JSON.stringify(body)).digest('hex')}`;
}

/** Where claims are recorded. */
export interface DeliveryLedger {
  /** True for the first claim of `key`, false for every later one. Throws when the store is unreachable. */
  claim(key: string, source: string): Promise<boolean>;
}

/** The ledger on the `ProcessedEvent` table. */
export class PrismaDeliveryLedger implements DeliveryLedger {
  constructor(private readonly prisma: PrismaClient) {}

  async claim(key: string, source: string): Promise<boolean> {
    const inserted = await this.prisma.$executeRaw`INSERT INTO "ProcessedEvent" ("id", "source") VALUES (${key}, ${source}) ON CONFLICT ("id") DO NOTHING`;
    return inserted === 1;
  }

  /** Forget claims older than `olderThanMs` (Slack's replay window is five minutes). Returns how many went. */
  async prune(olderThanMs: number, source = 'slack'): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    return this.prisma.$executeRaw`DELETE FROM "ProcessedEvent" WHERE "source" = ${source} AND "createdAt" < ${cutoff}`;
  }
}
