/**
 * Baselines measured in the same run as the product: plain BullMQ jobs doing the same I/O
 * the product does, and a Bolt app that only acknowledges.
 */
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import axios from 'axios';
import { Agent } from 'node:http';
import { quantile } from './stats.js';

export interface BaselineEnv {
  redisUrl: string;
  databaseUrl: string;
  prefix: string;
  concurrency: number;
}

async function withTable<T>(env: BaselineEnv, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: env.concurrency + 2 });
  await pool.query('CREATE TABLE IF NOT EXISTS bench_baseline (id INT PRIMARY KEY, step INT NOT NULL DEFAULT 0, data JSONB)');
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/**
 * Runs per second of plain BullMQ jobs that each make `calls` HTTP POSTs and `calls`
 * single-row UPDATEs. Returns jobs/second.
 */
export async function baselineThroughput(env: BaselineEnv, target: string, jobs: number, calls = 3): Promise<number> {
  return withTable(env, async (pool) => {
    await pool.query('TRUNCATE bench_baseline');
    await pool.query('INSERT INTO bench_baseline (id) SELECT generate_series(1, $1)', [jobs]);
    const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
    const name = 'baseline-throughput';
    const queue = new Queue(name, { connection, prefix: env.prefix });
    const http = axios.create({ httpAgent: new Agent({ keepAlive: true }) });
    let done = 0;
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((r) => (resolveAll = r));
    const worker = new Worker(
      name,
      async (job) => {
        for (let i = 0; i < calls; i++) {
          await http.post(target, { job: job.id, step: i });
          await pool.query('UPDATE bench_baseline SET step = $2, data = $3 WHERE id = $1', [job.data.id, i, { i }]);
        }
      },
      { connection: connection.duplicate(), prefix: env.prefix, concurrency: env.concurrency },
    );
    worker.on('completed', () => {
      if (++done === jobs) resolveAll();
    });
    const start = performance.now();
    await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'run', data: { id: i + 1 }, opts: { removeOnComplete: true } })));
    await all;
    const seconds = (performance.now() - start) / 1000;
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
    return jobs / seconds;
  });
}

/** Latency from `queue.add` to the processor starting, in ms, one job at a time in flight. */
export async function baselineDispatch(env: BaselineEnv, samples: number): Promise<{ p50: number; p99: number }> {
  const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
  const name = 'baseline-dispatch';
  const queue = new Queue(name, { connection, prefix: env.prefix });
  const started = new Map<string, number>();
  const latencies: number[] = [];
  let wake: () => void = () => undefined;
  const worker = new Worker(
    name,
    async (job) => {
      const t = started.get(job.id as string);
      if (t !== undefined) latencies.push(performance.now() - t);
      wake();
    },
    { connection: connection.duplicate(), prefix: env.prefix, concurrency: env.concurrency },
  );
  await worker.waitUntilReady();
  for (let i = 0; i < samples; i++) {
    const id = `j${i}`;
    const done = new Promise<void>((r) => (wake = r));
    started.set(id, performance.now());
    await queue.add('run', {}, { jobId: id, removeOnComplete: true });
    await done;
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** Time for `updates` sequential single-row UPDATEs (the floor of a chain of that many nodes), in ms. */
export async function baselineSequentialUpdates(env: BaselineEnv, updates: number): Promise<number> {
  return withTable(env, async (pool) => {
    await pool.query('INSERT INTO bench_baseline (id) VALUES (0) ON CONFLICT DO NOTHING');
    const start = performance.now();
    for (let i = 0; i < updates; i++) await pool.query('UPDATE bench_baseline SET step = $1, data = $2 WHERE id = 0', [i, { i }]);
    return performance.now() - start;
  });
}

export { QueueEvents };
