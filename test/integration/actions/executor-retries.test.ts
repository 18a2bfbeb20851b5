/**
 * Ambiguous outcomes driven by the real executor (its retry loop, real clock): a workflow with a
 * Jira, a Linear and a webhook step against servers that act and then drop the connection or
 * answer 504. After the executor's retries exactly one ticket/delivery exists per step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertWorkflowDefinition } from '../../../src/engine/definition.js';
import { executeWorkflow } from '../../../src/engine/executor.js';
import type { ExecutionRecord } from '../../../src/engine/ports.js';
import { systemClock } from '../../../src/engine/system-clock.js';
import { ActionRegistry, createIntegrationActions, MemoryIntentStore } from '../../../src/integrations/index.js';
import { FakeJira } from '../../helpers/fake-jira.js';
import { FakeLinear } from '../../helpers/fake-linear.js';
import { FakeWebhookReceiver } from '../../helpers/fake-webhook.js';
import { MemoryExecutionStore } from '../../helpers/memory-store.js';
import { captureLogs } from './support.js';

let jira: FakeJira;
let linear: FakeLinear;
let receiver: FakeWebhookReceiver;

beforeAll(async () => {
  [jira, linear, receiver] = await Promise.all([FakeJira.start(), FakeLinear.start(), FakeWebhookReceiver.start()]);
});
afterAll(async () => Promise.all([jira.close(), linear.close(), receiver.close()]));

function record(id: string): ExecutionRecord {
  const definition = assertWorkflowDefinition({
    name: 'ticket-everywhere',
    trigger: { type: 'incident_created' },
    settings: { retry: { maxAttempts: 4, initialDelayMs: 50, maxDelayMs: 200 } },
    nodes: [
      { id: 'start', type: 'trigger' },
      { id: 'jira', type: 'action', action: 'jira.create_issue', input: { project: 'OPS', summary: '{{incident.title}}' } },
      { id: 'linear', type: 'action', action: 'linear.create_issue', input: { teamId: 'team-ops', title: '{{incident.title}}' } },
      { id: 'hook', type: 'action', action: 'webhook', input: { url: receiver.url('/incident'), body: { jira: '{{steps.jira.output.key}}', linear: '{{steps.linear.output.identifier}}' } } },
    ],
    edges: [
      { from: 'start', to: 'jira' },
      { from: 'jira', to: 'linear' },
      { from: 'linear', to: 'hook' },
    ],
  } as never);
  const incident = { id: 'inc-1', number: 7, title: 'Database down', priority: 'P1', status: 'open', teamId: 'team-1', metadata: {}, createdAt: new Date().toISOString() };
  return {
    id,
    workflowId: 'wf-ticket-everywhere',
    workflowVersion: 1,
    incidentId: incident.id,
    status: 'PENDING',
    triggerEvent: { type: 'incident_created', incident, occurredAt: incident.createdAt },
    definitionSnapshot: definition,
    currentNodeId: null,
    completedNodes: [],
    nodeResults: {},
    executionChain: ['wf-ticket-everywhere'],
    error: null,
    cancelReason: null,
    cancelRequestedAt: null,
    attempt: 1,
    fence: 0,
    createdAt: incident.createdAt,
    startedAt: null,
    completedAt: null,
  };
}

describe('executor retries over ambiguous outcomes', () => {
  for (const [label, setup] of [
    ['create then drop the connection', () => {
      jira.misbehave({ kind: 'create-then-drop' });
      linear.misbehave({ kind: 'create-then-drop' });
      receiver.misbehave({ kind: 'drop-after-receive' });
    }],
    ['504 after creating', () => {
      jira.misbehave({ kind: 'create-then-status', status: 504 });
      linear.misbehave({ kind: 'create-then-status', status: 504 });
      receiver.misbehave({ kind: 'status-after-receive', status: 504 });
    }],
  ] as const) {
    it(`${label}: one Jira issue, one Linear issue, one webhook delivery`, async () => {
      jira.issues.length = 0;
      jira.requests.length = 0;
      linear.issues.length = 0;
      linear.requests.length = 0;
      receiver.requests.length = 0;
      receiver.deliveries.clear();
      setup();

      const store = new MemoryExecutionStore(systemClock);
      const rec = record(`exec-${label.replace(/\W+/g, '-')}`);
      store.insert(rec);
      const claimed = (await store.claim(rec.id))!;
      const logs = captureLogs();
      const registry = new ActionRegistry(
        createIntegrationActions({ WEBHOOK_ALLOWLIST: ['127.0.0.1'], WEBHOOK_TIMEOUT_MS: 3000, JIRA_BASE_URL: jira.url, LINEAR_API_URL: linear.url }, { intents: new MemoryIntentStore() }),
      );
      const secrets = new Map([
        ['JIRA_EMAIL', 'bot@example.com'],
        ['JIRA_API_TOKEN', 'jira-token'],
        ['LINEAR_API_KEY', 'lin_api_test'],
      ]);
      const result = await executeWorkflow(claimed.record, secrets, { store, actions: registry, clock: systemClock, logger: logs.logger, fence: claimed.fence, random: () => 0.5 });

      expect(result.status, result.error).toBe('COMPLETED');
      const stored = (await store.get(rec.id))!;
      expect(stored.nodeResults.jira?.attempts).toBe(2);
      expect(stored.nodeResults.linear?.attempts).toBe(2);
      expect(stored.nodeResults.hook?.attempts).toBe(2);
      expect(jira.issues).toHaveLength(1);
      expect(jira.creates()).toHaveLength(1);
      expect(linear.issues).toHaveLength(1);
      expect(receiver.requests).toHaveLength(2);
      expect(receiver.deliveries.size).toBe(1);
      expect(new Set(receiver.requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`${rec.id}:hook`]));
      expect(JSON.parse(receiver.requests[1]!.body)).toEqual({ jira: 'OPS-1', linear: 'OPS-1' });
    });
  }
});
