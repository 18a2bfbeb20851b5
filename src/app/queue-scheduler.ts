/** The app's `JobScheduler` over the worker's BullMQ queue, cancel and retry. */
import type { Redis } from 'ioredis';
import type { Logger } from '../engine/ports.js';
import { cancelWorkflow, UnknownExecutionError } from '../worker/cancel.js';
import type { ExecutionControl } from '../worker/execution-control.js';
import type { WorkflowQueue } from '../worker/queue.js';
import { retryExecution } from '../worker/retry.js';
import type { JobScheduler } from './ports.js';
import { AppError } from './services.js';

export interface QueueSchedulerDeps {
  queue: WorkflowQueue;
  control: ExecutionControl;
  /** A normal (non-subscriber) Redis connection to publish cancel requests on. */
  publisher: Redis;
  logger?: Logger;
}

export function createQueueJobScheduler(deps: QueueSchedulerDeps): JobScheduler {
  const notFound = (error: unknown, executionId: string): never => {
    if (error instanceof UnknownExecutionError) throw new AppError('not_found', `No execution ${executionId}.`);
    throw error;
  };
  return {
    async schedule(job) {
      const result = await deps.queue.scheduleWorkflow(job);
      if (!result.enqueued) throw new Error('the queue refused the job');
    },
    async remove(executionId) {
      const job = await deps.queue.getJob(executionId);
      // A job a worker has locked cannot be removed; its row is CANCELLED, so the claim fails.
      if (job) await job.remove().catch(() => undefined);
    },
    async cancel(executionId, by) {
      return cancelWorkflow({ control: deps.control, queue: deps.queue, publisher: deps.publisher, ...(deps.logger ? { logger: deps.logger } : {}) }, executionId, by).catch(
        (error: unknown) => notFound(error, executionId),
      );
    },
    async retry(executionId, by) {
      const result = await retryExecution({ control: deps.control, queue: deps.queue, ...(deps.logger ? { logger: deps.logger } : {}) }, executionId, by).catch(
        (error: unknown) => notFound(error, executionId),
      );
      return { outcome: result.outcome, message: result.message };
    },
  };
}
