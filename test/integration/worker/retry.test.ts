import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatNotifier } from '../../../src/engine/ports.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { retryExecution } from '../../../src/worker/retry.js';
import { ExecutionControl } from '../../../src/worker/execution-control.js';
import { stopWorkflowWorker } from '../../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { EffectServer, lineWorkflow, seedExecution, seedIncident, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { producer, startTestWorker, statusOf } from './setup.js';

describe('retry and failure alerts', () => {
  let db: TestDatabase;
  let server: EffectServer;
  const prefixes: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().on('/', { delayMs: 10 }).start();
  });

  afterAll(async () => {
    await server.close();
    for (const p of prefixes) await deletePrefix(p);
    await db.drop();
  });

  it('a failure at step 2 of 3 alerts assignee, author and team; five racing retries make one attempt that repeats no step 1 side effect', async () => {
    const prefix = uniquePrefix('retry');
    prefixes.push(prefix);
    const worker = await startTestWorker(db, prefix);
    const queue = producer(prefix);
    try {
      const author = await db.prisma.user.create({ data: { name: 'Ada Author' } });
      const assignee = await db.prisma.user.create({ data: { name: 'Sam Assignee' } });
      const seeded = await seedIncident(db.prisma, { assigneeId: assignee.id });
      const doc = lineWorkflow('flaky', server.url, ['a1', 'a2', 'a3']);
      server.on('/flaky/a2', { status: 400 });
      const wf = await seedWorkflow(db.prisma, doc, { authorId: author.id });
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      await waitFor('FAILED', async () => (await statusOf(db, id)) === 'FAILED');

      const failed = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } });
      expect(failed.completedNodes).toEqual(['start', 'a1']);
      expect(failed.error).toContain('a2');
      await waitFor('the failure alert', () => worker.notifier.alerts.length === 1);
      const alert = worker.notifier.alerts[0]!;
      expect(alert).toMatchObject({ teamId: seeded.teamId, assigneeId: assignee.id, authorId: author.id, failedStep: 'a2' });
      expect(alert.error).toContain('HTTP 400');
      expect(alert.run.actions).toEqual(['retry']);
      expect(alert.run.workflowName).toBe('flaky');

      // The receiver is fixed; five people press Retry at once.
      server.on('/flaky/a2', { status: 200 });
      const scheduler = new WorkflowJobScheduler(queue, db.prisma);
      const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => scheduler.retry(id, `user-${i}`)));
      expect(answers.filter((a) => a.outcome === 'retrying')).toHaveLength(1);
      expect(answers.filter((a) => a.outcome === 'already_retrying')).toHaveLength(4);
      await waitFor('COMPLETED', async () => (await statusOf(db, id)) === 'COMPLETED');

      const done = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } });
      expect(done.attempt).toBe(2);
      expect(done.completedNodes).toEqual(['start', 'a1', 'a2', 'a3']);
      expect(await db.prisma.auditLog.count({ where: { action: 'execution.retry', targetId: id } })).toBe(1);
      expect(server.rawCount(`${id}:a1`)).toBe(1);
      expect(server.rawCount(`${id}:a2`)).toBe(2);
      expect(server.rawCount(`${id}:a3`)).toBe(1);

      // A completed run is refused with a clear answer.
      const refused = await scheduler.retry(id, 'user-9');
      expect(refused.outcome).toBe('refused');
      expect(refused.message).toMatch(/completed/);
      expect((await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } })).attempt).toBe(2);
    } finally {
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
  });

  it('a cancelled run can be retried too; retrying it again while queued is answered, not doubled', async () => {
    const prefix = uniquePrefix('retry2');
    prefixes.push(prefix);
    const queue = producer(prefix);
    try {
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('cancel-then-retry', server.url, ['a1']);
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      const control = new ExecutionControl(db.prisma);
      expect(await control.cancelPending(id)).toBe(true);
      const first = await retryExecution({ control, queue }, id, 'u1');
      expect(first).toMatchObject({ outcome: 'retrying', attempt: 2 });
      expect(await (await queue.getJob(id, 2))?.getState()).toBe('waiting');
      const second = await retryExecution({ control, queue }, id, 'u2');
      expect(second.outcome).toBe('already_retrying');
      expect(await statusOf(db, id)).toBe('PENDING');
    } finally {
      await queue.close();
    }
  });

  it('a notifier that keeps failing never changes the run outcome; the alert is retried', async () => {
    const prefix = uniquePrefix('alertfail');
    prefixes.push(prefix);
    let attempts = 0;
    const broken: ChatNotifier = {
      publishProgress: async () => {
        throw new Error('chat is down');
      },
      notifyFailure: async () => {
        attempts++;
        throw new Error('chat is down');
      },
      postMessage: async () => ({ ref: 'x' }),
    };
    const worker = await startTestWorker(db, prefix, { notifier: broken });
    const queue = producer(prefix);
    try {
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('fails-loudly', server.url, ['a1']);
      server.on('/fails-loudly/a1', { status: 422 });
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      await waitFor('FAILED', async () => (await statusOf(db, id)) === 'FAILED');
      await waitFor('the alert to be retried', () => attempts >= 2, 10_000);
      expect(await statusOf(db, id)).toBe('FAILED');
      expect((await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } })).error).toContain('HTTP 422');
    } finally {
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
  });
});
