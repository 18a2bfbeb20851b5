/**
 * Rows 1-4: throughput of a three-webhook workflow, dispatch latency, a 40-node chain, and
 * database writes per node, all through the product's dispatcher and worker, with baselines
 * measured right before on the same machine.
 */
import { baselineDispatch, baselineSequentialUpdates, baselineThroughput, type BaselineEnv } from '../baselines.js';
import { inParallel, trackWorkerCompletions } from '../completion.js';
import type { BenchEnv } from '../env.js';
import { applyWorkflows, conditionChain, createdEvent, seedIncident, seedTeam, webhookLine } from '../fixtures.js';
import { startHttpTarget } from '../http-target.js';
import { startProduct } from '../product.js';
import { quantile, type BenchRow } from '../stats.js';

export interface ExecutionSizes {
  /** Runs for throughput (each side). */
  throughputRuns: number;
  /** Sequential runs for dispatch latency (each side). */
  dispatchSamples: number;
  /** Sequential 40-node runs. */
  chainRuns: number;
  chainLength: number;
  /** Jobs at once, product worker and baseline worker alike. */
  concurrency: number;
}

/** Where the time of one product run goes (for the closing note when a row misses). */
export interface ExecutionDetail {
  throughput: { product: number; baseline: number };
  dispatch: { p50: number; p99: number; baseP50: number; baseP99: number };
  chain: { p50: number; baseline: number; baseDispatch: number; baseUpdates: number };
  writes: { perNode: number; perRun: number; nodes: number };
}

const median = (xs: number[]) => quantile(xs, 0.5);

export async function executionRows(env: BenchEnv, sizes: ExecutionSizes, log: (msg: string) => void): Promise<{ rows: BenchRow[]; detail: ExecutionDetail }> {
  const target = await startHttpTarget();
  const teamId = await seedTeam(env.prisma);
  const incidents = {
    throughput: await seedIncident(env.prisma, teamId, 'throughput'),
    dispatch: await seedIncident(env.prisma, teamId, 'dispatch'),
    chain: await seedIncident(env.prisma, teamId, 'chain'),
  };
  await applyWorkflows(env.prisma, [
    webhookLine('bench-three-webhooks', 'throughput', target.url, 3),
    webhookLine('bench-first-action', 'dispatch', target.url, 1),
    conditionChain('bench-chain', 'chain', sizes.chainLength),
  ]);
  const baseEnv: BaselineEnv = { redisUrl: env.redisUrl, databaseUrl: env.databaseUrl, prefix: env.subPrefix('baseline'), concurrency: sizes.concurrency };
  const product = await startProduct(env, { worker: { concurrency: sizes.concurrency } });
  const tracker = trackWorkerCompletions(product.handle.worker!.worker);
  const emit = (incident: typeof incidents.throughput) => product.services.dispatcher.emit(createdEvent(incident));

  try {
    // Warm-up both sides (connections, JIT, BullMQ scripts).
    const warmRuns = Math.max(5, Math.min(30, Math.round(sizes.throughputRuns / 10)));
    log('row 1: warm-up');
    await baselineThroughput(baseEnv, target.url, warmRuns);
    tracker.reset();
    await inParallel(warmRuns, 8, async () => void (await emit(incidents.throughput)));
    await tracker.waitCount(warmRuns);

    // Row 1: throughput.
    log(`row 1: baseline, ${sizes.throughputRuns} plain BullMQ jobs`);
    const baseTput = await baselineThroughput(baseEnv, target.url, sizes.throughputRuns);
    log(`row 1: product, ${sizes.throughputRuns} runs`);
    tracker.reset();
    const t0 = performance.now();
    await inParallel(sizes.throughputRuns, 8, async () => {
      const ids = await emit(incidents.throughput);
      if (ids.length !== 1) throw new Error(`expected one matching workflow, got ${ids.length}`);
    });
    await tracker.waitCount(sizes.throughputRuns);
    const productTput = sizes.throughputRuns / ((performance.now() - t0) / 1000);
    const completed = await env.prisma.workflowExecution.count({ where: { incidentId: incidents.throughput.id, status: 'COMPLETED' } });
    const expected = sizes.throughputRuns + warmRuns;
    if (completed !== expected) throw new Error(`throughput: ${completed} of ${expected} runs COMPLETED`);

    // Row 2: dispatch latency, one run at a time.
    log(`row 2: baseline, ${sizes.dispatchSamples} add->process`);
    await baselineDispatch(baseEnv, Math.min(20, sizes.dispatchSamples));
    const baseDispatch = await baselineDispatch(baseEnv, sizes.dispatchSamples);
    log(`row 2: product, ${sizes.dispatchSamples} event->first request`);
    let firstRequest: (() => void) | null = null;
    target.onRequest(() => {
      const f = firstRequest;
      firstRequest = null;
      f?.();
    });
    const latencies: number[] = [];
    const warm = Math.min(20, sizes.dispatchSamples);
    for (let i = 0; i < sizes.dispatchSamples + warm; i++) {
      const seen = new Promise<number>((resolve) => (firstRequest = () => resolve(performance.now())));
      const start = performance.now();
      // Back to back: the next event goes out once this run's first action started (its last
      // writes may overlap the next dispatch, as they would in production).
      await emit(incidents.dispatch);
      const at = await seen;
      if (i >= warm) latencies.push(at - start);
    }
    const dispatch = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };

    // Row 3: a chain of cheap nodes, one run at a time.
    log(`row 3: ${sizes.chainRuns} runs of a ${sizes.chainLength}-node chain`);
    const chainTimes: number[] = [];
    for (let i = 0; i < sizes.chainRuns + 2; i++) {
      const start = performance.now();
      const [id] = await emit(incidents.chain);
      await tracker.wait(id!);
      if (i >= 2) chainTimes.push(performance.now() - start);
    }
    const updateTimes: number[] = [];
    for (let i = 0; i < Math.max(5, sizes.chainRuns); i++) updateTimes.push(await baselineSequentialUpdates(baseEnv, sizes.chainLength));
    const chainBase = baseDispatch.p50 + median(updateTimes);
    const chainP50 = median(chainTimes);

    // Row 4: writes to the run's row, counted by a trigger installed only for this pass.
    log('row 4: counting writes per node');
    const writes = await countWrites(env, async () => {
      const ids: string[] = [];
      for (let i = 0; i < (sizes.chainRuns >= 10 ? 5 : 1); i++) {
        const [a] = await emit(incidents.throughput);
        const [b] = await emit(incidents.chain);
        await tracker.wait(a!);
        await tracker.wait(b!);
        ids.push(a!, b!);
      }
      return ids;
    });

    const rows: BenchRow[] = [
      {
        metric: '1 throughput, 3-webhook workflow',
        value: productTput,
        baseline: baseTput,
        unit: 'runs/s',
        ratio: productTput / baseTput,
        target: '>= 0.7x',
        met: productTput / baseTput >= 0.7,
      },
      {
        metric: '2 dispatch latency p50',
        value: dispatch.p50,
        baseline: baseDispatch.p50,
        unit: 'ms',
        ratio: dispatch.p50 / baseDispatch.p50,
        target: 'info',
        met: true,
      },
      {
        metric: '2 dispatch latency p99',
        value: dispatch.p99,
        baseline: baseDispatch.p99,
        unit: 'ms',
        ratio: dispatch.p99 / baseDispatch.p99,
        target: '<= 2x base + 5 ms',
        met: dispatch.p99 <= 2 * baseDispatch.p99 + 5,
      },
      {
        metric: `3 ${sizes.chainLength}-node chain, total p50`,
        value: chainP50,
        baseline: chainBase,
        unit: 'ms',
        ratio: chainP50 / chainBase,
        target: '<= 1.5x',
        met: chainP50 / chainBase <= 1.5,
      },
      {
        metric: '4 database writes per node',
        value: writes.perNode,
        baseline: 1,
        unit: 'writes',
        ratio: writes.perNode,
        target: '= 1',
        met: Math.abs(writes.perNode - 1) < 1e-9,
        note: `${writes.perRun.toFixed(1)} writes per run on average over ${writes.runs} runs (${writes.nodes} nodes executed): one per node (the INSERT records the trigger node, the last node's write also ends the run) and ${writes.otherPerRun.toFixed(1)} other (the claim)`,
      },
    ];
    return {
      rows,
      detail: {
        throughput: { product: productTput, baseline: baseTput },
        dispatch: { ...dispatch, baseP50: baseDispatch.p50, baseP99: baseDispatch.p99 },
        chain: { p50: chainP50, baseline: chainBase, baseDispatch: baseDispatch.p50, baseUpdates: median(updateTimes) },
        writes,
      },
    };
  } finally {
    await tracker.stop();
    await product.close();
    await target.close();
  }
}

/**
 * Counts every INSERT and UPDATE of a `WorkflowExecution` row while `work` runs, with a row-level
 * trigger that logs them to a side table, each marked whether it recorded a node (an INSERT with
 * node results, or an UPDATE that changed them). Per node = node-recording writes / executed nodes;
 * every other write (the claim, or a separate finish) is counted apart.
 */
async function countWrites(env: BenchEnv, work: () => Promise<string[]>): Promise<{ perNode: number; perRun: number; otherPerRun: number; nodes: number; runs: number }> {
  const { pool } = env;
  await pool.query('CREATE TABLE bench_writes (execution_id uuid NOT NULL, op text NOT NULL, node_write boolean NOT NULL)');
  await pool.query(`
    CREATE FUNCTION bench_count_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO bench_writes VALUES (NEW.id, TG_OP,
        CASE WHEN TG_OP = 'INSERT' THEN NEW."nodeResults" <> '{}'::jsonb ELSE OLD."nodeResults" IS DISTINCT FROM NEW."nodeResults" END);
      RETURN NEW;
    END $$`);
  await pool.query('CREATE TRIGGER bench_count_write AFTER INSERT OR UPDATE ON "WorkflowExecution" FOR EACH ROW EXECUTE FUNCTION bench_count_write()');
  try {
    const ids = await work();
    const { rows } = await pool.query<{ writes: string; nodeWrites: string; nodes: string; status: string }>(
      `SELECT count(w.*) AS writes, count(w.*) FILTER (WHERE w.node_write) AS "nodeWrites",
              (SELECT cardinality(e."completedNodes") FROM "WorkflowExecution" e WHERE e.id = x.id) AS nodes,
              (SELECT e.status FROM "WorkflowExecution" e WHERE e.id = x.id) AS status
         FROM unnest($1::uuid[]) AS x(id) LEFT JOIN bench_writes w ON w.execution_id = x.id
        GROUP BY x.id`,
      [ids],
    );
    let writes = 0;
    let nodeWrites = 0;
    let nodes = 0;
    for (const r of rows) {
      if (r.status !== 'COMPLETED') throw new Error(`writes: a run ended ${r.status}`);
      writes += Number(r.writes);
      nodeWrites += Number(r.nodeWrites);
      nodes += Number(r.nodes);
    }
    return { perNode: nodeWrites / nodes, perRun: writes / rows.length, otherPerRun: (writes - nodeWrites) / rows.length, nodes, runs: rows.length };
  } finally {
    await pool.query('DROP TRIGGER IF EXISTS bench_count_write ON "WorkflowExecution"');
    await pool.query('DROP FUNCTION IF EXISTS bench_count_write()');
    await pool.query('DROP TABLE IF EXISTS bench_writes');
  }
}
