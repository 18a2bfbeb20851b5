import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/engine/errors.js';
import { executeWorkflow } from '../../../src/engine/executor.js';
import type { ExecutionRecord } from '../../../src/engine/ports.js';
import { buildRunView } from '../../../src/engine/run-view.js';
import { ScriptedActionRunner } from '../../helpers/memory-actions.js';
import { FakeClock } from '../../helpers/memory-clock.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { MemoryExecutionStore } from '../../helpers/memory-store.js';
import { branchingWorkflow, event, execution, linearWorkflow } from './fixtures.js';

async function runAndCollect(record: ExecutionRecord, actions: ScriptedActionRunner) {
  const clock = new FakeClock();
  const store = new MemoryExecutionStore(clock);
  store.insert(record);
  const claim = (await store.claim(record.id))!;
  const snapshots: ExecutionRecord[] = [];
  const result = await clock.run(
    executeWorkflow(claim.record, new Map([['HOOK_TOKEN', 'x']]), {
      store,
      actions,
      clock,
      logger: new MemoryLogger(),
      fence: claim.fence,
      onProgress: (r) => void snapshots.push(r),
    }),
  );
  return { result, snapshots, clock };
}

describe('buildRunView', () => {
  it('shows a completed run with steps in walk order, the skipped branch, summaries and links', async () => {
    const actions = new ScriptedActionRunner({
      'jira.create_issue': () => ({ key: 'OPS-12', url: 'https://jira.test/browse/OPS-12' }),
      webhook: () => ({ status: 202 }),
    });
    const record = execution(branchingWorkflow(), { triggerEvent: event({ actor: { kind: 'user', name: 'ana' } }) });
    const { result } = await runAndCollect(record, actions);
    const view = buildRunView(result.record, result.record.definitionSnapshot, 'branching');
    expect(view.steps.map((s) => [s.nodeId, s.kind, s.state])).toEqual([
      ['check', 'condition', 'completed'],
      ['ticket', 'action', 'completed'],
      ['hook', 'action', 'completed'],
      ['chat', 'action', 'skipped'],
      ['done', 'action', 'completed'],
    ]);
    expect(view.steps[0]).toMatchObject({ summary: 'yes', label: 'Check incident.priority = "P1"' });
    expect(view.steps[1]).toMatchObject({ label: 'Create Jira issue (ticket)', summary: 'Created OPS-12', url: 'https://jira.test/browse/OPS-12', durationMs: 0 });
    expect(view.steps[2]).toMatchObject({ summary: 'HTTP 202' });
    expect(view).toMatchObject({ status: 'COMPLETED', actions: [], workflowName: 'branching', trigger: { type: 'incident_created', by: 'ana' }, incident: { number: 42, title: 'Database down' } });
    expect(view.finishedAt).toBeDefined();
  });

  it('shows the running step and offers cancel while the run is in progress', async () => {
    const { snapshots } = await runAndCollect(execution(branchingWorkflow()), new ScriptedActionRunner());
    const atHook = snapshots.find((s) => s.currentNodeId === 'hook' && !s.nodeResults.hook)!;
    const view = buildRunView(atHook, atHook.definitionSnapshot, 'branching');
    expect(view.steps.map((s) => s.state)).toEqual(['completed', 'completed', 'running', 'skipped', 'pending']);
    expect(view.actions).toEqual(['cancel']);
  });

  it('shows the failed step with its error, later steps skipped, and offers retry', async () => {
    const actions = new ScriptedActionRunner({ webhook: (_i, ctx) => (ctx.nodeId === 'b' ? Promise.reject(new UserError('410 Gone')) : {}) });
    const { result } = await runAndCollect(execution(linearWorkflow()), actions);
    const view = buildRunView(result.record, result.record.definitionSnapshot, 'linear-chain');
    expect(view.steps.map((s) => s.state)).toEqual(['completed', 'failed', 'skipped']);
    expect(view.steps[1]!.error).toBe('410 Gone');
    expect(view).toMatchObject({ status: 'FAILED', actions: ['retry'] });
    expect(view.error).toContain('410 Gone');
  });

  it('shows a waiting delay with its resume time', async () => {
    const doc = linearWorkflow({
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'wait', type: 'delay', seconds: 90 },
        { id: 'a', type: 'action', action: 'chat.post', input: { channel: 'incident', text: 'hi' } },
      ],
      edges: [
        { from: 'start', to: 'wait' },
        { from: 'wait', to: 'a' },
      ],
    });
    const { result } = await runAndCollect(execution(doc), new ScriptedActionRunner());
    const view = buildRunView(result.record, result.record.definitionSnapshot, 'x');
    expect(view.steps.map((s) => [s.label, s.state])).toEqual([
      ['Wait 90s', 'waiting'],
      ['Post message (a)', 'pending'],
    ]);
    expect(view.steps[0]!.summary).toBe('until 00:01:30 UTC');
    expect(view.actions).toEqual(['cancel']);
  });

  it('has a revision that grows with every change', async () => {
    const { snapshots } = await runAndCollect(execution(branchingWorkflow()), new ScriptedActionRunner());
    const revisions = snapshots.map((s) => buildRunView(s, s.definitionSnapshot, 'b').revision);
    for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1]!);
    expect(buildRunView(snapshots[0]!, {}, 'b', { revision: 7 }).revision).toBe(7);
  });

  it('still builds a view (without steps) when the definition is unreadable', () => {
    const view = buildRunView(execution(linearWorkflow()), { nonsense: true }, 'broken');
    expect(view.steps).toEqual([]);
    expect(view.actions).toEqual(['cancel']);
  });
});
