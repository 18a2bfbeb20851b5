/**
 * What the benchmark runs: a team, its members and incidents, and the workflow documents of each
 * row, applied through the product's WorkflowCatalog (the same path as `workflows apply`).
 */
import { WorkflowCatalog } from '../src/catalog/WorkflowCatalog.js';
import { toIncidentSnapshot } from '../src/app/mappers.js';
import type { WorkflowDocumentInput } from '../src/engine/definition.js';
import type { IncidentSnapshot, TriggerEvent } from '../src/engine/types.js';
import type { PrismaClient } from '../src/store/prisma.js';

export const TEAM = 'bench-sre';

/** Creates the bench team (with a Slack channel for alerts). Returns its id. */
export async function seedTeam(prisma: PrismaClient): Promise<string> {
  const team = await prisma.team.upsert({ where: { name: TEAM }, update: {}, create: { name: TEAM, slackChannelId: 'CBENCHALERTS' } });
  return team.id;
}

/** An incident tagged `metadata.bench = tag` (workflows of a row match only their own tag). */
export async function seedIncident(prisma: PrismaClient, teamId: string, tag: string, slackChannel?: string): Promise<IncidentSnapshot> {
  const row = await prisma.incident.create({ data: { title: `bench ${tag}`, priority: 'P1', teamId, metadata: { bench: tag } } });
  if (slackChannel) await prisma.incidentChannel.create({ data: { incidentId: row.id, platform: 'SLACK', channelId: slackChannel } });
  return toIncidentSnapshot(row);
}

/** An `incident_created` event for the incident (what the API emits when one is declared). */
export function createdEvent(incident: IncidentSnapshot): TriggerEvent {
  return { type: 'incident_created', incident, occurredAt: new Date().toISOString(), actor: { kind: 'api', id: 'bench' } };
}

/** A line of webhook actions to `url`; every body carries the execution id and the step. */
export function webhookLine(name: string, tag: string, url: string, steps: number, trigger: WorkflowDocumentInput['trigger'] = { type: 'incident_created' }): WorkflowDocumentInput {
  const nodes: WorkflowDocumentInput['nodes'] = [{ id: 'start', type: 'trigger' }];
  const edges: NonNullable<WorkflowDocumentInput['edges']> = [];
  let prev = 'start';
  for (let i = 1; i <= steps; i++) {
    const id = `call${i}`;
    nodes.push({ id, type: 'action', action: 'webhook', input: { url, method: 'POST', body: { execution: '{{execution.id}}', step: i, incident: '{{incident.id}}' } } });
    edges.push({ from: prev, to: id });
    prev = id;
  }
  return { name, team: TEAM, trigger, conditions: trigger.type === 'manual' ? [] : [{ field: 'metadata.bench', value: tag }], settings: { timeout: '5min' }, nodes, edges };
}

/**
 * A chain of `length` cheap nodes after the trigger: `length - 1` condition nodes (each checks
 * `incident.priority == P1` and follows its true edge) and a final zero-second delay node. Every
 * false edge goes to one `mismatch` delay node that is skipped (never executed, never written).
 */
export function conditionChain(name: string, tag: string, length: number): WorkflowDocumentInput {
  const nodes: WorkflowDocumentInput['nodes'] = [{ id: 'start', type: 'trigger' }];
  const edges: NonNullable<WorkflowDocumentInput['edges']> = [];
  let prev = 'start';
  for (let i = 1; i < length; i++) {
    const id = `check${i}`;
    nodes.push({ id, type: 'condition', field: 'incident.priority', value: 'P1' });
    edges.push(prev === 'start' ? { from: prev, to: id } : { from: prev, to: id, branch: true });
    prev = id;
  }
  nodes.push({ id: 'done', type: 'delay', seconds: 0 }, { id: 'mismatch', type: 'delay', seconds: 0 });
  edges.push({ from: prev, to: 'done', branch: true });
  for (let i = 1; i < length; i++) edges.push({ from: `check${i}`, to: 'mismatch', branch: false });
  return { name, team: TEAM, trigger: { type: 'incident_created' }, conditions: [{ field: 'metadata.bench', value: tag }], settings: { timeout: '5min' }, nodes, edges };
}

/** Validate and apply documents through the catalog; returns workflow ids by name. */
export async function applyWorkflows(prisma: PrismaClient, docs: WorkflowDocumentInput[]): Promise<Map<string, string>> {
  const catalog = new WorkflowCatalog();
  const loaded = await catalog.parseSources(
    docs.map((d) => ({ file: `${d.name}.json`, text: JSON.stringify(d) })),
    { prisma },
  );
  if (loaded.issues.length > 0) throw new Error(`bench workflows are invalid: ${loaded.issues.map((i) => `${i.file}: ${i.path} ${i.message}`).join('; ')}`);
  const result = await catalog.apply(prisma, loaded.documents, { author: 'bench' });
  return new Map(result.changes.map((c) => [c.name, c.workflowId ?? '']));
}
