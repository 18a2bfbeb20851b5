/**
 * The worker's own state transitions on `WorkflowExecution`, each ONE conditional UPDATE so that
 * racing callers (ten cancels, five retries, two workers) produce exactly one transition:
 * PostgreSQL re-checks the WHERE clause on the row version left by whoever committed first.
 *
 * The executor's per-node and final writes go through the `ExecutionStore` port (fenced); these are
 * the transitions around it that the port does not cover (cancel, retry, suspend, crash recovery).
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { ExecutionStatus } from '../engine/types.js';

/** A run that is not finished, as the reconciler sees it. */
export interface UnfinishedExecution {
  id: string;
  status: 'PENDING' | 'RUNNING';
  attempt: number;
  incidentId: string;
  workflowId: string;
  triggeredBy: string;
  executionChain: string[];
  resumeAt: Date | null;
}

/** The result of `recordCrash`. */
export interface CrashRecord {
  status: 'PENDING' | 'FAILED';
  crashCount: number;
  fence: number;
}

export type RetryTransition =
  | { ok: true; attempt: number; incidentId: string; workflowId: string; executionChain: string[] }
  | { ok: false; status: ExecutionStatus | null; attempt: number | null };

/** Message stored when a run is given up after repeated worker crashes. */
export function crashFailureMessage(crashes: number, step: string | null): string {
  return `worker crashed ${crashes} times while running ${step ? `step "${step}"` : 'this step'}`;
}

export class ExecutionControl {
  constructor(private readonly prisma: PrismaClient) {}

  async status(executionId: string): Promise<{ status: ExecutionStatus; attempt: number } | null> {
    const rows = await this.prisma.$queryRaw<Array<{ status: ExecutionStatus; attempt: number }>>`
      SELECT status::text AS status, attempt FROM "WorkflowExecution" WHERE id = ${executionId}::uuid`;
    return rows[0] ?? null;
  }

  /** Sets the cancel flag (first requester kept) on an unfinished run; null when the run is finished or unknown. */
  async requestCancel(
    executionId: string,
    by: string,
  ): Promise<{ status: 'PENDING' | 'RUNNING'; attempt: number; incidentId: string; workflowId: string } | null> {
    const rows = await this.prisma.$queryRaw<Array<{ status: 'PENDING' | 'RUNNING'; attempt: number; incidentId: string; workflowId: string }>>`
      UPDATE "WorkflowExecution"
         SET "cancelRequestedAt" = COALESCE("cancelRequestedAt", now()),
             "cancelRequestedBy" = COALESCE("cancelRequestedBy", ${by}),
             "updatedAt" = now()
       WHERE id = ${executionId}::uuid AND status IN ('PENDING', 'RUNNING')
   RETURNING status::text AS status, attempt, "incidentId"::text AS "incidentId", "workflowId"::text AS "workflowId"`;
    return rows[0] ?? null;
  }

  /** PENDING -> CANCELLED; true for exactly one caller. */
  async cancelPending(executionId: string, reason = 'manual'): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      UPDATE "WorkflowExecution"
         SET status = 'CANCELLED', "cancelReason" = ${reason}, "completedAt" = now(), "resumeAt" = NULL,
             fence = fence + 1, "updatedAt" = now()
       WHERE id = ${executionId}::uuid AND status = 'PENDING'`;
    return count === 1;
  }

  /** Whether the run's cancel flag is set. */
  async isCancelRequested(executionId: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<Array<{ requested: boolean }>>`
      SELECT "cancelRequestedAt" IS NOT NULL AS requested FROM "WorkflowExecution" WHERE id = ${executionId}::uuid`;
    return rows[0]?.requested ?? false;
  }

  /**
   * A RUNNING run whose holder vanished (stalled job, restarted Redis): count the crash, take the
   * lease away from the old holder (fence + 1), and either hand it back as PENDING or, after
   * `maxCrashes`, fail it with a reason. Null when someone else got there first.
   */
  async recordCrash(executionId: string, seenFence: number, maxCrashes: number, step: string | null): Promise<CrashRecord | null> {
    const rows = await this.prisma.$queryRaw<Array<{ status: 'PENDING' | 'FAILED'; crashCount: number; fence: number }>>`
      UPDATE "WorkflowExecution"
         SET "crashCount" = "crashCount" + 1,
             fence = fence + 1,
             status = (CASE WHEN "crashCount" + 1 >= ${maxCrashes} THEN 'FAILED' ELSE 'PENDING' END)::"ExecutionStatus",
             error = CASE WHEN "crashCount" + 1 >= ${maxCrashes} THEN ${crashFailureMessage(maxCrashes, step)} ELSE error END,
             "completedAt" = CASE WHEN "crashCount" + 1 >= ${maxCrashes} THEN now() ELSE NULL END,
             "updatedAt" = now()
       WHERE id = ${executionId}::uuid AND status = 'RUNNING' AND fence = ${seenFence}
   RETURNING status::text AS status, "crashCount", fence`;
    return rows[0] ?? null;
  }

  /** Fenced RUNNING -> PENDING for a delay node: the run continues at `resumeAt` from a delayed job. */
  async suspend(executionId: string, fence: number, resumeAt: Date): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      UPDATE "WorkflowExecution" SET status = 'PENDING', "resumeAt" = ${resumeAt}, "updatedAt" = now()
       WHERE id = ${executionId}::uuid AND status = 'RUNNING' AND fence = ${fence}`;
    return count === 1;
  }

  /**
   * Fenced RUNNING -> PENDING on shutdown: not a crash, not a cancel; another worker resumes it.
   * The fence moves on, so anything the releasing worker still tries to write is refused.
   */
  async release(executionId: string, fence: number): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      UPDATE "WorkflowExecution" SET status = 'PENDING', fence = fence + 1, "updatedAt" = now()
       WHERE id = ${executionId}::uuid AND status = 'RUNNING' AND fence = ${fence}`;
    return count === 1;
  }

  /** Unfinished run -> FAILED with a reason (BullMQ gave the job up). True for exactly one caller. */
  async failUnfinished(executionId: string, error: string): Promise<boolean> {
    const count = await this.prisma.$executeRaw`
      UPDATE "WorkflowExecution"
         SET status = 'FAILED', error = ${error}, "completedAt" = now(), fence = fence + 1, "updatedAt" = now()
       WHERE id = ${executionId}::uuid AND status IN ('PENDING', 'RUNNING')`;
    return count === 1;
  }

  /**
   * FAILED/CANCELLED -> PENDING with attempt + 1, in one statement. Results of nodes that did not
   * complete (the failed one, a cancelled delay) are dropped so they run again; completed nodes
   * keep theirs and are skipped by the executor.
   */
  async beginRetry(executionId: string, by: string): Promise<RetryTransition> {
    const rows = await this.prisma.$queryRaw<Array<{ attempt: number; incidentId: string; workflowId: string; executionChain: string[] | null }>>`
      UPDATE "WorkflowExecution"
         SET status = 'PENDING', attempt = attempt + 1, error = NULL, "cancelReason" = NULL,
             "cancelRequestedAt" = NULL, "cancelRequestedBy" = NULL, "completedAt" = NULL,
             "crashCount" = 0, "resumeAt" = NULL, "currentNodeId" = NULL,
             "nodeResults" = (SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
                                FROM jsonb_each("nodeResults") AS e(key, value)
                               WHERE e.key = ANY(COALESCE("completedNodes", ARRAY[]::text[]))),
             "updatedAt" = now()
       WHERE id = ${executionId}::uuid AND status IN ('FAILED', 'CANCELLED')
   RETURNING attempt, "incidentId"::text AS "incidentId", "workflowId"::text AS "workflowId", "executionChain"`;
    const row = rows[0];
    if (row) {
      await this.prisma.$executeRaw`
        INSERT INTO "AuditLog" (actor, action, "targetType", "targetId", details)
        VALUES (${by}, 'execution.retry', 'WorkflowExecution', ${executionId}, ${JSON.stringify({ attempt: row.attempt })}::jsonb)`.catch(() => undefined);
      return { ok: true, attempt: row.attempt, incidentId: row.incidentId, workflowId: row.workflowId, executionChain: row.executionChain ?? [] };
    }
    const current = await this.status(executionId);
    return { ok: false, status: current?.status ?? null, attempt: current?.attempt ?? null };
  }

  /** Unfinished runs not touched for `graceMs` (oldest first). */
  async listUnfinished(graceMs: number, limit: number): Promise<UnfinishedExecution[]> {
    const rows = await this.prisma.$queryRaw<Array<Omit<UnfinishedExecution, 'executionChain'> & { executionChain: string[] | null }>>`
      SELECT id::text AS id, status::text AS status, attempt, "incidentId"::text AS "incidentId",
             "workflowId"::text AS "workflowId", "triggeredBy", "executionChain", "resumeAt"
        FROM "WorkflowExecution"
       WHERE status IN ('PENDING', 'RUNNING') AND "updatedAt" < now() - make_interval(secs => ${graceMs / 1000}::float8)
       ORDER BY "updatedAt"
       LIMIT ${limit}`;
    return rows.map((r) => ({ ...r, executionChain: r.executionChain ?? [] }));
  }
}
