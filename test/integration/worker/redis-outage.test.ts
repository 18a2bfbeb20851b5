import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeResult } from '../../../src/engine/types.js';
import { stopWorkflowWorker } from '../../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { startPrivateRedis, type PrivateRedis } from '../../helpers/redis-server.js';
import { EffectServer, lineWorkflow, seedExecution, seedIncident, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { producer, startTestWorker } from './setup.js';

describe('Redis outage', () => {
  let db: TestDatabase;
  let server: EffectServer;
  let redis: PrivateRedis;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().on('/', { delayMs: 20 }).start();
    redis = await startPrivateRedis();
  });

  afterAll(async () => {
    await redis.stop();
    await server.close();
    await db.drop();
  });

  it('Redis stopped for 10 seconds (and back empty) under a steady stream of events: every run completes, none twice', { timeout: 120_000 }, async () => {
    const prefix = 'outage';
    const worker = await startTestWorker(db, prefix, { connection: redis.url, reconcileIntervalMs: 1000, reconcileGraceMs: 1000 });
    const queue = producer(prefix, redis.url);
    const seeded = await seedIncident(db.prisma);
    const doc = lineWorkflow('steady', server.url, ['a1', 'a2']);
    const wf = await seedWorkflow(db.prisma, doc);
    const ids: string[] = [];
    let notEnqueued = 0;
    let streaming = true;
    // The dispatcher's order: row first, then the job; a failed add is left to the reconciler.
    const stream = (async () => {
      while (streaming) {
        const id = await seedExecution(db.prisma, wf, seeded, doc);
        ids.push(id);
        const r = await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
        if (!r.enqueued) notEnqueued++;
        await new Promise((res) => setTimeout(res, 250));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 2000));
      await redis.stop();
      const stoppedAt = ids.length;
      await new Promise((r) => setTimeout(r, 10_000));
      const duringOutage = ids.length - stoppedAt;
      await redis.start();
      await new Promise((r) => setTimeout(r, 2000));
      streaming = false;
      await stream;
      expect(duringOutage).toBeGreaterThan(5);
      expect(notEnqueued).toBeGreaterThan(0);

      await waitFor(
        'every run to complete',
        async () => (await db.prisma.workflowExecution.count({ where: { id: { in: ids }, status: 'COMPLETED' } })) === ids.length,
        60_000,
        250,
      );
    } finally {
      streaming = false;
      await stream;
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
    const rows = await db.prisma.workflowExecution.findMany({ where: { id: { in: ids } } });
    for (const row of rows) {
      expect(row.completedNodes).toEqual(['start', 'a1', 'a2']);
      const results = row.nodeResults as unknown as Record<string, NodeResult>;
      for (const node of ['a1', 'a2']) {
        const key = `${row.id}:${node}`;
        expect(server.rawCount(key), key).toBe(1);
        expect(server.effects.get(key), key).toBe(1);
        expect(results[node]?.attempts).toBe(1);
      }
    }
    console.info(`redis outage: ${ids.length} runs, ${notEnqueued} could not be enqueued during the outage and were recovered by the reconciler`);
  });

  it('stops within its bound even while Redis is down, and a producer never hangs on a Redis that is away', { timeout: 60_000 }, async () => {
    const worker = await startTestWorker(db, 'down', { connection: redis.url });
    const queue = producer('down', redis.url);
    await redis.stop();
    try {
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('while-down', server.url, ['a1']);
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      const result = await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      expect(result).toEqual({ jobId: id, enqueued: false });
      const started = Date.now();
      await stopWorkflowWorker(worker.handle, 1000);
      // A generous bound: the feature is "bounded", not "fast".
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await queue.close();
      await redis.start();
    }
  });
});
