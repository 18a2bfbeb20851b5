/** Builders shared by the engine unit tests. */
import { assertWorkflowDefinition, type WorkflowDocumentInput } from '../../../src/engine/definition.js';
import type { ExecutionRecord } from '../../../src/engine/ports.js';
import type { IncidentSnapshot, TriggerEvent } from '../../../src/engine/types.js';

export const TEAM_ID = '00000000-0000-4000-8000-0000000000aa';

export function incident(overrides: Partial<IncidentSnapshot> = {}): IncidentSnapshot {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    number: 42,
    title: 'Database down',
    priority: 'P1',
    status: 'open',
    teamId: TEAM_ID,
    assigneeId: null,
    escalationLevel: 0,
    metadata: { service: 'database', region: { name: 'eu-west-1' } },
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function event(overrides: Partial<TriggerEvent> = {}): TriggerEvent {
  return { type: 'incident_created', incident: incident(), occurredAt: '2026-01-01T00:00:00.000Z', ...overrides };
}

let counter = 0;

/** A PENDING execution of `doc` (validated first, so a broken fixture fails loudly). */
export function execution(doc: WorkflowDocumentInput, overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  const definition = assertWorkflowDefinition(doc);
  counter += 1;
  return {
    id: `exec-${counter}`,
    workflowId: `wf-${definition.name}`,
    workflowVersion: 1,
    incidentId: incident().id,
    status: 'PENDING',
    triggerEvent: event(),
    definitionSnapshot: definition,
    currentNodeId: null,
    completedNodes: [],
    nodeResults: {},
    executionChain: [`wf-${definition.name}`],
    error: null,
    cancelReason: null,
    cancelRequestedAt: null,
    attempt: 1,
    fence: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    completedAt: null,
    ...overrides,
  };
}

/** trigger -> check(incident.priority == P1) -> true: ticket -> hook, false: chat; both -> done. */
export function branchingWorkflow(extra: Partial<WorkflowDocumentInput> = {}): WorkflowDocumentInput {
  return {
    name: 'branching',
    trigger: { type: 'incident_created' },
    nodes: [
      { id: 'start', type: 'trigger' },
      { id: 'check', type: 'condition', field: 'incident.priority', value: 'P1' },
      { id: 'ticket', type: 'action', action: 'jira.create_issue', input: { project: 'OPS', summary: '{{incident.title}}' } },
      {
        id: 'hook',
        type: 'action',
        action: 'webhook',
        input: { url: 'https://hooks.example.test/incident', headers: { Authorization: 'Bearer {{secrets.HOOK_TOKEN}}' }, body: { key: '{{steps.ticket.output.key}}', number: '{{incident.number}}' } },
      },
      { id: 'chat', type: 'action', action: 'chat.post', input: { channel: 'team', text: 'Low priority: {{incident.title}}' } },
      { id: 'done', type: 'action', action: 'incident.update', input: { status: 'investigating' } },
    ],
    edges: [
      { from: 'start', to: 'check' },
      { from: 'check', to: 'ticket', branch: true },
      { from: 'ticket', to: 'hook' },
      { from: 'check', to: 'chat', branch: false },
      { from: 'hook', to: 'done' },
      { from: 'chat', to: 'done' },
    ],
    ...extra,
  };
}

/** trigger -> a -> b -> c, all webhooks. */
export function linearWorkflow(extra: Partial<WorkflowDocumentInput> = {}): WorkflowDocumentInput {
  const hook = (id: string) => ({ id, type: 'action' as const, action: 'webhook' as const, input: { url: `https://hooks.example.test/${id}` } });
  return {
    name: 'linear-chain',
    trigger: { type: 'incident_created' },
    nodes: [{ id: 'start', type: 'trigger' }, hook('a'), hook('b'), hook('c')],
    edges: [
      { from: 'start', to: 'a' },
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
    ],
    ...extra,
  };
}
