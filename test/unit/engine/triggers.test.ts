import { describe, expect, it } from 'vitest';
import { assertWorkflowDefinition, type WorkflowDocumentInput } from '../../../src/engine/definition.js';
import type { StoredWorkflow } from '../../../src/engine/ports.js';
import { MAX_WORKFLOW_DEPTH, chainRejection, evaluateTrigger, findMatchingWorkflows, nextExecutionChain, type ParsedDocument } from '../../../src/engine/triggers.js';
import type { TriggerEvent } from '../../../src/engine/types.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { MemoryWorkflowRepository } from '../../helpers/memory-store.js';
import { TEAM_ID, event, incident, linearWorkflow } from './fixtures.js';
import { VersionCache } from '../../../src/engine/definition-cache.js';

function def(extra: Partial<WorkflowDocumentInput>) {
  return assertWorkflowDefinition({ ...linearWorkflow(), ...extra });
}

let seq = 0;
function stored(extra: Partial<WorkflowDocumentInput>, meta: Partial<StoredWorkflow> = {}): StoredWorkflow {
  const definition = def(extra);
  seq += 1;
  return { id: `wf-${seq}`, name: definition.name, teamId: null, enabled: true, version: 1, triggerType: definition.trigger.type, definition, authorId: null, ...meta };
}

describe('evaluateTrigger', () => {
  it('incident_created matches only incident_created events', () => {
    const wf = def({ trigger: { type: 'incident_created' } });
    expect(evaluateTrigger(wf, event({ type: 'incident_created' }))).toBe(true);
    expect(evaluateTrigger(wf, event({ type: 'escalation' }))).toBe(false);
  });

  it('escalation matches escalation events', () => {
    const wf = def({ trigger: { type: 'escalation' } });
    expect(evaluateTrigger(wf, event({ type: 'escalation' }))).toBe(true);
    expect(evaluateTrigger(wf, event({ type: 'incident_created' }))).toBe(false);
  });

  it.each([
    [{}, 'open', 'resolved', true],
    [{ to: 'resolved' }, 'open', 'resolved', true],
    [{ to: 'resolved' }, 'open', 'investigating', false],
    [{ from: 'open' }, 'open', 'investigating', true],
    [{ from: 'open' }, 'investigating', 'resolved', false],
    [{ from: 'investigating', to: 'resolved' }, 'investigating', 'resolved', true],
    [{ from: 'investigating', to: 'resolved' }, 'open', 'resolved', false],
    [{ from: 'investigating', to: 'resolved' }, 'investigating', 'open', false],
  ])('state_changed %j on %s -> %s: %s', (fromTo, previousState, newState, expected) => {
    const wf = def({ trigger: { type: 'state_changed', ...fromTo } });
    expect(evaluateTrigger(wf, event({ type: 'state_changed', previousState, newState }))).toBe(expected);
  });

  it('manual matches only the workflow named in the event', () => {
    const wf = def({ name: 'status-page', trigger: { type: 'manual' } });
    expect(evaluateTrigger(wf, event({ type: 'manual', workflowName: 'status-page' }))).toBe(true);
    expect(evaluateTrigger(wf, event({ type: 'manual', workflowName: 'other' }))).toBe(false);
    expect(evaluateTrigger(wf, event({ type: 'manual' }))).toBe(false);
  });

  it('age matches once the incident is older than the threshold (injected clock)', () => {
    const wf = def({ trigger: { type: 'age', minutes: 30 } });
    const created = Date.parse('2026-01-01T00:00:00.000Z');
    const ev = event({ type: 'age', incident: incident({ createdAt: new Date(created).toISOString() }) });
    expect(evaluateTrigger(wf, ev, { now: created + 29 * 60_000 })).toBe(false);
    expect(evaluateTrigger(wf, ev, { now: created + 30 * 60_000 })).toBe(true);
    expect(evaluateTrigger(wf, ev, { now: created + 90 * 60_000 })).toBe(true);
    // Without an injected clock, the event's own time is "now".
    expect(evaluateTrigger(wf, { ...ev, occurredAt: new Date(created + 10 * 60_000).toISOString() })).toBe(false);
    expect(evaluateTrigger(wf, { ...ev, occurredAt: new Date(created + 45 * 60_000).toISOString() })).toBe(true);
  });

  it('requires every condition, on nested paths, and a missing path never matches', () => {
    const wf = def({
      conditions: [
        { field: 'priority', value: 'P1' },
        { field: 'metadata.region.name', value: 'eu-west-1' },
      ],
    });
    expect(evaluateTrigger(wf, event())).toBe(true);
    expect(evaluateTrigger(wf, event({ incident: incident({ priority: 'P2' }) }))).toBe(false);
    expect(evaluateTrigger(wf, event({ incident: incident({ metadata: { region: { name: 'us-east-1' } } }) }))).toBe(false);
    expect(evaluateTrigger(wf, event({ incident: incident({ metadata: {} }) }))).toBe(false);
    expect(evaluateTrigger(wf, event({ incident: incident({ metadata: { region: 'eu-west-1' } }) }))).toBe(false);
  });

  it('respects enabled and team', () => {
    const wf = def({});
    expect(evaluateTrigger({ ...wf, enabled: false }, event())).toBe(false);
    expect(evaluateTrigger({ ...wf, teamId: 'another-team' }, event())).toBe(false);
    expect(evaluateTrigger({ ...wf, teamId: TEAM_ID }, event())).toBe(true);
    expect(evaluateTrigger({ ...wf, teamId: null }, event())).toBe(true);
  });
});

describe('cycle detection', () => {
  it('rejects a workflow already in the chain and chains deeper than MAX_WORKFLOW_DEPTH', () => {
    expect(MAX_WORKFLOW_DEPTH).toBe(3);
    expect(chainRejection([], 'A')).toBeUndefined();
    expect(chainRejection(['A'], 'A')).toMatch(/cycle/);
    expect(chainRejection(['A', 'B'], 'A')).toMatch(/cycle/);
    expect(chainRejection(['A', 'B'], 'C')).toBeUndefined();
    expect(chainRejection(['A', 'B', 'C'], 'D')).toMatch(/depth/);
  });

  it('extends the chain for the run an event starts', () => {
    expect(nextExecutionChain(event({ executionChain: ['A'] }), 'B')).toEqual(['A', 'B']);
    expect(nextExecutionChain(event(), 'A')).toEqual(['A']);
  });
});

describe('findMatchingWorkflows', () => {
  function setup(workflows: StoredWorkflow[]) {
    const repository = new MemoryWorkflowRepository(workflows);
    const logger = new MemoryLogger();
    return { repository, logger, find: (ev: TriggerEvent, now?: number) => findMatchingWorkflows(ev, { repository, logger, ...(now === undefined ? {} : { now }) }) };
  }

  it('with a documents cache, parses each workflow version once across events', async () => {
    const wf = stored({ name: 'cached', conditions: [{ field: 'priority', value: 'P1' }] }, { version: 3 });
    const repository = new MemoryWorkflowRepository([wf]);
    const logger = new MemoryLogger();
    const documents = new VersionCache<ParsedDocument | null>();
    const find = () => findMatchingWorkflows(event(), { repository, logger, documents });
    expect((await find()).map((w) => w.name)).toEqual(['cached']);
    expect(documents.size).toBe(1);
    // Same version: the parsed document is reused (a stored version never changes), so even a
    // document that no longer parses is not read again.
    wf.definition = { not: 'a workflow' };
    expect((await find()).map((w) => w.name)).toEqual(['cached']);
    // A new version is parsed on its own.
    wf.version = 4;
    expect(await find()).toEqual([]);
    expect(logger.entries.some((e) => e.msg === 'stored workflow definition is invalid; skipped')).toBe(true);
    expect(documents.size).toBe(2);
  });

  it('returns every matching workflow of the team or global scope with one query', async () => {
    const global = stored({ name: 'global-p1', conditions: [{ field: 'priority', value: 'P1' }] });
    const team = stored({ name: 'team-any' }, { teamId: TEAM_ID });
    const otherTeam = stored({ name: 'other-team' }, { teamId: '00000000-0000-4000-8000-0000000000bb' });
    const p2only = stored({ name: 'p2-only', conditions: [{ field: 'priority', value: 'P2' }] });
    const disabled = stored({ name: 'disabled' }, { enabled: false });
    const resolved = stored({ name: 'on-resolve', trigger: { type: 'state_changed', to: 'resolved' } });
    const { find, repository } = setup([global, team, otherTeam, p2only, disabled, resolved]);
    const matches = await find(event());
    expect(matches.map((w) => w.name).sort()).toEqual(['global-p1', 'team-any']);
    expect(repository.queries).toBe(1);
  });

  it('rejects a workflow that is already in the chain (self) and logs the chain', async () => {
    const a = stored({ name: 'a' });
    const { find, logger } = setup([a]);
    expect(await find(event({ executionChain: [a.id] }))).toEqual([]);
    const warning = logger.entries.find((e) => e.msg === 'workflow rejected by cycle detection');
    expect(warning?.fields).toMatchObject({ workflowId: a.id, executionChain: [a.id] });
  });

  it('rejects A -> B -> A', async () => {
    const a = stored({ name: 'a', trigger: { type: 'state_changed' } });
    const b = stored({ name: 'b', trigger: { type: 'state_changed' } });
    const { find, logger } = setup([a, b]);
    // A ran and changed the state: B may run, A may not run again.
    const afterA = await find(event({ type: 'state_changed', previousState: 'open', newState: 'investigating', executionChain: [a.id] }));
    expect(afterA.map((w) => w.name)).toEqual(['b']);
    // B then changed the state again: neither A nor B may run.
    const afterB = await find(event({ type: 'state_changed', previousState: 'investigating', newState: 'mitigated', executionChain: [a.id, b.id] }));
    expect(afterB).toEqual([]);
    const rejected = logger.entries.filter((e) => e.msg === 'workflow rejected by cycle detection');
    expect(rejected.map((e) => e.fields.executionChain)).toEqual([[a.id], [a.id, b.id], [a.id, b.id]]);
  });

  it('rejects chains deeper than MAX_WORKFLOW_DEPTH', async () => {
    const d = stored({ name: 'd', trigger: { type: 'escalation' } });
    const { find, logger } = setup([d]);
    expect(await find(event({ type: 'escalation', executionChain: ['A', 'B'] }))).toHaveLength(1);
    expect(await find(event({ type: 'escalation', executionChain: ['A', 'B', 'C'] }))).toEqual([]);
    expect(logger.entries.find((e) => e.msg === 'workflow rejected by cycle detection')?.fields.reason).toMatch(/depth/);
  });

  it('matches manual runs by name and age triggers with the injected clock', async () => {
    const manual = stored({ name: 'page-ops', trigger: { type: 'manual' } });
    const other = stored({ name: 'other-manual', trigger: { type: 'manual' } });
    const aged = stored({ name: 'aged', trigger: { type: 'age', minutes: 30 } });
    const { find } = setup([manual, other, aged]);
    expect((await find(event({ type: 'manual', workflowName: 'page-ops' }))).map((w) => w.name)).toEqual(['page-ops']);
    const created = Date.parse(incident().createdAt);
    expect(await find(event({ type: 'age' }), created + 10 * 60_000)).toEqual([]);
    expect((await find(event({ type: 'age' }), created + 31 * 60_000)).map((w) => w.name)).toEqual(['aged']);
  });

  it('skips a stored workflow whose definition is invalid', async () => {
    const broken: StoredWorkflow = { ...stored({ name: 'ok' }), id: 'broken', name: 'broken', definition: { name: 'broken' } };
    const { find, logger } = setup([broken]);
    expect(await find(event())).toEqual([]);
    expect(logger.entries.some((e) => e.level === 'warn' && e.fields.workflowId === 'broken')).toBe(true);
  });
});
