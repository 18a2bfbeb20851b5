import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExecutionSummary, IncidentSummary, WorkflowSummary } from '../../../../src/app/services.js';
import type { FailureAlert, RunStepView, RunView } from '../../../../src/engine/ports.js';
import type { Reply } from '../../../../src/bot/reply.js';
import { renderFailureAlert, renderFailureDm, renderPlainMessage, renderReply, renderRun } from '../../../../src/bot/slack/blocks.js';
import { checkMessage } from '../../../../src/bot/slack/limits.js';

const hostilePiece = fc.constantFrom(
  '<!channel>', '<!here>', '<!everyone>', '@channel', '@here', '@everyone', '<!subteam^S1|@oncall>', '<@U123>', '<#C1>',
  '&', '<', '>', '```', '*', '_', '~', '|', '\n', '😀', '\u200B', 'é', 'x'.repeat(50),
);
/** Long or hostile text: pieces of mention syntax and markup, random unicode, up to ~10k characters. */
const hostile = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.array(hostilePiece, { maxLength: 60 }).map((p) => p.join('')),
  fc.string({ unit: 'grapheme', minLength: 2000, maxLength: 6000 }),
  fc.array(hostilePiece, { minLength: 100, maxLength: 400 }).map((p) => p.join('')),
);
const iso = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
const status = fc.constantFrom('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED' as const);
const trigger = fc.constantFrom('incident_created', 'state_changed', 'escalation', 'manual', 'age' as const);

const step: fc.Arbitrary<RunStepView> = fc.record(
  {
    nodeId: hostile,
    label: hostile,
    kind: fc.constantFrom('action', 'condition', 'delay' as const),
    state: fc.constantFrom('pending', 'running', 'completed', 'failed', 'skipped', 'cancelled', 'waiting' as const),
    durationMs: fc.integer({ min: 0, max: 10 ** 9 }),
    summary: hostile,
    url: fc.oneof(fc.webUrl(), hostile),
    error: hostile,
  },
  { requiredKeys: ['nodeId', 'label', 'kind', 'state'] },
);

const runView: fc.Arbitrary<RunView> = fc.record(
  {
    executionId: fc.oneof(fc.uuid(), hostile),
    workflowId: fc.uuid(),
    workflowName: hostile,
    workflowVersion: fc.nat(),
    incident: fc.record({ id: fc.uuid(), number: fc.nat(), title: hostile }, { requiredKeys: ['id', 'title'] }),
    trigger: fc.record({ type: trigger, by: hostile }, { requiredKeys: ['type'] }),
    status,
    steps: fc.array(step, { maxLength: 70 }),
    error: hostile,
    cancelReason: fc.constantFrom('manual', 'timeout', 'shutdown', 'stalled' as const),
    actions: fc.subarray(['cancel', 'retry'] as Array<'cancel' | 'retry'>),
    startedAt: iso,
    finishedAt: iso,
    revision: fc.nat(),
  },
  { requiredKeys: ['executionId', 'workflowId', 'workflowName', 'workflowVersion', 'incident', 'trigger', 'status', 'steps', 'actions', 'revision'] },
);

const incident: fc.Arbitrary<IncidentSummary> = fc.record({
  id: fc.uuid(), number: fc.nat(), title: hostile, priority: hostile, status: hostile, teamId: fc.uuid(), teamName: hostile,
  assigneeId: fc.option(fc.uuid()), assigneeName: fc.option(hostile), escalationLevel: fc.nat(), metadata: fc.constant({}), createdAt: iso, updatedAt: iso,
});
const workflow: fc.Arbitrary<WorkflowSummary> = fc.record({
  id: fc.uuid(), name: hostile, description: hostile, scope: hostile, triggerType: trigger, enabled: fc.boolean(), version: fc.nat(),
  lastRun: fc.option(fc.record({ status, at: iso })),
});
const execution: fc.Arbitrary<ExecutionSummary> = fc.record({
  id: fc.uuid(), workflowId: fc.uuid(), workflowName: hostile, workflowVersion: fc.nat(), incidentId: fc.uuid(), status, triggerType: hostile,
  error: fc.option(hostile), attempt: fc.nat(), nodeResults: fc.constant({}), createdAt: iso, startedAt: fc.option(iso), completedAt: fc.option(iso),
});
const reply: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), visibility: fc.constantFrom('ephemeral', 'channel' as const), tone: fc.constantFrom('info', 'success', 'warning', 'error' as const), text: hostile }),
  fc.record({ kind: fc.constant('workflow_list' as const), visibility: fc.constant('ephemeral' as const), workflows: fc.array(workflow, { maxLength: 150 }) }),
  fc.record({ kind: fc.constant('workflow_detail' as const), visibility: fc.constant('ephemeral' as const), workflow: workflow.chain((w) => fc.jsonValue().map((definition) => ({ ...w, definition }))) }),
  fc.record({ kind: fc.constant('run_history' as const), visibility: fc.constant('ephemeral' as const), incident, runs: fc.array(execution, { maxLength: 150 }) }),
  fc.record({
    kind: fc.constant('dry_run' as const), visibility: fc.constant('ephemeral' as const), workflowName: hostile, matches: fc.boolean(), reasons: fc.array(hostile, { maxLength: 30 }),
    actions: fc.array(fc.record({ nodeId: hostile, action: hostile, input: fc.jsonValue() }), { maxLength: 60 }),
  }),
  fc.record({ kind: fc.constant('incident_card' as const), visibility: fc.constant('channel' as const), headline: hostile, incident }),
);

function expectWithinLimits(message: Parameters<typeof checkMessage>[0]): void {
  expect(checkMessage(message)).toEqual([]);
  const all = JSON.stringify(message);
  expect(all).not.toMatch(/<!(channel|here|everyone)/i);
  expect(all).not.toMatch(/@(channel|here|everyone)/i);
  expect(all).not.toMatch(/<!subteam/i);
}

describe('Block Kit rendering stays within limits for hostile input', () => {
  it('run messages', () => {
    fc.assert(fc.property(runView, (view) => { expectWithinLimits(renderRun(view)); }), { numRuns: 60 });
  });

  it('failure alerts and DMs', () => {
    const alert: fc.Arbitrary<FailureAlert> = fc.record(
      { run: runView, teamId: fc.uuid(), assigneeId: fc.option(fc.uuid()), authorId: fc.option(fc.uuid()), failedStep: hostile, error: hostile },
      { requiredKeys: ['run', 'teamId', 'assigneeId', 'authorId', 'error'] },
    );
    fc.assert(fc.property(alert, (a) => {
      expectWithinLimits(renderFailureAlert(a));
      expectWithinLimits(renderFailureDm(a, 'author'));
    }), { numRuns: 60 });
  });

  it('command replies and posted messages', () => {
    fc.assert(fc.property(reply, hostile, (r, text) => {
      expectWithinLimits(renderReply(r));
      expectWithinLimits(renderPlainMessage(text));
    }), { numRuns: 60 });
  });

  it('renders the buttons a run allows, carrying the execution id', () => {
    const base: RunView = {
      executionId: '6f1c1f47-2f9c-4f3b-9a53-0d3c1b7f9a11', workflowId: 'w', workflowName: 'page', workflowVersion: 1,
      incident: { id: 'i', number: 7, title: 'DB down' }, trigger: { type: 'manual', by: 'Ana' }, status: 'RUNNING',
      steps: [{ nodeId: 'a', label: 'Open ticket', kind: 'action', state: 'completed', durationMs: 1200 }], actions: ['cancel'], revision: 1,
    };
    const running = JSON.stringify(renderRun(base));
    expect(running).toContain('"action_id":"run_cancel"');
    expect(running).not.toContain('run_retry');
    expect(running).toContain(base.executionId);
    const failed = JSON.stringify(renderRun({ ...base, status: 'FAILED', actions: ['retry'], steps: [{ ...base.steps[0]!, state: 'failed', error: 'boom 500' }] }));
    expect(failed).toContain('"action_id":"run_retry"');
    expect(failed).toContain('boom 500');
    expect(failed).not.toContain('run_cancel');
  });
});
