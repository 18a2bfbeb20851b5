/**
 * The worker's `RunView`: the engine's `buildRunView` (same view and revision the app serves),
 * with the incident's number and title from the database when the trigger snapshot lacks them.
 */
import type { ExecutionRecord, RunView } from '../engine/ports.js';
import { buildRunView } from '../engine/run-view.js';
import type { RunContext } from './run-context.js';

export function buildWorkerRunView(record: ExecutionRecord, ctx: RunContext): RunView {
  const view = buildRunView(record, record.definitionSnapshot, ctx.workflowName);
  return { ...view, incident: { id: ctx.incident.id, number: ctx.incident.number, title: ctx.incident.title } };
}

/** The failed step as the author named it (`name`, else the node id), for failure alerts. */
export function failedStepName(record: ExecutionRecord): string | undefined {
  const failed = Object.entries(record.nodeResults).find(([, r]) => r.status === 'failed')?.[0];
  if (!failed) return undefined;
  const nodes = (record.definitionSnapshot as { nodes?: Array<{ id: string; name?: string }> } | null)?.nodes ?? [];
  return nodes.find((n) => n.id === failed)?.name ?? failed;
}
