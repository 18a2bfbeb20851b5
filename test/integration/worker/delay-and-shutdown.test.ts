import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopWorkflowWorker } from '../../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { spawnWorker } from '../../helpers/worker-process-spawn.js';
import { EffectServer, lineWorkflow, seedExecution, seedIncident, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { producer, startTestWorker, statusOf } from './setup.js';

describe('durable delays and graceful shutdown', () => {
  let db: TestDatabase;
  let server: EffectServer;
  const prefixes: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().on('/', { delayMs: 10 }).on('/slow', { delayMs: 4000 }).start();
  });

  afterAll(async () => {
    await server.close();
    for (const p of prefixes) await deletePrefix(p);
    await db.drop();
  });

  it('a 2-second delay node holds no worker slot: with concurrency 1 another run finishes during the delay', async () => {
    const prefix = uniquePrefix('delay');
    prefixes.push(prefix);
    const worker = await startTestWorker(db, prefix, { concurrency: 1 });
    const queue = producer(prefix);
    try {
      const seeded = await seedIncident(db.prisma);
      const waitDoc = lineWorkflow('with-delay', server.url, ['a1', { id: 'pause', delaySeconds: 2 }, 'a2']);
      const quickDoc = lineWorkflow('quick', server.url, ['b1']);
      const waitWf = await seedWorkflow(db.prisma, waitDoc);
      const quickWf = await seedWorkflow(db.prisma, quickDoc);
      const slowId = await seedExecution(db.prisma, waitWf, seeded, waitDoc);
      const quickId = await seedExecution(db.prisma, quickWf, seeded, quickDoc);

      await queue.scheduleWorkflow({ executionId: slowId, incidentId: seeded.incidentId, workflowId: waitWf, triggeredBy: 'event', executionChain: [waitWf] });
      // The run is parked: PENDING in the database, its job in BullMQ's delayed set, no slot held.
      await waitFor('the delay to start', async () => {
        const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: slowId } });
        return (row.nodeResults as Record<string, { status?: string }>).pause?.status === 'waiting' && row.status === 'PENDING';
      });
      expect(await (await queue.getJob(slowId))?.getState()).toBe('delayed');
      expect(worker.handle.runningExecutions()).toEqual([]);

      await queue.scheduleWorkflow({ executionId: quickId, incidentId: seeded.incidentId, workflowId: quickWf, triggeredBy: 'event', executionChain: [quickWf] });
      await waitFor('the quick run', async () => (await statusOf(db, quickId)) === 'COMPLETED');
      // The quick run finished while the first was still waiting on its delay.
      const parked = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: slowId } });
      const resumeAt = Date.parse((parked.nodeResults as Record<string, { resumeAt?: string }>).pause!.resumeAt!);
      const quick = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: quickId } });
      expect(quick.completedAt!.getTime()).toBeLessThan(resumeAt);

      await waitFor('the delayed run', async () => (await statusOf(db, slowId)) === 'COMPLETED', 20_000);
      const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: slowId } });
      expect(row.completedNodes).toEqual(['start', 'a1', 'pause', 'a2']);
      const results = row.nodeResults as Record<string, { resumeAt?: string }>;
      const a2 = server.requests.find((r) => r.key === `${slowId}:a2`)!;
      expect(a2.at).toBeGreaterThanOrEqual(Date.parse(results.pause!.resumeAt!));
      expect(server.rawCount(`${slowId}:a1`)).toBe(1);
    } finally {
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
  });

  it('stop within a bound hands a running run back (not CANCELLED); another worker resumes it', async () => {
    const prefix = uniquePrefix('shutdown');
    prefixes.push(prefix);
    const first = await startTestWorker(db, prefix);
    const queue = producer(prefix);
    const seeded = await seedIncident(db.prisma);
    const doc = lineWorkflow('long-step', server.url, ['a1', { id: 'a2', path: 'slow/long-step' }, 'a3']);
    const wf = await seedWorkflow(db.prisma, doc);
    const id = await seedExecution(db.prisma, wf, seeded, doc);
    try {
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      const slow = await waitFor('the slow step', () => server.requests.find((r) => r.key === `${id}:a2`));

      await stopWorkflowWorker(first.handle, 300);
      expect(slow.abortedAt).toBeDefined();
      const parked = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } });
      expect(parked.status).toBe('PENDING');
      expect(parked.cancelReason).toBeNull();
      expect(parked.completedNodes).toEqual(['start', 'a1']);
      expect(['waiting', 'delayed']).toContain(await (await queue.getJob(id))?.getState());
      expect(first.notifier.views.filter((v) => v.executionId === id && v.status === 'CANCELLED')).toEqual([]);

      server.on('/slow/long-step', { delayMs: 10 });
      const second = await startTestWorker(db, prefix);
      try {
        await waitFor('the resumed run', async () => (await statusOf(db, id)) === 'COMPLETED');
      } finally {
        await stopWorkflowWorker(second.handle, 2000);
      }
      const done = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } });
      expect(done.completedNodes).toEqual(['start', 'a1', 'a2', 'a3']);
      expect(done.crashCount).toBe(0);
      expect(server.rawCount(`${id}:a1`)).toBe(1);
      // a2 was interrupted and re-sent with the same key; the receiver applied it once.
      expect(server.rawCount(`${id}:a2`)).toBe(2);
      expect(server.effects.get(`${id}:a2`)).toBe(1);
    } finally {
      await queue.close();
    }
  });

  it('SIGTERM: the worker process exits 0 within its shutdown bound and hands its run back', { timeout: 180_000 }, async () => {
    const prefix = uniquePrefix('sigterm');
    prefixes.push(prefix);
    const queue = producer(prefix);
    const child = await spawnWorker({ DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, SHUTDOWN_MS: '500', LOCK_MS: '5000' }, 120_000);
    try {
      const seeded = await seedIncident(db.prisma);
      server.on('/slow/sigterm', { delayMs: 30_000 });
      const doc = lineWorkflow('sigterm', server.url, ['a1', { id: 'a2', path: 'slow/sigterm' }]);
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      await waitFor('the slow step', () => server.requests.find((r) => r.key === `${id}:a2`), 60_000);
      child.kill('SIGTERM');
      const exit = await child.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } });
      expect(row.status).toBe('PENDING');
      expect(row.cancelReason).toBeNull();
      expect(['waiting', 'delayed']).toContain(await (await queue.getJob(id))?.getState());
    } finally {
      child.kill('SIGKILL');
      await queue.close();
    }
  });
});
