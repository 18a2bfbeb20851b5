/** The app's action handlers (incident.update, chat.post) through the real ActionRegistry on a real database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppActions } from '../../../src/app/actions/index.js';
import { createAppServices, type WiredAppServices } from '../../../src/app/create-app-services.js';
import type { Actor } from '../../../src/app/services.js';
import { UserError } from '../../../src/engine/errors.js';
import type { ActionContext, ChatNotifier, FailureAlert, RunView } from '../../../src/engine/ports.js';
import { ActionRegistry } from '../../../src/integrations/ActionRegistry.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.js';

const ADMIN: Actor = { userId: null, name: 'root', role: 'ADMIN', platform: 'cli', teamIds: [] };

class PostsNotifier implements ChatNotifier {
  readonly posts: Array<{ target: { incidentId: string; teamId: string; channel: string }; text: string }> = [];
  async publishProgress(_view: RunView): Promise<void> {}
  async notifyFailure(_alert: FailureAlert): Promise<void> {}
  async postMessage(target: { incidentId: string; teamId: string; channel: 'incident' | 'team' }, text: string): Promise<{ ref: string }> {
    this.posts.push({ target, text });
    return { ref: `ts-${this.posts.length}` };
  }
}

describe('incident.update and chat.post actions', () => {
  let db: TestDatabase;
  let queue: WorkflowQueue;
  let services: WiredAppServices;
  let registry: ActionRegistry;
  const notifier = new PostsNotifier();
  const logger = new MemoryLogger();
  const prefix = uniquePrefix('act');
  let teamId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    queue = createWorkflowQueue({ connection: REDIS_URL, prefix, logger });
    services = createAppServices({ prisma: db.prisma, scheduler: new WorkflowJobScheduler(queue, db.prisma), repository: new PrismaWorkflowRepository(db.prisma), logger });
    registry = new ActionRegistry(createAppActions({ prisma: db.prisma, incidents: services.incidents, notifier }));
    teamId = (await db.prisma.team.create({ data: { name: 'core' } })).id;
    await services.workflows.apply(ADMIN, [
      {
        file: 'w',
        text: JSON.stringify({
          name: 'on-investigating',
          trigger: { type: 'state_changed', to: 'investigating' },
          nodes: [
            { id: 'start', type: 'trigger' },
            { id: 'say', type: 'action', action: 'chat.post', input: { channel: 'team', text: 'investigating' } },
          ],
          edges: [{ from: 'start', to: 'say' }],
        }),
      },
    ]);
  });

  afterAll(async () => {
    await queue?.close();
    await deletePrefix(prefix);
    await db?.drop();
  });

  function ctx(incidentId: string, chain: string[]): ActionContext {
    return {
      executionId: '11111111-1111-4111-8111-111111111111',
      workflowId: chain[chain.length - 1]!,
      nodeId: 'node',
      incidentId,
      idempotencyKey: '11111111-1111-4111-8111-111111111111:node',
      attempt: 1,
      signal: new AbortController().signal,
      secrets: new Map(),
      executionChain: chain,
      logger,
    };
  }

  it('changes status, priority and assignee (by email) and emits state_changed carrying the execution chain', async () => {
    const user = await db.prisma.user.create({ data: { name: 'Eve', email: 'eve@example.com' } });
    const incident = await services.incidents.declare(ADMIN, { title: 'Action target', teamId });
    const chainer = '22222222-2222-4222-8222-222222222222';
    const out = await registry.run('incident.update', { status: 'investigating', priority: 'P1', assignee: 'eve@example.com' }, ctx(incident.id, [chainer]));
    expect(out).toEqual({ status: 'investigating', priority: 'P1', assigneeId: user.id });
    const runs = await db.prisma.workflowExecution.findMany({ where: { incidentId: incident.id }, include: { workflow: true } });
    expect(runs.map((r) => r.workflow.name)).toEqual(['on-investigating']);
    expect(runs[0]!.executionChain).toEqual([chainer, runs[0]!.workflowId]);
    expect(runs[0]!.triggerEvent).toMatchObject({ executionChain: [chainer], actor: { kind: 'workflow', id: '11111111-1111-4111-8111-111111111111' }, previousState: 'open' });
    const audit = await db.prisma.auditLog.findFirstOrThrow({ where: { targetId: incident.id, action: 'incident.update' } });
    expect(audit.actor).toBe('workflow:11111111-1111-4111-8111-111111111111');

    // Repeating the action (a retry after success) changes nothing and starts nothing.
    await registry.run('incident.update', { status: 'investigating', priority: 'P1', assignee: 'eve@example.com' }, ctx(incident.id, [chainer]));
    expect(await db.prisma.workflowExecution.count({ where: { incidentId: incident.id } })).toBe(1);

    const unassigned = await registry.run('incident.update', { assignee: 'none' }, ctx(incident.id, [chainer]));
    expect(unassigned.assigneeId).toBeNull();
  });

  it('fails with a user error (not retried) for an unknown status or assignee, changing nothing', async () => {
    const incident = await services.incidents.declare(ADMIN, { title: 'Bad input', teamId });
    const chain = ['33333333-3333-4333-8333-333333333333'];
    await expect(registry.run('incident.update', { status: 'sleeping' }, ctx(incident.id, chain))).rejects.toBeInstanceOf(UserError);
    await expect(registry.run('incident.update', { assignee: 'ghost@example.com' }, ctx(incident.id, chain))).rejects.toThrow(/no user "ghost@example.com"/);
    await expect(registry.run('incident.update', {}, ctx(incident.id, chain))).rejects.toBeInstanceOf(UserError);
    expect((await services.incidents.get(ADMIN, incident.id)).status).toBe('open');
  });

  it('posts to the incident or the team channel through the ChatNotifier', async () => {
    const incident = await services.incidents.declare(ADMIN, { title: 'Chatty', teamId });
    const chain = ['44444444-4444-4444-8444-444444444444'];
    const out = await registry.run('chat.post', { channel: 'team', text: 'Heads up' }, ctx(incident.id, chain));
    expect(out).toEqual({ ref: expect.stringMatching(/^ts-/), channel: 'team' });
    expect(notifier.posts.at(-1)).toEqual({ target: { incidentId: incident.id, teamId, channel: 'team' }, text: 'Heads up' });
    await expect(registry.run('chat.post', { channel: 'dm', text: 'x' }, ctx(incident.id, chain))).rejects.toBeInstanceOf(UserError);
    await expect(registry.run('chat.post', { channel: 'team', text: 'x' }, ctx('55555555-5555-4555-8555-555555555555', chain))).rejects.toThrow(/no longer exists/);
  });
});
