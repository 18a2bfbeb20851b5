/**
 * Cancelling a run (seed plan's `cancelWorkflow`), across processes:
 * 1. the database flag (`cancelRequestedAt/By`) is set, so whichever worker holds the run, now or
 *    after a crash, stops before its next node;
 * 2. a Redis pub/sub message tells the worker holding the run to abort its in-flight action now;
 * 3. a run that is not running (queued or waiting on a delay) has its job removed and is marked
 *    CANCELLED directly by one conditional UPDATE, so ten concurrent cancels make one transition.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../engine/ports.js';
import type { ExecutionStatus } from '../engine/types.js';
import type { ExecutionControl } from './execution-control.js';
import type { WorkflowQueue } from './queue.js';
import { withTimeout } from './timeout.js';

/** The answer to a cancel request (same shape as the app layer's `CancelResult`). */
export interface CancelResult {
  /** `cancelled`: this call made the run CANCELLED; `cancelling`: the worker holding it is stopping it; `already_finished`: nothing to do. */
  outcome: 'cancelled' | 'cancelling' | 'already_finished';
  status: ExecutionStatus;
}

/** The execution id does not exist. */
export class UnknownExecutionError extends Error {
  constructor(readonly executionId: string) {
    super(`unknown execution ${executionId}`);
    this.name = 'UnknownExecutionError';
  }
}

/** Pub/sub channel carrying cancel requests (payload: the execution id), per queue prefix. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:workflow:cancel`;
}

export interface CancelDeps {
  control: ExecutionControl;
  queue: WorkflowQueue;
  /** A normal (non-subscriber) connection to publish on. */
  publisher: Redis;
  logger?: Logger;
}

/** Cancel one run. Cancelling a finished run is a no-op answered with `already_finished`. */
export async function cancelWorkflow(deps: CancelDeps, executionId: string, by: string): Promise<CancelResult> {
  const flagged = await deps.control.requestCancel(executionId, by);
  if (!flagged) {
    const current = await deps.control.status(executionId);
    if (!current) throw new UnknownExecutionError(executionId);
    return { outcome: 'already_finished', status: current.status };
  }
  await withTimeout(deps.publisher.publish(cancelChannel(deps.queue.prefix), executionId), 2000, 'cancel publish').catch((error: unknown) => {
    // The flag is durable: the holder still stops before its next node, only less promptly.
    deps.logger?.warn({ executionId, err: error instanceof Error ? error.message : String(error) }, 'cancel: could not publish to workers');
  });

  if (flagged.status === 'PENDING') {
    // A job a worker has just locked cannot be removed, and Redis may be away; marking the row
    // CANCELLED still wins, because the worker's claim needs PENDING (a leftover job is skipped).
    const job = await withTimeout(deps.queue.getJob(executionId, flagged.attempt), 2000, 'cancel lookup').catch(() => undefined);
    if (job) await withTimeout(job.remove(), 2000, 'cancel remove').catch(() => undefined);
    if (await deps.control.cancelPending(executionId)) {
      deps.logger?.info({ executionId, by }, 'run cancelled before it ran');
      // No worker holds this run, so have one publish its final state to chat.
      await deps.queue.schedulePublish({
        executionId,
        incidentId: flagged.incidentId,
        workflowId: flagged.workflowId,
        triggeredBy: 'cancel',
        executionChain: [],
        attempt: flagged.attempt,
      });
      return { outcome: 'cancelled', status: 'CANCELLED' };
    }
  }
  const current = await deps.control.status(executionId);
  if (!current) throw new UnknownExecutionError(executionId);
  if (current.status === 'PENDING' || current.status === 'RUNNING') return { outcome: 'cancelling', status: current.status };
  return { outcome: 'already_finished', status: current.status };
}
