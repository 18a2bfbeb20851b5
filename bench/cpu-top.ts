/**
 * Summarise a .cpuprofile: self time by function and by package/file, top entries.
 * `npx tsx bench/cpu-top.ts <file> [skipSeconds]` leaves out the first seconds (start-up, module loading).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const skipUs = Number(process.argv[3] ?? 0) * 1e6;
const self = new Map<number, number>();
let at = 0;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at >= skipUs) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  total += t;
  const url = node.callFrame.url.replace(/^file:\/\/\/work\/main\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url || '(native/idle)');
  byFn.set(`${node.callFrame.functionName || '(anon)'} ${url}:${node.callFrame.lineNumber}`, (byFn.get(`${node.callFrame.functionName || '(anon)'} ${url}:${node.callFrame.lineNumber}`) ?? 0) + t);
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + t);
}
const top = (m: Map<string, number>, k: number) =>
  [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, t]) => `${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${name}`).join('\n');
process.stdout.write(`total ${(total / 1000).toFixed(0)} ms\n\nby package/file:\n${top(byFile, 25)}\n\nby function:\n${top(byFn, 30)}\n`);
