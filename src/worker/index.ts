/**
 * The worker's public API (seed plan names: `workflowQueue`, `scheduleWorkflow`, `cancelWorkflow`,
 * `processWorkflowJob`, `startWorkflowWorker`, `stopWorkflowWorker`, `WorkflowJobData`), plus
 * `retryExecution` and the pieces the composition root wires.
 */
import type { Config } from '../config.js';

export { AgeScanner, AGE_SCAN_QUEUE_NAME, type AgeEmit } from './age-scan.js';
export { cancelChannel, cancelWorkflow, UnknownExecutionError, type CancelResult } from './cancel.js';
export { ProgressCoalescer, isFinalView } from './coalescer.js';
export { ConsoleNotifier, describeRun } from './console-notifier.js';
export { ExecutionControl, crashFailureMessage } from './execution-control.js';
export { WorkflowJobScheduler } from './job-scheduler.js';
export {
  createWorkflowQueue,
  jobIdFor,
  workflowQueue,
  WORKFLOW_JOB_OPTIONS,
  WORKFLOW_QUEUE_NAME,
  type ScheduleResult,
  type WorkflowJobData,
  type WorkflowQueue,
} from './queue.js';
export { Reconciler } from './reconciler.js';
export { retryExecution, type RetryResult } from './retry.js';
export { processWorkflowJob, startWorkflowWorker, stopWorkflowWorker, type WorkflowWorkerDeps, type WorkflowWorkerHandle } from './worker.js';

/** The worker settings that come from configuration. */
export function workerSettingsFromConfig(config: Pick<Config, 'REDIS_URL' | 'QUEUE_PREFIX' | 'WORKER_CONCURRENCY'>): {
  connection: string;
  prefix: string;
  concurrency: number;
} {
  return { connection: config.REDIS_URL, prefix: config.QUEUE_PREFIX, concurrency: config.WORKER_CONCURRENCY };
}
