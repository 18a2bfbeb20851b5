/**
 * Intent records for side effects that the remote API cannot make idempotent by itself (Jira).
 * The intent is written before the request; a later attempt that finds a pending intent knows the
 * outcome of an earlier one is unknown and must look for what it may have created before creating
 * again. Keyed by the action's idempotency key (`executionId:nodeId`).
 */

/** One stored intent. */
export interface ActionIntentRecord {
  key: string;
  kind: string;
  state: 'pending' | 'done';
  /** The action's output once done. */
  result: Record<string, unknown> | null;
}

/** Port for intent records (Prisma implementation in PrismaIntentStore.ts). */
export interface IntentStore {
  /** Records a pending intent unless one exists; says whether this call created it. */
  begin(key: string, kind: string): Promise<{ record: ActionIntentRecord; created: boolean }>;
  /** Marks the intent done with the action's output. */
  complete(key: string, result: Record<string, unknown>): Promise<void>;
  get(key: string): Promise<ActionIntentRecord | null>;
}

/** In-memory implementation for unit tests and single-process tools. */
export class MemoryIntentStore implements IntentStore {
  private readonly rows = new Map<string, ActionIntentRecord>();

  async begin(key: string, kind: string): Promise<{ record: ActionIntentRecord; created: boolean }> {
    const existing = this.rows.get(key);
    if (existing) return { record: { ...existing }, created: false };
    const record: ActionIntentRecord = { key, kind, state: 'pending', result: null };
    this.rows.set(key, record);
    return { record: { ...record }, created: true };
  }

  async complete(key: string, result: Record<string, unknown>): Promise<void> {
    const row = this.rows.get(key);
    if (!row) throw new Error(`no intent ${key}`);
    row.state = 'done';
    row.result = result;
  }

  async get(key: string): Promise<ActionIntentRecord | null> {
    const row = this.rows.get(key);
    return row ? { ...row } : null;
  }
}
