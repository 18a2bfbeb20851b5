/** Plain-text rendering of catalog results for the terminal. */
import type { CatalogChange } from '../catalog/WorkflowCatalog.js';

const SYMBOL: Record<CatalogChange['action'], string> = { create: '+', update: '~', unchanged: '=', untracked: '?', delete: '-' };

/** One line per workflow: what would happen (`tense: 'plan'`) or what happened (`'done'`). */
export function formatChange(change: CatalogChange, tense: 'plan' | 'done'): string {
  const verb = {
    create: tense === 'plan' ? 'create' : 'created',
    update: tense === 'plan' ? 'update' : 'updated',
    unchanged: 'unchanged',
    untracked: 'untracked',
    delete: tense === 'plan' ? 'delete' : 'deleted',
  }[change.action];
  const head = `${SYMBOL[change.action]} ${verb.padEnd(9)} ${change.name}`;
  switch (change.action) {
    case 'create':
      return `${head} (v${change.toVersion}, ${change.file})`;
    case 'update':
      return `${head} (v${change.fromVersion} -> v${change.toVersion}, ${change.file}): ${change.changed.join(', ')}`;
    case 'unchanged':
      return `${head} (v${change.fromVersion})`;
    case 'untracked':
      return `${head} (v${change.fromVersion}): in the database but in no file; kept (--prune deletes it)`;
    case 'delete':
      return `${head} (v${change.fromVersion}): in the database but in no file`;
  }
}

/** `2 to create, 1 to update, 3 unchanged` style summary. */
export function summarize(changes: CatalogChange[], tense: 'plan' | 'done'): string {
  const n = (a: CatalogChange['action']) => changes.filter((c) => c.action === a).length;
  const parts =
    tense === 'plan'
      ? [`${n('create')} to create`, `${n('update')} to update`, `${n('unchanged')} unchanged`]
      : [`${n('create')} created`, `${n('update')} updated`, `${n('unchanged')} unchanged`];
  if (n('delete') > 0) parts.push(tense === 'plan' ? `${n('delete')} to delete` : `${n('delete')} deleted`);
  if (n('untracked') > 0) parts.push(`${n('untracked')} untracked`);
  return parts.join(', ');
}

/** Left-aligned columns. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
