import type { PrismaClient } from '../generated/prisma/client.js';
import { sqlFor, type Sql } from './prisma.js';
import { FencedOutError, type CancelReason } from '../engine/errors.js';
import type { ExecutionOutcome, ExecutionRecord, ExecutionStore, NodeProgress } from '../engine/ports.js';
import type { ExecutionStatus, NodeResult, TriggerEvent } from '../engine/types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A `WorkflowExecution` row as Prisma or raw SQL returns it. */
export interface ExecutionRow {
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

const COLUMNS = ['workflowVersion', 'triggerEvent', 'definitionSnapshot', 'currentNodeId', 'completedNodes', 'nodeResults', 'executionChain', 'error', 'cancelReason', 'cancelRequestedAt', 'attempt', 'fence', 'createdAt', 'startedAt', 'completedAt'];
const TEXT_COLUMNS = ['id', 'workflowId', 'incidentId', 'status'];

/**
 * The select list of a run, as `toExecutionRecord` needs it, for every statement that returns a
 * run; `alias` qualifies the columns when the run's table is joined to others.
 */
export function executionColumns(alias?: string): string {
  const q = alias ? `${alias}.` : '';
  return [...TEXT_COLUMNS.map((c) => `${q}"${c}"::text AS "${c}"`), ...COLUMNS.map((c) => `${q}"${c}"`)].join(', ');
}

const EXECUTION_COLUMNS = executionColumns();

/**
 * The SET list of a run's final write, from the placeholders of its status, error and cancel
 * reason. A NULL status leaves the run as it is (a node write that does not end the run).
 */
function finishSet(status: string, error: string, reason: string): string {
  const ends = `${status}::text IS NOT NULL`;
  return `"status" = COALESCE(${status}::text::"ExecutionStatus", "status"),
              "error" = CASE WHEN ${ends} THEN ${error}::text ELSE "error" END,
              "cancelReason" = CASE WHEN ${ends} THEN ${reason}::text ELSE "cancelReason" END,
              "completedAt" = CASE WHEN ${ends} THEN CURRENT_TIMESTAMP ELSE "completedAt" END`;
}

/**
 * `ExecutionStore` on PostgreSQL. `claim`, `recordNode` and `finish` are each one UPDATE
 * statement guarded by the row's fence, so a worker that lost its lease cannot commit anything:
 * its statement matches no row and it gets `FencedOutError`. The per-node statements go straight
 * to the client's `pg` pool as prepared statements (see `sqlFor`).
 */
export class PrismaExecutionStore implements ExecutionStore {
  private readonly sql: Sql;

  constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlFor(prisma);
  }

  async get(executionId: string): Promise<ExecutionRecord | null> {
    if (!UUID.test(executionId)) return null;
    const rows = await this.sql.query<ExecutionRow>('execution-get', `SELECT ${EXECUTION_COLUMNS} FROM "WorkflowExecution" WHERE "id" = $1::uuid`, [executionId]);
    return rows[0] ? toExecutionRecord(rows[0]) : null;
  }

  /** PENDING or RUNNING (a crashed or delayed run being resumed) -> RUNNING, with a new fence. */
  async claim(executionId: string): Promise<{ fence: number; record: ExecutionRecord } | null> {
    if (!UUID.test(executionId)) return null;
    const rows = await this.sql.query<ExecutionRow>(
      'execution-claim',
      `UPDATE "WorkflowExecution"
          SET "status" = 'RUNNING'::"ExecutionStatus",
              "fence" = "fence" + 1,
              "startedAt" = COALESCE("startedAt", CURRENT_TIMESTAMP),
              "updatedAt" = CURRENT_TIMESTAMP
        WHERE "id" = $1::uuid AND "status" IN ('PENDING', 'RUNNING')
    RETURNING ${EXECUTION_COLUMNS}`,
      [executionId],
    );
    const row = rows[0];
    if (!row) return null;
    const record = toExecutionRecord(row);
    return { fence: record.fence, record };
  }

  async recordNode(executionId: string, fence: number, progress: NodeProgress, finish?: ExecutionOutcome): Promise<{ cancelRequested: boolean }> {
    this.assertId(executionId);
    const rows = await this.sql.query<{ cancelRequested: boolean }>(
      'execution-record-node',
      `UPDATE "WorkflowExecution"
          SET "nodeResults" = "nodeResults" || jsonb_build_object($3::text, $4::jsonb),
              "completedNodes" = CASE
                WHEN $5::boolean AND NOT ($3::text = ANY(COALESCE("completedNodes", ARRAY[]::TEXT[])))
                THEN array_append(COALESCE("completedNodes", ARRAY[]::TEXT[]), $3::text)
                ELSE "completedNodes" END,
              "currentNodeId" = $3::text,
              ${finishSet('$6', '$7', '$8')},
              "updatedAt" = CURRENT_TIMESTAMP
        WHERE "id" = $1::uuid AND "fence" = $2::integer
    RETURNING "cancelRequestedAt" IS NOT NULL AS "cancelRequested"`,
      [executionId, fence, progress.nodeId, JSON.stringify(progress.result), progress.completed, finish?.status ?? null, finish?.error ?? null, finish?.cancelReason ?? null],
    );
    const row = rows[0];
    if (!row) return this.refused(executionId, fence);
    return { cancelRequested: row.cancelRequested };
  }

  async finish(executionId: string, fence: number, outcome: ExecutionOutcome): Promise<void> {
    this.assertId(executionId);
    const rows = await this.sql.query<{ id: string }>(
      'execution-finish',
      `UPDATE "WorkflowExecution"
          SET ${finishSet('$3', '$4', '$5')},
              "updatedAt" = CURRENT_TIMESTAMP
        WHERE "id" = $1::uuid AND "fence" = $2::integer
    RETURNING "id"::text AS "id"`,
      [executionId, fence, outcome.status, outcome.error ?? null, outcome.cancelReason ?? null],
    );
    if (rows.length === 0) await this.refused(executionId, fence);
  }

  async isCancelRequested(executionId: string): Promise<boolean> {
    if (!UUID.test(executionId)) return false;
    const rows = await this.sql.query<{ requested: boolean }>(
      'execution-cancel-requested',
      `SELECT "cancelRequestedAt" IS NOT NULL AS "requested" FROM "WorkflowExecution" WHERE "id" = $1::uuid`,
      [executionId],
    );
    return rows[0]?.requested ?? false;
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
