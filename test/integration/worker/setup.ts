/** Shared wiring for the worker's integration tests: an in-process worker on a test database. */
import type { ChatNotifier, FailureAlert, RunView } from '../../../src/engine/ports.js';
import { PrismaExecutionStore } from '../../../src/store/PrismaExecutionStore.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { startWorkflowWorker, type WorkflowWorkerDeps, type WorkflowWorkerHandle } from '../../../src/worker/worker.js';
import type { TestDatabase } from '../../helpers/db.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { REDIS_URL } from '../../helpers/redis.js';
import { HttpTestActionRunner } from '../../helpers/worker-process-fixtures.js';

/** Keeps everything the worker told people. */
export class RecordingNotifier implements ChatNotifier {
  readonly views: RunView[] = [];
  readonly alerts: FailureAlert[] = [];
  async publishProgress(view: RunView): Promise<void> {
    this.views.push(view);
  }
  async notifyFailure(alert: FailureAlert): Promise<void> {
    this.alerts.push(alert);
  }
  async postMessage(): Promise<{ ref: string }> {
    return { ref: 'recorded' };
  }
  viewsOf(executionId: string): RunView[] {
    return this.views.filter((v) => v.executionId === executionId);
  }
}

export interface TestWorker {
  handle: WorkflowWorkerHandle;
  notifier: RecordingNotifier;
  logger: MemoryLogger;
}

export async function startTestWorker(db: TestDatabase, prefix: string, overrides: Partial<WorkflowWorkerDeps> = {}): Promise<TestWorker> {
  const notifier = new RecordingNotifier();
  const logger = new MemoryLogger();
  const handle = await startWorkflowWorker({
    connection: REDIS_URL,
    prefix,
    prisma: db.prisma,
    store: new PrismaExecutionStore(db.prisma),
    actions: new HttpTestActionRunner(),
    notifier,
    logger,
    concurrency: 5,
    lockDurationMs: 2000,
    stalledIntervalMs: 500,
    reconcileIntervalMs: 0,
    progressIntervalMs: 100,
    // These tests follow a card from its first post through its updates: show runs at once.
    firstProgressDelayMs: 0,
    ...overrides,
  });
  await handle.worker.waitUntilReady();
  return { handle, notifier, logger };
}

export function producer(prefix: string, url: string = REDIS_URL): WorkflowQueue {
  return createWorkflowQueue({ connection: url, prefix });
}

export async function statusOf(db: TestDatabase, executionId: string): Promise<string | undefined> {
  return (await db.prisma.workflowExecution.findUnique({ where: { id: executionId }, select: { status: true } }))?.status;
}
