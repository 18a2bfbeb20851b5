/**
 * Row 8: resident memory of a worker process (the product's worker, `startService` role `worker`,
 * in a child process) after warm-up, with a batch of runs queued at once, and after each batch of
 * completed runs. Runs are recorded and enqueued through the product's dispatcher. Bounded means
 * the worker does not pull the backlog into memory (RSS with 10,000 runs queued vs after warm-up)
 * and RSS after 50,000 runs stays near the warm-up figure; no growth means the heap after a full
 * GC stays flat from batch to batch. The warm-up is long enough (2,000 runs in full mode) for the
 * process to reach its working size: after a few hundred runs V8's young generation and the
 * connection pools have not grown yet, and RSS after that would understate the baseline.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RecordedRuns } from '../../src/app/dispatcher.js';
import { TX_OPTIONS } from '../../src/app/ports.js';
import type { BenchEnv } from '../env.js';
import { inParallel } from '../completion.js';
import { applyWorkflows, createdEvent, seedIncident, seedTeam, webhookLine } from '../fixtures.js';
import { startHttpTarget } from '../http-target.js';
import { startProduct } from '../product.js';
import type { BenchRow } from '../stats.js';

export interface MemorySizes {
  warmup: number;
  /** Runs in the first batch, all queued at once (the queue is paused while they are recorded). */
  queued: number;
  /** Runs in each further batch (also queued at once), until `total` runs completed after warm-up. */
  batch: number;
  total: number;
  /** The worker child's WORKER_CONCURRENCY. */
  concurrency: number;
  /**
   * No batch after the first is started that would end more than this long after the warm-up
   * began (estimated from the previous batch); the row reports how many runs it reached.
   */
  budgetMs: number;
}

interface Mem {
  rss: number;
  /** Right after the GC (RSS is read a second later, see worker-child.ts). */
  heapUsed: number;
  /** Highest RSS sampled (every 250 ms, garbage included) since the previous request. */
  peakRss: number;
}

const MB = 1024 * 1024;
/** Events recorded per producer transaction, and producer transactions in flight. */
const EVENTS_PER_TX = 100;
const PRODUCER_LANES = 4;

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

const mb = (n: number) => (n / MB).toFixed(0);

/** One batch: recorded with the queue paused, then drained. */
interface Batch {
  runs: number;
  /** Jobs queued when the worker was let at them. */
  queued: number;
  /** Memory with the whole batch queued (the queue paused), the worker idle. */
  idle: Mem;
  /** Memory while working through it, with `queuedBusy` still queued. */
  busy: Mem;
  queuedBusy: number;
  /** Memory once drained; `peakRss` covers the whole drain. */
  after: Mem;
  produceMs: number;
  drainMs: number;
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
  const queue = producer.queue.queue;
  const dispatcher = producer.services.dispatcher;
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`worker child exited with ${code}`)));
    });
    let emitted = 0;
    // The product's own outbox path for events recorded inside a caller's transaction (what the
    // incident service does): `record` matches and writes the PENDING rows, `schedule` adds the
    // jobs after the commit. Many events per transaction only makes producing 10,000+ runs fast.
    const produce = async (count: number) => {
      await inParallel(Math.ceil(count / EVENTS_PER_TX), PRODUCER_LANES, async (i) => {
        const n = Math.min(EVENTS_PER_TX, count - i * EVENTS_PER_TX);
        const recorded = await producer.handle.prisma.$transaction(async (tx) => {
          const out: RecordedRuns[] = [];
          for (let k = 0; k < n; k++) out.push(await dispatcher.record(tx, createdEvent(incident)));
          return out;
        }, TX_OPTIONS);
        await Promise.all(recorded.map((r) => dispatcher.schedule(r)));
        emitted += recorded.reduce((sum, r) => sum + r.jobs.length, 0);
      });
    };
    // Jobs are removed on completion, so "drained" is an empty queue: a few O(1) Redis counts,
    // nothing that costs the worker or PostgreSQL anything.
    const pending = async () => {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    };
    const drained = async () => {
      let last = -1;
      let since = Date.now();
      for (;;) {
        const left = await pending();
        if (left === 0) return;
        if (left !== last) {
          last = left;
          since = Date.now();
        } else if (Date.now() - since > 60_000) {
          throw new Error(`row 8: the worker made no progress for 60 s with ${left} jobs left`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    // Each batch is recorded with the queue paused, so all of it is queued at once when the worker
    // gets it (recording 10,000 runs takes ~20 s, during which a running worker would already have
    // taken a few thousand); then the queue is resumed and the worker drains it.
    const runBatch = async (runs: number): Promise<Batch> => {
      await queue.pause();
      const t0 = Date.now();
      await produce(runs);
      const produceMs = Date.now() - t0;
      const queued = await pending();
      const idle = await request(child, 'mem');
      await queue.resume();
      const resumedAt = Date.now();
      // Measure once the worker runs at full concurrency (a few rounds of `concurrency` runs done)
      // while nearly all of the batch is still queued.
      const threshold = queued - Math.max(1, Math.min(Math.floor(queued / 10), 20 * sizes.concurrency));
      let queuedBusy = await pending();
      while (queuedBusy > threshold) {
        await new Promise((r) => setTimeout(r, 100));
        queuedBusy = await pending();
      }
      const busy = await request(child, 'mem');
      await drained();
      const drainMs = Date.now() - resumedAt;
      const after = await request(child, 'mem');
      after.peakRss = Math.max(after.peakRss, busy.peakRss);
      return { runs, queued, idle, busy, queuedBusy, after, produceMs, drainMs };
    };

    const started = Date.now();
    log(`row 8: warm-up, ${sizes.warmup} runs (worker concurrency ${sizes.concurrency})`);
    await produce(sizes.warmup);
    await drained();
    const warm = await request(child, 'mem');

    const batches: Batch[] = [];
    const done = () => emitted - sizes.warmup;
    let msPerRun = 0;
    while (done() < sizes.total) {
      const next = Math.min(batches.length === 0 ? sizes.queued : sizes.batch, sizes.total - done());
      if (batches.length > 0 && Date.now() - started + next * msPerRun > sizes.budgetMs) break;
      log(`row 8: batch ${batches.length + 1}: recording ${next} runs with the queue paused (${done()} of ${sizes.total} done)`);
      const t0 = Date.now();
      const b = await runBatch(next);
      batches.push(b);
      msPerRun = (Date.now() - t0) / b.runs;
      log(
        `row 8: batch ${batches.length}: recorded in ${(b.produceMs / 1000).toFixed(1)} s, drained in ${(b.drainMs / 1000).toFixed(1)} s ` +
          `(${(b.runs / (b.drainMs / 1000)).toFixed(0)} runs/s), RSS ${mb(b.after.rss)} MB, heap ${(b.after.heapUsed / MB).toFixed(1)} MB`,
      );
    }
    const completed = await env.prisma.workflowExecution.count({ where: { incidentId: incident.id, status: 'COMPLETED' } });
    if (completed !== emitted) {
      const statuses = await env.prisma.workflowExecution.groupBy({ by: ['status', 'error'], where: { incidentId: incident.id }, _count: true });
      throw new Error(`row 8: ${completed} of ${emitted} runs COMPLETED: ${JSON.stringify(statuses)}`);
    }
    const rowMs = Date.now() - started;
    const first = batches[0]!;
    const last = batches[batches.length - 1]!;
    const total = done();
    // The backlog figure: the highest after-GC RSS seen with a batch queued (idle or working).
    const queuedRss = Math.max(...batches.flatMap((b) => [b.idle.rss, b.busy.rss]));
    const peakRss = Math.max(...batches.map((b) => b.after.peakRss));
    const heapGrowth = last.after.heapUsed / first.after.heapUsed;
    const drainRates = batches.map((b) => b.runs / (b.drainMs / 1000));
    const avgRate = batches.reduce((s, b) => s + b.runs, 0) / (batches.reduce((s, b) => s + b.drainMs, 0) / 1000);
    const list = (f: (b: Batch) => string) => batches.map(f).join(', ');
    return {
      rows: [
        {
          metric: `8 worker RSS, ${first.queued} runs queued`,
          value: queuedRss / MB,
          baseline: warm.rss / MB,
          unit: 'MB',
          ratio: queuedRss / warm.rss,
          target: 'bounded (<= 1.5x)',
          met: queuedRss / warm.rss <= 1.5,
          note:
            `RSS after GC with a batch queued, per batch, idle / working through it: ${list((b) => `${mb(b.idle.rss)}/${mb(b.busy.rss)}`)} MB ` +
            `(working: ${first.queuedBusy} of ${first.queued} still queued in batch 1); worker concurrency ${sizes.concurrency}; ` +
            `batches drained at ${drainRates.map((r) => r.toFixed(0)).join(', ')} runs/s (mean ${avgRate.toFixed(0)})`,
        },
        {
          metric: `8 worker RSS, ${total} runs completed`,
          value: last.after.rss / MB,
          baseline: warm.rss / MB,
          unit: 'MB',
          ratio: last.after.rss / warm.rss,
          target: 'bounded (<= 1.5x)',
          met: last.after.rss / warm.rss <= 1.5,
          note:
            `${total} of the ${sizes.total} runs planned (${sizes.warmup} warm-up runs before), ${batches.length} batches in ${(rowMs / 1000).toFixed(0)} s (budget ${(sizes.budgetMs / 1000).toFixed(0)} s); ` +
            `RSS after GC after each batch: ${list((b) => mb(b.after.rss))} MB; highest RSS sampled between GCs (every 250 ms) ${mb(peakRss)} MB, ${mb(warm.peakRss)} MB up to the end of warm-up`,
        },
        {
          metric: '8 worker heap growth across batches',
          value: last.after.heapUsed / MB,
          baseline: first.after.heapUsed / MB,
          unit: 'MB',
          ratio: heapGrowth,
          target: '<= 1.1x',
          met: heapGrowth <= 1.1,
          note: `heap used after full GC: warm-up ${(warm.heapUsed / MB).toFixed(1)} MB, after each batch ${list((b) => (b.after.heapUsed / MB).toFixed(1))} MB`,
        },
      ],
    };
  } finally {
    await queue.resume().catch(() => undefined);
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
