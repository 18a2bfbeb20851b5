/**
 * Trigger matching (seed plan's `evaluateTrigger` / `findMatchingWorkflows`).
 *
 * - `incident_created` and `escalation` match every event of their type.
 * - `state_changed` matches when `from` (if set) equals the previous state and `to` (if set) the new one.
 * - `manual` matches only the workflow named in `event.workflowName`.
 * - `age` matches when the incident is older than `trigger.minutes` at `event.occurredAt` (or the
 *   injected `now`). That it fires once per workflow and incident is enforced by the worker's age
 *   scan, which records each firing in the `AgeTriggerFiring` table (primary key workflow+incident)
 *   and only emits events for pairs it could insert.
 * - Then every `conditions` entry must hold against the incident (see conditions.ts).
 *
 * Cycle detection: an event caused by a workflow run carries `executionChain` (workflow ids, oldest
 * first). A workflow already in the chain is rejected, and so is any workflow once the chain holds
 * `MAX_WORKFLOW_DEPTH` runs. Each rejection is logged with the chain.
 */
import { matchConditions } from './conditions.js';
import { WorkflowDocumentSchema, type WorkflowDefinition } from './definition.js';
import type { Logger, StoredWorkflow, WorkflowRepository } from './ports.js';
import type { TriggerEvent } from './types.js';
import type { VersionCache } from './definition-cache.js';

export type { TriggerEvent } from './types.js';

/** Longest chain of workflow runs causing one another (seed plan). */
export const MAX_WORKFLOW_DEPTH = 3;

/** What `evaluateTrigger` looks at. A `WorkflowDefinition` fits; `teamId`, when given, must match the incident's. */
export type MatchableWorkflow = Pick<WorkflowDefinition, 'name' | 'trigger' | 'conditions'> & { enabled?: boolean; teamId?: string | null };

/** Pure check: does this workflow fire for this event? `now` defaults to `event.occurredAt`. */
export function evaluateTrigger(workflow: MatchableWorkflow, event: TriggerEvent, options: { now?: number } = {}): boolean {
  if (workflow.enabled === false) return false;
  if (workflow.teamId != null && workflow.teamId !== event.incident.teamId) return false;
  const trigger = workflow.trigger;
  if (trigger.type !== event.type) return false;
  switch (trigger.type) {
    case 'incident_created':
    case 'escalation':
      break;
    case 'state_changed':
      if (trigger.from !== undefined && trigger.from !== event.previousState) return false;
      if (trigger.to !== undefined && trigger.to !== event.newState) return false;
      break;
    case 'manual':
      if (event.workflowName === undefined || event.workflowName !== workflow.name) return false;
      break;
    case 'age': {
      const now = options.now ?? Date.parse(event.occurredAt);
      const created = Date.parse(event.incident.createdAt);
      if (!Number.isFinite(now) || !Number.isFinite(created)) return false;
      if (now - created < trigger.minutes * 60_000) return false;
      break;
    }
  }
  return matchConditions(event.incident, workflow.conditions ?? []);
}

/** Why a workflow may not run for an event with this chain, or `undefined` when it may. */
export function chainRejection(chain: readonly string[], workflowId: string): string | undefined {
  if (chain.includes(workflowId)) return 'cycle: workflow is already in the execution chain';
  if (chain.length >= MAX_WORKFLOW_DEPTH) return `depth: execution chain already holds ${chain.length} runs (max ${MAX_WORKFLOW_DEPTH})`;
  return undefined;
}

/** The chain a run started by this event carries (and passes to events it causes). */
export function nextExecutionChain(event: TriggerEvent, workflowId: string): string[] {
  return [...(event.executionChain ?? []), workflowId];
}

export interface FindMatchingOptions {
  repository: WorkflowRepository;
  logger: Logger;
  /** Clock for `age` triggers; defaults to the event's `occurredAt`. */
  now?: number;
  /**
   * Parsed candidate documents by workflow version, shared across events (the dispatcher's).
   * Only for workflows read from the database, where an id and version always name one document.
   */
  documents?: VersionCache<ParsedDocument | null>;
}

/** A candidate's document as matching reads it (null when the stored document is invalid). */
export type ParsedDocument = ReturnType<typeof WorkflowDocumentSchema.parse>;

/**
 * Every enabled workflow of the incident's team or global scope whose trigger and conditions match
 * the event, minus those the execution chain forbids. One repository query. Each match starts its
 * own execution, whose chain is `nextExecutionChain(event, workflow.id)`.
 */
export async function findMatchingWorkflows(event: TriggerEvent, options: FindMatchingOptions): Promise<StoredWorkflow[]> {
  const { repository, logger } = options;
  const chain = event.executionChain ?? [];
  const candidates = await repository.findCandidates({ teamId: event.incident.teamId, triggerType: event.type });
  const matches: StoredWorkflow[] = [];
  for (const stored of candidates) {
    const parse = () => {
      const parsed = WorkflowDocumentSchema.safeParse(stored.definition);
      return parsed.success ? parsed.data : null;
    };
    const document = options.documents ? options.documents.get(stored.id, stored.version, parse) : parse();
    if (!document) {
      logger.warn({ workflowId: stored.id, workflowName: stored.name }, 'stored workflow definition is invalid; skipped');
      continue;
    }
    const matchable: MatchableWorkflow = { ...document, name: stored.name, enabled: stored.enabled, teamId: stored.teamId };
    if (!evaluateTrigger(matchable, event, options.now === undefined ? {} : { now: options.now })) continue;
    const rejection = chainRejection(chain, stored.id);
    if (rejection) {
      logger.warn({ workflowId: stored.id, workflowName: stored.name, incidentId: event.incident.id, executionChain: chain, reason: rejection }, 'workflow rejected by cycle detection');
      continue;
    }
    matches.push(stored);
  }
  // Debug: each run the event starts is logged by the dispatcher ('run recorded').
  logger.debug({ incidentId: event.incident.id, eventType: event.type, candidates: candidates.length, matched: matches.map((w) => w.name) }, 'matched workflows');
  return matches;
}
