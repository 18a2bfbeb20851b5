/**
 * The worker's queue as the application layer sees it (`JobScheduler` in src/app/ports.ts):
 * schedule, remove, cancel and retry, over one `WorkflowQueue` and the execution table.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { CancelResult, JobScheduler, RetryResult, ScheduledJob } from '../app/ports.js';
import type { Logger } from '../engine/ports.js';
import { cancelWorkflow } from './cancel.js';
import { ExecutionControl } from './execution-control.js';
import type { WorkflowQueue } from './queue.js';
import { retryExecution } from './retry.js';
import { withTimeout } from './timeout.js';

export class WorkflowJobScheduler implements JobScheduler {
  private readonly control: ExecutionControl;

  constructor(
    private readonly queue: WorkflowQueue,
    prisma: PrismaClient,
    private readonly logger?: Logger,
  ) {
    this.control = new ExecutionControl(prisma);
  }

  /** Adds the job; a Redis failure is logged by the queue and left to the reconciler. */
  async schedule(job: ScheduledJob): Promise<void> {
    await this.queue.scheduleWorkflow(job);
  }

  async remove(executionId: string): Promise<void> {
    const current = await this.control.status(executionId);
    const job = await withTimeout(this.queue.getJob(executionId, current?.attempt), 2000, 'remove lookup').catch(() => undefined);
    if (job) await withTimeout(job.remove(), 2000, 'remove').catch(() => undefined);
  }

  cancel(executionId: string, by: string): Promise<CancelResult> {
    return cancelWorkflow({ control: this.control, queue: this.queue, publisher: this.queue.redis, ...(this.logger ? { logger: this.logger } : {}) }, executionId, by);
  }

  async retry(executionId: string, by: string): Promise<RetryResult> {
    const result = await retryExecution({ control: this.control, queue: this.queue, ...(this.logger ? { logger: this.logger } : {}) }, executionId, by);
    return { outcome: result.outcome, message: result.message };
  }
}
