/**
 * Retrying a run: a FAILED or CANCELLED run gets a new attempt that resumes from the node that did
 * not complete; completed nodes (and their side effects) are not repeated. One conditional UPDATE
 * decides, so five racing retries make exactly one new attempt.
 */
import type { Logger } from '../engine/ports.js';
import { UnknownExecutionError } from './cancel.js';
import type { ExecutionControl } from './execution-control.js';
import type { WorkflowQueue } from './queue.js';

/** The answer to a retry request (same shape as the app layer's `RetryResult`). */
export interface RetryResult {
  outcome: 'retrying' | 'already_retrying' | 'refused';
  message: string;
  /** The attempt now scheduled or running. */
  attempt?: number;
}

export interface RetryDeps {
  control: ExecutionControl;
  queue: WorkflowQueue;
  logger?: Logger;
}

/** Start a new attempt of a FAILED or CANCELLED run; refuse a COMPLETED one. */
export async function retryExecution(deps: RetryDeps, executionId: string, by: string): Promise<RetryResult> {
  const t = await deps.control.beginRetry(executionId, by);
  if (t.ok) {
    const scheduled = await deps.queue.scheduleWorkflow({
      executionId,
      incidentId: t.incidentId,
      workflowId: t.workflowId,
      triggeredBy: 'retry',
      executionChain: t.executionChain,
      attempt: t.attempt,
    });
    deps.logger?.info({ executionId, attempt: t.attempt, by, enqueued: scheduled.enqueued }, 'run retried');
    return { outcome: 'retrying', message: `Retrying: attempt ${t.attempt} resumes from the step that did not complete.`, attempt: t.attempt };
  }
  switch (t.status) {
    case null:
      throw new UnknownExecutionError(executionId);
    case 'COMPLETED':
      return { outcome: 'refused', message: 'This run completed successfully; there is nothing to retry.' };
    default:
      return {
        outcome: 'already_retrying',
        message: `This run is already ${t.status === 'RUNNING' ? 'running' : 'queued'} (attempt ${t.attempt ?? 1}).`,
        ...(t.attempt !== null ? { attempt: t.attempt } : {}),
      };
  }
}
