/**
 * `npm run bench` (full) and `npm run bench -- --quick`: every row against its baseline, measured
 * in the same run on the same machine, printed as one table. Uses a fresh PostgreSQL database
 * (created, migrated, dropped) and a unique Redis prefix (cleaned up).
 */
import { createBenchEnv, type BenchEnvOptions } from './env.js';
import { executionRows, type ExecutionSizes } from './rows/execution.js';
import { renderTable, type BenchRow } from './stats.js';

export interface BenchSizes {
  execution: ExecutionSizes;
}

export const FULL: BenchSizes = {
  execution: { throughputRuns: 3000, dispatchSamples: 1000, chainRuns: 30, chainLength: 40, concurrency: 10 },
};

export const QUICK: BenchSizes = {
  execution: { throughputRuns: 500, dispatchSamples: 200, chainRuns: 10, chainLength: 40, concurrency: 10 },
};

/** Run every row; returns the rows (the caller prints them). */
export async function runBench(sizes: BenchSizes, options: BenchEnvOptions & { log?: (msg: string) => void } = {}): Promise<BenchRow[]> {
  const log = options.log ?? (() => undefined);
  const rows: BenchRow[] = [];
  const env = await createBenchEnv(options);
  try {
    const execution = await executionRows(env, sizes.execution, log);
    rows.push(...execution.rows);
  } finally {
    await env.close();
  }
  return rows;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
  const rows = await runBench(quick ? QUICK : FULL, { log });
  process.stdout.write(`\n${renderTable(rows)}\n\n(${quick ? 'quick' : 'full'} mode, ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
