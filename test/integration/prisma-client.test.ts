import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** The generated client and the SQL migration agree on every model: each one round-trips. */
describe('Prisma client over the migrated database', () => {
  it('writes and reads every model with its defaults', async () => {
    const { prisma } = db;
    const team = await prisma.team.create({ data: { name: 'payments', slackChannelId: 'C1', teamsConversationId: '19:abc' } });
    const user = await prisma.user.create({ data: { name: 'Ada', email: 'ada@example.com', slackUserId: 'U1', teamsUserId: '29:ada' } });
    expect(user.role).toBe('MEMBER');
    await prisma.teamMember.create({ data: { teamId: team.id, userId: user.id } });

    const first = await prisma.incident.create({ data: { title: 'Checkout down', teamId: team.id, assigneeId: user.id } });
    const second = await prisma.incident.create({ data: { title: 'Search slow', teamId: team.id, metadata: { region: 'eu' } } });
    expect(first).toMatchObject({ priority: 'P3', status: 'open', escalationLevel: 0, metadata: {}, resolvedAt: null });
    expect(second.number).toBe(first.number + 1);
    await prisma.incidentChannel.create({ data: { incidentId: first.id, platform: 'SLACK', channelId: 'C-inc-1' } });
    await expect(prisma.incidentChannel.create({ data: { incidentId: second.id, platform: 'SLACK', channelId: 'C-inc-1' } })).rejects.toThrow();

    const wf = await prisma.workflow.create({
      data: { name: 'open-ticket', triggerType: 'incident_created', trigger: { type: 'incident_created' }, definition: { nodes: [] }, teamId: team.id, authorId: user.id },
    });
    expect(wf).toMatchObject({ description: '', enabled: true, conditions: [], settings: {}, version: 1, deletedAt: null });
    await prisma.workflowVersion.create({ data: { workflowId: wf.id, version: 1, document: { name: 'open-ticket' }, checksum: 'abc', authorId: user.id, authorName: 'Ada' } });

    const run = await prisma.workflowExecution.create({
      data: { workflowId: wf.id, workflowVersion: 1, incidentId: first.id, triggerType: 'incident_created', triggerEvent: { type: 'incident_created' }, definitionSnapshot: { nodes: [] } },
    });
    expect(run).toMatchObject({ status: 'PENDING', triggeredBy: 'event', completedNodes: [], nodeResults: {}, executionChain: [], chatMessages: [], attempt: 1, fence: 0, crashCount: 0 });

    await prisma.ageTriggerFiring.create({ data: { workflowId: wf.id, incidentId: first.id } });
    await expect(prisma.ageTriggerFiring.create({ data: { workflowId: wf.id, incidentId: first.id } })).rejects.toThrow();
    const intent = await prisma.actionIntent.create({ data: { key: `${run.id}:ticket`, kind: 'jira.create' } });
    expect(intent.state).toBe('pending');
    const secret = await prisma.actionSecret.create({ data: { name: 'JIRA_TOKEN', keyId: 'k1', nonce: Buffer.from([1, 2]), ciphertext: Buffer.from([3, 4, 5]), authTag: Buffer.alloc(16, 7) } });
    expect(Buffer.from((await prisma.actionSecret.findUniqueOrThrow({ where: { id: secret.id } })).ciphertext)).toEqual(Buffer.from([3, 4, 5]));
    await prisma.processedEvent.create({ data: { id: 'slack:Ev1', source: 'slack' } });
    await prisma.chatConversation.create({ data: { platform: 'TEAMS', conversationId: '19:abc', kind: 'channel', reference: { serviceUrl: 'http://x' }, teamId: team.id } });
    const token = await prisma.apiToken.create({ data: { name: 'alerts', tokenHash: 'h'.repeat(64), scopes: ['incidents:write'] } });
    expect(token.scopes).toEqual(['incidents:write']);
    const a1 = await prisma.auditLog.create({ data: { actor: 'ada', action: 'workflow.apply', targetType: 'workflow', targetId: wf.id } });
    const a2 = await prisma.auditLog.create({ data: { actor: 'ada', action: 'workflow.apply', targetType: 'workflow', targetId: wf.id } });
    expect(typeof a1.id).toBe('bigint');
    expect(a2.id).toBe(a1.id + 1n);
    expect(a1.details).toEqual({});

    // Referential actions: deleting the incident cascades to its channels and runs; deleting the user nulls the assignee.
    await prisma.incident.delete({ where: { id: first.id } });
    expect(await prisma.incidentChannel.count()).toBe(0);
    expect(await prisma.workflowExecution.count()).toBe(0);
    await prisma.user.delete({ where: { id: user.id } });
    expect((await prisma.workflow.findUniqueOrThrow({ where: { id: wf.id } })).authorId).toBeNull();
    expect(await prisma.teamMember.count()).toBe(0);
    // A team with incidents cannot be deleted (RESTRICT).
    await expect(prisma.team.delete({ where: { id: team.id } })).rejects.toThrow();
  });
});
