import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closestNames, levenshtein } from '../../../src/app/closest-names.js';
import { createAppServices, type WiredAppServices } from '../../../src/app/create-app-services.js';
import { TriggerDispatcher } from '../../../src/app/dispatcher.js';
import type { JobScheduler } from '../../../src/app/ports.js';
import { AppError, type Actor } from '../../../src/app/services.js';
import { findMatchingWorkflows } from '../../../src/engine/triggers.js';
import type { TriggerEvent } from '../../../src/engine/types.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { createPrismaClient } from '../../../src/store/prisma.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.js';

const ADMIN: Actor = { userId: null, name: 'root', role: 'ADMIN', platform: 'cli', teamIds: [] };

function doc(name: string, trigger: Record<string, unknown>, extra: Record<string, unknown> = {}, input: Record<string, unknown> = { channel: 'incident', text: 'hi {{incident.title}}' }, action = 'chat.post') {
  return JSON.stringify({
    name,
    trigger,
    nodes: [
      { id: 'start', type: 'trigger' },
      { id: 'step', type: 'action', action, input },
    ],
    edges: [{ from: 'start', to: 'step' }],
    ...extra,
  });
}

async function expectAppError(promise: Promise<unknown>, code: AppError['code'], message?: RegExp): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  if (message) expect((error as AppError).message).toMatch(message);
  return error as AppError;
}

describe('application services on Prisma', () => {
  let db: TestDatabase;
  let queue: WorkflowQueue;
  let services: WiredAppServices;
  const logger = new MemoryLogger();
  const prefix = uniquePrefix('app');
  let payments: string;
  let search: string;
  let member: Actor;
  let outsider: Actor;

  beforeAll(async () => {
    db = await createTestDatabase();
    queue = createWorkflowQueue({ connection: REDIS_URL, prefix, logger });
    services = createAppServices({
      prisma: db.prisma,
      scheduler: new WorkflowJobScheduler(queue, db.prisma, logger),
      repository: new PrismaWorkflowRepository(db.prisma),
      logger,
    });
    payments = (await db.prisma.team.create({ data: { name: 'payments' } })).id;
    search = (await db.prisma.team.create({ data: { name: 'search' } })).id;
    member = await services.users.resolve({ platform: 'slack', platformUserId: 'U_MEMBER', name: 'Mia' });
    await db.prisma.teamMember.create({ data: { teamId: payments, userId: member.userId! } });
    member = await services.users.resolve({ platform: 'slack', platformUserId: 'U_MEMBER' });
    outsider = await services.users.resolve({ platform: 'teams', platformUserId: 'T_OUT', name: 'Otto' });
    await services.workflows.apply(ADMIN, [
      { file: 'a', text: doc('page-team', { type: 'incident_created' }, { team: 'payments' }) },
      { file: 'b', text: doc('global-log', { type: 'incident_created' }) },
      { file: 'c', text: doc('search-only', { type: 'incident_created' }, { team: 'search' }) },
      { file: 'd', text: doc('restart-service', { type: 'manual' }, { team: 'payments', conditions: [{ field: 'metadata.service', value: 'api' }] }) },
      {
        file: 'e',
        text: JSON.stringify({
          name: 'notify-hook',
          trigger: { type: 'manual' },
          nodes: [
            { id: 'start', type: 'trigger' },
            { id: 'ticket', type: 'action', action: 'jira.create_issue', input: { project: 'OPS', summary: '{{incident.title}}' } },
            {
              id: 'hook',
              type: 'action',
              action: 'webhook',
              input: { url: 'https://hooks.example.com/x/{{incident.number}}', method: 'POST', headers: { Authorization: 'Bearer {{secrets.HOOK_TOKEN}}' }, body: { title: '{{incident.title}}', ticket: '{{steps.ticket.output.key}}' } },
            },
          ],
          edges: [
            { from: 'start', to: 'ticket' },
            { from: 'ticket', to: 'hook' },
          ],
        }),
      },
    ]);
  });

  afterAll(async () => {
    await queue?.close();
    await deletePrefix(prefix);
    await db?.drop();
  });

  describe('dispatcher', () => {
    it('records one PENDING run per matching workflow (pinned version, definition snapshot, chain) before adding its job', async () => {
      const incident = await services.incidents.declare(member, { title: 'Card payments failing', metadata: { service: 'api' } });
      expect(incident.teamId).toBe(payments);
      const runs = await db.prisma.workflowExecution.findMany({ where: { incidentId: incident.id }, include: { workflow: true }, orderBy: { createdAt: 'asc' } });
      expect(runs.map((r) => r.workflow.name).sort()).toEqual(['global-log', 'page-team']);
      for (const run of runs) {
        expect(run.status).toBe('PENDING');
        expect(run.workflowVersion).toBe(run.workflow.version);
        expect(run.definitionSnapshot).toEqual(run.workflow.definition);
        expect(run.executionChain).toEqual([run.workflowId]);
        expect(run.triggerEvent).toMatchObject({ type: 'incident_created', incident: { id: incident.id, number: incident.number }, actor: { kind: 'user', id: member.userId } });
        expect(run.triggeredByUserId).toBe(member.userId);
        const job = await queue.getJob(run.id);
        expect(job?.data).toMatchObject({ executionId: run.id, workflowId: run.workflowId, incidentId: incident.id, executionChain: [run.workflowId] });
      }
    });

    it('adds each job only after its row is committed (visible from another connection)', async () => {
      const observer = createPrismaClient(db.url);
      const real = new WorkflowJobScheduler(queue, db.prisma);
      const seenCommitted: boolean[] = [];
      const watching: JobScheduler = {
        schedule: async (job) => {
          seenCommitted.push((await observer.workflowExecution.count({ where: { id: job.executionId, status: 'PENDING' } })) === 1);
          await real.schedule(job);
        },
        remove: (id) => real.remove(id),
        cancel: (id, by) => real.cancel(id, by),
        retry: (id, by) => real.retry(id, by),
      };
      try {
        const watched = createAppServices({ prisma: db.prisma, scheduler: watching, repository: new PrismaWorkflowRepository(db.prisma), logger });
        await watched.incidents.declare(member, { title: 'Outbox order' });
        expect(seenCommitted).toEqual([true, true]);
      } finally {
        await observer.$disconnect();
      }
    });

    it('handles many concurrent incident changes without exhausting the connection pool', async () => {
      const incidents = await Promise.all(Array.from({ length: 30 }, (_, i) => services.incidents.declare(member, { title: `Burst ${i}` })));
      expect(new Set(incidents.map((i) => i.number)).size).toBe(30);
      await Promise.all(incidents.map((i) => services.incidents.setStatus(member, i.id, 'investigating')));
      const runs = await db.prisma.workflowExecution.count({ where: { incidentId: { in: incidents.map((i) => i.id) } } });
      expect(runs).toBe(60);
    });

    it('keeps the committed runs and does not fail the caller when the queue refuses the jobs', async () => {
      const failing: JobScheduler = {
        schedule: async () => {
          throw new Error('redis is down');
        },
        remove: async () => undefined,
        cancel: async () => ({ outcome: 'already_finished', status: 'COMPLETED' }),
        retry: async () => ({ outcome: 'refused', message: 'no' }),
      };
      const broken = createAppServices({ prisma: db.prisma, scheduler: failing, repository: new PrismaWorkflowRepository(db.prisma), logger });
      const incident = await broken.incidents.declare(member, { title: 'Queue down' });
      const runs = await db.prisma.workflowExecution.findMany({ where: { incidentId: incident.id } });
      expect(runs).toHaveLength(2);
      expect(runs.every((r) => r.status === 'PENDING')).toBe(true);
      for (const run of runs) expect(await queue.getJob(run.id)).toBeUndefined();
      expect(logger.entries.filter((e) => e.msg?.includes('reconciler will enqueue it') && runs.some((r) => r.id === e.fields.executionId))).toHaveLength(2);
    });

    it('refuses a workflow that is already in the event chain and logs the rejection', async () => {
      const incident = await db.prisma.incident.findFirstOrThrow({ where: { title: 'Card payments failing' } });
      const pageTeam = await db.prisma.workflow.findUniqueOrThrow({ where: { name: 'page-team' } });
      const repository = new PrismaWorkflowRepository(db.prisma);
      const dispatcher = new TriggerDispatcher({
        prisma: db.prisma,
        match: (event) => findMatchingWorkflows(event, { repository, logger }),
        scheduler: new WorkflowJobScheduler(queue, db.prisma),
        logger,
      });
      const event: TriggerEvent = {
        type: 'incident_created',
        incident: { id: incident.id, title: incident.title, priority: incident.priority, status: incident.status, teamId: incident.teamId, metadata: {}, createdAt: incident.createdAt.toISOString() },
        executionChain: [pageTeam.id],
        occurredAt: new Date().toISOString(),
      };
      const ids = await dispatcher.emit(event);
      const started = await db.prisma.workflowExecution.findMany({ where: { id: { in: ids } }, include: { workflow: true } });
      expect(started.map((r) => r.workflow.name)).toEqual(['global-log']);
      expect(started[0]!.executionChain).toEqual([pageTeam.id, started[0]!.workflowId]);
      expect(logger.entries.some((e) => e.msg === 'workflow rejected by cycle detection' && e.fields.workflowId === pageTeam.id)).toBe(true);
    });
  });

  describe('incidents', () => {
    it('binds the incident to its channel, finds it by channel, and refuses a second incident in the same channel', async () => {
      const channel = { platform: 'slack' as const, channelId: 'C_INC_1' };
      const incident = await services.incidents.declare(member, { title: 'Bound', priority: 'p1', channel });
      expect(incident.priority).toBe('P1');
      expect((await services.incidents.findByChannel(channel))?.id).toBe(incident.id);
      expect(await services.incidents.findByChannel({ platform: 'teams', channelId: 'C_INC_1' })).toBeNull();
      await expectAppError(services.incidents.declare(member, { title: 'Again', channel }), 'conflict', new RegExp(`#${incident.number}`));
    });

    it('needs a team: a member of no team must name one; an unknown team is invalid', async () => {
      const e = await expectAppError(services.incidents.declare(outsider, { title: 'No team' }), 'invalid');
      expect(e.field).toBe('teamId');
      await expectAppError(services.incidents.declare(ADMIN, { title: 'x', teamId: 'nope' }), 'invalid', /No team nope/);
      const ok = await services.incidents.declare(outsider, { title: 'Named team', teamId: 'search' });
      expect(ok.teamName).toBe('search');
    });

    it('lets only members of the incident team (or admins) change it, and audits each change', async () => {
      const incident = await services.incidents.declare(member, { title: 'Permissions' });
      await expectAppError(services.incidents.setStatus(outsider, incident.id, 'acknowledged'), 'forbidden');
      await expectAppError(services.incidents.escalate(outsider, incident.id), 'forbidden');
      await expectAppError(services.incidents.setStatus(member, incident.id, 'sleeping'), 'invalid', /Unknown status/);
      expect((await services.incidents.setStatus(member, incident.id, 'acknowledged')).status).toBe('acknowledged');
      expect((await services.incidents.setPriority(ADMIN, `#${incident.number}`, 'P2')).priority).toBe('P2');
      expect((await services.incidents.assign(member, incident.id, member.userId)).assigneeName).toBe('Mia');
      expect((await services.incidents.escalate(member, incident.id)).escalationLevel).toBe(1);
      const audit = await db.prisma.auditLog.findMany({ where: { targetId: incident.id }, orderBy: { id: 'asc' } });
      expect(audit.map((a) => a.action)).toEqual(['incident.declare', 'incident.update', 'incident.update', 'incident.update', 'incident.escalate']);
      expect(audit[1]!.actor).toBe(`slack:${member.userId}`);
      expect(audit[1]!.details).toEqual({ changes: { status: { from: 'open', to: 'acknowledged' } } });
    });
  });

  describe('runs', () => {
    it('runs a manual workflow for a team member, recorded as manual with the user', async () => {
      const incident = await services.incidents.declare(member, { title: 'Manual', metadata: { service: 'api' } });
      const { executionId } = await services.runs.runManual(member, incident.id, 'restart-service');
      const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: executionId } });
      expect(row).toMatchObject({ status: 'PENDING', triggerType: 'manual', triggeredBy: 'manual', triggeredByUserId: member.userId });
      expect(row.triggerEvent).toMatchObject({ type: 'manual', workflowName: 'restart-service' });
      expect((await queue.getJob(executionId))?.data.triggeredBy).toBe('manual');
      const history = await services.runs.history(member, String(incident.number));
      expect(history.map((h) => h.id)).toContain(executionId);
    });

    it('explains why a manual run cannot start: typo (with close names), not manual, disabled, conditions, team', async () => {
      const incident = await services.incidents.declare(member, { title: 'Refusals', metadata: { service: 'db' } });
      const typo = await expectAppError(services.runs.runManual(member, incident.id, 'restart-servce'), 'not_found');
      expect(typo.message).toContain('Did you mean "restart-service"');
      await expectAppError(services.runs.runManual(member, incident.id, 'page-team'), 'invalid', /not on demand/);
      await expectAppError(services.runs.runManual(member, incident.id, 'restart-service'), 'invalid', /metadata\.service = "api" does not hold: it is "db"/);
      await expectAppError(services.runs.runManual(outsider, incident.id, 'restart-service'), 'forbidden');
      await services.workflows.setEnabled(ADMIN, 'notify-hook', false);
      await expectAppError(services.runs.runManual(member, incident.id, 'notify-hook'), 'invalid', /disabled/);
      await services.workflows.setEnabled(ADMIN, 'notify-hook', true);
      await expectAppError(services.runs.runManual(member, 'nope', 'restart-service'), 'not_found');
      expect(await db.prisma.workflowExecution.count({ where: { incidentId: incident.id, triggerType: 'manual' } })).toBe(0);
    });

    it('dry-runs: says why it would not match and renders each action input with secrets as markers, without side effects', async () => {
      const before = await db.prisma.workflowExecution.count();
      const incident = await services.incidents.declare(member, { title: 'Dry', metadata: { service: 'db' } });
      const afterDeclare = await db.prisma.workflowExecution.count();
      const miss = await services.runs.dryRun(member, incident.id, 'restart-service');
      expect(miss.matches).toBe(false);
      expect(miss.reasons).toEqual(['condition metadata.service = "api" does not hold: it is "db"']);
      const hook = await services.runs.dryRun(member, incident.id, 'notify-hook');
      expect(hook.matches).toBe(true);
      expect(hook.actions).toEqual([
        { nodeId: 'ticket', action: 'jira.create_issue', input: { project: 'OPS', summary: 'Dry' } },
        {
          nodeId: 'hook',
          action: 'webhook',
          input: {
            url: `https://hooks.example.com/x/${incident.number}`,
            method: 'POST',
            headers: { Authorization: 'Bearer [secret:HOOK_TOKEN]' },
            body: { title: 'Dry', ticket: '<steps.ticket.output.key>' },
          },
        },
      ]);
      const created = await services.runs.dryRun(member, incident.id, 'search-only');
      expect(created.reasons).toEqual(["the workflow belongs to another team than the incident's"]);
      expect(await db.prisma.workflowExecution.count()).toBe(afterDeclare);
      expect(afterDeclare).toBeGreaterThan(before);
    });

    it('cancels and retries through the worker, for team members only', async () => {
      const incident = await services.incidents.declare(member, { title: 'Cancel' });
      const run = await db.prisma.workflowExecution.findFirstOrThrow({ where: { incidentId: incident.id } });
      await expectAppError(services.runs.cancel(outsider, run.id), 'forbidden');
      expect(await services.runs.cancel(member, run.id)).toEqual({ outcome: 'cancelled', status: 'CANCELLED' });
      expect(await queue.getJob(run.id)).toBeUndefined();
      expect((await services.runs.cancel(member, run.id)).outcome).toBe('already_finished');
      await expectAppError(services.runs.retry(outsider, run.id), 'forbidden');
      expect((await services.runs.retry(member, run.id)).outcome).toBe('retrying');
      expect((await services.runs.retry(member, run.id)).outcome).toBe('already_retrying');
      await expectAppError(services.runs.cancel(member, '00000000-0000-4000-8000-000000000000'), 'not_found');
      const audit = await db.prisma.auditLog.findMany({ where: { targetId: run.id }, orderBy: { id: 'asc' } });
      expect(audit.map((a) => a.action)).toEqual(['execution.cancel', 'execution.retry']);
      const view = await services.runs.view(run.id);
      expect(view).toMatchObject({ executionId: run.id, status: 'PENDING', actions: ['cancel'], incident: { id: incident.id, title: 'Cancel' } });
      expect(await services.runs.view('00000000-0000-4000-8000-000000000000')).toBeNull();
    });

    it('retries with the version the run used, and says so when a newer version exists', async () => {
      const incident = await services.incidents.declare(member, { title: 'Versioned' });
      const run = await db.prisma.workflowExecution.findFirstOrThrow({ where: { incidentId: incident.id, workflow: { name: 'global-log' } } });
      expect(run.workflowVersion).toBe(1);
      await services.runs.cancel(member, run.id);
      await services.workflows.apply(ADMIN, [{ file: 'b2', text: doc('global-log', { type: 'incident_created' }, { description: 'v2' }) }]);
      const retried = await services.runs.retry(member, run.id);
      expect(retried.outcome).toBe('retrying');
      expect(retried.message).toContain('version 1 of the workflow, as the run did (version 2 is newer)');
      const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: run.id } });
      expect(row.workflowVersion).toBe(1);
      expect((row.definitionSnapshot as { description: string }).description).toBe('');
    });
  });

  describe('workflow admin', () => {
    it('lets only admins enable and disable, and lists last runs', async () => {
      await expectAppError(services.workflows.setEnabled(member, 'page-team', false), 'forbidden');
      await expectAppError(services.workflows.apply(member, [{ file: 'x', text: doc('sneaky', { type: 'manual' }) }]), 'forbidden');
      const list = await services.workflows.list(member);
      const pageTeam = list.find((w) => w.name === 'page-team');
      expect(pageTeam).toMatchObject({ scope: 'payments', enabled: true, triggerType: 'incident_created', version: 1 });
      expect(pageTeam?.lastRun?.status).toBeDefined();
      expect(list.find((w) => w.name === 'notify-hook')?.lastRun).toBeNull();
      const shown = await services.workflows.show(member, 'restart-service');
      expect(shown.definition).toMatchObject({ name: 'restart-service', conditions: [{ field: 'metadata.service', value: 'api' }] });
    });

    it('reports every problem of an invalid document with its path and line', async () => {
      const e = await expectAppError(services.workflows.apply(ADMIN, [{ file: 'bad.yml', text: 'name: Bad Name\ntrigger: { type: nope }\nnodes: []\n' }]), 'invalid');
      expect(e.details?.length).toBeGreaterThanOrEqual(2);
      expect(e.details?.every((d) => d.file === 'bad.yml')).toBe(true);
      expect(e.details?.some((d) => d.path.startsWith('trigger') && d.line === 2)).toBe(true);
    });
  });

  describe('user directory', () => {
    it('creates a MEMBER on first sight, once, even when first messages race; reads teams from TeamMember', async () => {
      const results = await Promise.all(Array.from({ length: 5 }, () => services.users.resolve({ platform: 'teams', platformUserId: 'T_RACE', name: 'Rae' })));
      expect(new Set(results.map((r) => r.userId)).size).toBe(1);
      expect(results[0]).toMatchObject({ role: 'MEMBER', name: 'Rae', platform: 'teams', teamIds: [] });
      expect(await db.prisma.user.count({ where: { teamsUserId: 'T_RACE' } })).toBe(1);
      expect(await db.prisma.auditLog.count({ where: { action: 'user.create', targetId: results[0]!.userId } })).toBe(1);
      expect(member.teamIds).toEqual([payments]);
      expect(await services.users.findByPlatformId('slack', 'U_MEMBER')).toEqual({ id: member.userId, name: 'Mia' });
      expect(await services.users.findByPlatformId('slack', 'U_NOBODY')).toBeNull();
      expect(search).toBeDefined();
    });
  });

  describe('closest names', () => {
    it('computes edit distances and suggests close names, closest first', () => {
      expect(levenshtein('kitten', 'sitting')).toBe(3);
      expect(levenshtein('', 'abc')).toBe(3);
      expect(closestNames('restart-servce', ['restart-service', 'page-team', 'restart-db'])).toEqual(['restart-service']);
      expect(closestNames('PAGE', ['page-team', 'global-log'])).toEqual(['page-team']);
      expect(closestNames('zzzzzz', ['page-team'])).toEqual([]);
    });
  });
});
