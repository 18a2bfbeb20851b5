/** `WorkflowCatalog` in process against a real database: the parts the CLI tests do not reach. */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CatalogError } from '../../../src/catalog/errors.js';
import { WorkflowCatalog, type CatalogDocument } from '../../../src/catalog/WorkflowCatalog.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/workflows/', import.meta.url));

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.prisma.workflowExecution.deleteMany({});
  await db.prisma.workflowVersion.deleteMany({});
  await db.prisma.workflow.deleteMany({});
});

async function load(dir: string, withDb = true): Promise<CatalogDocument[]> {
  const result = await new WorkflowCatalog().loadFolder(`${FIXTURES}${dir}`, withDb ? { prisma: db.prisma } : {});
  expect(result.issues).toEqual([]);
  return result.documents;
}

describe('WorkflowCatalog.apply', () => {
  it('two applies racing write each version once', async () => {
    const docs = await load('good');
    const catalog = new WorkflowCatalog();
    const [a, b] = await Promise.all([catalog.apply(db.prisma, docs, { author: 'a' }), catalog.apply(db.prisma, docs, { author: 'b' })]);
    expect([a.created, b.created].sort()).toEqual([0, 3]);
    expect([a.unchanged, b.unchanged].sort()).toEqual([0, 3]);
    expect(await db.prisma.workflowVersion.count()).toBe(3);
  });

  it('resolves the team to its id and links the author to a matching user', async () => {
    const team = await db.prisma.team.upsert({ where: { name: 'payments' }, update: {}, create: { name: 'payments' } });
    const user = await db.prisma.user.upsert({ where: { email: 'dana@example.com' }, update: {}, create: { name: 'Dana', email: 'dana@example.com' } });
    const result = await new WorkflowCatalog().apply(db.prisma, await load('team'), { author: 'dana@example.com' });
    expect(result.created).toBe(1);
    const row = await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'payments-manual' }, include: { versions: true } });
    expect(row.teamId).toBe(team.id);
    expect(row.authorId).toBe(user.id);
    expect(row.versions[0]).toMatchObject({ authorId: user.id, authorName: 'dana@example.com' });
    const audit = await db.prisma.auditLog.findMany({ where: { targetId: row.id } });
    expect(audit.map((a) => a.action)).toEqual(['workflow.created']);
  });

  it('refuses (writing nothing) a team that disappeared between loading and applying', async () => {
    const team = await db.prisma.team.create({ data: { name: 'ephemeral' } });
    const docs = await new WorkflowCatalog().parseSources(
      [{ file: 'x.yml', text: 'name: x\nteam: ephemeral\ntrigger:\n  type: manual\nnodes:\n  - id: s\n    type: trigger\n' }],
      { prisma: db.prisma },
    );
    expect(docs.issues).toEqual([]);
    await db.prisma.team.delete({ where: { id: team.id } });
    const error = await new WorkflowCatalog().apply(db.prisma, [...(await load('good')), ...docs.documents], { author: 'a' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as CatalogError).issues).toEqual([{ file: 'x.yml', line: 2, path: 'team', message: 'unknown team "ephemeral"' }]);
    expect(await db.prisma.workflow.count()).toBe(0);
  });

  it('refuses two documents with the same name', async () => {
    const docs = await load('good');
    await expect(new WorkflowCatalog().apply(db.prisma, [...docs, docs[0]!], { author: 'a' })).rejects.toBeInstanceOf(CatalogError);
    expect(await db.prisma.workflow.count()).toBe(0);
  });

  it('calls onWorkflowsDisabled after commit, and a failing callback does not undo the apply', async () => {
    const calls: Array<[string[], string[]]> = [];
    const catalog = new WorkflowCatalog({
      onWorkflowsDisabled: (ids, executions) => {
        calls.push([ids, executions]);
        throw new Error('redis is down');
      },
    });
    await catalog.apply(db.prisma, await load('good'), { author: 'a' });
    expect(calls).toEqual([]);
    const docs = await load('good');
    const linear = docs.find((d) => d.name === 'resolved-linear')!;
    const disabled = (await new WorkflowCatalog().parseSources([{ file: linear.file, text: `name: resolved-linear\nenabled: false\ntrigger:\n  type: state_changed\n  to: resolved\nnodes:\n  - id: start\n    type: trigger\n` }])).documents[0]!;
    const result = await catalog.apply(db.prisma, [...docs.filter((d) => d !== linear), disabled], { author: 'a' });
    const id = (await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'resolved-linear' } })).id;
    expect(calls).toEqual([[[id], []]]);
    expect(result.changes.find((c) => c.name === 'resolved-linear')).toMatchObject({ action: 'update', fromVersion: 1, toVersion: 2, changed: ['description', 'enabled', 'nodes', 'edges'] });
    expect(await db.prisma.workflow.findUniqueOrThrow({ where: { id } })).toMatchObject({ enabled: false, version: 2 });
  });

  it('re-enables a workflow disabled outside the catalog when the file says enabled', async () => {
    await new WorkflowCatalog().apply(db.prisma, await load('good'), { author: 'a' });
    await db.prisma.workflow.update({ where: { name: 'p1-database-jira' }, data: { enabled: false } });
    const changes = await new WorkflowCatalog().diff(db.prisma, await load('good'));
    expect(changes.find((c) => c.name === 'p1-database-jira')).toMatchObject({ action: 'update', changed: ['enabled'] });
  });
});
