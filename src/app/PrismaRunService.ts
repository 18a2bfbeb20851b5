/**
 * Runs on Prisma: manual runs (through the dispatcher's record-then-schedule path), dry runs,
 * cancel and retry (delegated to the worker through the `JobScheduler`), history and views.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { getFieldValue } from '../engine/conditions.js';
import { WorkflowDocumentSchema, type WorkflowDefinition } from '../engine/definition.js';
import { topologicalOrder } from '../engine/graph.js';
import type { Logger, RunView, StoredWorkflow } from '../engine/ports.js';
import { renderTemplates, type TemplateContext } from '../engine/templates.js';
import { evaluateTrigger } from '../engine/triggers.js';
import type { ExecutionStatus, IncidentSnapshot, TriggerEvent, TriggerType } from '../engine/types.js';
import { auditActor, writeAudit } from './audit.js';
import type { TriggerDispatcher } from './dispatcher.js';
import { executionInclude, toExecutionSummary, toIncidentSnapshot } from './mappers.js';
import { requireTeam, toEventActor } from './permissions.js';
import { clampLimit, incidentWhere } from './PrismaIncidentService.js';
import { unknownWorkflow } from './PrismaWorkflowAdminService.js';
import type { JobScheduler } from './ports.js';
import { AppError, type Actor, type ExecutionSummary, type IncidentSummary, type RunManualOptions, type RunService } from './services.js';
import { buildExecutionView } from './execution-view.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXECUTION_STATUSES: readonly ExecutionStatus[] = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'];

export interface RunServiceDeps {
  prisma: PrismaClient;
  dispatcher: TriggerDispatcher;
  scheduler: JobScheduler;
  logger: Logger;
  /** Clock for dry runs of `age` triggers. */
  now?: () => number;
}

type WorkflowRow = Awaited<ReturnType<PrismaClient['workflow']['findFirstOrThrow']>>;

export class PrismaRunService implements RunService {
  private readonly prisma: PrismaClient;
  private readonly dispatcher: TriggerDispatcher;
  private readonly scheduler: JobScheduler;
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(deps: RunServiceDeps) {
    this.prisma = deps.prisma;
    this.dispatcher = deps.dispatcher;
    this.scheduler = deps.scheduler;
    this.logger = deps.logger;
    this.now = deps.now ?? Date.now;
  }

  async runManual(actor: Actor, incidentId: string, workflowName: string, options?: RunManualOptions): Promise<{ executionId: string }> {
    // Both reads go out together (one round trip instead of two); the incident's checks still come first.
    const wfRow = this.prisma.workflow.findFirst({ where: { name: workflowName.trim(), deletedAt: null } });
    wfRow.catch(() => undefined);
    const hint = options?.incident;
    const incident = hint !== undefined && hint.id === incidentId ? snapshotOfSummary(hint) : await this.incident(incidentId);
    requireTeam(actor, incident.teamId, 'run workflows on this incident');
    const wf = (await wfRow) ?? (await this.workflowOrThrow(workflowName));
    if (!wf.enabled) throw new AppError('invalid', `Workflow "${wf.name}" is disabled.`, 'name');
    if (wf.triggerType !== 'manual') {
      throw new AppError('invalid', `Workflow "${wf.name}" runs on ${describeTrigger(wf.triggerType)}, not on demand (its trigger is not "manual").`, 'name');
    }
    if (wf.teamId !== null && wf.teamId !== incident.teamId) {
      throw new AppError('invalid', `Workflow "${wf.name}" belongs to another team than incident #${incident.number}.`, 'name');
    }
    const definition = parseDefinition(wf);
    const event: TriggerEvent = {
      type: 'manual',
      incident,
      workflowName: wf.name,
      actor: toEventActor(actor),
      occurredAt: new Date(this.now()).toISOString(),
    };
    const failed = failedConditions(definition, incident);
    if (failed.length > 0) throw new AppError('invalid', `Workflow "${wf.name}" does not apply to incident #${incident.number}: ${failed.join('; ')}.`, 'name');
    // The audit row commits with the run: one transaction instead of two.
    const executionId = await this.dispatcher.dispatchTo(toStored(wf), event, (tx, id) =>
      writeAudit(tx, actor, 'workflow.run', { type: 'execution', id }, { workflow: wf.name, incidentId: incident.id }),
    );
    return { executionId };
  }

  async dryRun(
    _actor: Actor,
    incidentId: string,
    workflowName: string,
  ): Promise<{ matches: boolean; reasons: string[]; actions: Array<{ nodeId: string; action: string; input: unknown }> }> {
    const incident = await this.incident(incidentId);
    const wf = await this.workflow(workflowName);
    const parsed = WorkflowDocumentSchema.safeParse(wf.definition);
    if (!parsed.success) return { matches: false, reasons: ['the stored definition is invalid; apply it again'], actions: [] };
    const definition = parsed.data;
    const reasons: string[] = [];
    if (!wf.enabled) reasons.push('the workflow is disabled');
    if (wf.teamId !== null && wf.teamId !== incident.teamId) reasons.push("the workflow belongs to another team than the incident's");
    const event = this.syntheticEvent(definition, incident, wf.name);
    if (!evaluateTrigger({ name: wf.name, trigger: definition.trigger, conditions: [] }, event, { now: this.now() })) {
      reasons.push(explainTrigger(definition, incident, this.now()));
    }
    reasons.push(...failedConditions(definition, incident));

    const ctx: TemplateContext = {
      incident: incident as unknown as Record<string, unknown>,
      trigger: { type: event.type, previousState: event.previousState, newState: event.newState, workflowName: event.workflowName, occurredAt: event.occurredAt },
      steps: {},
      execution: { id: 'dry-run' },
      workflow: { id: wf.id, name: wf.name },
    };
    const order = topologicalOrder(definition.nodes, definition.edges) ?? definition.nodes.map((n) => n.id);
    const byId = new Map(definition.nodes.map((n) => [n.id, n] as const));
    const actions: Array<{ nodeId: string; action: string; input: unknown }> = [];
    for (const id of order) {
      const node = byId.get(id);
      if (node?.type !== 'action') continue;
      // 'display' puts a [secret:NAME] marker where a secret would go; step outputs do not exist yet.
      actions.push({ nodeId: node.id, action: node.action, input: renderTemplates(placeholdSteps(node.input), ctx, new Map(), 'display') });
    }
    return { matches: reasons.length === 0, reasons, actions };
  }

  async cancel(actor: Actor, executionId: string): Promise<{ outcome: 'cancelled' | 'cancelling' | 'already_finished'; status: ExecutionStatus }> {
    const row = await this.executionRow(executionId);
    requireTeam(actor, row.incident.teamId, 'cancel runs on this incident');
    const result = await this.scheduler.cancel(row.id, auditActor(actor));
    if (result.outcome !== 'already_finished') {
      await writeAudit(this.prisma, actor, 'execution.cancel', { type: 'execution', id: row.id }, { outcome: result.outcome });
    }
    return result;
  }

  async retry(actor: Actor, executionId: string): Promise<{ outcome: 'retrying' | 'already_retrying' | 'refused'; message: string }> {
    const row = await this.executionRow(executionId);
    requireTeam(actor, row.incident.teamId, 'retry runs on this incident');
    const result = await this.scheduler.retry(row.id, auditActor(actor));
    if (result.outcome === 'retrying') {
      // The worker's retry transition writes the `execution.retry` audit row (actor = `by`).
      const current = await this.prisma.workflow.findUnique({ where: { id: row.workflowId }, select: { version: true } });
      if (current && current.version > row.workflowVersion) {
        return { ...result, message: `${result.message} It uses version ${row.workflowVersion} of the workflow, as the run did (version ${current.version} is newer).` };
      }
    }
    return result;
  }

  async history(_actor: Actor, incidentId: string, limit?: number): Promise<ExecutionSummary[]> {
    const incident = await this.prisma.incident.findUnique({ where: incidentWhere(incidentId), select: { id: true } });
    if (!incident) throw new AppError('not_found', `No incident ${incidentId}.`);
    const rows = await this.prisma.workflowExecution.findMany({
      where: { incidentId: incident.id },
      include: executionInclude,
      orderBy: { createdAt: 'desc' },
      take: clampLimit(limit, 10),
    });
    return rows.map(toExecutionSummary);
  }

  async getExecution(_actor: Actor, executionId: string): Promise<ExecutionSummary> {
    if (!UUID.test(executionId)) throw new AppError('not_found', `No execution ${executionId}.`);
    const row = await this.prisma.workflowExecution.findUnique({ where: { id: executionId }, include: executionInclude });
    if (!row) throw new AppError('not_found', `No execution ${executionId}.`);
    return toExecutionSummary(row);
  }

  async listExecutions(
    _actor: Actor,
    filter: { incidentId?: string; workflowId?: string; status?: ExecutionStatus; limit?: number },
  ): Promise<ExecutionSummary[]> {
    const where: { incidentId?: string; workflowId?: string; status?: ExecutionStatus } = {};
    if (filter.incidentId !== undefined) {
      let incidentKey: ReturnType<typeof incidentWhere>;
      try {
        incidentKey = incidentWhere(filter.incidentId);
      } catch {
        return [];
      }
      const incident = await this.prisma.incident.findUnique({ where: incidentKey, select: { id: true } });
      if (!incident) return [];
      where.incidentId = incident.id;
    }
    if (filter.workflowId !== undefined) {
      if (!UUID.test(filter.workflowId)) throw new AppError('invalid', 'workflowId must be a UUID.', 'workflowId');
      where.workflowId = filter.workflowId;
    }
    if (filter.status !== undefined) {
      if (!EXECUTION_STATUSES.includes(filter.status)) throw new AppError('invalid', `status must be one of ${EXECUTION_STATUSES.join(', ')}.`, 'status');
      where.status = filter.status;
    }
    const rows = await this.prisma.workflowExecution.findMany({ where, include: executionInclude, orderBy: { createdAt: 'desc' }, take: clampLimit(filter.limit) });
    return rows.map(toExecutionSummary);
  }

  async view(executionId: string): Promise<RunView | null> {
    if (!UUID.test(executionId)) return null;
    return buildExecutionView(this.prisma, executionId);
  }

  private async incident(idOrNumber: string): Promise<IncidentSnapshot> {
    const row = await this.prisma.incident.findUnique({ where: incidentWhere(idOrNumber) });
    if (!row) throw new AppError('not_found', `No incident ${idOrNumber}.`);
    return toIncidentSnapshot(row);
  }

  private async workflow(name: string): Promise<WorkflowRow> {
    const wf = await this.prisma.workflow.findFirst({ where: { name: name.trim(), deletedAt: null } });
    return wf ?? this.workflowOrThrow(name);
  }

  /** The error for a workflow name that matched no row (it suggests the closest names). */
  private async workflowOrThrow(name: string): Promise<never> {
    throw await unknownWorkflow(this.prisma, name.trim());
  }

  private async executionRow(executionId: string) {
    const row = UUID.test(executionId)
      ? await this.prisma.workflowExecution.findUnique({ where: { id: executionId }, include: { incident: { select: { teamId: true } } } })
      : null;
    if (!row) throw new AppError('not_found', `No execution ${executionId}.`);
    return row;
  }

  private syntheticEvent(definition: WorkflowDefinition, incident: IncidentSnapshot, name: string): TriggerEvent {
    const base = { incident, occurredAt: new Date(this.now()).toISOString() };
    const trigger = definition.trigger;
    switch (trigger.type) {
      case 'state_changed':
        // As if the incident had just entered its current status (from the trigger's `from`, if any).
        return { ...base, type: 'state_changed', ...(trigger.from !== undefined ? { previousState: trigger.from } : {}), newState: incident.status };
      case 'manual':
        return { ...base, type: 'manual', workflowName: name };
      default:
        return { ...base, type: trigger.type };
    }
  }
}

function toStored(wf: WorkflowRow): StoredWorkflow {
  return {
    id: wf.id,
    name: wf.name,
    teamId: wf.teamId,
    enabled: wf.enabled,
    version: wf.version,
    triggerType: wf.triggerType as TriggerType,
    definition: wf.definition,
    authorId: wf.authorId,
  };
}

function parseDefinition(wf: WorkflowRow): WorkflowDefinition {
  const parsed = WorkflowDocumentSchema.safeParse(wf.definition);
  if (!parsed.success) throw new AppError('invalid', `Workflow "${wf.name}" has an invalid stored definition; apply it again.`, 'name');
  return parsed.data;
}

function failedConditions(definition: WorkflowDefinition, incident: IncidentSnapshot): string[] {
  const out: string[] = [];
  for (const c of definition.conditions) {
    const actual = getFieldValue(incident, c.field);
    if (actual === c.value) continue;
    out.push(
      actual === undefined
        ? `condition ${c.field} = ${JSON.stringify(c.value)} does not hold: the incident has no ${c.field}`
        : `condition ${c.field} = ${JSON.stringify(c.value)} does not hold: it is ${JSON.stringify(actual)}`,
    );
  }
  return out;
}

function describeTrigger(type: string): string {
  switch (type) {
    case 'incident_created':
      return 'incident creation';
    case 'state_changed':
      return 'status changes';
    case 'escalation':
      return 'escalations';
    case 'age':
      return 'incident age';
    default:
      return type;
  }
}

function explainTrigger(definition: WorkflowDefinition, incident: IncidentSnapshot, now: number): string {
  const trigger = definition.trigger;
  switch (trigger.type) {
    case 'state_changed':
      return `the trigger fires on a change to "${trigger.to ?? '(any)'}"; the incident is "${incident.status}"`;
    case 'age': {
      const minutes = Math.floor((now - Date.parse(incident.createdAt)) / 60_000);
      return `the trigger fires once the incident is ${trigger.minutes} minutes old; it is ${minutes} minutes old`;
    }
    default:
      return `the trigger (${trigger.type}) does not match`;
  }
}

/** `{{steps.a.output.key}}` -> `<steps.a.output.key>`: a dry run has no step outputs yet. */
function placeholdSteps(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\{\{\s*(steps\.[^{}\s]+)\s*\}\}/g, '<$1>');
  if (Array.isArray(value)) return value.map(placeholdSteps);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, placeholdSteps(v)]));
  return value;
}

/** The trigger snapshot of an incident summary (the same fields `toIncidentSnapshot` takes from a row). */
function snapshotOfSummary(s: IncidentSummary): IncidentSnapshot {
  return {
    id: s.id,
    number: s.number,
    title: s.title,
    priority: s.priority,
    status: s.status,
    teamId: s.teamId,
    assigneeId: s.assigneeId,
    escalationLevel: s.escalationLevel,
    metadata: s.metadata,
    createdAt: s.createdAt,
  };
}
