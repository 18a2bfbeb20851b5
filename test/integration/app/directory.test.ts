/** Directory administration on a real database: teams, members, roles, identity merges, permissions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServices, type WiredAppServices } from '../../../src/app/create-app-services.js';
import { AppError, type Actor } from '../../../src/app/services.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.js';

const SYSTEM: Actor = { userId: null, name: 'ops', role: 'SYSTEM', platform: 'cli', teamIds: [] };

async function expectAppError(promise: Promise<unknown>, code: AppError['code'], field?: string, message?: RegExp): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  if (field !== undefined) expect((error as AppError).field).toBe(field);
  if (message) expect((error as AppError).message).toMatch(message);
  return error as AppError;
}

describe('directory administration', () => {
  let db: TestDatabase;
  let queue: WorkflowQueue;
  let services: WiredAppServices;
  const logger = new MemoryLogger();
  const prefix = uniquePrefix('dir');

  const audits = (action: string) => db.prisma.auditLog.count({ where: { action } });

  beforeAll(async () => {
    db = await createTestDatabase();
    queue = createWorkflowQueue({ connection: REDIS_URL, prefix, logger });
    services = createAppServices({
      prisma: db.prisma,
      scheduler: new WorkflowJobScheduler(queue, db.prisma, logger),
      repository: new PrismaWorkflowRepository(db.prisma),
      logger,
    });
  });
  afterAll(async () => {
    await queue?.close();
    await deletePrefix(prefix);
    await db?.drop();
  });

  it('creates, renames and lists teams; duplicates and bad channel ids are refused', async () => {
    const { directory } = services;
    const team = await directory.createTeam(SYSTEM, ' payments ', { slackChannelId: 'C0PAY', teamsConversationId: '19:pay@thread.tacv2' });
    expect(team).toMatchObject({ name: 'payments', slackChannelId: 'C0PAY', teamsConversationId: '19:pay@thread.tacv2', memberCount: 0 });
    const audit = await db.prisma.auditLog.findFirstOrThrow({ where: { action: 'team.create', targetId: team.id } });
    expect(audit.actor).toBe('cli:ops');
    expect(audit.details).toMatchObject({ name: 'payments', slackChannelId: 'C0PAY' });

    await expectAppError(directory.createTeam(SYSTEM, 'payments'), 'conflict', 'name', /already exists/);
    await expectAppError(directory.createTeam(SYSTEM, 'search', { slackChannelId: '#search' }), 'invalid', 'slackChannelId');
    expect(await db.prisma.team.count()).toBe(1);

    await directory.createTeam(SYSTEM, 'search');
    await expectAppError(directory.updateTeam(SYSTEM, 'search', { name: 'payments' }), 'conflict', 'name');
    await expectAppError(directory.updateTeam(SYSTEM, 'paymnets', { slackChannelId: 'C0NEW' }), 'not_found', 'team', /Did you mean "payments"/);

    const renamed = await directory.updateTeam(SYSTEM, 'search', { name: 'search-infra', slackChannelId: 'C0SRCH' });
    expect(renamed).toMatchObject({ name: 'search-infra', slackChannelId: 'C0SRCH', teamsConversationId: null });
    const cleared = await directory.updateTeam(SYSTEM, team.id, { teamsConversationId: null });
    expect(cleared.teamsConversationId).toBeNull();
    const updates = await audits('team.update');
    // The same values again change nothing and write no audit row.
    await directory.updateTeam(SYSTEM, 'search-infra', { slackChannelId: 'C0SRCH' });
    expect(await audits('team.update')).toBe(updates);
    expect(updates).toBe(2);

    expect((await directory.listTeams(SYSTEM)).map((t) => t.name)).toEqual(['payments', 'search-infra']);
  });

  it('links identities into the user chat created, and refuses to move an identity that belongs to another user', async () => {
    const { directory, users } = services;
    // Alice typed a slash command before anyone set her up: a MEMBER row with only her Slack id.
    const seen = await users.resolve({ platform: 'slack', platformUserId: 'U0ALICE', name: 'alice.s' });

    const linked = await directory.upsertUser(SYSTEM, { email: 'Alice@Example.com', name: 'Alice Smith', slackUserId: 'U0ALICE' });
    expect(linked.action).toBe('updated');
    expect(linked.user).toMatchObject({ id: seen.userId, email: 'alice@example.com', name: 'Alice Smith', slackUserId: 'U0ALICE', role: 'MEMBER' });
    expect(await db.prisma.user.count()).toBe(1);

    const again = await directory.upsertUser(SYSTEM, { email: 'alice@example.com', slackUserId: 'U0ALICE' });
    expect(again.action).toBe('unchanged');
    expect(await audits('user.update')).toBe(1);

    // Her Teams identity, linked by e-mail: the Teams bot now resolves her to the same row.
    await directory.upsertUser(SYSTEM, { email: 'alice@example.com', teamsUserId: '29:alice-aad' });
    const viaTeams = await users.resolve({ platform: 'teams', platformUserId: '29:alice-aad', name: 'Alice' });
    expect(viaTeams.userId).toBe(seen.userId);

    const bob = await directory.upsertUser(SYSTEM, { email: 'bob@example.com', name: 'Bob' });
    expect(bob.action).toBe('created');
    expect(bob.user.slackUserId).toBeNull();

    // Bob's e-mail and Alice's Slack id point at two rows: refused, nothing moves.
    const conflict = await expectAppError(directory.upsertUser(SYSTEM, { email: 'bob@example.com', slackUserId: 'U0ALICE' }), 'conflict', 'slackUserId');
    expect(conflict.message).toContain('Alice Smith');
    expect(conflict.message).toContain('Bob');
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: bob.user.id } })).slackUserId).toBeNull();
    expect((await db.prisma.user.findUniqueOrThrow({ where: { slackUserId: 'U0ALICE' } })).id).toBe(seen.userId);

    // An identity the user already has is not silently replaced either.
    await expectAppError(directory.upsertUser(SYSTEM, { email: 'alice@example.com', slackUserId: 'U0OTHER' }), 'conflict', 'slackUserId', /already linked to Slack user U0ALICE/);
    await expectAppError(directory.upsertUser(SYSTEM, { slackUserId: 'alice' }), 'invalid', 'slackUserId');
    await expectAppError(directory.upsertUser(SYSTEM, { name: 'Nobody' }), 'invalid');
    expect(await db.prisma.user.count()).toBe(2);
    expect(await audits('user.create')).toBe(2); // the chat-created row and Bob
  });

  it('membership and role changes are what chat sees: declare without a team, admin rights', async () => {
    const { directory, users, incidents } = services;
    let alice = await users.resolve({ platform: 'slack', platformUserId: 'U0ALICE' });
    await expectAppError(incidents.declare(alice, { title: 'db down' }), 'invalid', 'teamId');

    const added = await directory.addMember(SYSTEM, 'payments', 'U0ALICE');
    expect(added.added).toBe(true);
    expect(added.team.memberCount).toBe(1);
    expect((await directory.addMember(SYSTEM, 'payments', 'alice@example.com')).added).toBe(false);
    expect(await audits('team.member.add')).toBe(1);

    alice = await users.resolve({ platform: 'slack', platformUserId: 'U0ALICE' });
    const incident = await incidents.declare(alice, { title: 'db down' });
    expect(incident.teamName).toBe('payments');

    await directory.addMember(SYSTEM, 'search-infra', 'bob@example.com');
    expect((await directory.listUsers(SYSTEM, { team: 'payments' })).map((u) => u.name)).toEqual(['Alice Smith']);
    expect((await directory.listTeams(SYSTEM)).map((t) => [t.name, t.memberCount])).toEqual([
      ['payments', 1],
      ['search-infra', 1],
    ]);
    await expectAppError(directory.listUsers(SYSTEM, { team: 'nope' }), 'not_found', 'team');
    await expectAppError(directory.addMember(SYSTEM, 'payments', 'carol@example.com'), 'not_found', 'user');

    // A MEMBER may read the directory but change nothing in it.
    expect(alice.role).toBe('MEMBER');
    const before = await db.prisma.auditLog.count();
    await expectAppError(directory.createTeam(alice, 'mine'), 'forbidden');
    await expectAppError(directory.setRole(alice, 'U0ALICE', 'ADMIN'), 'forbidden');
    await expectAppError(directory.addMember(alice, 'search-infra', 'U0ALICE'), 'forbidden');
    await expectAppError(directory.upsertUser(alice, { email: 'x@example.com' }), 'forbidden');
    expect(await db.prisma.auditLog.count()).toBe(before);
    expect((await directory.listUsers(alice, { role: 'ADMIN' })).length).toBe(0);

    const promoted = await directory.setRole(SYSTEM, 'alice@example.com', 'ADMIN');
    expect(promoted.role).toBe('ADMIN');
    alice = await users.resolve({ platform: 'slack', platformUserId: 'U0ALICE' });
    expect(alice.role).toBe('ADMIN');
    const created = await directory.createTeam(alice, 'mine');
    expect((await db.prisma.auditLog.findFirstOrThrow({ where: { action: 'team.create', targetId: created.id } })).actor).toBe(`slack:${alice.userId}`);
    expect((await db.prisma.auditLog.findFirstOrThrow({ where: { action: 'user.role' } })).details).toMatchObject({ from: 'MEMBER', to: 'ADMIN' });

    const removed = await directory.removeMember(SYSTEM, 'payments', alice.userId!);
    expect(removed.team.memberCount).toBe(0);
    expect(removed.user.teams).toEqual([]);
    await expectAppError(directory.removeMember(SYSTEM, 'payments', alice.userId!), 'not_found', 'user', /not a member/);
  });
});
