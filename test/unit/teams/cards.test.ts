/**
 * Adaptive Cards for Teams: content, Action.Execute buttons, and the size budget under hostile input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunStepView, RunView } from '../../../src/engine/ports.js';
import type { WorkflowSummary } from '../../../src/app/services.js';
import {
  MAX_CARD_BYTES,
  VERBS,
  cardBytes,
  renderFailureCard,
  renderReply,
  renderRunCard,
  renderWorkflowListCard,
  type AdaptiveCard,
} from '../../../src/bot/teams/cards.js';

function view(overrides: Partial<RunView> = {}): RunView {
  return {
    executionId: '11111111-1111-4111-8111-111111111111',
    workflowId: 'wf-1',
    workflowName: 'page-oncall',
    workflowVersion: 3,
    incident: { id: 'inc-1', number: 42, title: 'Checkout is down' },
    trigger: { type: 'manual', by: 'Ana' },
    status: 'RUNNING',
    steps: [
      { nodeId: 'a', label: 'Open Jira ticket', kind: 'action', state: 'completed', durationMs: 1250, summary: 'Created OPS-12', url: 'https://jira.example.com/browse/OPS-12' },
      { nodeId: 'b', label: 'Call webhook', kind: 'action', state: 'running' },
    ],
    actions: ['cancel'],
    startedAt: '2026-01-01T00:00:00.000Z',
    revision: 4,
    ...overrides,
  };
}

/** Every string anywhere in a card. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

function actions(card: AdaptiveCard): Array<{ type: string; verb: string; data: { executionId: string; revision?: number } }> {
  return (card.actions ?? []) as never;
}

describe('renderRunCard', () => {
  it('is an Adaptive Card 1.5 with the workflow, trigger, steps with duration, and Cancel as Action.Execute', () => {
    const card = renderRunCard(view());
    expect(card.type).toBe('AdaptiveCard');
    expect(card.version).toBe('1.5');
    const text = strings(card).join('\n');
    expect(text).toContain('page-oncall');
    expect(text).toContain('#42 Checkout is down');
    expect(text).toContain('manual by Ana');
    expect(text).toContain('Open Jira ticket');
    expect(text).toContain('1.2s');
    expect(text).toContain('Call webhook');
    expect(actions(card)).toEqual([
      { type: 'Action.Execute', title: 'Cancel', verb: VERBS.cancel, data: { executionId: view().executionId, revision: 4 }, style: 'destructive' },
    ]);
  });

  it('shows the failed step and its error, with Retry and no Cancel', () => {
    const card = renderRunCard(
      view({
        status: 'FAILED',
        actions: ['retry'],
        finishedAt: '2026-01-01T00:00:05.000Z',
        steps: [
          { nodeId: 'a', label: 'Open Jira ticket', kind: 'action', state: 'completed', durationMs: 10 },
          { nodeId: 'b', label: 'Call webhook', kind: 'action', state: 'failed', durationMs: 2000, error: 'HTTP 503 from hooks.example.com' },
        ],
      }),
    );
    const text = strings(card).join('\n');
    expect(text).toContain('Failed at ');
    expect(text).toContain('HTTP 503 from hooks.example.com');
    expect(actions(card).map((a) => a.verb)).toEqual([VERBS.retry]);
  });

  it('has no buttons once the run is finished without retry', () => {
    expect(renderRunCard(view({ status: 'COMPLETED', actions: [] })).actions).toBeUndefined();
  });

  it('neutralises mentions and never links to non-http URLs', () => {
    const card = renderRunCard(
      view({
        workflowName: '<at>Everyone</at> @channel',
        steps: [{ nodeId: 'a', label: 'x', kind: 'action', state: 'completed', url: 'javascript:alert(1)' }],
      }),
    );
    const json = JSON.stringify(card);
    expect(json).not.toContain('<at>');
    expect(json).not.toMatch(/@channel/);
    expect(json).not.toContain('javascript:');
  });

  it('caps the number of steps but always shows the failed one', () => {
    const steps: RunStepView[] = Array.from({ length: 200 }, (_, i) => ({ nodeId: `n${i}`, label: `step ${i}`, kind: 'action', state: 'completed' }));
    steps[150] = { nodeId: 'n150', label: 'the broken one', kind: 'action', state: 'failed', error: 'boom' };
    const card = renderRunCard(view({ status: 'FAILED', steps, actions: ['retry'] }));
    const text = strings(card).join('\n');
    expect(text).toContain('the broken one');
    expect(text).toMatch(/and \d+ more steps/);
    expect(text).not.toContain('step 199');
  });
});

const hostile = fc.oneof(
  fc.string({ maxLength: 5000 }),
  fc.string({ unit: 'grapheme', maxLength: 3000 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\u0001', '"', '\\', '<', '>', '&', '\u2028', '😀', '漢'), maxLength: 20_000 }),
  fc.constant('x'.repeat(100_000)),
);

const arbStep: fc.Arbitrary<RunStepView> = fc.record({
  nodeId: hostile,
  label: hostile,
  kind: fc.constantFrom('action', 'condition', 'delay'),
  state: fc.constantFrom('pending', 'running', 'completed', 'failed', 'skipped', 'cancelled', 'waiting'),
  durationMs: fc.option(fc.integer({ min: 0, max: 10 ** 9 }), { nil: undefined }),
  summary: fc.option(hostile, { nil: undefined }),
  url: fc.option(fc.oneof(fc.webUrl(), hostile), { nil: undefined }),
  error: fc.option(hostile, { nil: undefined }),
}) as fc.Arbitrary<RunStepView>;

const arbView: fc.Arbitrary<RunView> = fc.record({
  executionId: fc.uuid(),
  workflowId: fc.uuid(),
  workflowName: hostile,
  workflowVersion: fc.nat(),
  incident: fc.record({ id: fc.uuid(), number: fc.nat(), title: hostile }),
  trigger: fc.record({ type: fc.constantFrom('manual', 'incident_created', 'state_changed', 'escalation', 'age'), by: fc.option(hostile, { nil: undefined }) }),
  status: fc.constantFrom('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'),
  steps: fc.array(arbStep, { maxLength: 120 }),
  error: fc.option(hostile, { nil: undefined }),
  actions: fc.subarray(['cancel', 'retry'] as const),
  revision: fc.nat(),
}) as fc.Arbitrary<RunView>;

describe('card size budget (property)', () => {
  it('run cards always fit, keep their buttons and never carry raw control characters', () => {
    fc.assert(
      fc.property(arbView, (v) => {
        const card = renderRunCard(v);
        expect(cardBytes(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
        expect(actions(card).map((a) => a.data.executionId)).toEqual(v.actions.map(() => v.executionId));
        // eslint-disable-next-line no-control-regex
        for (const s of strings(card)) expect(s).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
      }),
      { numRuns: 150 },
    );
  });

  it('failure alerts always fit and offer Retry when allowed', () => {
    fc.assert(
      fc.property(arbView, hostile, fc.option(hostile, { nil: undefined }), (v, error, failedStep) => {
        const card = renderFailureCard({ run: v, teamId: 't', assigneeId: null, authorId: null, error, ...(failedStep !== undefined ? { failedStep } : {}) });
        expect(cardBytes(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
        expect(actions(card).map((a) => a.verb)).toEqual(v.actions.includes('retry') ? [VERBS.retry] : []);
      }),
      { numRuns: 100 },
    );
  });

  it('workflow lists always fit', () => {
    const arbWorkflow: fc.Arbitrary<WorkflowSummary> = fc.record({
      id: fc.uuid(),
      name: hostile,
      description: hostile,
      scope: hostile,
      triggerType: fc.constantFrom('manual', 'incident_created', 'state_changed', 'escalation', 'age'),
      enabled: fc.boolean(),
      version: fc.nat(),
      lastRun: fc.option(fc.record({ status: fc.constantFrom('COMPLETED', 'FAILED'), at: fc.constant('2026-01-01T00:00:00.000Z') }), { nil: null }),
    }) as fc.Arbitrary<WorkflowSummary>;
    fc.assert(
      fc.property(fc.array(arbWorkflow, { maxLength: 300 }), (workflows) => {
        const card = renderWorkflowListCard(workflows);
        expect(cardBytes(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
      }),
      { numRuns: 60 },
    );
  });
});

describe('renderReply', () => {
  it('renders text replies as text and lists as cards', () => {
    expect(renderReply({ kind: 'text', visibility: 'ephemeral', tone: 'info', text: 'hello @here' })).toEqual({ text: 'hello @\u200Bhere' });
    const list = renderReply({
      kind: 'workflow_list',
      visibility: 'ephemeral',
      workflows: [{ id: '1', name: 'page-oncall', description: 'Pages', scope: 'global', triggerType: 'manual', enabled: true, version: 1, lastRun: null }],
    });
    expect('card' in list && strings(list.card).join(' ')).toContain('page-oncall');
  });
});
