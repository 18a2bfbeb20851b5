/** Small statistics and table helpers for the benchmarks. */

/** The q-quantile (0..1) of the samples, by nearest rank. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

/** One row of the benchmark table. */
export interface BenchRow {
  metric: string;
  value: number;
  baseline: number;
  unit: string;
  /** value / baseline (or as the row defines it). */
  ratio: number;
  target: string;
  met: boolean;
  note?: string;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Render rows as a fixed-width text table. */
export function renderTable(rows: BenchRow[]): string {
  const header = ['metric', 'value', 'baseline', 'unit', 'ratio', 'target', 'met'];
  const body = rows.map((r) => [r.metric, fmt(r.value), fmt(r.baseline), r.unit, fmt(r.ratio), r.target, r.met ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  const notes = rows.filter((r) => r.note).map((r) => `  * ${r.metric}: ${r.note}`);
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}
