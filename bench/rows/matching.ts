/**
 * Row 7: time to match an event (findMatchingWorkflows over PrismaWorkflowRepository) with 10,000
 * workflows defined versus 100. The event's team always has the same candidates (10 team
 * workflows and 5 global ones for its trigger type); every other workflow belongs to one of 200
 * other teams, or has another trigger type, so what grows is only what the index must skip.
 */
import { randomUUID } from 'node:crypto';
import { columnsOf } from '../../src/catalog/documents.js';
import { WorkflowDocumentSchema, type WorkflowDocumentInput } from '../../src/engine/definition.js';
import { findMatchingWorkflows } from '../../src/engine/triggers.js';
import type { TriggerType } from '../../src/engine/types.js';
import type { Prisma } from '../../src/generated/prisma/client.js';
import { PrismaWorkflowRepository } from '../../src/store/PrismaWorkflowRepository.js';
import type { BenchEnv } from '../env.js';
import { createdEvent, seedIncident } from '../fixtures.js';
import { quantile, type BenchRow } from '../stats.js';

export interface MatchingSizes {
  small: number;
  large: number;
  /** Matches timed at each size (after a warm-up). */
  samples: number;
}

const OTHER_TEAMS = 200;
const TYPES: TriggerType[] = ['incident_created', 'state_changed', 'escalation', 'manual', 'age'];

function doc(name: string, type: TriggerType, conditions: WorkflowDocumentInput['conditions'] = []): WorkflowDocumentInput {
  const trigger: WorkflowDocumentInput['trigger'] =
    type === 'age' ? { type, minutes: 30 } : type === 'state_changed' ? { type, to: 'resolved' } : { type };
  return {
    name,
    trigger,
    conditions,
    nodes: [
      { id: 'start', type: 'trigger' },
      { id: 'hook', type: 'action', action: 'webhook', input: { url: 'https://hooks.example.com/incident', body: { incident: '{{incident.id}}' } } },
    ],
    edges: [{ from: 'start', to: 'hook' }],
  };
}

/** Rows as the catalog writes them (validated document, denormalised columns). */
function rowOf(input: WorkflowDocumentInput, teamId: string | null): Prisma.WorkflowCreateManyInput {
  const definition = WorkflowDocumentSchema.parse(input);
  const c = columnsOf(definition);
  return {
    id: randomUUID(),
    name: c.name,
    description: c.description,
    teamId,
    enabled: c.enabled,
    triggerType: c.triggerType,
    trigger: c.trigger as Prisma.InputJsonValue,
    conditions: c.conditions as Prisma.InputJsonValue,
    settings: c.settings as Prisma.InputJsonValue,
    definition: definition as unknown as Prisma.InputJsonValue,
  };
}

async function timeMatches(env: BenchEnv, event: ReturnType<typeof createdEvent>, samples: number, expected: number): Promise<number[]> {
  const repository = new PrismaWorkflowRepository(env.prisma);
  const times: number[] = [];
  for (let i = 0; i < samples + 20; i++) {
    const start = performance.now();
    const matched = await findMatchingWorkflows(event, { repository, logger: env.logger });
    const ms = performance.now() - start;
    if (matched.length !== expected) throw new Error(`row 7: matched ${matched.length} workflows, expected ${expected}`);
    if (i >= 20) times.push(ms);
  }
  return times;
}

export async function matchingRows(env: BenchEnv, sizes: MatchingSizes, log: (msg: string) => void): Promise<{ rows: BenchRow[] }> {
  const { prisma } = env;
  const team = await prisma.team.create({ data: { name: 'bench-match' } });
  const others: Array<{ id: string; name: string }> = [];
  for (let t = 0; t < OTHER_TEAMS; t++) others.push({ id: randomUUID(), name: `bench-match-${t}` });
  await prisma.team.createMany({ data: others });
  const incident = await seedIncident(prisma, team.id, 'match');
  const event = createdEvent(incident);

  // The event's candidates: the same at both sizes. 10 team workflows (8 match, 2 fail a condition) + 5 global.
  const own: Prisma.WorkflowCreateManyInput[] = [];
  // Every one of them also requires `metadata.bench = match`, so no other row's events start them.
  const mine = { field: 'metadata.bench', value: 'match' };
  for (let i = 0; i < 10; i++) own.push(rowOf(doc(`match-own-${i}`, 'incident_created', i < 8 ? [mine] : [mine, { field: 'priority', value: 'P4' }]), team.id));
  for (let i = 0; i < 5; i++) own.push(rowOf(doc(`match-global-${i}`, 'incident_created', [mine]), null));
  const expected = 13;
  let made = 0;
  const filler = (count: number): Prisma.WorkflowCreateManyInput[] => {
    const rows: Prisma.WorkflowCreateManyInput[] = [];
    for (let i = 0; i < count; i++, made++) {
      const type = TYPES[made % TYPES.length]!;
      // One in 50 is global (of another trigger type than the event's, so it is not a candidate).
      const global = made % 50 === 7 && type !== 'incident_created';
      rows.push(rowOf(doc(`match-other-${made}`, type, [{ field: 'metadata.bench', value: 'match' }]), global ? null : others[made % OTHER_TEAMS]!.id));
    }
    return rows;
  };
  const insert = async (rows: Prisma.WorkflowCreateManyInput[]) => {
    for (let i = 0; i < rows.length; i += 1000) await prisma.workflow.createMany({ data: rows.slice(i, i + 1000) });
    await env.pool.query('ANALYZE "Workflow"');
  };

  log(`row 7: ${sizes.small} workflows`);
  await insert([...own, ...filler(sizes.small - own.length)]);
  const small = await timeMatches(env, event, sizes.samples, expected);
  log(`row 7: ${sizes.large} workflows`);
  await insert(filler(sizes.large - sizes.small));
  const total = await prisma.workflow.count();
  const large = await timeMatches(env, event, sizes.samples, expected);
  // Back to the small size and measure again, so drift in machine load hits both sides alike.
  log(`row 7: back to ${sizes.small} workflows`);
  const plan = await env.pool.query(
    `EXPLAIN SELECT id FROM "Workflow" WHERE enabled AND "deletedAt" IS NULL AND "triggerType" = 'incident_created' AND ("teamId" = $1 OR "teamId" IS NULL)`,
    [team.id],
  );
  await env.pool.query(`DELETE FROM "Workflow" WHERE name LIKE 'match-other-%' AND substring(name from 13)::int >= $1`, [sizes.small - own.length]);
  await env.pool.query('ANALYZE "Workflow"');
  small.push(...(await timeMatches(env, event, sizes.samples, expected)));
  // Out of the way of later rows (their events are incident_created too).
  await env.pool.query(`UPDATE "Workflow" SET enabled = false WHERE name LIKE 'match-%'`);
  const s50 = quantile(small, 0.5);
  const l50 = quantile(large, 0.5);
  const usesIndex = plan.rows.some((r: Record<string, string>) => /Index|Bitmap/.test(Object.values(r)[0] ?? ''));
  return {
    rows: [
      {
        metric: `7 match an event, ${total} vs ${sizes.small} workflows (p50)`,
        value: l50,
        baseline: s50,
        unit: 'ms',
        ratio: l50 / s50,
        target: '<= 1.5x',
        met: l50 / s50 <= 1.5,
        note: `${expected} of 15 candidates match at both sizes; p99 ${quantile(large, 0.99).toFixed(2)} vs ${quantile(small, 0.99).toFixed(2)} ms; query plan ${usesIndex ? 'uses an index' : 'scans the table'}`,
      },
    ],
  };
}
