/**
 * `workflows validate|diff|apply|list|export|test` through the real CLI process against a fresh
 * migrated database (and real Redis for the queued-job removal).
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createWorkflowQueue } from '../../../src/worker/queue.js';
import { REPO_ROOT, runCli } from './run-cli.js';

// Every CLI call is a fresh Node process compiling TypeScript; on a loaded machine that takes seconds.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 });

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/workflows');

let db: TestDatabase;
let env: Record<string, string>;
let work: string;

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url, QUEUE_PREFIX: `clitest-${randomUUID()}` };
  work = await mkdtemp(path.join(tmpdir(), 'cli-workflows-'));
});

afterAll(async () => {
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A writable copy of a fixture folder. */
async function copyOf(fixture: string, name = fixture): Promise<string> {
  const dir = path.join(work, `${name}-${randomUUID().slice(0, 8)}`);
  await cp(path.join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}

async function snapshot() {
  const workflows = await db.prisma.workflow.findMany({ orderBy: { name: 'asc' }, select: { name: true, version: true, enabled: true, updatedAt: true, deletedAt: true } });
  const versions = await db.prisma.workflowVersion.findMany({ orderBy: [{ workflowId: 'asc' }, { version: 'asc' }], select: { id: true, checksum: true } });
  return { workflows, versions };
}

async function resetWorkflows() {
  await db.prisma.workflowExecution.deleteMany({});
  await db.prisma.workflowVersion.deleteMany({});
  await db.prisma.workflow.deleteMany({});
}

describe('workflows validate', () => {
  it('accepts a folder of valid files (recursing, ignoring non-workflow files)', async () => {
    const result = await runCli(['workflows', 'validate', 'test/fixtures/workflows/good'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('ok: 3 workflows valid');
  });

  it('reports every problem of every broken file as file:line path: message and exits 1', async () => {
    const result = await runCli(['workflows', 'validate', 'test/fixtures/workflows/broken'], env);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    const dir = 'test/fixtures/workflows/broken';
    expect(lines).toContain(`${dir}/b-dangling-edge.yml:17 edges[1].to: edge points at unknown node "nowhere"`);
    expect(lines.some((l) => l.startsWith(`${dir}/c-bad-timeout.yml:5 settings.timeout: `))).toBe(true);
    expect(lines.some((l) => /^test\/fixtures\/workflows\/broken\/d-syntax\.yml:\d+: /.test(l))).toBe(true);
    expect(lines).toContain(`${dir}/e-duplicate.yml:1 name: duplicate workflow name "resolved-linear" (also defined in ${dir}/a-valid.yml:1)`);
    expect(lines).toContain(`${dir}/f-unknown-team.yml:3 team: unknown team "no-such-team"`);
    expect(lines.filter((l) => l.startsWith(`${dir}/a-valid.yml`))).toEqual([]);
    expect(result.stderr.trim().split('\n')).toEqual(['error: 6 problems in 5 files; see above']);
  });

  it('accepts a team that exists and rejects it once it is gone', async () => {
    const team = await db.prisma.team.create({ data: { name: 'payments' } });
    const ok = await runCli(['workflows', 'validate', 'test/fixtures/workflows/team'], env);
    expect(ok.code).toBe(0);
    await db.prisma.team.delete({ where: { id: team.id } });
    const bad = await runCli(['workflows', 'validate', 'test/fixtures/workflows/team'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('test/fixtures/workflows/team/payments-manual.yml:3 team: unknown team "payments"');
  });

  it('--offline validates without a database', async () => {
    const result = await runCli(['workflows', 'validate', 'test/fixtures/workflows/team', '--offline'], { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('team names not checked');
  });

  it('fails clearly for a path that does not exist', async () => {
    const result = await runCli(['workflows', 'validate', 'no/such/dir'], env);
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toBe('no/such/dir: no such file or folder');
  });
});

describe('workflows apply', () => {
  it('creates every workflow with version 1, author and denormalised columns; a second apply is a no-op', async () => {
    await resetWorkflows();
    const first = await runCli(['workflows', 'apply', 'test/fixtures/workflows/good', '--author', 'alice'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('+ created   p1-database-jira (v1, test/fixtures/workflows/good/p1-database-jira.yml)');
    expect(first.stdout.trim().split('\n').at(-1)).toBe('applied by alice: 3 created, 0 updated, 0 unchanged');

    const p1 = await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'p1-database-jira' }, include: { versions: true } });
    expect(p1).toMatchObject({ version: 1, enabled: true, triggerType: 'incident_created', teamId: null, description: 'P1 database incident opens a Jira ticket and pings a webhook' });
    expect(p1.conditions).toEqual([
      { field: 'priority', value: 'P1' },
      { field: 'metadata.service', value: 'database' },
    ]);
    expect(p1.settings).toEqual({ timeout: '5min' });
    expect(p1.versions).toHaveLength(1);
    expect(p1.versions[0]).toMatchObject({ version: 1, authorName: 'alice' });
    expect(p1.versions[0]!.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(p1.versions[0]!.document).toEqual(p1.definition);
    const age = await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'old-incident-escalates' } });
    expect(age.trigger).toEqual({ type: 'age', minutes: 30 });

    const before = await snapshot();
    const second = await runCli(['workflows', 'apply', 'test/fixtures/workflows/good', '--author', 'bob'], env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim().split('\n').at(-1)).toBe('nothing to do: 0 created, 0 updated, 3 unchanged');
    expect(await snapshot()).toEqual(before);
  });

  it('applies nothing when any file is broken', async () => {
    await resetWorkflows();
    await runCli(['workflows', 'apply', 'test/fixtures/workflows/good'], env);
    const before = await snapshot();
    const dir = await copyOf('good');
    // A valid change plus a broken file: the valid change must not be written either.
    const p1 = path.join(dir, 'p1-database-jira.yml');
    await writeFile(p1, (await readFile(p1, 'utf8')).replace('project: OPS', 'project: SRE'));
    await cp(path.join(FIXTURES, 'broken/b-dangling-edge.yml'), path.join(dir, 'b-dangling-edge.yml'));
    await cp(path.join(FIXTURES, 'broken/f-unknown-team.yml'), path.join(dir, 'f-unknown-team.yml'));
    const result = await runCli(['workflows', 'apply', dir], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('b-dangling-edge.yml:17 edges[1].to: edge points at unknown node "nowhere"');
    expect(result.stdout).toContain('f-unknown-team.yml:3 team: unknown team "no-such-team"');
    expect(result.stderr).toContain('nothing applied');
    expect(await snapshot()).toEqual(before);
  });

  it('rolls back every write when the database fails half-way through (one transaction)', async () => {
    await resetWorkflows();
    // A real database failure on the last workflow written, after the others were inserted.
    await db.prisma.$executeRawUnsafe(`CREATE FUNCTION refuse_zz() RETURNS trigger AS $$
      BEGIN IF NEW.name = 'zz-refused' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await db.prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_zz BEFORE INSERT ON "Workflow" FOR EACH ROW EXECUTE FUNCTION refuse_zz()`);
    try {
      const dir = await copyOf('good');
      const text = (await readFile(path.join(FIXTURES, 'good/resolved-linear.yaml'), 'utf8')).replace('name: resolved-linear', 'name: zz-refused');
      await writeFile(path.join(dir, 'zz.yml'), text);
      const result = await runCli(['workflows', 'apply', dir], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('refused by test trigger');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(await db.prisma.workflow.count()).toBe(0);
      expect(await db.prisma.workflowVersion.count()).toBe(0);
    } finally {
      await db.prisma.$executeRawUnsafe('DROP TRIGGER refuse_zz ON "Workflow"');
      await db.prisma.$executeRawUnsafe('DROP FUNCTION refuse_zz()');
    }
  });
});

describe('workflows diff', () => {
  it('shows create, update (with the fields), unchanged and untracked; --prune shows delete', async () => {
    await resetWorkflows();
    await runCli(['workflows', 'apply', 'test/fixtures/workflows/good'], env);
    const dir = await copyOf('good');
    const p1 = path.join(dir, 'p1-database-jira.yml');
    await writeFile(p1, (await readFile(p1, 'utf8')).replace('value: P1', 'value: P2').replace('project: OPS', 'project: SRE'));
    const linear = path.join(dir, 'resolved-linear.yaml');
    await writeFile(linear, `${await readFile(linear, 'utf8')}enabled: false\n`);
    await rm(path.join(dir, 'escalation'), { recursive: true });
    await writeFile(path.join(dir, 'new.yml'), (await readFile(path.join(FIXTURES, 'good/resolved-linear.yaml'), 'utf8')).replace('name: resolved-linear', 'name: brand-new'));

    const before = await snapshot();
    const result = await runCli(['workflows', 'diff', dir], env);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('+ create    brand-new'))).toMatch(/new\.yml\)$/);
    expect(lines.find((l) => l.startsWith('~ update    p1-database-jira'))).toMatch(/\(v1 -> v2, .*p1-database-jira\.yml\): conditions, nodes$/);
    expect(lines.find((l) => l.startsWith('~ update    resolved-linear'))).toMatch(/: enabled$/);
    expect(lines).toContain('? untracked old-incident-escalates (v1): in the database but in no file; kept (--prune deletes it)');
    expect(lines.at(-1)).toBe('1 to create, 2 to update, 0 unchanged, 1 untracked');
    expect(await snapshot()).toEqual(before);

    const pruned = await runCli(['workflows', 'diff', dir, '--prune'], env);
    expect(pruned.stdout).toContain('- delete    old-incident-escalates (v1): in the database but in no file');
    expect(await snapshot()).toEqual(before);

    const unchanged = await runCli(['workflows', 'diff', 'test/fixtures/workflows/good'], env);
    expect(unchanged.stdout.trim().split('\n')).toEqual([
      '= unchanged old-incident-escalates (v1)',
      '= unchanged p1-database-jira (v1)',
      '= unchanged resolved-linear (v1)',
      '0 to create, 0 to update, 3 unchanged',
    ]);
  });
});

describe('disabling and pruning', () => {
  it('cancels queued runs (and removes their jobs) but leaves running ones; prune soft-deletes; reapplying restores', async () => {
    await resetWorkflows();
    await runCli(['workflows', 'apply', 'test/fixtures/workflows/good'], env);
    const team = await db.prisma.team.upsert({ where: { name: 'ops' }, update: {}, create: { name: 'ops' } });
    const incident = await db.prisma.incident.create({ data: { title: 'Checkout down', teamId: team.id } });
    const linear = await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'resolved-linear' } });
    const age = await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'old-incident-escalates' } });
    const execution = (workflowId: string, status: 'PENDING' | 'RUNNING') =>
      db.prisma.workflowExecution.create({
        data: { workflowId, workflowVersion: 1, incidentId: incident.id, status, triggerType: 'manual', triggerEvent: {}, definitionSnapshot: {} },
      });
    const pending = await execution(linear.id, 'PENDING');
    const running = await execution(linear.id, 'RUNNING');
    const agePending = await execution(age.id, 'PENDING');

    const queue = createWorkflowQueue({ connection: 'redis://127.0.0.1:6379', prefix: env.QUEUE_PREFIX! });
    try {
      const job = { executionId: pending.id, incidentId: incident.id, workflowId: linear.id, triggeredBy: 'manual' as const, executionChain: [] };
      expect((await queue.scheduleWorkflow(job)).enqueued).toBe(true);
      expect(await queue.getJob(pending.id)).toBeDefined();

      const dir = await copyOf('good');
      const file = path.join(dir, 'resolved-linear.yaml');
      await writeFile(file, `${await readFile(file, 'utf8')}enabled: false\n`);
      const result = await runCli(['workflows', 'apply', dir, '--author', 'carol'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('cancelled 1 queued run(s)');

      const after = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: pending.id } });
      expect(after).toMatchObject({ status: 'CANCELLED', cancelReason: 'manual', cancelRequestedBy: 'carol' });
      expect(after.completedAt).not.toBeNull();
      expect((await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: running.id } })).status).toBe('RUNNING');
      expect((await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: agePending.id } })).status).toBe('PENDING');
      expect(await queue.getJob(pending.id)).toBeUndefined();
      expect(await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'resolved-linear' } })).toMatchObject({ enabled: false, version: 2 });

      // Prune: the age workflow is in no file any more.
      await rm(path.join(dir, 'escalation'), { recursive: true });
      const pruned = await runCli(['workflows', 'apply', dir, '--prune', '--author', 'carol'], env);
      expect(pruned.code).toBe(0);
      expect(pruned.stdout).toContain('- deleted   old-incident-escalates (v1)');
      const gone = await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'old-incident-escalates' } });
      expect(gone.enabled).toBe(false);
      expect(gone.deletedAt).not.toBeNull();
      expect((await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: agePending.id } })).status).toBe('CANCELLED');
      const list = await runCli(['workflows', 'list'], env);
      expect(list.stdout).not.toContain('old-incident-escalates');
      expect(list.stdout).toMatch(/resolved-linear\s+global\s+state_changed\s+no\s+v2\s+RUNNING /);

      // Applying the full folder again brings it back as a new version.
      const restored = await runCli(['workflows', 'apply', 'test/fixtures/workflows/good'], env);
      expect(restored.stdout).toContain('+ created   old-incident-escalates (v2');
      expect(await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'old-incident-escalates' } })).toMatchObject({ enabled: true, deletedAt: null, version: 2 });
    } finally {
      await queue.queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  });
});

describe('workflows export', () => {
  it('writes one YAML file per workflow that applies back as unchanged', async () => {
    await resetWorkflows();
    await runCli(['workflows', 'apply', 'test/fixtures/workflows/good'], env);
    const out = path.join(work, `export-${randomUUID().slice(0, 8)}`);
    const result = await runCli(['workflows', 'export', out], env);
    expect(result.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['old-incident-escalates.yml', 'p1-database-jira.yml', 'resolved-linear.yml']);
    const exported = parse(await readFile(path.join(out, 'p1-database-jira.yml'), 'utf8'));
    const stored = await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'p1-database-jira' } });
    expect(exported).toEqual(stored.definition);

    const before = await snapshot();
    const diff = await runCli(['workflows', 'diff', out], env);
    expect(diff.stdout.trim().split('\n').at(-1)).toBe('0 to create, 0 to update, 3 unchanged');
    const apply = await runCli(['workflows', 'apply', out], env);
    expect(apply.stdout).toContain('nothing to do');
    expect(await snapshot()).toEqual(before);

    const stdout = await runCli(['workflows', 'export'], env);
    expect(stdout.stdout.split('\n---\n').map((doc) => parse(doc).name)).toEqual(['old-incident-escalates', 'p1-database-jira', 'resolved-linear']);
  });
});

describe('workflows test (dry run)', () => {
  it('shows whether the workflow matches and the rendered action inputs, without side effects', async () => {
    await resetWorkflows();
    await runCli(['workflows', 'apply', 'test/fixtures/workflows/good'], env);
    const team = await db.prisma.team.upsert({ where: { name: 'ops' }, update: {}, create: { name: 'ops' } });
    const incident = await db.prisma.incident.create({ data: { title: 'Primary DB down', priority: 'P1', teamId: team.id, metadata: { service: 'database' } } });
    const other = await db.prisma.incident.create({ data: { title: 'Slow API', priority: 'P3', teamId: team.id, metadata: {} } });

    const match = await runCli(['workflows', 'test', 'p1-database-jira', '--incident', String(incident.number), '--json'], env);
    expect(match.code).toBe(0);
    const result = JSON.parse(match.stdout);
    expect(result.matches).toBe(true);
    expect(result.actions.map((a: { nodeId: string }) => a.nodeId)).toEqual(['ticket', 'ping']);
    expect(result.actions[0].input.summary).toBe('Primary DB down');
    expect(result.actions[1].input.body).toEqual({ incident: incident.id, ticket: '<steps.ticket.output.key>' });

    const miss = await runCli(['workflows', 'test', 'p1-database-jira', '--incident', other.id], env);
    expect(miss.code).toBe(0);
    expect(miss.stdout).toContain('trigger and conditions: no match');
    expect(miss.stdout).toMatch(/condition priority = "P1" does not hold: .*"P3"/);
    expect(miss.stdout).toMatch(/condition metadata\.service = "database" does not hold/);

    expect(await db.prisma.workflowExecution.count()).toBe(0);

    const typo = await runCli(['workflows', 'test', 'p1-database-jria', '--incident', String(incident.number)], env);
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim().split('\n')).toHaveLength(1);
    expect(typo.stderr).toMatch(/^error: .*"p1-database-jria".*"p1-database-jira"/);
    const noIncident = await runCli(['workflows', 'test', 'p1-database-jira', '--incident', '999999'], env);
    expect(noIncident.code).toBe(1);
    expect(noIncident.stderr.trim().split('\n')).toHaveLength(1);
    expect(noIncident.stderr).toMatch(/^error: .*incident 999999/i);
  });
});

describe('failures', () => {
  it('an invalid environment exits 2 naming the variable, without a stack trace', async () => {
    const result = await runCli(['workflows', 'list'], { DATABASE_URL: 'mysql://localhost/x' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DATABASE_URL: expected a URL starting with postgresql:// or postgres://');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain('mysql://');
  });

  it('an unreachable database is one clear line and exit 1', async () => {
    const result = await runCli(['workflows', 'list'], { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual(['error: cannot connect to the database (check DATABASE_URL and that PostgreSQL is running)']);
  });

  it('validate says how to skip the team check when the database is unreachable', async () => {
    const result = await runCli(['workflows', 'validate', 'test/fixtures/workflows/team'], { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('error: cannot connect to the database to check team names (check DATABASE_URL, or pass --offline to skip that check)');
  });

  it('a command group without its subcommand shows help and exits 1; --help exits 0', async () => {
    expect((await runCli(['workflows'], env)).code).toBe(1);
    const help = await runCli(['workflows', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('validate [options] <path>');
  });

  it('an unknown command exits non-zero', async () => {
    const result = await runCli(['workflows', 'frobnicate'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});
