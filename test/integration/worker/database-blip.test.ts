import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopWorkflowWorker } from '../../../src/worker/worker.js';
import { BASE_DATABASE_URL, createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { EffectServer, lineWorkflow, seedExecution, seedIncident, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { producer, startTestWorker, statusOf } from './setup.js';

/** Kills every connection to the test database (what a failover or a restarted pgbouncer does). */
async function dropConnections(dbName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe('database blip', () => {
  let db: TestDatabase;
  let server: EffectServer;
  const prefix = uniquePrefix('dbblip');

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().on('/', { delayMs: 20 }).on('/slow', { delayMs: 1500 }).start();
  });

  afterAll(async () => {
    await server.close();
    await deletePrefix(prefix);
    await db.drop();
  });

  it('connections killed mid-run: the worker survives and the runs complete, each effect once', async () => {
    const worker = await startTestWorker(db, prefix, { infraRetryDelayMs: 500 });
    const queue = producer(prefix);
    try {
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('blip', server.url, ['a1', { id: 'a2', path: 'slow/blip' }, 'a3']);
      const wf = await seedWorkflow(db.prisma, doc);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const id = await seedExecution(db.prisma, wf, seeded, doc);
        ids.push(id);
        await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      }
      await waitFor('the slow steps', () => ids.every((id) => server.requests.some((r) => r.key === `${id}:a2`)));
      expect(await dropConnections(db.name)).toBeGreaterThan(0);

      await waitFor('every run to complete', async () => {
        const statuses = await Promise.all(ids.map((id) => statusOf(db, id).catch(() => undefined)));
        return statuses.every((s) => s === 'COMPLETED');
      }, 30_000, 200);
      for (const id of ids) {
        for (const node of ['a1', 'a2', 'a3']) expect(server.effects.get(`${id}:${node}`)).toBe(1);
        expect(server.rawCount(`${id}:a1`)).toBe(1);
      }
    } finally {
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
  });
});
