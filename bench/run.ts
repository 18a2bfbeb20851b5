/**
 * `npm run bench` (full) and `npm run bench -- --quick`: every row against its baseline, measured
 * in the same run on the same machine, printed as one table. Uses a fresh PostgreSQL database
 * (created, migrated with src/store/migrate.ts, dropped) and a unique Redis prefix (cleaned up).
 * `--rows 1,5` runs only some groups (1-4 share one group); progress goes to stderr.
 */
import { createBenchEnv, type BenchEnvOptions } from './env.js';
import { executionRows, type ExecutionSizes } from './rows/execution.js';
import { matchingRows, type MatchingSizes } from './rows/matching.js';
import { memoryRows, type MemorySizes } from './rows/memory.js';
import { slackRows, type SlackSizes } from './rows/slack.js';
import { renderTable, type BenchRow } from './stats.js';

export interface BenchSizes {
  execution: ExecutionSizes;
  slack: SlackSizes;
  matching: MatchingSizes;
  memory: MemorySizes;
}

/**
 * Full mode: the sizes where the ten-minute budget allows them on this machine. The memory
 * row runs batches until its time budget is spent and reports how many runs it reached.
 */
export const FULL: BenchSizes = {
  execution: { throughputRuns: 400, dispatchSamples: 1000, chainRuns: 10, chainLength: 40, concurrency: 10 },
  slack: { inFlight: 200, rounds: 3, chatRuns: 2, chatSteps: 20, stepMs: 100 },
  matching: { small: 100, large: 10_000, samples: 400 },
  memory: { warmup: 2000, queued: 10_000, batch: 10_000, total: 50_000, concurrency: 10, budgetMs: 360_000 },
};

/** Quick mode (under two minutes): fewer samples, 1,000 workflows for matching, a short memory row. */
export const QUICK: BenchSizes = {
  execution: { throughputRuns: 50, dispatchSamples: 40, chainRuns: 3, chainLength: 40, concurrency: 10 },
  slack: { inFlight: 200, rounds: 1, chatRuns: 1, chatSteps: 20, stepMs: 100 },
  matching: { small: 100, large: 1000, samples: 20 },
  memory: { warmup: 500, queued: 2000, batch: 1000, total: 4000, concurrency: 10, budgetMs: 45_000 },
};

/** The smallest sizes that still measure every row (used by test/bench). */
export const SMOKE: BenchSizes = {
  execution: { throughputRuns: 10, dispatchSamples: 5, chainRuns: 1, chainLength: 40, concurrency: 5 },
  slack: { inFlight: 10, rounds: 1, chatRuns: 1, chatSteps: 20, stepMs: 10 },
  matching: { small: 100, large: 300, samples: 5 },
  memory: { warmup: 5, queued: 20, batch: 10, total: 30, concurrency: 5, budgetMs: 10_000 },
};

export type RowGroup = 'execution' | 'slack' | 'matching' | 'memory';
export const ALL_GROUPS: RowGroup[] = ['execution', 'slack', 'matching', 'memory'];

export interface RunOptions extends BenchEnvOptions {
  log?: (msg: string) => void;
  groups?: RowGroup[];
}

/** Run the rows; returns them (the caller prints them). */
export async function runBench(sizes: BenchSizes, options: RunOptions = {}): Promise<BenchRow[]> {
  const log = options.log ?? (() => undefined);
  const groups = new Set(options.groups ?? ALL_GROUPS);
  const rows: BenchRow[] = [];
  const env = await createBenchEnv(options);
  try {
    if (groups.has('execution')) rows.push(...(await executionRows(env, sizes.execution, log)).rows);
    if (groups.has('slack')) rows.push(...(await slackRows(env, sizes.slack, log)).rows);
    if (groups.has('matching')) rows.push(...(await matchingRows(env, sizes.matching, log)).rows);
    if (groups.has('memory')) rows.push(...(await memoryRows(env, sizes.memory, log)).rows);
  } finally {
    await env.close();
  }
  return rows;
}

function groupsFromArgs(argv: string[]): RowGroup[] | undefined {
  const i = argv.indexOf('--rows');
  if (i < 0) return undefined;
  const wanted = (argv[i + 1] ?? '').split(',').map(Number);
  const byRow: Record<number, RowGroup> = { 1: 'execution', 2: 'execution', 3: 'execution', 4: 'execution', 5: 'slack', 6: 'slack', 7: 'matching', 8: 'memory' };
  return ALL_GROUPS.filter((g) => wanted.some((n) => byRow[n] === g));
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
  const groups = groupsFromArgs(process.argv);
  const rows = await runBench(quick ? QUICK : FULL, { log, ...(groups ? { groups } : {}) });
  process.stdout.write(`\n${renderTable(rows)}\n\n(${quick ? 'quick' : 'full'} mode, ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Dropping the bench database (WITH FORCE) ends connections a client may still hold after a
  // failed row; that is expected at shutdown and must not hide the row's own error.
  process.on('uncaughtException', (error: Error & { code?: string }) => {
    if (error.code === '57P01') return;
    throw error;
  });
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
