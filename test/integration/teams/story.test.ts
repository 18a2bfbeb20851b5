/**
 * The whole Teams story on loopback, with the real app services, the real worker (BullMQ on Redis)
 * and the Teams notifier: declare an incident in a channel, run a workflow and watch its card being
 * updated in place to completion, a failing run alerting the team channel and people personally
 * with Retry, Retry from the card to completion, and Cancel from the card.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD_RESPONSE_TYPE, DUPLICATE_CLICK } from '../../../src/bot/teams/TeamsBot.js';
import type { ConnectorCall } from '../../helpers/fake-bot-connector.js';
import { EffectServer, HttpTestActionRunner, lineWorkflow, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { Activities, cardOf, startTeamsHarness, textOf, type TeamsHarness } from './harness.js';

const ANA = { id: '29:ana', name: 'Ana' };
const BOB = { id: '29:bob', name: 'Bob' };
const CARL = { id: '29:carl', name: 'Carl' };
const ALERTS = '19:sre-alerts@thread.tacv2';

describe('Teams: the full incident story', () => {
  let h: TeamsHarness;
  let a: Activities;
  let effects: EffectServer;
  let teamId: string;

  /** The activity id the notifier stored for a run in the incident conversation. */
  const storedCard = async (executionId: string) => {
    const row = await h.db.prisma.workflowExecution.findUnique({ where: { id: executionId }, select: { chatMessages: true } });
    return (row?.chatMessages as Array<{ platform: string; conversationId: string; activityId: string }>).find((m) => m.platform === 'teams');
  };

  /** Latest card content the connector holds for an activity (the original post or its last update). */
  const latestCard = (conversationId: string, activityId: string): Record<string, unknown> | undefined => {
    const updates = h.connector.calls.filter((c) => c.kind === 'update' && c.activityId === activityId && c.status < 300);
    if (updates.length > 0) return cardOf(updates[updates.length - 1]!.body);
    const sends = h.connector.calls.filter((c) => c.kind === 'send' && c.conversationId === conversationId && c.status < 300);
    return sends.map((c) => cardOf(c.body)).find((card) => card !== undefined);
  };

  const runFrom = async (text: string) => {
    const before = await h.db.prisma.workflowExecution.findMany({ select: { id: true } });
    const res = await h.post(a.channelMessage(text, ANA));
    expect(res.status).toBe(200);
    return waitFor('the execution row', async () => {
      const rows = await h.db.prisma.workflowExecution.findMany({ where: { id: { notIn: before.map((r) => r.id) } }, select: { id: true } });
      return rows[0]?.id;
    });
  };

  const statusOf = async (executionId: string) =>
    (await h.db.prisma.workflowExecution.findUnique({ where: { id: executionId }, select: { status: true } }))?.status;

  beforeAll(async () => {
    effects = await new EffectServer().on('/flaky-hook', { status: 400 }).on('/slow-hook', { delayMs: 15_000 }).start();
    h = await startTeamsHarness({ worker: { actions: new HttpTestActionRunner() } });
    a = new Activities(h);
    const prisma = h.db.prisma;
    const team = await prisma.team.create({ data: { name: 'sre', teamsConversationId: ALERTS } });
    teamId = team.id;
    const ana = await prisma.user.create({ data: { name: 'Ana', teamsUserId: ANA.id } });
    const bob = await prisma.user.create({ data: { name: 'Bob', teamsUserId: BOB.id } });
    const carl = await prisma.user.create({ data: { name: 'Carl', teamsUserId: CARL.id } });
    await prisma.teamMember.createMany({ data: [ana, bob, carl].map((u) => ({ teamId, userId: u.id })) });
    await seedWorkflow(prisma, lineWorkflow('notify-webhook', effects.url, ['open-ticket', 'call-webhook'], { trigger: { type: 'manual' } }));
    await seedWorkflow(prisma, lineWorkflow('flaky-hook', effects.url, ['b1'], { trigger: { type: 'manual' } }), { authorId: bob.id });
    await seedWorkflow(prisma, lineWorkflow('slow-hook', effects.url, ['c1'], { trigger: { type: 'manual' } }));

    // The bot is in the team's alerts channel, and Ana has talked to it 1:1 (stored references).
    const alerts = new Activities(h, ALERTS);
    expect((await h.post(alerts.conversationUpdate('added', ANA))).status).toBe(200);
    expect((await h.post(a.personalMessage('workflow help', ANA))).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await effects?.close();
  });

  it('declares an incident from a channel message and binds the channel', async () => {
    const res = await h.post(a.channelMessage('incident declare Checkout is down P1', ANA));
    expect(res.status).toBe(200);
    const incident = await h.db.prisma.incident.findFirstOrThrow({ where: { title: 'Checkout is down' }, include: { channels: true } });
    expect(incident.priority).toBe('P1');
    expect(incident.channels).toEqual([expect.objectContaining({ platform: 'TEAMS', channelId: a.conversationId })]);
    const reply = h.connector.calls.filter((c) => c.kind === 'reply').at(-1)!;
    expect(textOf(cardOf(reply.body))).toContain('Ana declared incident #');
    // Ana is the assignee, so she gets failure alerts personally.
    expect((await h.post(a.channelMessage('incident assign me', ANA))).status).toBe(200);
    expect((await h.db.prisma.incident.findUniqueOrThrow({ where: { id: incident.id } })).assigneeId).not.toBeNull();
  });

  it('runs a workflow and updates one card in place to completion', async () => {
    const executionId = await runFrom('workflow run notify-webhook');
    await waitFor('COMPLETED', async () => (await statusOf(executionId)) === 'COMPLETED');
    const stored = await waitFor('the stored card id', () => storedCard(executionId));
    expect(stored.conversationId).toBe(a.conversationId);
    await h.connector.waitFor(() => textOf(latestCard(a.conversationId, stored.activityId)).includes('Completed'), 15_000, 'the completed card');

    // One post in the channel (top level, not in a thread) for this run, then updates of that same activity.
    const posts = h.connector.calls.filter((c) => c.kind === 'send' && c.conversationId === a.conversationId && textOf(cardOf(c.body)).includes('notify-webhook'));
    expect(posts).toHaveLength(1);
    const updates = h.connector.calls.filter((c) => c.kind === 'update' && c.activityId === stored.activityId);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    const final = latestCard(a.conversationId, stored.activityId)!;
    const text = textOf(final);
    expect(text).toContain('open-ticket');
    expect(text).toContain('call-webhook');
    expect(text).toContain('manual by Ana');
    expect(final.actions).toBeUndefined();
    // The starter got the shared confirmation in the thread.
    expect(h.connector.calls.some((c) => c.kind === 'reply' && String(c.body.text).includes('Starting `notify-webhook`'))).toBe(true);
  }, 60_000);

  let failedId = '';

  it('alerts the team channel, the assignee and the author when a run fails, each with Retry', async () => {
    failedId = await runFrom('workflow run flaky-hook');
    await waitFor('FAILED', async () => (await statusOf(failedId)) === 'FAILED');
    const stored = await waitFor('the stored card id', () => storedCard(failedId));
    // The step fails (card shows it) a moment before the run is FAILED (card offers Retry): wait for the latter.
    const offersRetry = () => (latestCard(a.conversationId, stored.activityId)?.actions as Array<{ verb: string }> | undefined)?.some((x) => x.verb === 'run_retry') ?? false;
    await h.connector.waitFor(offersRetry, 15_000, 'the failed card with Retry');
    const card = latestCard(a.conversationId, stored.activityId)!;
    expect(textOf(card)).toContain('HTTP 400');
    expect(card.actions).toEqual([expect.objectContaining({ type: 'Action.Execute', verb: 'run_retry', data: expect.objectContaining({ executionId: failedId }) })]);

    const isAlert = (c: ConnectorCall) => {
      const text = textOf(cardOf(c.body));
      return c.kind === 'send' && text.includes('Workflow failed') && text.includes('flaky-hook');
    };
    // Team channel, Ana (assignee, stored 1:1) and Bob (author: a 1:1 is opened for him).
    await h.connector.waitFor(() => h.connector.calls.filter(isAlert).length >= 3, 15_000, 'three failure alerts');
    const alerts = h.connector.calls.filter(isAlert);
    expect(alerts.map((c) => c.conversationId).sort()).toEqual([ALERTS, `a:personal-${ANA.id}`, `a:personal-${BOB.id}`].sort());
    const created = h.connector.calls.filter((c) => c.kind === 'createConversation');
    expect(created).toHaveLength(1);
    expect(created[0]!.body).toMatchObject({ isGroup: false, members: [{ id: BOB.id }], tenantId: expect.any(String) });
    for (const alert of alerts) {
      expect(cardOf(alert.body)!.actions).toEqual([expect.objectContaining({ verb: 'run_retry', data: expect.objectContaining({ executionId: failedId }) })]);
    }
    const bobConversation = await h.db.prisma.chatConversation.findUnique({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId: `a:personal-${BOB.id}` } },
    });
    expect(bobConversation).toMatchObject({ kind: 'personal' });
  }, 60_000);

  it('retries from the card: the invoke answers with the refreshed card and the run completes', async () => {
    effects.on('/flaky-hook', {});
    const click = a.cardAction('run_retry', { executionId: failedId }, ANA);
    const res = await h.post(click);
    expect(res.status).toBe(200);
    const body = res.body as { statusCode: number; type: string; value: Record<string, unknown> };
    expect(body.statusCode).toBe(200);
    expect(body.type).toBe(CARD_RESPONSE_TYPE);
    expect(textOf(body.value)).toContain('Retrying the run from the failed step');

    // Teams resends the same invoke: answered, not acted on twice.
    const again = await h.post(click);
    expect(again.status).toBe(200);
    expect(textOf((again.body as { value: unknown }).value)).toContain(DUPLICATE_CLICK);

    await waitFor('COMPLETED after retry', async () => (await statusOf(failedId)) === 'COMPLETED');
    const row = await h.db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: failedId } });
    expect(row.attempt).toBe(2);
    const stored = (await storedCard(failedId))!;
    await h.connector.waitFor(() => textOf(latestCard(a.conversationId, stored.activityId)).includes('Completed'), 15_000, 'the card to show completion');
    // One retry transition (one audit entry), despite the resent invoke.
    expect(await h.db.prisma.auditLog.count({ where: { action: 'execution.retry', targetId: failedId } })).toBe(1);
  }, 60_000);

  it('cancels from the card; a second person and a stale card get graceful answers', async () => {
    const executionId = await runFrom('workflow run slow-hook');
    await waitFor('RUNNING', async () => (await statusOf(executionId)) === 'RUNNING');
    const stored = await waitFor('the stored card id', () => storedCard(executionId));
    await h.connector.waitFor(
      () => (latestCard(a.conversationId, stored.activityId)?.actions as Array<{ verb: string }> | undefined)?.some((x) => x.verb === 'run_cancel') ?? false,
      15_000,
      'a card with Cancel',
    );

    const [first, second] = await Promise.all([
      h.post(a.cardAction('run_cancel', { executionId }, ANA)),
      h.post(a.cardAction('run_cancel', { executionId }, CARL)),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    for (const r of [first, second]) expect((r.body as { type: string }).type).toBe(CARD_RESPONSE_TYPE);

    await waitFor('CANCELLED', async () => (await statusOf(executionId)) === 'CANCELLED');
    await h.connector.waitFor(() => textOf(latestCard(a.conversationId, stored.activityId)).includes('Cancelled'), 15_000, 'the cancelled card');
    const row = await h.db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: executionId } });
    expect(row.cancelReason).toBe('manual');

    // A click on the old card after the end: the current card, with why nothing happened.
    const stale = await h.post(a.cardAction('run_cancel', { executionId, revision: 1 }, CARL));
    expect(stale.status).toBe(200);
    const staleCard = (stale.body as { value: Record<string, unknown> }).value;
    expect(textOf(staleCard)).toContain('This run already finished (cancelled)');
    expect((staleCard.actions as Array<{ verb: string }>).map((x) => x.verb)).toEqual(['run_retry']);

    // A button from something else entirely.
    const bogus = await h.post(a.cardAction('run_cancel', { executionId: 'not-an-id' }, CARL));
    expect(bogus.status).toBe(200);
    expect(textOf((bogus.body as { value: unknown }).value)).toContain('That button is no longer valid');
  }, 60_000);
});
