/**
 * Child-process entry for the worker's crash tests: a real worker (PostgreSQL store, BullMQ on
 * Redis) that the test SIGKILLs at random points. Run with `node --import tsx`.
 *
 * Env: DATABASE_URL, REDIS_URL, QUEUE_PREFIX, WORKER_CONCURRENCY (default 5), LOCK_MS (default
 * 1500), MAX_CRASHES (default 3). Prints `ready` on stdout once it takes jobs; SIGTERM stops it
 * gracefully (SHUTDOWN_MS, default 5000).
 */
import { pino } from 'pino';
import { PrismaExecutionStore } from '../../src/store/PrismaExecutionStore.js';
import { createPrismaClient } from '../../src/store/prisma.js';
import { ConsoleNotifier } from '../../src/worker/console-notifier.js';
import { startWorkflowWorker, stopWorkflowWorker } from '../../src/worker/worker.js';
import { HttpTestActionRunner } from './worker-process-fixtures.js';

const env = process.env;
const logger = pino({ level: env.LOG_LEVEL ?? 'warn', base: { pid: process.pid } }, pino.destination(2));
const prisma = createPrismaClient(env.DATABASE_URL!);
const lockMs = Number(env.LOCK_MS ?? 1500);
const handle = await startWorkflowWorker({
  connection: env.REDIS_URL!,
  prefix: env.QUEUE_PREFIX!,
  prisma,
  store: new PrismaExecutionStore(prisma),
  actions: new HttpTestActionRunner({ allowSuicide: true }),
  notifier: new ConsoleNotifier(logger),
  logger,
  concurrency: Number(env.WORKER_CONCURRENCY ?? 5),
  lockDurationMs: lockMs,
  stalledIntervalMs: Math.max(250, Math.floor(lockMs / 3)),
  maxCrashes: Number(env.MAX_CRASHES ?? 3),
  reconcileIntervalMs: 1000,
  reconcileGraceMs: 3000,
  progressIntervalMs: 200,
});
const stop = async () => {
  await stopWorkflowWorker(handle, Number(env.SHUTDOWN_MS ?? 5000));
  await prisma.$disconnect();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
await handle.worker.waitUntilReady();
process.stdout.write('ready\n');
