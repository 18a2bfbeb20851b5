/** `IntentStore` on the ActionIntent table. */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ActionIntentRecord, IntentStore } from './IntentStore.js';

function toRecord(row: { key: string; kind: string; state: string; result: unknown }): ActionIntentRecord {
  return {
    key: row.key,
    kind: row.kind,
    state: row.state === 'done' ? 'done' : 'pending',
    result: row.result && typeof row.result === 'object' ? (row.result as Record<string, unknown>) : null,
  };
}

export class PrismaIntentStore implements IntentStore {
  constructor(private readonly prisma: PrismaClient) {}

  async begin(key: string, kind: string): Promise<{ record: ActionIntentRecord; created: boolean }> {
    // INSERT ... ON CONFLICT DO NOTHING tells us in one statement whether we created it.
    const inserted = await this.prisma.actionIntent.createMany({ data: [{ key, kind, state: 'pending' }], skipDuplicates: true });
    const row = await this.prisma.actionIntent.findUniqueOrThrow({ where: { key } });
    return { record: toRecord(row), created: inserted.count === 1 };
  }

  async complete(key: string, result: Record<string, unknown>): Promise<void> {
    await this.prisma.actionIntent.update({ where: { key }, data: { state: 'done', result: result as object } });
  }

  async get(key: string): Promise<ActionIntentRecord | null> {
    const row = await this.prisma.actionIntent.findUnique({ where: { key } });
    return row ? toRecord(row) : null;
  }
}
