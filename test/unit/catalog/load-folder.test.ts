/** `WorkflowCatalog.loadFolder` / `parseSources` without a database (team names not resolved). */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CatalogError, formatIssue } from '../../../src/catalog/errors.js';
import { WorkflowCatalog } from '../../../src/catalog/WorkflowCatalog.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/workflows/', import.meta.url));
const catalog = new WorkflowCatalog();

describe('loadFolder', () => {
  it('reads yml, yaml and json recursively in a stable order and skips other files', async () => {
    const result = await catalog.loadFolder(`${FIXTURES}good`);
    expect(result.issues).toEqual([]);
    expect(result.files.map((f) => f.split('/').slice(-2).join('/'))).toEqual([
      'escalation/old-incident.json',
      'good/p1-database-jira.yml',
      'good/resolved-linear.yaml',
    ]);
    expect(result.documents.map((d) => d.name)).toEqual(['old-incident-escalates', 'p1-database-jira', 'resolved-linear']);
    const p1 = result.documents.find((d) => d.name === 'p1-database-jira')!;
    expect(p1.teamName).toBeNull();
    expect(p1.checksum).toMatch(/^sha256:/);
    expect(p1.document.settings).toEqual({ timeout: '5min' });
  });

  it('collects every problem of every file, each with a line and a path, and keeps the valid files', async () => {
    const result = await catalog.loadFolder(`${FIXTURES}broken`);
    const byFile = (name: string) => result.issues.filter((i) => i.file.endsWith(name));
    expect(byFile('b-dangling-edge.yml')).toEqual([expect.objectContaining({ line: 17, path: 'edges[1].to' })]);
    expect(byFile('c-bad-timeout.yml')).toEqual([expect.objectContaining({ line: 5, path: 'settings.timeout' })]);
    expect(byFile('d-syntax.yml').length).toBeGreaterThan(0);
    expect(byFile('d-syntax.yml').every((i) => typeof i.line === 'number')).toBe(true);
    expect(byFile('e-duplicate.yml')).toEqual([expect.objectContaining({ line: 1, path: 'name', message: expect.stringContaining('duplicate workflow name "resolved-linear"') })]);
    // Without a database, team names are not checked.
    expect(byFile('f-unknown-team.yml')).toEqual([]);
    expect(result.documents.map((d) => d.name).sort()).toEqual(['resolved-linear', 'unknown-team']);
  });

  it('reports a missing path and an empty folder as problems', async () => {
    expect((await catalog.loadFolder('/no/such/place')).issues).toEqual([{ file: '/no/such/place', path: '', message: 'no such file or folder' }]);
    const empty = await catalog.parseSources([]);
    expect(empty.documents).toEqual([]);
  });

  it('validates texts given directly (as the HTTP API does), dropping editor-only fields', async () => {
    const text = JSON.stringify({ $schema: './workflow.schema.json', name: 'from-api', trigger: { type: 'manual' }, nodes: [{ id: 'start', type: 'trigger' }] });
    const result = await catalog.parseSources([{ file: 'request', text }]);
    expect(result.issues).toEqual([]);
    expect(result.documents[0]!.document).not.toHaveProperty('$schema');
    expect(result.documents[0]!.document).toMatchObject({ name: 'from-api', enabled: true, conditions: [], edges: [] });
  });
});

describe('formatIssue / CatalogError', () => {
  it('prints file:line path: message', () => {
    expect(formatIssue({ file: 'a.yml', line: 3, path: 'team', message: 'unknown team "x"' })).toBe('a.yml:3 team: unknown team "x"');
    expect(formatIssue({ file: 'a.yml', path: '', message: 'no such file or folder' })).toBe('a.yml: no such file or folder');
    const error = new CatalogError([{ file: 'a.yml', line: 1, path: 'name', message: 'dup' }, { file: 'b.yml', path: '', message: 'bad' }]);
    expect(error.message).toBe('2 problems in the workflow files:\na.yml:1 name: dup\nb.yml: bad');
  });
});
