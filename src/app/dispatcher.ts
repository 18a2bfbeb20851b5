/**
 * The trigger-event dispatcher: turns one `TriggerEvent` into PENDING executions and their jobs.
 *
 * Outbox order: every matched workflow gets its execution row in ONE statement (inside the
 * caller's transaction when there is one, so an incident change and the runs it causes commit
 * together), and only after the commit are the jobs added. If adding a job fails, the rows are
 * already durable and the worker's reconciler enqueues them, so a queue failure never fails the
 * caller. Each row carries its trigger node's result: the event that fired is the trigger node's
 * work, so the INSERT is that node's one write and the worker starts at the next node.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient, Prisma } from '../generated/prisma/client.js';
import { triggerNodeProgress } from '../engine/executor.js';
import { sqlFor } from '../store/prisma.js';
import type { Logger, StoredWorkflow } from '../engine/ports.js';
import type { TriggerEvent } from '../engine/types.js';
import { chainRejection, nextExecutionChain } from '../engine/triggers.js';
import { AppError } from './services.js';
import { TX_OPTIONS, type Db, type JobScheduler, type ScheduledJob, type WorkflowMatcher } from './ports.js';

/** Runs recorded in a transaction, waiting for it to commit before their jobs are added. */
export interface RecordedRuns {
  readonly jobs: ScheduledJob[];
}

export interface DispatcherDeps {
  prisma: PrismaClient;
  match: WorkflowMatcher;
  scheduler: JobScheduler;
  logger: Logger;
}

export class TriggerDispatcher {
  private readonly prisma: PrismaClient;
  private readonly match: WorkflowMatcher;
  private readonly scheduler: JobScheduler;
  private readonly logger: Logger;

  constructor(deps: DispatcherDeps) {
    this.prisma = deps.prisma;
    this.match = deps.match;
    this.scheduler = deps.scheduler;
    this.logger = deps.logger;
  }

  /** Match, record one PENDING execution per matching workflow, then schedule. Returns the execution ids. */
  async emit(event: TriggerEvent): Promise<string[]> {
    const workflows = await this.match(event);
    if (workflows.length === 0) return [];
    // One INSERT statement is atomic on its own: no transaction round trips around it.
    const runs = await this.recordRuns(this.prisma, workflows, event);
    await this.schedule(runs);
    return runs.jobs.map((j) => j.executionId);
  }

  /** Match and record inside the caller's transaction; call `schedule` after it commits. */
  async record(tx: Prisma.TransactionClient, event: TriggerEvent): Promise<RecordedRuns> {
    const workflows = await this.match(event, tx);
    return this.recordRuns(tx, workflows, event);
  }

  /**
   * Start one named workflow (manual trigger): the same record-then-schedule path, without matching.
   * `alongside` runs in the same transaction once the run is recorded (e.g. its audit row), so both
   * commit together; it is not called when cycle detection refuses the run.
   */
  async dispatchTo(
    workflow: StoredWorkflow,
    event: TriggerEvent,
    alongside?: (tx: Prisma.TransactionClient, executionId: string) => Promise<void>,
  ): Promise<string> {
    const runs = alongside
      ? await this.prisma.$transaction(async (tx) => {
          const recorded = await this.recordRuns(tx, [workflow], event);
          const [first] = recorded.jobs;
          if (first) await alongside(tx, first.executionId);
          return recorded;
        }, TX_OPTIONS)
      : await this.recordRuns(this.prisma, [workflow], event);
    await this.schedule(runs);
    const [job] = runs.jobs;
    if (!job) throw new AppError('conflict', `Workflow "${workflow.name}" cannot start here: it is already part of the chain of runs that caused this.`);
    return job.executionId;
  }

  /** Add the jobs of committed runs. Never throws: the reconciler enqueues whatever is missing. */
  async schedule(runs: RecordedRuns): Promise<void> {
    await Promise.all(
      runs.jobs.map(async (job) => {
        try {
          await this.scheduler.schedule(job);
        } catch (error) {
          this.logger.warn(
            { executionId: job.executionId, workflowId: job.workflowId, incidentId: job.incidentId, err: errorText(error) },
            'could not enqueue the run; the reconciler will enqueue it',
          );
        }
      }),
    );
  }

  private async recordRuns(db: Db, workflows: StoredWorkflow[], event: TriggerEvent): Promise<RecordedRuns> {
    const chain = event.executionChain ?? [];
    const triggeredBy: ScheduledJob['triggeredBy'] = event.type === 'manual' ? 'manual' : 'event';
    const userId = event.actor?.kind === 'user' ? (event.actor.id ?? null) : null;
    const now = Date.now();
    const jobs: ScheduledJob[] = [];
    const values: unknown[] = [];
    for (const wf of workflows) {
      // The matcher already applies this; it guards the paths that bypass matching (manual runs).
      const rejection = chainRejection(chain, wf.id);
      if (rejection) {
        this.logger.warn({ workflowId: wf.id, incidentId: event.incident.id, executionChain: chain, reason: rejection }, 'workflow rejected by cycle detection');
        continue;
      }
      const executionId = randomUUID();
      const executionChain = nextExecutionChain(event, wf.id);
      const trigger = triggerNodeProgress(wf.definition, now);
      values.push(
        executionId,
        wf.id,
        wf.version,
        event.incident.id,
        event.type,
        JSON.stringify(event),
        triggeredBy,
        userId,
        JSON.stringify(wf.definition),
        executionChain,
        JSON.stringify(trigger ? { [trigger.nodeId]: trigger.result } : {}),
        trigger ? [trigger.nodeId] : [],
        trigger?.nodeId ?? null,
      );
      jobs.push({ executionId, incidentId: event.incident.id, workflowId: wf.id, triggeredBy, executionChain });
    }
    if (jobs.length > 0) await sqlFor(db).query(`insert-runs-${jobs.length}`, insertRunsSql(jobs.length), values);
    for (const job of jobs) {
      this.logger.info({ executionId: job.executionId, workflowId: job.workflowId, incidentId: job.incidentId, trigger: event.type }, 'run recorded');
    }
    return { jobs };
  }
}

/** Parameters per run in `insertRunsSql`, in the order `recordRuns` pushes them. */
const RUN_PARAMS = 13;

/** One INSERT of `n` PENDING runs (`RUN_PARAMS` parameters each). */
function insertRunsSql(n: number): string {
  const rows = Array.from({ length: n }, (_, r) => {
    const p = (k: number) => `$${r * RUN_PARAMS + k}`;
    return `(${p(1)}::uuid, ${p(2)}::uuid, ${p(3)}::integer, ${p(4)}::uuid, 'PENDING', ${p(5)}::text, ${p(6)}::jsonb, ${p(7)}::text, ${p(8)}::uuid,
             ${p(9)}::jsonb, ${p(10)}::text[], ${p(11)}::jsonb, ${p(12)}::text[], ${p(13)}::text, CURRENT_TIMESTAMP)`;
  });
  return `INSERT INTO "WorkflowExecution" ("id", "workflowId", "workflowVersion", "incidentId", "status", "triggerType", "triggerEvent",
            "triggeredBy", "triggeredByUserId", "definitionSnapshot", "executionChain", "nodeResults", "completedNodes", "currentNodeId", "updatedAt")
          VALUES ${rows.join(',\n                 ')}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
