/**
 * The workflow worker (seed plan's `processWorkflowJob`, `startWorkflowWorker`, `stopWorkflowWorker`).
 *
 * One job = one execution attempt, job id = execution id. The job carries ids only; everything
 * else is read from PostgreSQL, which holds the truth:
 * - a stalled job (its worker died) is re-delivered by BullMQ; the run resumes from its persisted
 *   nodes, the crash is counted, and after `maxCrashes` the run ends FAILED with a reason;
 * - each claim bumps the run's fence, so a worker that lost the run cannot write over the new holder;
 * - a delay node persists the run as PENDING and moves the job to BullMQ's delayed set, freeing the slot;
 * - cancel arrives as a database flag plus a pub/sub message that aborts the run's `AbortSignal`;
 * - on shutdown a running job is handed back (fence bumped, PENDING) rather than cancelled.
 */
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../generated/prisma/client.js';
import { CancelledError, FencedOutError, RateLimitedError } from '../engine/errors.js';
import { executeWorkflow, type ExecuteResult } from '../engine/executor.js';
import type { ActionRunner, ChatNotifier, Clock, ExecutionRecord, ExecutionStore, Logger, RunView } from '../engine/ports.js';
import { VersionCache, type PreparedDefinition } from '../engine/definition-cache.js';
import { lazyChild } from '../engine/lazy-logger.js';
import { systemClock } from '../engine/system-clock.js';
import { AgeScanner, type AgeEmit } from './age-scan.js';
import { cancelChannel, cancelWorkflow, type CancelResult } from './cancel.js';
import { ProgressCoalescer } from './coalescer.js';
import { crashFailureMessage, ExecutionControl } from './execution-control.js';
import { createWorkflowQueue, openRedis, PUBLISH_JOB_NAME, WORKFLOW_QUEUE_NAME, WorkflowJobDataSchema, type RedisConnection, type WorkflowJobData, type WorkflowQueue } from './queue.js';
import { Reconciler } from './reconciler.js';
import { retryExecution, type RetryResult } from './retry.js';
import { nextStepLabel } from './next-step.js';
import { claimNewRun, isUuid, loadRunWithContext, type RunContext, type RunWithContext } from './run-context.js';
import { buildWorkerRunView, failedStepName } from './run-view.js';
import { runRevision } from '../engine/run-view.js';
import { withTimeout } from './timeout.js';
import { referencedSecretNames, type HandlerSecretNames, type SecretLoader } from './secrets.js';

const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Everything the worker needs. Only `connection`, `prisma`, `store`, `actions`, `notifier` and `logger` are required. */
export interface WorkflowWorkerDeps {
  connection: RedisConnection;
  /** BullMQ key prefix (config `QUEUE_PREFIX`); tests use a unique one. */
  prefix?: string;
  prisma: PrismaClient;
  store: ExecutionStore;
  actions: ActionRunner;
  /** Loads and decrypts secrets; omitted = no secrets configured. */
  secrets?: SecretLoader;
  notifier: ChatNotifier;
  logger: Logger;
  clock?: Clock;
  /** Jobs run at once by this process (config `WORKER_CONCURRENCY`, default 5). */
  concurrency?: number;
  /** BullMQ lock duration; a dead worker's job is re-delivered after about this long (default 30 s). */
  lockDurationMs?: number;
  /** How often BullMQ looks for stalled jobs (default: lockDurationMs / 2). */
  stalledIntervalMs?: number;
  /** A run whose worker crashed this many times ends FAILED (default 3). */
  maxCrashes?: number;
  /** Reconciler period (default 30 s); 0 disables the periodic pass (it still runs once at start). */
  reconcileIntervalMs?: number;
  /** Runs untouched for less than this are left to their producer/holder (default 5 s). */
  reconcileGraceMs?: number;
  /** Minimum time between two live-message updates of one run (default 1 s). */
  progressIntervalMs?: number;
  /**
   * How long a run runs before its live message first appears (default 250 ms); a run that ends
   * sooner gets one message showing its final state.
   */
  firstProgressDelayMs?: number;
  /** When set, the age-trigger scan runs in this process and hands events to `emit`. */
  ageScan?: { emit: AgeEmit; everyMs?: number };
  /** Delay before a job whose database read failed is tried again (default 2 s). */
  infraRetryDelayMs?: number;
}

/** A running run in this process. */
interface RunningEntry {
  controller: AbortController;
  fence: number | null;
  /** Set when shutdown handed the run back: its FencedOutError means "requeue", not "lost". */
  handedBack: boolean;
}

function newEntry(): RunningEntry {
  return { controller: new AbortController(), fence: null, handedBack: false };
}

/** Shared state of one worker process, passed to `processWorkflowJob`. */
export interface WorkerRuntime {
  prisma: PrismaClient;
  store: ExecutionStore;
  actions: ActionRunner;
  secrets: SecretLoader | undefined;
  notifier: ChatNotifier;
  logger: Logger;
  clock: Clock;
  control: ExecutionControl;
  coalescer: ProgressCoalescer;
  maxCrashes: number;
  infraRetryDelayMs: number;
  running: Map<string, RunningEntry>;
  /** Validated run definitions by workflow version (runs come from the database: see VersionCache). */
  definitions: VersionCache<PreparedDefinition>;
  /** Secret names each workflow version references. */
  secretNames: VersionCache<string[]>;
  /** Failure alerts being delivered (awaited on shutdown). */
  pendingAlerts: Set<Promise<void>>;
}

/** A started worker. Pass it to `stopWorkflowWorker`. */
export interface WorkflowWorkerHandle {
  readonly worker: Worker<WorkflowJobData>;
  readonly queue: WorkflowQueue;
  readonly runtime: WorkerRuntime;
  readonly reconciler: Reconciler;
  readonly ageScanner: AgeScanner | null;
  /** Cancel a run (see `cancelWorkflow`). */
  cancelWorkflow(executionId: string, by: string): Promise<CancelResult>;
  /** Retry a FAILED or CANCELLED run (see `retryExecution`). */
  retryExecution(executionId: string, by: string): Promise<RetryResult>;
  /** Execution ids running in this process now. */
  runningExecutions(): string[];
  /** @internal resources closed by `stopWorkflowWorker`. */
  readonly closers: Array<() => Promise<void> | void>;
}

function errText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Queues the run's view for its live message. The view is built only if the coalescer sends it
 * (most progress events are replaced by a later one first), so `record` must not change afterwards:
 * the executor's progress snapshots and freshly loaded records don't.
 */
function publishView(rt: WorkerRuntime, record: ExecutionRecord, ctx: RunContext | null): void {
  if (!ctx) return;
  try {
    rt.coalescer.publishUpdate({
      executionId: record.id,
      revision: runRevision(record),
      final: FINISHED.has(record.status),
      build: () => buildWorkerRunView(record, ctx),
    });
  } catch (error) {
    rt.logger.warn({ executionId: record.id, err: errText(error) }, 'could not queue the run view');
  }
}

/** Delivers a failure alert off the job's path, retrying and honouring rate limits; never throws. */
function alertFailure(rt: WorkerRuntime, record: ExecutionRecord, ctx: RunContext | null): void {
  if (!ctx) return;
  const view: RunView = buildWorkerRunView(record, ctx);
  const failedStep = failedStepName(record) ?? nextStepLabel(record) ?? undefined;
  const alert = {
    run: view,
    teamId: ctx.incident.teamId,
    assigneeId: ctx.incident.assigneeId,
    authorId: ctx.authorId,
    ...(failedStep ? { failedStep } : {}),
    error: record.error ?? 'the run failed',
  };
  const deliver = async () => {
    for (let attempt = 1; attempt <= 4; attempt++) {
      try {
        await rt.notifier.notifyFailure(alert);
        return;
      } catch (error) {
        const wait = error instanceof RateLimitedError ? Math.min(60_000, error.retryAfterMs) : 500 * 2 ** attempt;
        rt.logger.warn({ executionId: record.id, attempt, err: errText(error) }, 'failure alert not delivered');
        if (attempt < 4) await new Promise((r) => setTimeout(r, wait).unref());
      }
    }
  };
  const p = deliver().finally(() => rt.pendingAlerts.delete(p));
  rt.pendingAlerts.add(p);
}

/** Put the job back for later (database unreachable, shutdown): no slot is held meanwhile. */
async function requeue(job: Job<WorkflowJobData>, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + Math.max(0, delayMs), token);
  throw new DelayedError();
}

/** When a waiting delay node may continue (ISO), if one is waiting. */
function waitingUntil(record: ExecutionRecord): number | null {
  let until: number | null = null;
  for (const r of Object.values(record.nodeResults)) {
    if (r.status === 'waiting' && r.resumeAt) until = Math.max(until ?? 0, Date.parse(r.resumeAt));
  }
  return until;
}

/**
 * Runs one workflow job: claim the run (one statement when it is new), or else load it, skip it
 * if finished or cancelled, recover it if its last worker crashed, and claim it (fence); then
 * decrypt the secrets it references, execute, and store the outcome. Throws only BullMQ's
 * `DelayedError` (the job was moved to the delayed set) or when Redis itself fails; every other
 * problem is logged and settled here.
 */
export async function processWorkflowJob(job: Job<WorkflowJobData>, token: string | undefined, rt: WorkerRuntime): Promise<void> {
  const parsed = WorkflowJobDataSchema.safeParse(job.data);
  if (!parsed.success || !isUuid(parsed.data.executionId)) {
    rt.logger.error({ jobId: job.id }, 'malformed workflow job dropped');
    return;
  }
  const data = parsed.data;
  const executionId = data.executionId;
  // Most jobs write one line (their end, below, with these fields): no child logger unless needed.
  const log = lazyChild(rt.logger, { executionId, workflowId: data.workflowId, incidentId: data.incidentId });

  // The common case first: a run that never started, claimed with its context in one statement.
  if (job.name !== PUBLISH_JOB_NAME && !rt.running.has(executionId)) {
    const entry = newEntry();
    rt.running.set(executionId, entry);
    let fresh: RunWithContext | null;
    try {
      fresh = await claimNewRun(rt.prisma, executionId, data.attempt ?? null);
    } catch (error) {
      rt.running.delete(executionId);
      log.warn({ err: errText(error) }, 'database unavailable; job retried later');
      return requeue(job, token, rt.infraRetryDelayMs);
    }
    if (fresh) return runClaimed(job, token, rt, entry, { fence: fresh.record.fence, record: fresh.record }, fresh.ctx, log);
    rt.running.delete(executionId);
  }

  let loaded: RunWithContext | null;
  try {
    loaded = await loadRunWithContext(rt.prisma, executionId);
  } catch (error) {
    log.warn({ err: errText(error) }, 'database unavailable; job retried later');
    return requeue(job, token, rt.infraRetryDelayMs);
  }
  if (!loaded) {
    log.warn({ jobId: job.id }, 'unknown execution; job dropped');
    return;
  }
  const { record, ctx } = loaded;
  if (job.name === PUBLISH_JOB_NAME) {
    publishView(rt, record, ctx);
    return;
  }
  if (FINISHED.has(record.status)) {
    log.info({ status: record.status }, 'run already finished; job skipped');
    return;
  }
  if (data.attempt !== undefined && data.attempt < record.attempt) {
    log.info({ jobAttempt: data.attempt, attempt: record.attempt }, 'job of an earlier attempt; skipped');
    return;
  }

  const local = rt.running.get(executionId);
  if (record.status === 'RUNNING' && local && local.fence === record.fence) {
    // This process holds the current lease and is still running the run (its job was lost, e.g.
    // Redis restarted empty, and the reconciler added another): let the holder finish.
    log.info({}, 'run already running in this process; duplicate job dropped');
    return;
  }
  const entry = newEntry();
  rt.running.set(executionId, entry);
  let claimed: { fence: number; record: ExecutionRecord } | null = null;
  try {
    if (record.status === 'RUNNING') {
      // Nobody holds a RUNNING run whose job we were given: its worker died or lost the job.
      const crash = await rt.control.recordCrash(executionId, record.fence, rt.maxCrashes, nextStepLabel(record));
      if (!crash) {
        log.info({}, 'run changed hands while recovering; job skipped');
        return;
      }
      log.warn({ crashCount: crash.crashCount, step: nextStepLabel(record) }, 'recovering a run whose worker stopped');
      if (crash.status === 'FAILED') {
        const failed = await rt.store.get(executionId);
        if (failed) {
          publishView(rt, failed, ctx);
          alertFailure(rt, failed, ctx);
        }
        return;
      }
    }
    if (record.cancelRequestedAt && (await rt.control.cancelPending(executionId))) {
      log.info({}, 'run cancelled before it started');
      const cancelled = await rt.store.get(executionId);
      if (cancelled) publishView(rt, cancelled, ctx);
      return;
    }
    const until = waitingUntil(record);
    if (until !== null && until > rt.clock.now() + 20) {
      return await requeue(job, token, until - rt.clock.now());
    }
    claimed = await rt.store.claim(executionId);
    if (!claimed) {
      log.info({}, 'run not startable (claimed elsewhere or finished); job skipped');
      return;
    }
  } catch (error) {
    if (error instanceof DelayedError) throw error;
    log.error({ err: errText(error) }, 'workflow job failed unexpectedly; retried later');
    return requeue(job, token, rt.infraRetryDelayMs);
  } finally {
    // Every way out but the claim leaves the run to someone else: forget it here.
    if (!claimed && rt.running.get(executionId) === entry) rt.running.delete(executionId);
  }
  return runClaimed(job, token, rt, entry, claimed, ctx, log);
}

/**
 * Runs a claimed run to its end or its next delay: decrypt the secrets it references, execute,
 * and settle the outcome (suspend, alert on failure, hand back on shutdown). `entry` is the run's
 * entry in `rt.running`, removed here when the job ends.
 */
async function runClaimed(
  job: Job<WorkflowJobData>,
  token: string | undefined,
  rt: WorkerRuntime,
  entry: RunningEntry,
  claimed: { fence: number; record: ExecutionRecord },
  ctx: RunContext,
  log: Logger,
): Promise<void> {
  const executionId = claimed.record.id;
  try {
    entry.fence = claimed.fence;
    // The claim returned the cancel flag as it stood then; later requests arrive by pub/sub or
    // with the answer of the next node write.
    if (claimed.record.cancelRequestedAt) entry.controller.abort(new CancelledError('manual'));

    let secrets: ReadonlyMap<string, string> = new Map();
    const handlerNames = (rt.actions as Partial<{ secretNamesFor: HandlerSecretNames }>).secretNamesFor;
    const { workflowId, workflowVersion, definitionSnapshot } = claimed.record;
    const names = rt.secretNames.get(workflowId, workflowVersion, () => referencedSecretNames(definitionSnapshot, handlerNames ? handlerNames.bind(rt.actions) : undefined));
    if (names.length > 0 && rt.secrets) {
      try {
        secrets = await rt.secrets.loadNames(names);
      } catch (error) {
        log.error({ err: errText(error) }, 'could not load secrets');
        await rt.store.finish(executionId, claimed.fence, { status: 'FAILED', error: `could not load the workflow's secrets: ${errText(error)}` });
        const failed = await rt.store.get(executionId);
        if (failed) {
          publishView(rt, failed, ctx);
          alertFailure(rt, failed, ctx);
        }
        return;
      }
    }

    const result: ExecuteResult = await executeWorkflow(claimed.record, secrets, {
      store: rt.store,
      actions: rt.actions,
      clock: rt.clock,
      logger: log,
      fence: claimed.fence,
      signal: entry.controller.signal,
      definitions: rt.definitions,
      onProgress: (snapshot) => publishView(rt, snapshot, ctx),
    });

    if (result.kind === 'suspended' && result.suspended) {
      const resumeAt = Date.parse(result.suspended.resumeAt);
      if (!(await rt.control.suspend(executionId, claimed.fence, new Date(resumeAt)))) {
        log.info({}, 'lost the run while suspending it; job dropped');
        return;
      }
      log.info({ resumeAt: result.suspended.resumeAt }, 'run waits on a delay; slot freed');
      return await requeue(job, token, resumeAt - rt.clock.now());
    }
    rt.logger.info(
      { executionId, workflowId: claimed.record.workflowId, incidentId: claimed.record.incidentId, status: result.status, error: result.error, cancelReason: result.cancelReason },
      'run finished',
    );
    if (result.status === 'FAILED') alertFailure(rt, result.record, ctx);
  } catch (error) {
    if (error instanceof DelayedError) throw error;
    if (entry.handedBack) {
      log.info({}, 'run handed back on shutdown; it resumes on another worker');
      return requeue(job, token, 0);
    }
    if (error instanceof FencedOutError) {
      log.warn({}, 'another worker took this run over; this worker stops without writing');
      return;
    }
    log.error({ err: errText(error) }, 'workflow job failed unexpectedly; handing the run back');
    if (entry.fence !== null) await rt.control.release(executionId, entry.fence).catch(() => undefined);
    return requeue(job, token, rt.infraRetryDelayMs);
  } finally {
    if (rt.running.get(executionId) === entry) rt.running.delete(executionId);
  }
}

/**
 * Starts the worker: the BullMQ worker on the `workflow` queue, the cancel subscriber, the
 * reconciler (once now, then periodically) and, when asked, the age-trigger scan.
 */
export async function startWorkflowWorker(deps: WorkflowWorkerDeps): Promise<WorkflowWorkerHandle> {
  const prefix = deps.prefix ?? 'bull';
  const logger = deps.logger.child({ component: 'workflow-worker' });
  const lockDuration = deps.lockDurationMs ?? 30_000;
  const maxCrashes = deps.maxCrashes ?? 3;
  const control = new ExecutionControl(deps.prisma);
  const queue = createWorkflowQueue({ connection: deps.connection, prefix, logger });
  const runtime: WorkerRuntime = {
    prisma: deps.prisma,
    store: deps.store,
    actions: deps.actions,
    secrets: deps.secrets,
    notifier: deps.notifier,
    logger,
    clock: deps.clock ?? systemClock,
    control,
    coalescer: new ProgressCoalescer(deps.notifier, { intervalMs: deps.progressIntervalMs ?? 1000, firstDelayMs: deps.firstProgressDelayMs ?? 250, logger }),
    maxCrashes,
    infraRetryDelayMs: deps.infraRetryDelayMs ?? 2000,
    running: new Map(),
    definitions: new VersionCache(),
    secretNames: new VersionCache(),
    pendingAlerts: new Set(),
  };
  const closers: Array<() => Promise<void> | void> = [];

  const workerConnection = openRedis(deps.connection, { maxRetriesPerRequest: null });
  workerConnection.on('error', () => undefined);
  const worker = new Worker<WorkflowJobData>(WORKFLOW_QUEUE_NAME, (job, token) => processWorkflowJob(job, token, runtime), {
    connection: workerConnection,
    prefix,
    concurrency: deps.concurrency ?? 5,
    lockDuration,
    stalledInterval: deps.stalledIntervalMs ?? Math.max(500, Math.floor(lockDuration / 2)),
    // Our own crash counter decides first; BullMQ's bound is the backstop.
    maxStalledCount: maxCrashes + 1,
    autorun: false,
  });
  worker.on('error', (error) => logger.warn({ err: errText(error) }, 'worker: redis or processing error'));
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled; re-delivering'));
  worker.on('failed', (job, error) => {
    if (!job || !/stalled more than allowable limit/i.test(error.message)) {
      if (job) logger.error({ jobId: job.id, err: error.message }, 'workflow job failed');
      return;
    }
    const executionId = job.data.executionId;
    void (async () => {
      const before = await deps.store.get(executionId);
      const step = before ? nextStepLabel(before) : null;
      if (await control.failUnfinished(executionId, crashFailureMessage(job.stalledCounter || maxCrashes + 1, step))) {
        const failed = await loadRunWithContext(deps.prisma, executionId);
        if (failed) {
          publishView(runtime, failed.record, failed.ctx);
          alertFailure(runtime, failed.record, failed.ctx);
        }
      }
    })().catch((e: unknown) => logger.error({ executionId, err: errText(e) }, 'could not fail a run BullMQ gave up'));
  });

  const subscriber: Redis = openRedis(deps.connection, { maxRetriesPerRequest: null });
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_channel: string, executionId: string) => {
    const entry = runtime.running.get(executionId);
    if (entry && !entry.controller.signal.aborted) {
      logger.info({ executionId }, 'cancel received; aborting the run');
      entry.controller.abort(new CancelledError('manual'));
    }
  });
  await subscriber.subscribe(cancelChannel(prefix));

  const reconciler = new Reconciler({ control, queue, logger, graceMs: deps.reconcileGraceMs ?? 5000 });
  let ageScanner: AgeScanner | null = null;
  if (deps.ageScan) {
    ageScanner = new AgeScanner({ connection: deps.connection, prefix, prisma: deps.prisma, emit: deps.ageScan.emit, logger, everyMs: deps.ageScan.everyMs });
    await ageScanner.start();
    reconciler.onTick(() => ageScanner!.ensureScheduler());
  }

  void worker.run().catch((error: unknown) => logger.error({ err: errText(error) }, 'worker stopped with an error'));
  await reconciler.runOnce().catch((error: unknown) => logger.warn({ err: errText(error) }, 'initial reconcile failed'));
  if ((deps.reconcileIntervalMs ?? 30_000) > 0) reconciler.start(deps.reconcileIntervalMs ?? 30_000);

  closers.push(
    () => reconciler.stop(),
    async () => ageScanner?.close(),
    async () => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
    () => queue.close(),
    () => workerConnection.disconnect(),
  );

  return {
    worker,
    queue,
    runtime,
    reconciler,
    ageScanner,
    closers,
    cancelWorkflow: (executionId, by) => cancelWorkflow({ control, queue, publisher: queue.redis, logger }, executionId, by),
    retryExecution: (executionId, by) => retryExecution({ control, queue, logger }, executionId, by),
    runningExecutions: () => [...runtime.running.keys()],
  };
}

/**
 * Graceful stop: fetch no new jobs; let running jobs finish for up to `timeoutMs`; then hand the
 * rest back (fence bumped, PENDING, aborted with reason `shutdown`, NOT cancelled) so another
 * worker resumes them. Pending chat updates and failure alerts are flushed (bounded) before return.
 */
export async function stopWorkflowWorker(handle: WorkflowWorkerHandle, timeoutMs = 10_000): Promise<void> {
  const { runtime, worker } = handle;
  handle.reconciler.stop();
  const closing = worker.close();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    closing.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    for (const [executionId, entry] of runtime.running) {
      entry.handedBack = true;
      if (entry.fence !== null) await runtime.control.release(executionId, entry.fence).catch(() => undefined);
      entry.controller.abort(new CancelledError('shutdown'));
    }
    const settled = await Promise.race([closing.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
    if (!settled) await withTimeout(worker.close(true), 5000, 'force close').catch(() => undefined);
  }
  await Promise.race([
    (async () => {
      await runtime.coalescer.flush();
      await Promise.allSettled([...runtime.pendingAlerts]);
    })(),
    new Promise((r) => setTimeout(r, 5000).unref()),
  ]);
  // Redis may be gone: never let a close hang the shutdown.
  for (const close of handle.closers) await withTimeout(Promise.resolve(close()), 5000, 'close').catch(() => undefined);
}
