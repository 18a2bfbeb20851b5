/**
 * The `workflow` BullMQ queue (seed plan's `workflowQueue` / `scheduleWorkflow`).
 *
 * PostgreSQL is the source of truth: the caller writes the execution row (PENDING) first and then
 * calls `scheduleWorkflow`. If the add fails (Redis down), the reconciler enqueues the run later,
 * so a failed add is reported, not thrown.
 */
import { Queue, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../engine/ports.js';

/** Name of the BullMQ queue that runs workflow executions. */
export const WORKFLOW_QUEUE_NAME = 'workflow';

/** Job name of a run's execution job. */
export const EXECUTE_JOB_NAME = 'execute';
/** Job name of a "publish this run's state" job (see `schedulePublish`). */
export const PUBLISH_JOB_NAME = 'publish';

/** What a workflow job carries: ids only, never secrets or definitions (the row holds those). */
export interface WorkflowJobData {
  executionId: string;
  incidentId: string;
  workflowId: string;
  /** `event`, `manual`, `retry`, `reconciler`... (informational). */
  triggeredBy: string;
  /** Workflow ids of the chain that led to this run (cycle detection). */
  executionChain: string[];
  /** The execution's attempt this job belongs to (1 unless retried). A job for an older attempt is dropped. */
  attempt?: number;
}

/** Runtime check of a job payload: a malformed job is logged and dropped, never crashes the worker. */
export const WorkflowJobDataSchema = z.object({
  executionId: z.string().min(1),
  incidentId: z.string().min(1),
  workflowId: z.string().min(1),
  triggeredBy: z.string().default('event'),
  executionChain: z.array(z.string()).default([]),
  attempt: z.number().int().min(1).optional(),
});

/** Default options of every workflow job. Actions retry themselves, so BullMQ never does. */
export const WORKFLOW_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: false,
  attempts: 1,
} as const satisfies JobsOptions;

/**
 * The job id of an execution's attempt. The first attempt uses the execution id itself (what the
 * seed plan asks for); later attempts need a new id because a failed job is kept (removeOnFail:
 * false) and BullMQ ignores an add whose id exists. BullMQ refuses `:` in custom ids, hence `_a`.
 */
export function jobIdFor(executionId: string, attempt = 1): string {
  return attempt <= 1 ? executionId : `${executionId}_a${attempt}`;
}

/** Redis connection settings: a URL or ioredis options. */
export type RedisConnection = string | RedisOptions;

/** Opens an ioredis connection from a URL or options, with `extra` overriding. */
export function openRedis(connection: RedisConnection, extra: RedisOptions = {}): Redis {
  return typeof connection === 'string' ? new Redis(connection, extra) : new Redis({ ...connection, ...extra });
}

export interface WorkflowQueueOptions {
  connection: RedisConnection;
  /** BullMQ key prefix; tests use a unique one each. */
  prefix?: string;
  logger?: Logger;
  /**
   * Longest wait for an add before reporting `enqueued: false` (default 3000 ms). BullMQ waits for
   * the first connection forever, so without this a producer started while Redis is down would hang.
   */
  addTimeoutMs?: number;
}

/** What `scheduleWorkflow` did. */
export interface ScheduleResult {
  jobId: string;
  /** False when Redis refused the add; the reconciler will enqueue the run later. */
  enqueued: boolean;
}

/** The `workflow` queue as producers use it. Create one per process (or per test) and `close()` it. */
export interface WorkflowQueue {
  readonly queue: Queue<WorkflowJobData>;
  readonly prefix: string;
  /** The producer's Redis connection (also used to publish cancel messages). */
  readonly redis: Redis;
  /**
   * Enqueue an execution whose row already exists. Idempotent while the job exists (job id =
   * execution id). Never throws for Redis trouble: returns `{ enqueued: false }` instead.
   */
  scheduleWorkflow(data: WorkflowJobData, opts?: { delayMs?: number }): Promise<ScheduleResult>;
  /**
   * Ask one worker to publish the run's current state to chat (a run cancelled while queued has
   * no worker of its own to do it). Best effort: returns false when Redis did not take it.
   */
  schedulePublish(data: WorkflowJobData): Promise<boolean>;
  /** The job of an execution attempt, if Redis has it. */
  getJob(executionId: string, attempt?: number): Promise<Job<WorkflowJobData> | undefined>;
  close(): Promise<void>;
}

/** The seed plan's name for the queue factory. */
export { createWorkflowQueue as workflowQueue };

/** Default BullMQ prefix. */
export const DEFAULT_PREFIX = 'bull';

/**
 * Creates the producer side of the `workflow` queue. Its connection does not queue commands
 * while Redis is away (`enableOfflineQueue: false`), so an add fails fast instead of hanging the
 * request that triggered it.
 */
export function createWorkflowQueue(options: WorkflowQueueOptions): WorkflowQueue {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const connection = openRedis(options.connection, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  connection.on('error', () => undefined);
  const queue = new Queue<WorkflowJobData>(WORKFLOW_QUEUE_NAME, {
    connection,
    prefix,
    defaultJobOptions: WORKFLOW_JOB_OPTIONS,
  });
  queue.on('error', (error) => options.logger?.warn({ err: error.message }, 'workflow queue: redis error'));
  let closed = false;

  return {
    queue,
    prefix,
    redis: connection,
    async scheduleWorkflow(data, opts) {
      const jobData = WorkflowJobDataSchema.parse(data) as WorkflowJobData;
      const jobId = jobIdFor(jobData.executionId, jobData.attempt);
      let timer: NodeJS.Timeout | undefined;
      try {
        const added = queue.add('execute', jobData, {
          jobId,
          ...(opts?.delayMs && opts.delayMs > 0 ? { delay: Math.ceil(opts.delayMs) } : {}),
        });
        added.catch(() => undefined);
        await Promise.race([
          added,
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('redis did not answer in time')), options.addTimeoutMs ?? 3000);
          }),
        ]);
        return { jobId, enqueued: true };
      } catch (error) {
        options.logger?.warn(
          { executionId: jobData.executionId, err: error instanceof Error ? error.message : String(error) },
          'could not enqueue workflow job; the reconciler will pick the run up',
        );
        return { jobId, enqueued: false };
      } finally {
        clearTimeout(timer);
      }
    },
    async schedulePublish(data) {
      const jobId = `${jobIdFor(data.executionId, data.attempt)}_publish`;
      let timer: NodeJS.Timeout | undefined;
      const added = queue.add(PUBLISH_JOB_NAME, data, { jobId, removeOnFail: true });
      added.catch(() => undefined);
      try {
        await Promise.race([added, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), options.addTimeoutMs ?? 3000)))]);
        return true;
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async getJob(executionId, attempt) {
      return queue.getJob(jobIdFor(executionId, attempt));
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}
