/**
 * Teams messages map to the shared command grammar and intents: the bot's @mention is stripped,
 * other mentions become the neutral `<@id|name>` form, refusals use the shared texts, and replies
 * are cards or text in the same thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../../../src/bot/messages.js';
import { lineWorkflow, seedWorkflow } from '../../helpers/worker-process-fixtures.js';
import { Activities, cardOf, startTeamsHarness, textOf, type TeamsHarness } from './harness.js';

const ADMIN = { id: '29:admin', name: 'Ada Admin' };
const ANA = { id: '29:ana', name: 'Ana' };
const BEN = { id: '29:ben', name: 'Ben' };

describe('Teams commands', () => {
  let h: TeamsHarness;
  let room: Activities;

  /** Post a message and return the bot's reply (the next connector call). */
  const ask = async (activity: Record<string, unknown>) => {
    const before = h.connector.calls.length;
    const res = await h.post(activity);
    expect(res.status).toBe(200);
    await h.connector.waitFor(() => h.connector.calls.length > before, 10_000, 'the reply');
    return h.connector.calls[before]!;
  };

  beforeAll(async () => {
    h = await startTeamsHarness();
    room = new Activities(h, '19:commands-room@thread.tacv2');
    const team = await h.db.prisma.team.create({ data: { name: 'payments' } });
    const admin = await h.db.prisma.user.create({ data: { name: 'Ada Admin', teamsUserId: ADMIN.id, role: 'ADMIN' } });
    const ana = await h.db.prisma.user.create({ data: { name: 'Ana', teamsUserId: ANA.id } });
    await h.db.prisma.teamMember.createMany({ data: [admin, ana].map((u) => ({ teamId: team.id, userId: u.id })) });
    await seedWorkflow(h.db.prisma, lineWorkflow('rollback-deploy', 'http://127.0.0.1:9', ['a1'], { trigger: { type: 'manual' } }));
    await seedWorkflow(h.db.prisma, lineWorkflow('page-oncall', 'http://127.0.0.1:9', ['a1']));
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('shows admins the workflow list as a card, in the thread of the message', async () => {
    const reply = await ask(room.channelMessage('workflow list', ADMIN));
    expect(reply.kind).toBe('reply');
    const text = textOf(cardOf(reply.body));
    expect(text).toContain('rollback-deploy');
    expect(text).toContain('page-oncall');
  });

  it('refuses the list to non-admins with the shared text', async () => {
    const reply = await ask(room.channelMessage('workflow list', ANA));
    expect(reply.body.text).toBe(MESSAGES.notAdmin('list workflows'));
  });

  it('explains typos with the grammar’s suggestions', async () => {
    const reply = await ask(room.channelMessage('workflow lst', ANA));
    expect(String(reply.body.text)).toContain('workflow list');
  });

  it('refuses to run a workflow outside an incident channel with the shared text', async () => {
    const reply = await ask(room.channelMessage('workflow run rollback-deploy', ANA));
    expect(reply.body.text).toBe(MESSAGES.notIncidentChannel('run a workflow for'));
  });

  it('declares an incident, then assigns it to a mentioned person', async () => {
    const declared = await ask(room.channelMessage('incident declare Payments failing', ANA));
    expect(textOf(cardOf(declared.body))).toContain('Payments failing');
    const assigned = await ask(room.channelMessage('incident assign @Ben', ANA, [BEN]));
    expect(textOf(cardOf(assigned.body))).toContain('assigned the incident to Ben');
    const incident = await h.db.prisma.incident.findFirstOrThrow({ where: { title: 'Payments failing' }, include: { assignee: true } });
    expect(incident.assignee?.teamsUserId).toBe(BEN.id);
  });

  it('tells a non-member they cannot run workflows in this incident', async () => {
    const reply = await ask(room.channelMessage('workflow run rollback-deploy', BEN));
    expect(reply.body.text).toBe(MESSAGES.notTeamMember('payments', 'run workflows in this incident'));
  });

  it('understands 1:1 messages without a mention and stores the personal conversation for the user', async () => {
    const reply = await ask(room.personalMessage('workflow help', ANA));
    expect(textOf(cardOf(reply.body))).toContain('workflow run <name>');
    const ana = await h.db.prisma.user.findUniqueOrThrow({ where: { teamsUserId: ANA.id } });
    const personal = await h.db.prisma.chatConversation.findFirst({ where: { platform: 'TEAMS', kind: 'personal', userId: ana.id } });
    expect(personal?.conversationId).toBe(`a:personal-${ANA.id}`);
  });

  it('neutralises mass mentions echoed back from user input', async () => {
    const reply = await ask(room.channelMessage('workflow run @channel-nuke', ANA));
    expect(String(reply.body.text ?? textOf(reply.body))).not.toMatch(/@channel/);
  });
});
