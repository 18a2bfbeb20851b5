/**
 * What the worker needs besides the execution record to tell people about a run: workflow name
 * and author, incident title, number, team and assignee. Read with the run itself, in the same
 * statement: a job's start costs one round trip on the common path (`claimNewRun`).
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ExecutionRecord } from '../engine/ports.js';
import { executionColumns, toExecutionRecord, type ExecutionRow } from '../store/PrismaExecutionStore.js';
import { sqlFor } from '../store/prisma.js';

export interface RunContext {
  workflowName: string;
  authorId: string | null;
  incident: { id: string; number: number; title: string; teamId: string; assigneeId: string | null };
  triggeredByUserId: string | null;
}

interface RunContextRow {
  triggeredByUserId: string | null;
  workflowName: string;
  authorId: string | null;
  incidentNumber: number;
  incidentTitle: string;
  teamId: string;
  assigneeId: string | null;
}

/** A run and its context, as one statement returns them. */
export interface RunWithContext {
  record: ExecutionRecord;
  ctx: RunContext;
}

/** The context columns, from the run `e`, its workflow `w` and its incident `i`. */
const CONTEXT_COLUMNS = `e."triggeredByUserId"::text AS "triggeredByUserId",
           w."name" AS "workflowName",
           w."authorId"::text AS "authorId",
           i."number" AS "incidentNumber",
           i."title" AS "incidentTitle",
           i."teamId"::text AS "teamId",
           i."assigneeId"::text AS "assigneeId"`;

const CONTEXT_JOINS = `JOIN "Workflow" w ON w."id" = e."workflowId"
      JOIN "Incident" i ON i."id" = e."incidentId"`;

function toRunWithContext(row: ExecutionRow & RunContextRow): RunWithContext {
  const record = toExecutionRecord(row);
  return {
    record,
    ctx: {
      workflowName: row.workflowName,
      authorId: row.authorId,
      incident: { id: record.incidentId, number: Number(row.incidentNumber), title: row.incidentTitle, teamId: row.teamId, assigneeId: row.assigneeId },
      triggeredByUserId: row.triggeredByUserId,
    },
  };
}

/**
 * The run and its context in one statement (a join). A nested Prisma `select` would issue one
 * query per relation (Prisma's default relation-load strategy).
 */
export async function loadRunWithContext(prisma: PrismaClient, executionId: string): Promise<RunWithContext | null> {
  if (!isUuid(executionId)) return null;
  const rows = await sqlFor(prisma).query<ExecutionRow & RunContextRow>(
    'run-with-context',
    `SELECT ${executionColumns('e')}, ${CONTEXT_COLUMNS}
       FROM "WorkflowExecution" e
       ${CONTEXT_JOINS}
      WHERE e."id" = $1::uuid`,
    [executionId],
  );
  return rows[0] ? toRunWithContext(rows[0]) : null;
}

/**
 * The common start of a job in one statement: claim a run that has never started and needs no
 * recovery (PENDING, no cancel request, not resuming a delay, not an earlier attempt's job) and
 * return it with its context. Null means "not that simple": the caller reads the run and decides
 * (finished, cancelled, crashed, delayed, stale job) as before. Same fence rule as
 * `ExecutionStore.claim`: the claim bumps the fence.
 *
 * The claim's commit does not wait for the WAL flush (`synchronous_commit` off for this statement's
 * transaction only): it sits between the run's INSERT and its first action, where a flush wait
 * is pure latency. Losing it is harmless: WAL is flushed in order, so the run's first node write
 * (a normal, durable commit) makes the claim durable too; only a PostgreSQL crash before that
 * write can lose it, and then the run is PENDING with its old fence, exactly as if this worker had
 * died before claiming: the stale worker's next write is refused by the fence and the reconciler
 * enqueues the run again (an action already sent is sent again with the same idempotency key).
 */
export async function claimNewRun(prisma: PrismaClient, executionId: string, jobAttempt: number | null): Promise<RunWithContext | null> {
  if (!isUuid(executionId)) return null;
  const rows = await sqlFor(prisma).query<ExecutionRow & RunContextRow>(
    'run-claim-new',
    `WITH c AS (
       UPDATE "WorkflowExecution"
          SET "status" = 'RUNNING'::"ExecutionStatus",
              "fence" = "fence" + 1,
              "startedAt" = CURRENT_TIMESTAMP,
              "updatedAt" = CURRENT_TIMESTAMP
        WHERE "id" = $1::uuid AND "status" = 'PENDING' AND "startedAt" IS NULL AND "resumeAt" IS NULL
          AND "cancelRequestedAt" IS NULL AND ($2::integer IS NULL OR "attempt" <= $2::integer)
          -- A scalar subquery runs once, before the update; an unreferenced CTE would not run at all.
          AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
    RETURNING *)
     SELECT ${executionColumns('e')}, ${CONTEXT_COLUMNS}
       FROM c e
       ${CONTEXT_JOINS}`,
    [executionId, jobAttempt],
  );
  return rows[0] ? toRunWithContext(rows[0]) : null;
}

/** Ids look like UUIDs in this schema; anything else cannot be an execution. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
