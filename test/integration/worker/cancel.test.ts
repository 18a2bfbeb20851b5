import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { jobIdFor } from '../../../src/worker/queue.js';
import { stopWorkflowWorker } from '../../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { EffectServer, lineWorkflow, seedExecution, seedIncident, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { spawnWorker, type ChildWorker } from '../../helpers/worker-process-spawn.js';
import { producer, startTestWorker, statusOf } from './setup.js';

describe('cancel', () => {
  let db: TestDatabase;
  let server: EffectServer;
  const prefixes: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().on('/', { delayMs: 20 }).on('/slow', { delayMs: 15_000 }).start();
  });

  afterAll(async () => {
    await server.close();
    for (const p of prefixes) await deletePrefix(p);
    await db.drop();
  });

  it('aborts the in-flight action of a run held by another process within about a second; nothing is sent afterwards', { timeout: 180_000 }, async () => {
    const prefix = uniquePrefix('cancel');
    prefixes.push(prefix);
    const queue = producer(prefix);
    const scheduler = new WorkflowJobScheduler(queue, db.prisma);
    let child: ChildWorker | undefined;
    try {
      // A long lock: on a saturated machine a 5 s lock can lapse while the child is starved of CPU,
      // BullMQ then hands the job out again as stalled, and the re-claimed run re-sends the step.
      // That is crash recovery (tested in crash-recovery.test.ts), not what this test is about.
      child = await spawnWorker({ DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, LOCK_MS: '30000' }, 120_000);
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('slow-cancel', server.url, ['a1', { id: 'a2', path: 'slow/a2' }, 'a3']);
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });

      const slow = await waitFor('the slow request', () => server.requests.find((r) => r.key === `${id}:a2`));
      const acceptedAt = Date.now();
      const answer = await scheduler.cancel(id, 'user-1');
      expect(answer).toEqual({ outcome: 'cancelling', status: 'RUNNING' });

      await waitFor('the slow request to be aborted', () => slow.abortedAt, 5000);
      expect(slow.abortedAt! - acceptedAt).toBeLessThan(1500);
      await waitFor('CANCELLED', async () => (await statusOf(db, id)) === 'CANCELLED', 10_000);

      const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } });
      expect(row.cancelReason).toBe('manual');
      expect(row.cancelRequestedBy).toBe('user-1');
      expect(row.completedNodes).toEqual(['start', 'a1']);
      expect((row.nodeResults as Record<string, { status: string }>).a2?.status).toBe('cancelled');
      // Give a misbehaving worker time to send something, then check nothing came after the cancel.
      await new Promise((r) => setTimeout(r, 500));
      expect(server.requests.filter((r) => r.key.startsWith(id) && r.at >= acceptedAt)).toEqual([]);
      expect(server.requests.some((r) => r.key === `${id}:a3`)).toBe(false);

      // Cancelling a finished run is a no-op with a clear answer.
      expect(await scheduler.cancel(id, 'user-2')).toEqual({ outcome: 'already_finished', status: 'CANCELLED' });
    } finally {
      child?.kill('SIGTERM');
      await child?.exited;
      await queue.close();
    }
  });

  it('ten concurrent cancels of a queued (delayed) run: one CANCELLED transition, job removed, final state published once', async () => {
    const prefix = uniquePrefix('cancel10');
    prefixes.push(prefix);
    const queue = producer(prefix);
    const scheduler = new WorkflowJobScheduler(queue, db.prisma);
    try {
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('queued-cancel', server.url, ['a1']);
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] }, { delayMs: 60_000 });
      expect(await (await queue.getJob(id))?.getState()).toBe('delayed');

      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => scheduler.cancel(id, `user-${i}`)));
      expect(answers.filter((a) => a.outcome === 'cancelled')).toHaveLength(1);
      expect(answers.every((a) => a.status === 'CANCELLED')).toBe(true);
      expect(answers.filter((a) => a.outcome === 'already_finished')).toHaveLength(9);
      expect(await queue.queue.getJob(jobIdFor(id))).toBeUndefined();
      expect(await statusOf(db, id)).toBe('CANCELLED');

      // No worker held the run, so one is asked to publish its final state to chat, once.
      const worker = await startTestWorker(db, prefix);
      try {
        await waitFor('the final view', () => worker.notifier.viewsOf(id).length > 0, 10_000);
        await worker.handle.runtime.coalescer.flush();
        expect(worker.notifier.viewsOf(id).map((v) => v.status)).toEqual(['CANCELLED']);
        expect(worker.notifier.viewsOf(id)[0]?.actions).toEqual(['retry']);
      } finally {
        await stopWorkflowWorker(worker.handle, 2000);
      }
      expect(server.requests.some((r) => r.key.startsWith(id))).toBe(false);
    } finally {
      await queue.close();
    }
  });

  it('a job whose run was cancelled before it started ends it CANCELLED and leaves nothing behind in the worker', async () => {
    const prefix = uniquePrefix('cancelpre');
    prefixes.push(prefix);
    const worker = await startTestWorker(db, prefix);
    const queue = producer(prefix);
    try {
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('pre-cancel', server.url, ['a1']);
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      // The cancel flag is set while the run is still PENDING and its job not yet taken.
      await db.prisma.workflowExecution.update({ where: { id }, data: { cancelRequestedAt: new Date(), cancelRequestedBy: 'user-1' } });
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      await waitFor('CANCELLED', async () => (await statusOf(db, id)) === 'CANCELLED', 10_000);
      await waitFor('the job to end', () => worker.logger.entries.some((e) => e.msg === 'run cancelled before it started' && e.fields.executionId === id), 10_000);
      expect(worker.handle.runningExecutions()).toEqual([]);
      expect(server.requests.some((r) => r.key.startsWith(id))).toBe(false);
    } finally {
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
  });

  it('ten concurrent cancels of a running run: the run ends CANCELLED once, published once as final', async () => {
    const prefix = uniquePrefix('cancelrun');
    prefixes.push(prefix);
    const worker = await startTestWorker(db, prefix);
    const queue = producer(prefix);
    const scheduler = new WorkflowJobScheduler(queue, db.prisma);
    try {
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('running-cancel', server.url, [{ id: 'a1', path: 'slow/running-cancel' }, 'a2']);
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      await waitFor('the slow request', () => server.requests.find((r) => r.key === `${id}:a1`));

      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => scheduler.cancel(id, `user-${i}`)));
      expect(answers.every((a) => a.outcome === 'cancelling' || a.outcome === 'already_finished')).toBe(true);
      await waitFor('CANCELLED', async () => (await statusOf(db, id)) === 'CANCELLED', 10_000);
      // The row turns CANCELLED when the worker's write commits; the worker queues the final view
      // when that write's answer reaches it, a moment later: wait for that, then for a second one.
      await waitFor('the job to end', () => worker.logger.entries.some((e) => e.msg === 'run finished' && e.fields.executionId === id), 10_000);
      await worker.handle.runtime.coalescer.flush();
      const finals = worker.notifier.viewsOf(id).filter((v) => v.status === 'CANCELLED');
      expect(finals).toHaveLength(1);
      expect(finals[0]?.actions).toEqual(['retry']);
      expect(worker.logger.entries.filter((e) => e.msg === 'run finished' && e.fields.executionId === id)).toHaveLength(1);
      expect(worker.notifier.alerts).toHaveLength(0);
      expect(server.requests.some((r) => r.key === `${id}:a2`)).toBe(false);
    } finally {
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
  });
});
