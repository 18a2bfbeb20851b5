/**
 * Row 8: resident memory of a worker process (the product's worker in its own process) after
 * warm-up, with a backlog of queued runs, and after each batch of completed runs. Bounded means
 * the worker does not pull the backlog into memory (RSS with the backlog vs after warm-up); no
 * growth means the heap after a full GC stays flat from batch to batch.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchEnv } from '../env.js';
import { inParallel } from '../completion.js';
import { applyWorkflows, createdEvent, seedIncident, seedTeam, webhookLine } from '../fixtures.js';
import { startHttpTarget } from '../http-target.js';
import { startProduct } from '../product.js';
import type { BenchRow } from '../stats.js';

export interface MemorySizes {
  warmup: number;
  /** Runs queued at once for the "queued" measurement (also the first batch). */
  queued: number;
  /** Further batches, each this many runs, until `total` runs completed. */
  batch: number;
  total: number;
  concurrency: number;
  /** Stop adding batches once this much time went by (the row reports how many runs it reached). */
  budgetMs: number;
}

interface Mem {
  rss: number;
  heapUsed: number;
}

const MB = 1024 * 1024;

function request(child: ChildProcess, type: string): Promise<Mem> {
  return new Promise((resolve) => {
    const on = (msg: { type: string } & Mem) => {
      if (msg.type === type) {
        child.off('message', on);
        resolve(msg);
      }
    };
    child.on('message', on);
    child.send({ type });
  });
}

export async function memoryRows(env: BenchEnv, sizes: MemorySizes, log: (msg: string) => void): Promise<{ rows: BenchRow[] }> {
  const prefix = env.subPrefix('memory');
  const target = await startHttpTarget();
  const teamId = await seedTeam(env.prisma);
  const incident = await seedIncident(env.prisma, teamId, 'memory');
  await applyWorkflows(env.prisma, [webhookLine('bench-memory', 'memory', target.url, 1)]);
  const producer = await startProduct(env, { prefix });
  const child = fork(fileURLToPath(new URL('../worker-child.ts', import.meta.url)), [env.databaseUrl, env.redisUrl, prefix, String(sizes.concurrency)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`worker child exited with ${code}`)));
    });
    const emitted = { n: 0 };
    const emit = async (count: number) => {
      await inParallel(count, 8, async () => {
        await producer.services.dispatcher.emit(createdEvent(incident));
      });
      emitted.n += count;
    };
    const finished = () => env.prisma.workflowExecution.count({ where: { incidentId: incident.id, status: { in: ['COMPLETED', 'FAILED', 'CANCELLED'] } } });
    const drained = async () => {
      while ((await finished()) < emitted.n) await new Promise((r) => setTimeout(r, 250));
      return request(child, 'mem');
    };

    const started = Date.now();
    log(`row 8: warm-up, ${sizes.warmup} runs`);
    await emit(sizes.warmup);
    const warm = await drained();

    log(`row 8: ${sizes.queued} runs queued at once`);
    await emit(sizes.queued);
    const queued = await request(child, 'mem');
    const backlog = emitted.n - (await finished());
    const batches: Mem[] = [await drained()];
    while (emitted.n - sizes.warmup < sizes.total && Date.now() - started < sizes.budgetMs) {
      log(`row 8: batch of ${sizes.batch} (${emitted.n - sizes.warmup} of ${sizes.total} done)`);
      await emit(Math.min(sizes.batch, sizes.total - (emitted.n - sizes.warmup)));
      batches.push(await drained());
    }
    const completed = await env.prisma.workflowExecution.count({ where: { incidentId: incident.id, status: 'COMPLETED' } });
    if (completed !== emitted.n) {
      const statuses = await env.prisma.workflowExecution.groupBy({ by: ['status', 'error'], where: { incidentId: incident.id }, _count: true });
      throw new Error(`row 8: ${completed} of ${emitted.n} runs COMPLETED: ${JSON.stringify(statuses)}`);
    }
    const last = batches[batches.length - 1]!;
    const peakRss = Math.max(queued.rss, ...batches.map((b) => b.rss));
    const heapGrowth = batches.length > 1 ? last.heapUsed / batches[1]!.heapUsed : last.heapUsed / batches[0]!.heapUsed;
    const total = emitted.n - sizes.warmup;
    return {
      rows: [
        {
          metric: `8 worker RSS, ${backlog} runs queued`,
          value: queued.rss / MB,
          baseline: warm.rss / MB,
          unit: 'MB',
          ratio: queued.rss / warm.rss,
          target: 'bounded (<= 1.5x)',
          met: queued.rss / warm.rss <= 1.5,
        },
        {
          metric: `8 worker RSS, ${total} runs completed`,
          value: last.rss / MB,
          baseline: warm.rss / MB,
          unit: 'MB',
          ratio: last.rss / warm.rss,
          target: 'bounded (<= 1.5x)',
          met: last.rss / warm.rss <= 1.5,
          note: `${total} of the ${sizes.total} runs planned fit in the ${(sizes.budgetMs / 1000).toFixed(0)} s budget; RSS after each batch: ${batches.map((b) => (b.rss / MB).toFixed(0)).join(', ')} MB (peak ${(peakRss / MB).toFixed(0)})`,
        },
        {
          metric: '8 worker heap growth across batches',
          value: last.heapUsed / MB,
          baseline: (batches.length > 1 ? batches[1]! : batches[0]!).heapUsed / MB,
          unit: 'MB',
          ratio: heapGrowth,
          target: '<= 1.1x',
          met: heapGrowth <= 1.1,
          note: `heap after GC, after each batch: ${batches.map((b) => (b.heapUsed / MB).toFixed(1)).join(', ')} MB`,
        },
      ],
    };
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    await producer.close();
    await target.close();
  }
}
