/**
 * Crash recovery with real processes: worker children are SIGKILLed at random points while they
 * run three-action workflows. CRASH_ITERATIONS (default 20) sets how many kills; e.g.
 * `CRASH_ITERATIONS=200 npx vitest run test/integration/worker/crash-recovery.test.ts` for a long run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeResult } from '../../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { EffectServer, lineWorkflow, seedExecution, seedIncident, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { spawnWorker, type ChildWorker, type ChildWorkerEnv } from '../../helpers/worker-process-spawn.js';
import { producer } from './setup.js';

const KILLS = Number(process.env.CRASH_ITERATIONS ?? 20);
const POOL = 3;

describe('crash recovery (SIGKILL)', () => {
  let db: TestDatabase;
  let server: EffectServer;
  const prefixes: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().on('/', { delayMs: 120 }).start();
  });

  afterAll(async () => {
    await server.close();
    for (const p of prefixes) await deletePrefix(p);
    await db.drop();
  });

  it(`survives ${KILLS} SIGKILLs at random points: nothing stuck, every side effect once, no completed node re-run`, { timeout: 180_000 + KILLS * 12_000 }, async () => {
    const prefix = uniquePrefix('crash');
    prefixes.push(prefix);
    const queue = producer(prefix);
    const env: ChildWorkerEnv = { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: '3', LOCK_MS: '1500', MAX_CRASHES: '1000' };
    const seeded = await seedIncident(db.prisma);
    const doc = lineWorkflow('three-steps', server.url, ['a1', 'a2', 'a3']);
    const wf = await seedWorkflow(db.prisma, doc);
    const ids: string[] = [];
    const addRun = async () => {
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      ids.push(id);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
    };

    const all: ChildWorker[] = [];
    const spawning = new Set<Promise<unknown>>();
    const spawnOne = () => {
      const p = spawnWorker(env, 90_000)
        .then((c) => void all.push(c))
        .catch((error: unknown) => console.warn(`spawn failed: ${String(error)}`))
        .finally(() => spawning.delete(p));
      spawning.add(p);
    };
    const isLive = (c: ChildWorker) => c.child.exitCode === null && c.child.signalCode === null;
    for (let i = 0; i < POOL; i++) spawnOne();
    await Promise.all([...spawning]);

    let kills = 0;
    let killsMidRun = 0;
    try {
      while (kills < KILLS) {
        const unfinished = await db.prisma.workflowExecution.count({ where: { id: { in: ids }, status: { in: ['PENDING', 'RUNNING'] } } });
        for (let i = unfinished; i < 5; i++) await addRun();
        while (all.filter(isLive).length + spawning.size < POOL) spawnOne();
        // Keep one survivor doing work and stall recovery while replacements start.
        if (all.filter(isLive).length < 2 && spawning.size > 0) {
          await Promise.race([...spawning]);
          continue;
        }
        // A random point during a run: pick a worker holding a RUNNING run (the last to call out
        // for it), wait a random moment, kill it.
        const running = await db.prisma.workflowExecution.findMany({ where: { id: { in: ids }, status: 'RUNNING' }, select: { id: true } });
        const holders = new Set<string | undefined>();
        for (const { id } of running) {
          const last = server.requests.filter((r) => r.key.startsWith(id)).at(-1);
          holders.add(last?.pid);
        }
        const live = all.filter(isLive);
        const busy = live.filter((c) => holders.has(String(c.pid)));
        const candidates = busy.length > 0 ? busy : live;
        const victim = candidates[Math.floor(Math.random() * candidates.length)];
        if (!victim) continue;
        await new Promise((r) => setTimeout(r, Math.random() * 300));
        if (busy.length > 0) killsMidRun++;
        victim.kill('SIGKILL');
        await victim.exited;
        kills++;
        spawnOne();
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      }
      await Promise.all([...spawning]);

      // Recovery window: stalled jobs are re-delivered and finished by the surviving workers.
      await waitFor(
        'every run to finish',
        async () => (await db.prisma.workflowExecution.count({ where: { id: { in: ids }, status: { in: ['PENDING', 'RUNNING'] } } })) === 0,
        90_000,
        250,
      );
    } finally {
      await Promise.all([...spawning]);
      for (const c of all) c.kill('SIGTERM');
      await Promise.all(all.map((c) => c.exited));
      await queue.close();
    }

    const rows = await db.prisma.workflowExecution.findMany({ where: { id: { in: ids } } });
    expect(rows.length).toBe(ids.length);
    expect(rows.filter((r) => r.status === 'PENDING' || r.status === 'RUNNING')).toEqual([]);
    expect(rows.map((r) => r.status).filter((s) => s !== 'COMPLETED')).toEqual([]);

    let duplicates = 0;
    for (const row of rows) {
      expect(row.completedNodes).toEqual(['start', 'a1', 'a2', 'a3']);
      const results = row.nodeResults as unknown as Record<string, NodeResult>;
      for (const node of ['a1', 'a2', 'a3']) {
        const key = `${row.id}:${node}`;
        // Exactly one effect per key at a receiver that honours Idempotency-Key...
        expect(server.effects.get(key), key).toBe(1);
        // ...and no request for a node after it was recorded complete: completed nodes never re-run.
        const finishedAt = Date.parse(results[node]!.finishedAt!);
        expect(server.requests.filter((r) => r.key === key && r.at > finishedAt), key).toEqual([]);
        duplicates += server.rawCount(key) - 1;
      }
    }
    const crashed = rows.filter((r) => r.crashCount > 0).length;
    console.info(
      `crash test: ${kills} kills (${killsMidRun} of a worker holding a running run), ${rows.length} runs, ${crashed} resumed after a crash, ` +
        `${server.requests.length} raw requests for ${rows.length * 3} effects (${duplicates} re-sends of interrupted actions with the same key)`,
    );
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(crashed).toBeGreaterThan(0);
  });

  it('a job that kills its worker every time ends FAILED with a reason, and other runs are not held up', { timeout: 120_000 }, async () => {
    const prefix = uniquePrefix('poison');
    prefixes.push(prefix);
    const queue = producer(prefix);
    const env: ChildWorkerEnv = { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: '3', LOCK_MS: '1500', MAX_CRASHES: '3' };
    const seeded = await seedIncident(db.prisma);
    const poisonDoc = lineWorkflow('poison', server.url, ['a1', { id: 'a2', path: 'poison/die' }, 'a3']);
    const goodDoc = lineWorkflow('healthy', server.url, ['a1', 'a2', 'a3']);
    const poisonWf = await seedWorkflow(db.prisma, poisonDoc);
    const goodWf = await seedWorkflow(db.prisma, goodDoc);
    const children: ChildWorker[] = [];
    try {
      const poison = await seedExecution(db.prisma, poisonWf, seeded, poisonDoc);
      await queue.scheduleWorkflow({ executionId: poison, incidentId: seeded.incidentId, workflowId: poisonWf, triggeredBy: 'event', executionChain: [poisonWf] });
      children.push(await spawnWorker(env), await spawnWorker(env));
      // Keep replacing dead workers (an orchestrator would restart them) until the poison run is settled,
      // while healthy runs keep being scheduled.
      const healthy: string[] = [];
      const deadline = Date.now() + 90_000;
      for (;;) {
        const status = (await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: poison } })).status;
        if (status === 'FAILED') break;
        if (Date.now() > deadline) throw new Error(`poison run still ${status}`);
        const id = await seedExecution(db.prisma, goodWf, seeded, goodDoc);
        healthy.push(id);
        await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: goodWf, triggeredBy: 'event', executionChain: [goodWf] });
        for (const [i, c] of children.entries()) {
          if (c.child.exitCode !== null || c.child.signalCode !== null) children[i] = await spawnWorker(env);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: poison } });
      expect(row.status).toBe('FAILED');
      expect(row.error).toBe('worker crashed 3 times while running step "a2"');
      expect(row.completedNodes).toEqual(['start', 'a1']);
      expect(server.requests.some((r) => r.key === `${poison}:a3`)).toBe(false);

      // Healthy runs scheduled meanwhile all complete.
      const last = await seedExecution(db.prisma, goodWf, seeded, goodDoc);
      healthy.push(last);
      await queue.scheduleWorkflow({ executionId: last, incidentId: seeded.incidentId, workflowId: goodWf, triggeredBy: 'event', executionChain: [goodWf] });
      await waitFor(
        'healthy runs to complete',
        async () => (await db.prisma.workflowExecution.count({ where: { id: { in: healthy }, status: 'COMPLETED' } })) === healthy.length,
        60_000,
        250,
      );
    } finally {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => c.exited));
      await queue.close();
    }
  });
});
