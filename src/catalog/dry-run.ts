/**
 * Dry run of a stored workflow against an incident: would its trigger and conditions match (and
 * why not), and what would each action receive. Reads only; nothing is written, enqueued or sent.
 *
 * The event is the one the workflow's own trigger listens to, built from the incident as it is now
 * (a `state_changed` workflow is checked against the incident's current status as the new state;
 * an `age` workflow against its current age). Later steps' outputs do not exist in a dry run, so
 * `{{steps.<id>.output.<key>}}` renders as a `<steps.<id>.output.<key>>` placeholder, and a
 * condition that reads them is reported as decided at run time, with both branches shown.
 */
import { closestNames } from '../app/closest-names.js';
import { getFieldValue, matchCondition } from '../engine/conditions.js';
import { validateWorkflowDefinition, type WorkflowDefinition } from '../engine/definition.js';
import { topologicalOrder } from '../engine/graph.js';
import { findReferences, forEachString, renderTemplates, type TemplateContext } from '../engine/templates.js';
import { evaluateTrigger } from '../engine/triggers.js';
import type { IncidentSnapshot, TriggerEvent } from '../engine/types.js';
import type { CatalogDb } from './WorkflowCatalog.js';

/** One action the run would perform, with its input rendered for display (secrets as markers). */
export interface DryRunAction {
  nodeId: string;
  action: string;
  input: unknown;
  /** Set when whether it runs depends on something only known at run time. */
  note?: string;
}

export interface DryRunResult {
  workflow: { id: string; name: string; version: number; enabled: boolean };
  incident: { id: string; number: number; title: string };
  event: TriggerEvent;
  matches: boolean;
  /** Why it does not match (empty when it does). */
  reasons: string[];
  actions: DryRunAction[];
}

/** The workflow or incident does not exist. */
export class DryRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DryRunError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Dry-runs workflow `workflowName` against the incident with id or number `incidentRef`. */
export async function dryRunWorkflow(db: CatalogDb, workflowName: string, incidentRef: string, options: { now?: Date } = {}): Promise<DryRunResult> {
  const now = options.now ?? new Date();
  const workflow = await db.workflow.findFirst({ where: { name: workflowName, deletedAt: null }, include: { team: { select: { name: true } } } });
  if (!workflow) {
    const names = (await db.workflow.findMany({ where: { deletedAt: null }, select: { name: true } })).map((w) => w.name);
    const close = closestNames(workflowName, names);
    throw new DryRunError(`no workflow named "${workflowName}"${close.length ? ` (did you mean ${close.map((n) => `"${n}"`).join(', ')}?)` : ''}`);
  }
  const ref = incidentRef.replace(/^#/, '');
  const incident = UUID.test(ref)
    ? await db.incident.findUnique({ where: { id: ref }, include: { team: { select: { name: true } } } })
    : /^\d+$/.test(ref)
      ? await db.incident.findUnique({ where: { number: Number(ref) }, include: { team: { select: { name: true } } } })
      : null;
  if (!incident) throw new DryRunError(`no incident "${incidentRef}" (give its id or number)`);

  const checked = validateWorkflowDefinition(workflow.definition);
  if (!checked.ok) throw new DryRunError(`the stored definition of "${workflowName}" is invalid: ${checked.errors[0]?.path} ${checked.errors[0]?.message}`);
  const def = checked.definition;

  const snapshot: IncidentSnapshot = {
    id: incident.id,
    number: incident.number,
    title: incident.title,
    priority: incident.priority,
    status: incident.status,
    teamId: incident.teamId,
    assigneeId: incident.assigneeId,
    escalationLevel: incident.escalationLevel,
    metadata: (incident.metadata ?? {}) as Record<string, unknown>,
    createdAt: incident.createdAt.toISOString(),
  };
  const event: TriggerEvent = {
    type: def.trigger.type,
    incident: snapshot,
    occurredAt: now.toISOString(),
    actor: { kind: 'system', name: 'dry-run' },
    ...(def.trigger.type === 'state_changed' ? { previousState: def.trigger.from ?? 'previous', newState: incident.status } : {}),
    ...(def.trigger.type === 'manual' ? { workflowName: def.name } : {}),
  };

  const reasons: string[] = [];
  if (!workflow.enabled) reasons.push('the workflow is disabled');
  if (workflow.teamId !== null && workflow.teamId !== incident.teamId)
    reasons.push(`the workflow belongs to team "${workflow.team?.name}", the incident to team "${incident.team.name}"`);
  const matchable = { name: def.name, trigger: def.trigger, conditions: [] };
  if (!evaluateTrigger(matchable, event, { now: now.getTime() })) reasons.push(triggerReason(def, snapshot, now));
  for (const condition of def.conditions) {
    if (matchCondition(snapshot, condition)) continue;
    const actual = getFieldValue(snapshot, condition.field);
    reasons.push(`condition ${condition.field} = ${JSON.stringify(condition.value)} does not hold: the incident has ${actual === undefined ? 'no such field' : JSON.stringify(actual)}`);
  }

  return {
    workflow: { id: workflow.id, name: workflow.name, version: workflow.version, enabled: workflow.enabled },
    incident: { id: incident.id, number: incident.number, title: incident.title },
    event,
    matches: reasons.length === 0,
    reasons,
    actions: plannedActions(def, snapshot, event, workflow.id),
  };
}

function triggerReason(def: WorkflowDefinition, incident: IncidentSnapshot, now: Date): string {
  const trigger = def.trigger;
  if (trigger.type === 'state_changed') return `the trigger wants the new state "${trigger.to}"; the incident is "${incident.status}"`;
  if (trigger.type === 'age') {
    const minutes = Math.floor((now.getTime() - Date.parse(incident.createdAt)) / 60_000);
    return `the incident is ${minutes} minute(s) old; the trigger fires after ${trigger.minutes}`;
  }
  return `the ${trigger.type} trigger does not fire for this incident`;
}

/** The actions on the run's path, in order, inputs rendered in display mode. */
function plannedActions(def: WorkflowDefinition, incident: IncidentSnapshot, event: TriggerEvent, workflowId: string): DryRunAction[] {
  const steps: TemplateContext['steps'] = {};
  for (const node of def.nodes) {
    if (node.type !== 'action') continue;
    forEachString(node.input, (text) => {
      for (const ref of findReferences(text)) {
        const [root, id, , ...rest] = ref.split('.');
        if (root !== 'steps' || id === undefined) continue;
        const output = ((steps[id] ??= { output: {} }).output ?? {}) as Record<string, unknown>;
        if (rest[0] !== undefined) output[rest[0]] = `<${ref}>`;
        steps[id] = { output };
      }
    });
  }
  const ctx: TemplateContext = {
    incident: incident as unknown as Record<string, unknown>,
    trigger: event as unknown as Record<string, unknown>,
    steps,
    execution: { id: '<dry-run>' },
    workflow: { id: workflowId, name: def.name },
  };
  const order = topologicalOrder(def.nodes, def.edges) ?? def.nodes.map((n) => n.id);
  const byId = new Map(def.nodes.map((n) => [n.id, n] as const));
  const ran = new Set<string>();
  const branches = new Map<string, boolean | 'unknown'>();
  const uncertain = new Map<string, string>();
  const actions: DryRunAction[] = [];
  for (const id of order) {
    const node = byId.get(id)!;
    // An undecided condition activates both of its branches.
    const active =
      node.type === 'trigger' ||
      def.edges.some((e) => e.to === id && ran.has(e.from) && (byId.get(e.from)?.type !== 'condition' || branches.get(e.from) === 'unknown' || branches.get(e.from) === e.branch));
    if (!active) continue;
    ran.add(id);
    const cause = def.edges.map((e) => (e.to === id ? (uncertain.get(e.from) ?? (branches.get(e.from) === 'unknown' ? e.from : undefined)) : undefined)).find(Boolean);
    if (cause) uncertain.set(id, cause);
    if (node.type === 'condition') {
      const field = node.field.replace(/^\{\{\s*|\s*\}\}$/g, '');
      branches.set(id, field.startsWith('steps.') ? 'unknown' : getFieldValue(ctx, field) === node.value);
    } else if (node.type === 'action') {
      const input = renderTemplates(node.input, ctx, new Map(), 'display');
      actions.push({ nodeId: id, action: node.action, input, ...(cause ? { note: `runs only if condition "${cause}" goes this way (decided at run time)` } : {}) });
    }
  }
  return actions;
}
