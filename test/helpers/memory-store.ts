/**
 * In-memory `ExecutionStore` and `WorkflowRepository` for unit tests. They follow the same
 * contract as the Prisma adapters (test/contract/execution-store.contract.ts) and count writes so
 * tests can assert "one write per node".
 */
import { FencedOutError } from '../../src/engine/errors.js';
import type { Clock, ExecutionOutcome, ExecutionRecord, ExecutionStore, NodeProgress, StoredWorkflow, WorkflowRepository } from '../../src/engine/ports.js';
import type { TriggerType } from '../../src/engine/types.js';

/** One persisted write, in order. */
export type StoreWrite =
  | { kind: 'claim'; executionId: string }
  | { kind: 'recordNode'; executionId: string; progress: NodeProgress; finish?: ExecutionOutcome }
  | { kind: 'finish'; executionId: string; outcome: ExecutionOutcome };

export class MemoryExecutionStore implements ExecutionStore {
  private readonly rows = new Map<string, ExecutionRecord>();
  readonly writes: StoreWrite[] = [];

  constructor(private readonly clock: Pick<Clock, 'now'> = { now: () => Date.now() }) {}

  /** Inserts (or replaces) a record as is. */
  insert(record: ExecutionRecord): ExecutionRecord {
    this.rows.set(record.id, structuredClone(record));
    return structuredClone(record);
  }

  /** Sets the cancel flag, as the web process does when someone presses Cancel. */
  requestCancel(executionId: string): void {
    const row = this.rows.get(executionId);
    if (row) row.cancelRequestedAt = new Date(this.clock.now()).toISOString();
  }

  async get(executionId: string): Promise<ExecutionRecord | null> {
    const row = this.rows.get(executionId);
    return row ? structuredClone(row) : null;
  }

  async claim(executionId: string): Promise<{ fence: number; record: ExecutionRecord } | null> {
    const row = this.rows.get(executionId);
    if (!row || (row.status !== 'PENDING' && row.status !== 'RUNNING')) return null;
    row.status = 'RUNNING';
    row.startedAt ??= new Date(this.clock.now()).toISOString();
    row.fence += 1;
    this.writes.push({ kind: 'claim', executionId });
    return { fence: row.fence, record: structuredClone(row) };
  }

  async recordNode(executionId: string, fence: number, progress: NodeProgress, finish?: ExecutionOutcome): Promise<{ cancelRequested: boolean }> {
    const row = this.fenced(executionId, fence);
    row.nodeResults = { ...row.nodeResults, [progress.nodeId]: structuredClone(progress.result) };
    if (progress.completed && !row.completedNodes.includes(progress.nodeId)) row.completedNodes = [...row.completedNodes, progress.nodeId];
    row.currentNodeId = progress.nodeId;
    if (finish) this.applyFinish(row, finish);
    this.writes.push({ kind: 'recordNode', executionId, progress: structuredClone(progress), ...(finish ? { finish: structuredClone(finish) } : {}) });
    return { cancelRequested: row.cancelRequestedAt != null };
  }

  async finish(executionId: string, fence: number, outcome: ExecutionOutcome): Promise<void> {
    this.applyFinish(this.fenced(executionId, fence), outcome);
    this.writes.push({ kind: 'finish', executionId, outcome: structuredClone(outcome) });
  }

  private applyFinish(row: ExecutionRecord, outcome: ExecutionOutcome): void {
    row.status = outcome.status;
    row.error = outcome.error ?? null;
    row.cancelReason = outcome.cancelReason ?? null;
    row.completedAt = new Date(this.clock.now()).toISOString();
  }

  async isCancelRequested(executionId: string): Promise<boolean> {
    return this.rows.get(executionId)?.cancelRequestedAt != null;
  }

  private fenced(executionId: string, fence: number): ExecutionRecord {
    const row = this.rows.get(executionId);
    if (!row) throw new Error(`execution ${executionId} not found`);
    if (row.fence !== fence) throw new FencedOutError(`execution ${executionId}: fence ${fence} is stale (current ${row.fence})`);
    return row;
  }
}

export class MemoryWorkflowRepository implements WorkflowRepository {
  /** Number of `findCandidates` calls (matching must use exactly one). */
  queries = 0;
  constructor(readonly workflows: StoredWorkflow[] = []) {}

  async findCandidates(query: { teamId: string; triggerType: TriggerType }): Promise<StoredWorkflow[]> {
    this.queries += 1;
    return this.workflows
      .filter((w) => w.enabled && w.triggerType === query.triggerType && (w.teamId === null || w.teamId === query.teamId))
      .map((w) => structuredClone(w));
  }
}
