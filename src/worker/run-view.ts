/**
 * Builds the chat-agnostic `RunView` of a run from its record and the context the worker loaded
 * (workflow name, incident). Steps follow the definition's node order; outputs are summarised
 * briefly and never include secrets (results are stored scrubbed).
 */
import type { ExecutionRecord, RunStepView, RunView } from '../engine/ports.js';
import type { TriggerType } from '../engine/types.js';
import type { RunContext } from './run-context.js';

interface DefNode {
  id: string;
  type: string;
  name?: string;
  action?: string;
}

function summary(output: unknown): { summary?: string; url?: string } {
  if (output === null || typeof output !== 'object') return {};
  const o = output as Record<string, unknown>;
  const url = typeof o.url === 'string' ? o.url : typeof o.browseUrl === 'string' ? o.browseUrl : undefined;
  const key = typeof o.key === 'string' ? o.key : typeof o.identifier === 'string' ? o.identifier : undefined;
  const status = typeof o.status === 'number' ? `HTTP ${o.status}` : undefined;
  const text = key ? `Created ${key}` : status;
  return { ...(text ? { summary: text } : {}), ...(url ? { url } : {}) };
}

/** The live view of a run; `revision` must grow with every state change. */
export function buildWorkerRunView(record: ExecutionRecord, ctx: RunContext, revision: number): RunView {
  const nodes = ((record.definitionSnapshot as { nodes?: DefNode[] } | null)?.nodes ?? []).filter((n) => n.type !== 'trigger');
  const finished = record.status === 'COMPLETED' || record.status === 'FAILED' || record.status === 'CANCELLED';
  const steps: RunStepView[] = nodes.map((n) => {
    const r = record.nodeResults[n.id];
    const kind: RunStepView['kind'] = n.type === 'condition' ? 'condition' : n.type === 'delay' ? 'delay' : 'action';
    let state: RunStepView['state'];
    if (r?.status === 'completed') state = 'completed';
    else if (r?.status === 'failed') state = 'failed';
    else if (r?.status === 'cancelled') state = 'cancelled';
    else if (r?.status === 'waiting') state = 'waiting';
    else if (!finished && record.status === 'RUNNING' && record.currentNodeId === n.id) state = 'running';
    else state = finished ? 'skipped' : 'pending';
    const step: RunStepView = { nodeId: n.id, label: n.name ?? n.id, kind, state };
    if (r?.startedAt && r.finishedAt) step.durationMs = Math.max(0, Date.parse(r.finishedAt) - Date.parse(r.startedAt));
    if (r?.status === 'completed') Object.assign(step, summary(r.output));
    if (r?.error) step.error = r.error.message;
    return step;
  });
  const actions: RunView['actions'] =
    record.status === 'PENDING' || record.status === 'RUNNING' ? ['cancel'] : record.status === 'FAILED' || record.status === 'CANCELLED' ? ['retry'] : [];
  return {
    executionId: record.id,
    workflowId: record.workflowId,
    workflowName: ctx.workflowName,
    workflowVersion: record.workflowVersion,
    incident: { id: ctx.incident.id, number: ctx.incident.number, title: ctx.incident.title },
    trigger: { type: record.triggerEvent.type as TriggerType, ...(record.triggerEvent.actor?.name ? { by: record.triggerEvent.actor.name } : {}) },
    status: record.status,
    steps,
    ...(record.error ? { error: record.error } : {}),
    ...(record.cancelReason ? { cancelReason: record.cancelReason } : {}),
    actions,
    ...(record.startedAt ? { startedAt: record.startedAt } : {}),
    ...(record.completedAt ? { finishedAt: record.completedAt } : {}),
    revision,
  };
}
