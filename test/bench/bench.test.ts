/**
 * The benchmark code runs: every row of the table is measured at the smallest sizes, against the
 * real PostgreSQL (a fresh database the bench creates and drops) and Redis (its own prefix). Only
 * that each row was measured is asserted, never how fast anything was.
 */
import { describe, expect, it } from 'vitest';
import { SMOKE, runBench } from '../../bench/run.js';

describe('bench', () => {
  it('measures every row at the smallest sizes', async () => {
    const rows = await runBench(SMOKE, { logLevel: 'silent' });
    const numbers = rows.map((r) => Number(r.metric.split(' ')[0]));
    expect([...new Set(numbers)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const row of rows) {
      expect(Number.isFinite(row.value), `${row.metric} value`).toBe(true);
      expect(Number.isFinite(row.baseline), `${row.metric} baseline`).toBe(true);
      expect(Number.isFinite(row.ratio), `${row.metric} ratio`).toBe(true);
      expect(row.value, row.metric).toBeGreaterThan(0);
    }
  }, 300_000);
});
