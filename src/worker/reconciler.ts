/**
 * The reconciler: PostgreSQL says which runs are unfinished, Redis which have a job. A run with no
 * live job (crash between the row write and the add, Redis restarted empty, a job that failed
 * outside a run) is enqueued again. Nothing runs twice: while a job exists, re-adding it is a no-op
 * (job id = execution id), and the run's fence refuses writes from anyone but its latest claimer.
 */
import type { Logger } from '../engine/ports.js';
import type { ExecutionControl } from './execution-control.js';
import type { WorkflowQueue } from './queue.js';
import { withTimeout } from './timeout.js';

/** Job states that mean "somebody will run this". */
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

export interface ReconcilerOptions {
  control: ExecutionControl;
  queue: WorkflowQueue;
  logger: Logger;
  /** Runs untouched for less than this are left alone (their producer may be about to add the job). */
  graceMs?: number;
  /** Runs looked at per pass (default 500). */
  batchSize?: number;
}

export class Reconciler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly tickHooks: Array<() => Promise<void>> = [];

  constructor(private readonly options: ReconcilerOptions) {}

  /** Also run `hook` on each periodic pass (e.g. re-creating the age scheduler after a Redis wipe). */
  onTick(hook: () => Promise<void>): void {
    this.tickHooks.push(hook);
  }

  /** One pass. Returns how many runs were enqueued again. */
  async runOnce(): Promise<{ enqueued: number; checked: number }> {
    const { control, queue, logger } = this.options;
    const runs = await control.listUnfinished(this.options.graceMs ?? 5000, this.options.batchSize ?? 500);
    let enqueued = 0;
    for (const run of runs) {
      const job = await withTimeout(queue.getJob(run.id, run.attempt), 5000, 'reconciler lookup');
      const state = job ? await withTimeout(job.getState(), 5000, 'reconciler state') : 'missing';
      if (LIVE_STATES.has(state)) continue;
      if (job) await withTimeout(job.remove(), 5000, 'reconciler remove').catch(() => undefined);
      const delayMs = run.resumeAt ? run.resumeAt.getTime() - Date.now() : 0;
      const result = await queue.scheduleWorkflow(
        {
          executionId: run.id,
          incidentId: run.incidentId,
          workflowId: run.workflowId,
          triggeredBy: run.triggeredBy,
          executionChain: run.executionChain,
          attempt: run.attempt,
        },
        { delayMs },
      );
      if (result.enqueued) {
        enqueued++;
        logger.warn({ executionId: run.id, status: run.status, jobState: state }, 'reconciler: run had no live job; enqueued again');
      }
    }
    return { enqueued, checked: runs.length };
  }

  /** Run a pass every `intervalMs` (never two at once). */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = Promise.allSettled([this.runOnce(), ...this.tickHooks.map((h) => h())])
        .then((results) => {
          for (const r of results) {
            if (r.status === 'rejected') this.options.logger.warn({ err: String((r.reason as Error)?.message ?? r.reason) }, 'reconciler pass failed');
          }
        })
        .finally(() => {
          this.running = null;
        });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
