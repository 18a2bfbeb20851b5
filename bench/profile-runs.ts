/**
 * Profiling aid (not part of the table): runs `n` three-webhook workflows through the product
 * in this process, so `node --cpu-prof --import tsx bench/profile-runs.ts 300` shows where a run's
 * CPU time goes; `bench/cpu-top.ts <file.cpuprofile>` summarises the profile.
 */
import pg from 'pg';
import { inParallel, trackWorkerCompletions } from './completion.js';
import { createBenchEnv } from './env.js';
import { applyWorkflows, createdEvent, seedIncident, seedTeam, webhookLine } from './fixtures.js';
import { startHttpTarget } from './http-target.js';
import { startProduct } from './product.js';

const n = Number(process.argv[2] ?? 300);

// Time every SQL statement by its first words (wall time from send to result, including pool waits
// inside pg's client queue): which statements a run makes and what they cost.
const sqlTimes = new Map<string, { count: number; ms: number }>();
const originalQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
(pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string } | undefined;
  const text = (typeof first === 'string' ? first : (first?.text ?? '')).replace(/\s+/g, ' ').trim();
  const key = text.replace(/"public"\./g, '').slice(0, 90);
  const start = performance.now();
  const done = () => {
    const e = sqlTimes.get(key) ?? { count: 0, ms: 0 };
    e.count++;
    e.ms += performance.now() - start;
    sqlTimes.set(key, e);
  };
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    args[args.length - 1] = (...cbArgs: unknown[]) => {
      done();
      return (last as (...a: unknown[]) => unknown)(...cbArgs);
    };
  }
  const result = originalQuery.apply(this, args);
  if (typeof last !== 'function' && result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, done);
  return result;
};
const env = await createBenchEnv();
const target = await startHttpTarget();
try {
  const teamId = await seedTeam(env.prisma);
  const incident = await seedIncident(env.prisma, teamId, 'profile');
  await applyWorkflows(env.prisma, [webhookLine('bench-profile', 'profile', target.url, 3)]);
  const product = await startProduct(env, { worker: { concurrency: 10 } });
  const tracker = trackWorkerCompletions(product.handle.worker!.worker);
  const t0 = performance.now();
  await inParallel(n, 8, async () => void (await product.services.dispatcher.emit(createdEvent(incident))));
  await tracker.waitCount(n);
  process.stderr.write(`${n} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const rows = [...sqlTimes.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
  for (const [sql, t] of rows) process.stderr.write(`${(t.count / n).toFixed(2).padStart(6)}/run ${(t.ms / t.count).toFixed(2).padStart(7)} ms avg ${(t.ms / n).toFixed(2).padStart(7)} ms/run  ${sql}\n`);
  await tracker.stop();
  await product.close();
} finally {
  await target.close();
  await env.close();
}
