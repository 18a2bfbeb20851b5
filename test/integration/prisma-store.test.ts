import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { FencedOutError } from '../../src/engine/errors.js';
import type { NodeResult } from '../../src/engine/types.js';
import { PrismaExecutionStore } from '../../src/store/PrismaExecutionStore.js';
import { PrismaWorkflowRepository } from '../../src/store/PrismaWorkflowRepository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let admin: pg.Client;
let store: PrismaExecutionStore;
let teamId: string;
let otherTeamId: string;
let incidentId: string;
let workflowId: string;

const definition = { nodes: [{ id: 'trigger', type: 'trigger' }], edges: [] };
const triggerEvent = {
  type: 'manual',
  incident: { id: 'x', title: 't', priority: 'P1', status: 'open', teamId: 'x', metadata: {}, createdAt: '2026-01-01T00:00:00.000Z' },
  occurredAt: '2026-01-01T00:00:00.000Z',
};

beforeAll(async () => {
  db = await createTestDatabase();
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  // Count every statement that writes the executions table, including ones that match no row.
  await admin.query(`
    CREATE TABLE write_log (seq SERIAL PRIMARY KEY, op TEXT NOT NULL);
    CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO write_log (op) VALUES (TG_OP); RETURN NULL; END $$;
    CREATE TRIGGER execution_writes AFTER INSERT OR UPDATE OR DELETE ON "WorkflowExecution"
      FOR EACH STATEMENT EXECUTE FUNCTION log_write();`);
  store = new PrismaExecutionStore(db.prisma);
  const team = await db.prisma.team.create({ data: { name: 'payments' } });
  const other = await db.prisma.team.create({ data: { name: 'search' } });
  teamId = team.id;
  otherTeamId = other.id;
  incidentId = (await db.prisma.incident.create({ data: { title: 'Checkout down', teamId } })).id;
  workflowId = (
    await db.prisma.workflow.create({ data: { name: 'page-oncall', triggerType: 'manual', trigger: { type: 'manual' }, definition, teamId } })
  ).id;
});

afterAll(async () => {
  await admin?.end();
  await db?.drop();
});

async function newExecution(status: 'PENDING' | 'RUNNING' | 'COMPLETED' = 'PENDING'): Promise<string> {
  const row = await db.prisma.workflowExecution.create({
    data: { workflowId, workflowVersion: 1, incidentId, status, triggerType: 'manual', triggerEvent, definitionSnapshot: definition, executionChain: [workflowId] },
  });
  return row.id;
}

async function writes(): Promise<string[]> {
  return (await admin.query<{ op: string }>('SELECT op FROM write_log ORDER BY seq')).rows.map((r) => r.op);
}

async function rawRow(id: string): Promise<Record<string, unknown>> {
  const { rows } = await admin.query('SELECT * FROM "WorkflowExecution" WHERE id = $1', [id]);
  return rows[0] as Record<string, unknown>;
}

const result = (status: NodeResult['status'], extra: Partial<NodeResult> = {}): NodeResult => ({
  status,
  attempts: 1,
  startedAt: '2026-01-01T00:00:01.000Z',
  finishedAt: '2026-01-01T00:00:02.000Z',
  ...extra,
});

describe('PrismaExecutionStore', () => {
  beforeEach(async () => {
    await admin.query('TRUNCATE write_log');
  });

  it('get maps the row to the engine record, and returns null for unknown ids', async () => {
    const id = await newExecution();
    const record = await store.get(id);
    expect(record).toMatchObject({
      id,
      workflowId,
      workflowVersion: 1,
      incidentId,
      status: 'PENDING',
      triggerEvent,
      definitionSnapshot: definition,
      currentNodeId: null,
      completedNodes: [],
      nodeResults: {},
      executionChain: [workflowId],
      error: null,
      cancelReason: null,
      cancelRequestedAt: null,
      attempt: 1,
      fence: 0,
      startedAt: null,
      completedAt: null,
    });
    expect(new Date(record!.createdAt).toISOString()).toBe(record!.createdAt);
    expect(await store.get(randomUUID())).toBeNull();
    expect(await store.get('not-a-uuid')).toBeNull();
  });

  it('claim moves PENDING to RUNNING, bumps the fence and sets startedAt once, in one write each', async () => {
    const id = await newExecution();
    await admin.query('TRUNCATE write_log');
    const first = await store.claim(id);
    expect(first?.fence).toBe(1);
    expect(first?.record).toMatchObject({ id, status: 'RUNNING', fence: 1 });
    expect(first?.record.startedAt).not.toBeNull();

    const second = await store.claim(id);
    expect(second?.fence).toBe(2);
    expect(second?.record.startedAt).toBe(first?.record.startedAt);
    expect(await writes()).toEqual(['UPDATE', 'UPDATE']);
  });

  it('claim refuses finished and unknown runs', async () => {
    const done = await newExecution('COMPLETED');
    expect(await store.claim(done)).toBeNull();
    expect(await store.claim(randomUUID())).toBeNull();
    expect((await rawRow(done)).fence).toBe(0);
  });

  it('concurrent claims get distinct fences and only the latest may write', async () => {
    const id = await newExecution();
    const claims = await Promise.all([store.claim(id), store.claim(id), store.claim(id)]);
    const fences = claims.map((c) => c?.fence).sort();
    expect(fences).toEqual([1, 2, 3]);
    await expect(store.recordNode(id, 1, { nodeId: 'a', result: result('completed'), completed: true })).rejects.toBeInstanceOf(FencedOutError);
    await expect(store.recordNode(id, 2, { nodeId: 'a', result: result('completed'), completed: true })).rejects.toBeInstanceOf(FencedOutError);
    await store.recordNode(id, 3, { nodeId: 'a', result: result('completed'), completed: true });
    expect((await store.get(id))?.completedNodes).toEqual(['a']);
  });

  it('recordNode merges the result, appends completed nodes once and moves currentNodeId, one write each', async () => {
    const id = await newExecution();
    const { fence } = (await store.claim(id))!;
    await admin.query('TRUNCATE write_log');

    await store.recordNode(id, fence, { nodeId: 'trigger', result: result('completed'), completed: true });
    await store.recordNode(id, fence, { nodeId: 'jira', result: result('failed', { attempts: 3, error: { code: 'transient_error', message: 'HTTP 503' } }), completed: false });
    let record = await store.get(id);
    expect(record?.completedNodes).toEqual(['trigger']);
    expect(record?.currentNodeId).toBe('jira');
    expect(record?.nodeResults.jira).toEqual(result('failed', { attempts: 3, error: { code: 'transient_error', message: 'HTTP 503' } }));

    // Retry of the same node succeeds: result replaced, node appended once even if recorded twice.
    await store.recordNode(id, fence, { nodeId: 'jira', result: result('completed', { attempts: 1, output: { key: "OPS-1 'quoted'" } }), completed: true });
    await store.recordNode(id, fence, { nodeId: 'jira', result: result('completed', { attempts: 1, output: { key: "OPS-1 'quoted'" } }), completed: true });
    record = await store.get(id);
    expect(record?.completedNodes).toEqual(['trigger', 'jira']);
    expect(Object.keys(record?.nodeResults ?? {}).sort()).toEqual(['jira', 'trigger']);
    expect(record?.nodeResults.jira?.output).toEqual({ key: "OPS-1 'quoted'" });
    expect(record?.nodeResults.trigger).toEqual(result('completed'));
    expect(await writes()).toEqual(['UPDATE', 'UPDATE', 'UPDATE', 'UPDATE']);
  });

  it('a stale fence is refused with FencedOutError and changes nothing', async () => {
    const id = await newExecution();
    const old = (await store.claim(id))!.fence;
    await store.recordNode(id, old, { nodeId: 'trigger', result: result('completed'), completed: true });
    const current = (await store.claim(id))!.fence;
    expect(current).toBe(old + 1);
    const before = await rawRow(id);
    await admin.query('TRUNCATE write_log');

    await expect(store.recordNode(id, old, { nodeId: 'late', result: result('completed'), completed: true })).rejects.toBeInstanceOf(FencedOutError);
    await expect(store.finish(id, old, { status: 'COMPLETED' })).rejects.toBeInstanceOf(FencedOutError);
    expect(await rawRow(id)).toEqual(before);
    // One (refused) UPDATE statement each; nothing else written.
    expect(await writes()).toEqual(['UPDATE', 'UPDATE']);

    await store.finish(id, current, { status: 'COMPLETED' });
    expect((await store.get(id))?.status).toBe('COMPLETED');
  });

  it('writes to an unknown run fail without being mistaken for fencing', async () => {
    const missing = randomUUID();
    const error = await store.recordNode(missing, 1, { nodeId: 'a', result: result('completed'), completed: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(FencedOutError);
    await expect(store.finish('nope', 1, { status: 'FAILED' })).rejects.toThrow(/not found/);
  });

  it('finish records the outcome in one write', async () => {
    const id = await newExecution();
    const { fence } = (await store.claim(id))!;
    await admin.query('TRUNCATE write_log');
    await store.finish(id, fence, { status: 'CANCELLED', error: 'stopped by alice', cancelReason: 'manual' });
    const record = await store.get(id);
    expect(record).toMatchObject({ status: 'CANCELLED', error: 'stopped by alice', cancelReason: 'manual', fence });
    expect(record?.completedAt).not.toBeNull();
    expect(await writes()).toEqual(['UPDATE']);

    const failed = await newExecution();
    const f = (await store.claim(failed))!.fence;
    await store.finish(failed, f, { status: 'FAILED', error: 'boom' });
    expect(await store.get(failed)).toMatchObject({ status: 'FAILED', error: 'boom', cancelReason: null });
  });

  it('isCancelRequested reflects the cancel flag', async () => {
    const id = await newExecution();
    expect(await store.isCancelRequested(id)).toBe(false);
    await db.prisma.workflowExecution.update({ where: { id }, data: { cancelRequestedAt: new Date(), cancelRequestedBy: 'alice' } });
    expect(await store.isCancelRequested(id)).toBe(true);
    expect(await store.isCancelRequested(randomUUID())).toBe(false);
  });
});

describe('PrismaWorkflowRepository', () => {
  it('finds enabled, live workflows of the team or global scope with the trigger type, in one query', async () => {
    const mk = (name: string, data: { teamId?: string | null; enabled?: boolean; triggerType?: string; deletedAt?: Date | null }) =>
      db.prisma.workflow.create({
        data: { name, trigger: {}, definition: { name }, triggerType: data.triggerType ?? 'incident_created', teamId: data.teamId ?? null, enabled: data.enabled ?? true, deletedAt: data.deletedAt ?? null },
      });
    await mk('team-match', { teamId });
    await mk('global-match', { teamId: null });
    await mk('other-team', { teamId: otherTeamId });
    await mk('disabled', { teamId, enabled: false });
    await mk('deleted', { teamId, deletedAt: new Date() });
    await mk('other-trigger', { teamId, triggerType: 'escalation' });

    // A client that reports every query, to count them.
    const queries: Array<{ query: string; params: string }> = [];
    const counting = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }), log: [{ emit: 'event', level: 'query' }] });
    counting.$on('query', (e) => queries.push({ query: e.query, params: e.params }));
    try {
      const repo = new PrismaWorkflowRepository(counting);
      await counting.$connect();
      queries.length = 0;
      const found = await repo.findCandidates({ teamId, triggerType: 'incident_created' });
      expect(found.map((w) => w.name).sort()).toEqual(['global-match', 'team-match']);
      expect(queries).toHaveLength(1);
      // The planner can serve that very query from the (enabled, triggerType, teamId) index.
      const [{ query, params }] = queries as [{ query: string; params: string }];
      await admin.query('SET enable_seqscan = off');
      const plan = await admin.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`, JSON.parse(params) as unknown[]);
      await admin.query('RESET enable_seqscan');
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('Workflow_enabled_triggerType_teamId_idx');
      const teamMatch = found.find((w) => w.name === 'team-match');
      expect(teamMatch).toMatchObject({ teamId, enabled: true, version: 1, triggerType: 'incident_created', definition: { name: 'team-match' }, authorId: null });

      expect((await repo.findCandidates({ teamId: otherTeamId, triggerType: 'incident_created' })).map((w) => w.name).sort()).toEqual(['global-match', 'other-team']);
      expect((await repo.findCandidates({ teamId: 'not-a-uuid', triggerType: 'incident_created' })).map((w) => w.name)).toEqual(['global-match']);
    } finally {
      await counting.$disconnect();
    }
  });
});
