/**
 * The chat-agnostic view of a run (`RunView` in ports.ts), built from the persisted record and
 * the definition it is pinned to. Pure: the worker calls it after every change, Slack renders the
 * result as Block Kit and Teams as an Adaptive Card.
 *
 * Step states: a node with a result shows that result; the node the executor is on (running run,
 * `currentNodeId`, no result yet) is `running`; a node no taken branch can reach any more, or any
 * node left when the run has finished, is `skipped`; everything else is `pending`.
 */
import { WorkflowDocumentSchema, type WorkflowDefinition, type WorkflowNode } from './definition.js';
import { topologicalOrder } from './graph.js';
import type { ExecutionRecord, RunStepView, RunView } from './ports.js';
import type { NodeResult } from './types.js';

const ACTION_LABELS: Record<string, string> = {
  webhook: 'Call webhook',
  'jira.create_issue': 'Create Jira issue',
  'linear.create_issue': 'Create Linear issue',
  'incident.update': 'Update incident',
  'chat.post': 'Post message',
};

function humanSeconds(seconds: number): string {
  if (seconds % 3600 === 0 && seconds > 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0 && seconds > 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/**
 * The label a person sees for a node: its `name`, or what it does. An unnamed action also shows its
 * id, so two webhooks in one workflow can be told apart.
 */
export function nodeLabel(node: WorkflowNode): string {
  if (node.name) return node.name;
  switch (node.type) {
    case 'action':
      return `${ACTION_LABELS[node.action] ?? node.action} (${node.id})`;
    case 'condition':
      return `Check ${node.field} = ${JSON.stringify(node.value)}`;
    case 'delay':
      return `Wait ${humanSeconds(node.seconds)}`;
    case 'trigger':
      return 'Trigger';
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function summaryOf(node: WorkflowNode, result: NodeResult | undefined): { summary?: string; url?: string } {
  if (node.type === 'delay') {
    if (result?.status === 'waiting' && result.resumeAt) return { summary: `until ${result.resumeAt.slice(11, 19)} UTC` };
    return {};
  }
  if (node.type === 'condition') {
    return result?.branch === undefined ? {} : { summary: result.branch ? 'yes' : 'no' };
  }
  if (node.type !== 'action' || result?.status !== 'completed') return {};
  const out = (result.output ?? {}) as Record<string, unknown>;
  const url = str(out.url);
  const withUrl = url ? { url } : {};
  switch (node.action) {
    case 'jira.create_issue':
    case 'linear.create_issue': {
      const key = str(out.key) ?? str(out.identifier);
      return { ...(key ? { summary: `Created ${key}` } : {}), ...withUrl };
    }
    case 'webhook':
      return { ...(typeof out.status === 'number' ? { summary: `HTTP ${out.status}` } : {}), ...withUrl };
    case 'incident.update':
      return { summary: 'Incident updated', ...withUrl };
    case 'chat.post':
      return { summary: `Posted to the ${String(node.input.channel)} channel`, ...withUrl };
  }
}

/**
 * A revision that grows with every persisted change: each claim (new fence) outranks everything
 * before it; within one claim, node results, the running step and the final status only move forward.
 */
export function runRevision(record: ExecutionRecord): number {
  let progress = 0;
  for (const r of Object.values(record.nodeResults)) progress += r.status === 'waiting' ? 2 : 4;
  const running = record.status === 'RUNNING' && record.currentNodeId !== null && record.nodeResults[record.currentNodeId] === undefined ? 1 : 0;
  const finished = record.status === 'COMPLETED' || record.status === 'FAILED' || record.status === 'CANCELLED';
  return record.fence * 1_000_000 + (finished ? 500_000 : 0) + progress + running;
}

/** Builds the view of a run. `definition` may be the record's snapshot (unvalidated is fine). */
export function buildRunView(
  record: ExecutionRecord,
  definition: WorkflowDefinition | unknown,
  workflowName: string,
  options: { revision?: number } = {},
): RunView {
  const parsed = WorkflowDocumentSchema.safeParse(definition);
  const def = parsed.success ? parsed.data : undefined;
  const finished = record.status === 'COMPLETED' || record.status === 'FAILED' || record.status === 'CANCELLED';
  const steps: RunStepView[] = [];

  if (def) {
    const nodes = new Map(def.nodes.map((n) => [n.id, n] as const));
    const order = topologicalOrder(def.nodes, def.edges) ?? def.nodes.map((n) => n.id);
    const completed = new Set(record.completedNodes);
    const dead = new Set<string>();
    for (const id of order) {
      const node = nodes.get(id)!;
      if (node.type === 'trigger') continue;
      const incoming = def.edges.filter((e) => e.to === id);
      const unreachable =
        incoming.length > 0 &&
        incoming.every((e) => {
          if (dead.has(e.from)) return true;
          const from = nodes.get(e.from);
          return from?.type === 'condition' && completed.has(e.from) && record.nodeResults[e.from]?.branch !== e.branch;
        });
      const result = record.nodeResults[id];
      if (unreachable && !result) dead.add(id);
      let state: RunStepView['state'];
      if (result) state = result.status;
      else if (record.status === 'RUNNING' && record.currentNodeId === id) state = 'running';
      else if (unreachable || finished) state = 'skipped';
      else state = 'pending';
      const kind = node.type as RunStepView['kind'];
      const started = result ? Date.parse(result.startedAt) : NaN;
      const ended = result?.finishedAt ? Date.parse(result.finishedAt) : NaN;
      steps.push({
        nodeId: id,
        label: nodeLabel(node),
        kind,
        state,
        ...(Number.isFinite(started) && Number.isFinite(ended) ? { durationMs: Math.max(0, ended - started) } : {}),
        ...summaryOf(node, result),
        ...(result?.error ? { error: result.error.message } : {}),
      });
    }
  }

  const incident = record.triggerEvent.incident;
  const actions: RunView['actions'] = record.status === 'PENDING' || record.status === 'RUNNING' ? ['cancel'] : record.status === 'FAILED' || record.status === 'CANCELLED' ? ['retry'] : [];
  const by = record.triggerEvent.actor?.name;
  return {
    executionId: record.id,
    workflowId: record.workflowId,
    workflowName,
    workflowVersion: record.workflowVersion,
    incident: { id: incident.id, ...(incident.number === undefined ? {} : { number: incident.number }), title: incident.title },
    trigger: { type: record.triggerEvent.type, ...(by ? { by } : {}) },
    status: record.status,
    steps,
    ...(record.error ? { error: record.error } : {}),
    ...(record.cancelReason ? { cancelReason: record.cancelReason } : {}),
    actions,
    ...(record.startedAt ? { startedAt: record.startedAt } : {}),
    ...(record.completedAt ? { finishedAt: record.completedAt } : {}),
    revision: options.revision ?? runRevision(record),
  };
}
