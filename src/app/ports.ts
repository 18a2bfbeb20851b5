/**
 * What the application layer needs from the worker and the engine, as small interfaces so the
 * services can be wired to the real BullMQ queue (src/worker) and tested without it.
 */
import type { PrismaClient, Prisma } from '../generated/prisma/client.js';
import type { StoredWorkflow } from '../engine/ports.js';
import type { ExecutionStatus, TriggerEvent } from '../engine/types.js';

/** The Prisma client or an interactive transaction on it. */
export type Db = PrismaClient | Prisma.TransactionClient;

/** The job payload (ids only, never secrets): the seed plan's `WorkflowJobData`. */
export interface ScheduledJob {
  executionId: string;
  incidentId: string;
  workflowId: string;
  triggeredBy: 'event' | 'manual';
  executionChain: string[];
}

/** Answer of the worker's cancel. */
export interface CancelResult {
  outcome: 'cancelled' | 'cancelling' | 'already_finished';
  status: ExecutionStatus;
}

/** Answer of the worker's retry. */
export interface RetryResult {
  outcome: 'retrying' | 'already_retrying' | 'refused';
  message: string;
}

/**
 * The worker's queue as the application sees it. `schedule` must be safe to call for a run whose
 * job already exists (job id = execution id), because the reconciler may have enqueued it first.
 */
export interface JobScheduler {
  schedule(job: ScheduledJob): Promise<void>;
  /** Remove a queued (not yet running) job; a no-op when it does not exist. */
  remove(executionId: string): Promise<void>;
  cancel(executionId: string, by: string): Promise<CancelResult>;
  retry(executionId: string, by: string): Promise<RetryResult>;
}

/**
 * The engine's `findMatchingWorkflows`, bound to a repository and logger. `db` is the transaction
 * the runs will be recorded in: matching reads through it so that a transaction never waits for a
 * second pool connection (many concurrent changes would otherwise exhaust the pool and deadlock).
 */
export type WorkflowMatcher = (event: TriggerEvent, db?: Db) => Promise<StoredWorkflow[]>;

/**
 * Options of every interactive transaction in the app layer. Prisma's defaults (wait 2 s for a
 * connection, 5 s to finish) fail requests during a burst that merely queues for the pool.
 */
export const TX_OPTIONS = { maxWait: 10_000, timeout: 20_000 } as const;
