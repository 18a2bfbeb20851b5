/**
 * The whole Slack story on loopback, with the real app services, the real worker (BullMQ on Redis)
 * and the Slack notifier talking to a local Slack Web API: declare an incident with a slash command,
 * run a two-step workflow and watch one message being edited to completion; a failing run alerting
 * the team channel and DMing the assignee and the author with Retry; Retry clicked, the run
 * completing in the same message; a slow run cancelled from its button.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MESSAGES } from '../../../src/bot/messages.js';
import { EffectServer, HttpTestActionRunner, lineWorkflow, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { blockAction, slashCommand } from '../../helpers/slack-requests.js';
import { buttonsOf, finalReply, startSlackHarness, textOf, type SlackHarness } from './harness.js';

const ANA = 'UANA0001';
const BOB = 'UBOB0001';
const ROOM = 'CINCIDENT1';
const ALERTS = 'CALERTS01';

/** Bot scope each Web API method needs (https://api.slack.com/methods). */
const SCOPE_FOR_METHOD: Record<string, string> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'conversations.open': 'im:write',
  'conversations.create': 'channels:manage',
  'conversations.invite': 'channels:manage',
};

describe('Slack: the full incident story', () => {
  let h: SlackHarness;
  let effects: EffectServer;

  const command = async (cmd: string, text: string, user = ANA) => {
    const request = slashCommand({ command: cmd, text, userId: user, userName: user === ANA ? 'ana' : 'bob', channelId: ROOM, responseUrl: h.slack.responseUrl(randomUUID()) });
    const res = await h.send(request);
    expect(res.status).toBe(200);
    return { ...res, json: await finalReply(h, request, res) };
  };

  const runFrom = async (name: string) => {
    const before = await h.db.prisma.workflowExecution.findMany({ select: { id: true } });
    const res = await command('/workflow', `run ${name}`);
    expect(textOf(res.json as { text: string })).toContain('Starting `' + name + '`');
    return waitFor('the execution row', async () => {
      const rows = await h.db.prisma.workflowExecution.findMany({ where: { id: { notIn: before.map((r) => r.id) } }, select: { id: true } });
      return rows[0]?.id;
    });
  };

  const statusOf = async (id: string) => (await h.db.prisma.workflowExecution.findUnique({ where: { id }, select: { status: true } }))?.status;

  /** The run message the notifier stored for an execution. */
  const storedMessage = async (id: string) => {
    const row = await h.db.prisma.workflowExecution.findUnique({ where: { id }, select: { chatMessages: true } });
    return (row?.chatMessages as Array<{ platform: string; channel: string; ts: string }>).find((m) => m.platform === 'slack');
  };

  /** The run message as Slack currently shows it. */
  const shown = (channel: string, ts: string) => h.slack.messages.get(`${channel}:${ts}`);

  const click = (actionId: 'run_cancel' | 'run_retry', executionId: string, messageTs: string, user = ANA, blockId = 'run_actions', channelId = ROOM) =>
    h.send(blockAction({ actionId, value: executionId, userId: user, channelId, messageTs, blockId, responseUrl: h.slack.responseUrl(randomUUID()) }));

  beforeAll(async () => {
    effects = await new EffectServer().on('/flaky-hook', { status: 400 }).on('/slow-hook', { delayMs: 15_000 }).start();
    h = await startSlackHarness({ worker: { actions: new HttpTestActionRunner() } });
    const prisma = h.db.prisma;
    const team = await prisma.team.create({ data: { name: 'sre', slackChannelId: ALERTS } });
    const ana = await prisma.user.create({ data: { name: 'Ana', slackUserId: ANA } });
    const bob = await prisma.user.create({ data: { name: 'Bob', slackUserId: BOB } });
    await prisma.teamMember.createMany({ data: [ana, bob].map((u) => ({ teamId: team.id, userId: u.id })) });
    await seedWorkflow(prisma, lineWorkflow('notify-webhook', effects.url, ['open-ticket', 'call-webhook'], { trigger: { type: 'manual' } }));
    await seedWorkflow(prisma, lineWorkflow('flaky-hook', effects.url, ['b1'], { trigger: { type: 'manual' } }), { authorId: bob.id });
    await seedWorkflow(prisma, lineWorkflow('slow-hook', effects.url, ['c1'], { trigger: { type: 'manual' } }));
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await effects?.close();
  });

  it('declares an incident with /incident and assigns it', async () => {
    await command('/incident', 'declare Checkout is down P1');
    const incident = await waitFor('the incident', () => h.db.prisma.incident.findFirst({ where: { title: 'Checkout is down' }, include: { channels: true } }));
    expect(incident.channels).toEqual([expect.objectContaining({ platform: 'SLACK', channelId: ROOM })]);
    await command('/incident', 'assign me');
    await waitFor('the assignee', async () => (await h.db.prisma.incident.findUniqueOrThrow({ where: { id: incident.id } })).assigneeId);
  });

  it('runs a two-step workflow and edits one message in place to completion', async () => {
    const id = await runFrom('notify-webhook');
    await waitFor('COMPLETED', async () => (await statusOf(id)) === 'COMPLETED');
    const stored = await waitFor('the stored message', () => storedMessage(id));
    expect(stored.channel).toBe(ROOM);
    await h.slack.waitFor(() => textOf(shown(ROOM, stored.ts) as never).includes('Completed'), 'the completed message');

    const posts = h.slack.ok('chat.postMessage', ROOM).filter((c) => textOf(c.args).includes('notify-webhook'));
    expect(posts).toHaveLength(1);
    const message = shown(ROOM, stored.ts)!;
    expect(message.updates).toBeGreaterThanOrEqual(1);
    const text = textOf(message as never);
    expect(text).toContain('open-ticket');
    expect(text).toContain('call-webhook');
    expect(text).toContain('manual by Ana');
    expect(text.match(/:white_check_mark: \*/g)?.length).toBeGreaterThanOrEqual(2);
    expect(buttonsOf(message as never)).toEqual([]);
  }, 60_000);

  let failedId = '';
  let failedTs = '';

  it('alerts the team channel and DMs the assignee and the author when a run fails, each with Retry', async () => {
    failedId = await runFrom('flaky-hook');
    await waitFor('FAILED', async () => (await statusOf(failedId)) === 'FAILED');
    const stored = await waitFor('the stored message', () => storedMessage(failedId));
    failedTs = stored.ts;
    await h.slack.waitFor(() => textOf(shown(ROOM, stored.ts) as never).includes('Failed: flaky-hook'), 'the failed message');
    const message = shown(ROOM, stored.ts)!;
    expect(textOf(message as never)).toContain('HTTP 400');
    expect(buttonsOf(message as never)).toEqual([{ action_id: 'run_retry', value: failedId, block_id: 'run_actions' }]);

    const isAlert = (c: { args: Record<string, unknown> }) => textOf(c.args).includes('Workflow failed: flaky-hook');
    await h.slack.waitFor(() => h.slack.ok('chat.postMessage').filter(isAlert).length >= 3, 'three failure alerts');
    const opened = h.slack.ok('conversations.open').map((c) => c.args.users).sort();
    expect(opened).toEqual([ANA, BOB].sort());
    const alerts = h.slack.ok('chat.postMessage').filter(isAlert);
    expect(alerts.map((c) => c.args.channel).sort()).toEqual([ALERTS, `D${ANA}`, `D${BOB}`].sort());
    for (const alert of alerts) {
      expect(buttonsOf(alert.args as never).map((b) => [b.action_id, b.value])).toEqual([['run_retry', failedId]]);
      expect(textOf(alert.args)).toContain('Checkout is down');
      expect(textOf(alert.args)).toContain('b1');
    }
  }, 60_000);

  it('retries from the button: answered at once, the same message edited to completion', async () => {
    effects.on('/flaky-hook', {});
    const before = h.slack.ok('chat.postEphemeral').length;
    const postsBefore = h.slack.ok('chat.postMessage', ROOM).length;
    const res = await click('run_retry', failedId, failedTs);
    expect(res.status).toBe(200);
    await h.slack.waitFor(() => h.slack.ok('chat.postEphemeral').length > before, 'the retry answer');
    expect(textOf(h.slack.ok('chat.postEphemeral').at(-1)!.args)).toContain(MESSAGES.runRetrying);
    await waitFor('COMPLETED after retry', async () => (await statusOf(failedId)) === 'COMPLETED');
    await h.slack.waitFor(() => textOf(shown(ROOM, failedTs) as never).includes('Completed'), 'the retried message completed');
    expect(buttonsOf(shown(ROOM, failedTs) as never)).toEqual([]);
    expect(h.slack.ok('chat.postMessage', ROOM).length).toBe(postsBefore);

    // A second Retry on the now-finished run (e.g. from an old alert) is answered gracefully and changes nothing.
    const again = await click('run_retry', failedId, '1700000000.000001', BOB, 'alert_actions', ALERTS);
    expect(again.status).toBe(200);
    await h.slack.waitFor(() => h.slack.ok('chat.postEphemeral').length > before + 1, 'the second retry answer');
    expect(await statusOf(failedId)).toBe('COMPLETED');
  }, 60_000);

  it('cancels a slow run from its button', async () => {
    const id = await runFrom('slow-hook');
    const stored = await waitFor('the stored message', () => storedMessage(id));
    await h.slack.waitFor(() => buttonsOf(shown(ROOM, stored.ts) as never).some((b) => b.action_id === 'run_cancel'), 'the Cancel button');
    await waitFor('the slow request in flight', () => effects.requests.some((r) => r.path.startsWith('/slow-hook')));
    const res = await click('run_cancel', id, stored.ts);
    expect(res.status).toBe(200);
    await waitFor('CANCELLED', async () => (await statusOf(id)) === 'CANCELLED');
    await h.slack.waitFor(() => textOf(shown(ROOM, stored.ts) as never).includes('Cancelled'), 'the cancelled message');
    expect(buttonsOf(shown(ROOM, stored.ts) as never).map((b) => b.action_id)).toEqual(['run_retry']);
    const answers = h.slack.ok('chat.postEphemeral').map((c) => textOf(c.args));
    expect(answers.some((t) => t.includes(MESSAGES.runCancelled) || t.includes(MESSAGES.runCancelling))).toBe(true);

    // A second Cancel on the finished run's message: a graceful answer, and the message is refreshed to its final state.
    const before = h.slack.ok('chat.postEphemeral').length;
    const updatesBefore = shown(ROOM, stored.ts)!.updates;
    expect((await click('run_cancel', id, stored.ts, BOB)).status).toBe(200);
    await h.slack.waitFor(() => h.slack.ok('chat.postEphemeral').length > before, 'the stale-click answer');
    expect(textOf(h.slack.ok('chat.postEphemeral').at(-1)!.args)).toContain(MESSAGES.runAlreadyFinished('CANCELLED'));
    await h.slack.waitFor(() => shown(ROOM, stored.ts)!.updates > updatesBefore, 'the refreshed message');
    expect(buttonsOf(shown(ROOM, stored.ts) as never).map((b) => b.action_id)).toEqual(['run_retry']);
    expect(await statusOf(id)).toBe('CANCELLED');
  }, 60_000);

  it('only ever called Web API methods the manifest grants scopes for, and never retried a post', async () => {
    const manifest = parse(await readFile(new URL('../../../manifest.slack.yml', import.meta.url), 'utf8')) as { oauth_config: { scopes: { bot: string[] } } };
    const methods = new Set(h.slack.calls.map((c) => c.method));
    for (const method of methods) {
      expect(SCOPE_FOR_METHOD[method], `scope for ${method}`).toBeDefined();
      expect(manifest.oauth_config.scopes.bot).toContain(SCOPE_FOR_METHOD[method]);
    }
    // One post per run message: no two run-message posts for the same execution.
    const runPosts = h.slack.ok('chat.postMessage', ROOM).map((c) => textOf(c.args).split('\n')[0]);
    expect(new Set(runPosts).size).toBe(runPosts.length);
  });
});
