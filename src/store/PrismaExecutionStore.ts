import type { PrismaClient } from '../generated/prisma/client.js';
import { FencedOutError, type CancelReason } from '../engine/errors.js';
import type { ExecutionOutcome, ExecutionRecord, ExecutionStore, NodeProgress } from '../engine/ports.js';
import type { ExecutionStatus, NodeResult, TriggerEvent } from '../engine/types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A `WorkflowExecution` row as Prisma or raw SQL returns it. */
interface ExecutionRow {
  id: string;
  workflowId: string;
  workflowVersion: number;
  incidentId: string;
  status: string;
  triggerEvent: unknown;
  definitionSnapshot: unknown;
  currentNodeId: string | null;
  completedNodes: string[] | null;
  nodeResults: unknown;
  executionChain: string[] | null;
  error: string | null;
  cancelReason: string | null;
  cancelRequestedAt: Date | string | null;
  attempt: number;
  fence: number;
  createdAt: Date | string;
  startedAt: Date | string | null;
  completedAt: Date | string | null;
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : iso(value);
}

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** Maps a row to the engine's view of a run. */
export function toExecutionRecord(row: ExecutionRow): ExecutionRecord {
  return {
    id: row.id,
    workflowId: row.workflowId,
    workflowVersion: row.workflowVersion,
    incidentId: row.incidentId,
    status: row.status as ExecutionStatus,
    triggerEvent: json<TriggerEvent>(row.triggerEvent),
    definitionSnapshot: json<unknown>(row.definitionSnapshot),
    currentNodeId: row.currentNodeId,
    completedNodes: row.completedNodes ?? [],
    nodeResults: json<Record<string, NodeResult>>(row.nodeResults) ?? {},
    executionChain: row.executionChain ?? [],
    error: row.error,
    cancelReason: row.cancelReason as CancelReason | null,
    cancelRequestedAt: isoOrNull(row.cancelRequestedAt),
    attempt: row.attempt,
    fence: row.fence,
    createdAt: iso(row.createdAt),
    startedAt: isoOrNull(row.startedAt),
    completedAt: isoOrNull(row.completedAt),
  };
}

/**
 * `ExecutionStore` on PostgreSQL. `claim`, `recordNode` and `finish` are each one UPDATE
 * statement guarded by the row's fence, so a worker that lost its lease cannot commit anything:
 * its statement matches no row and it gets `FencedOutError`.
 */
export class PrismaExecutionStore implements ExecutionStore {
  constructor(private readonly prisma: PrismaClient) {}

  async get(executionId: string): Promise<ExecutionRecord | null> {
    if (!UUID.test(executionId)) return null;
    const row = await this.prisma.workflowExecution.findUnique({ where: { id: executionId } });
    return row ? toExecutionRecord(row) : null;
  }

  /** PENDING or RUNNING (a crashed or delayed run being resumed) -> RUNNING, with a new fence. */
  async claim(executionId: string): Promise<{ fence: number; record: ExecutionRecord } | null> {
    if (!UUID.test(executionId)) return null;
    const rows = await this.prisma.$queryRaw<ExecutionRow[]>`
      UPDATE "WorkflowExecution"
         SET "status" = 'RUNNING'::"ExecutionStatus",
             "fence" = "fence" + 1,
             "startedAt" = COALESCE("startedAt", CURRENT_TIMESTAMP),
             "updatedAt" = CURRENT_TIMESTAMP
       WHERE "id" = ${executionId}::uuid AND "status" IN ('PENDING', 'RUNNING')
   RETURNING *`;
    const row = rows[0];
    if (!row) return null;
    const record = toExecutionRecord(row);
    return { fence: record.fence, record };
  }

  async recordNode(executionId: string, fence: number, progress: NodeProgress): Promise<{ cancelRequested: boolean }> {
    this.assertId(executionId);
    const rows = await this.prisma.$queryRaw<{ cancelRequested: boolean }[]>`
      UPDATE "WorkflowExecution"
         SET "nodeResults" = "nodeResults" || jsonb_build_object(${progress.nodeId}::text, ${JSON.stringify(progress.result)}::jsonb),
             "completedNodes" = CASE
               WHEN ${progress.completed}::boolean AND NOT (${progress.nodeId}::text = ANY(COALESCE("completedNodes", ARRAY[]::TEXT[])))
               THEN array_append(COALESCE("completedNodes", ARRAY[]::TEXT[]), ${progress.nodeId}::text)
               ELSE "completedNodes" END,
             "currentNodeId" = ${progress.nodeId}::text,
             "updatedAt" = CURRENT_TIMESTAMP
       WHERE "id" = ${executionId}::uuid AND "fence" = ${fence}::integer
   RETURNING "cancelRequestedAt" IS NOT NULL AS "cancelRequested"`;
    const row = rows[0];
    if (!row) return this.refused(executionId, fence);
    return { cancelRequested: row.cancelRequested };
  }

  async finish(executionId: string, fence: number, outcome: ExecutionOutcome): Promise<void> {
    this.assertId(executionId);
    const count = await this.prisma.$executeRaw`
      UPDATE "WorkflowExecution"
         SET "status" = ${outcome.status}::"ExecutionStatus",
             "error" = ${outcome.error ?? null}::text,
             "cancelReason" = ${outcome.cancelReason ?? null}::text,
             "completedAt" = CURRENT_TIMESTAMP,
             "updatedAt" = CURRENT_TIMESTAMP
       WHERE "id" = ${executionId}::uuid AND "fence" = ${fence}::integer`;
    if (count === 0) await this.refused(executionId, fence);
  }

  async isCancelRequested(executionId: string): Promise<boolean> {
    if (!UUID.test(executionId)) return false;
    const row = await this.prisma.workflowExecution.findUnique({ where: { id: executionId }, select: { cancelRequestedAt: true } });
    return row?.cancelRequestedAt != null;
  }

  private assertId(executionId: string): void {
    if (!UUID.test(executionId)) throw new Error(`execution ${executionId} not found`);
  }

  /** The fenced write matched nothing: say whether the run is gone or the fence is stale (a read, not a write). */
  private async refused(executionId: string, fence: number): Promise<never> {
    const row = await this.prisma.workflowExecution.findUnique({ where: { id: executionId }, select: { fence: true } });
    if (!row) throw new Error(`execution ${executionId} not found`);
    throw new FencedOutError(`execution ${executionId}: fence ${fence} is stale (current ${row.fence})`);
  }
}
