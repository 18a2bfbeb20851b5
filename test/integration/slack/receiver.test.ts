/**
 * The Slack request URL on loopback with the real app services (no worker): signed slash commands,
 * clicks and events are handled once; unsigned, wrongly signed, stale, future-dated, oversized and
 * replayed requests are rejected or deduplicated with zero extra executions; permissions and error
 * texts reach the person as ephemeral messages. A command that needs the database is acknowledged
 * first (empty body) and answered through its response_url; help and parse errors come in the ack.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServices } from '../../../src/app/create-app-services.js';
import { createSlackBot } from '../../../src/bot/slack/index.js';
import { MESSAGES } from '../../../src/bot/messages.js';
import { ephemeral } from '../../../src/bot/reply.js';
import { renderReply } from '../../../src/bot/slack/blocks.js';
import { loadConfig } from '../../../src/config.js';
import { createPrismaClient } from '../../../src/store/prisma.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue } from '../../../src/worker/queue.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { lineWorkflow, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { blockAction, eventCallback, sendSigned, slackSignature, slashCommand } from '../../helpers/slack-requests.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { SIGNING_SECRET, finalReply, startSlackHarness, textOf, type SlackHarness } from './harness.js';
import express from 'express';
import type { AddressInfo } from 'node:net';

const ANA = 'UANA0001';
const BOB = 'UBOB0001';
const EVE = 'UEVE0001';
const ROOT = 'UADMIN001';
const ROOM = 'CINCIDENT1';
const ELSEWHERE = 'CRANDOM01';

describe('Slack request URL', () => {
  let h: SlackHarness;

  const cmd = (command: string, text: string, userId = ANA, channelId = ROOM, triggerId?: string) =>
    slashCommand({ command, text, userId, channelId, responseUrl: h.slack.responseUrl(randomUUID()), ...(triggerId ? { triggerId } : {}) });
  const executions = () => h.db.prisma.workflowExecution.count();
  /** Send a command and return its final reply (ack body, or the late one via response_url). */
  const run = async (request: ReturnType<typeof cmd>) => {
    const res = await h.send(request);
    expect(res.status).toBe(200);
    return { status: res.status, json: await finalReply(h, request, res) };
  };
  const replyText = (json: unknown) => textOf(json as { text?: string; blocks?: unknown[] });

  beforeAll(async () => {
    h = await startSlackHarness();
    const prisma = h.db.prisma;
    const team = await prisma.team.create({ data: { name: 'sre', slackChannelId: 'CALERTS01' } });
    const ana = await prisma.user.create({ data: { name: 'Ana', slackUserId: ANA } });
    const bob = await prisma.user.create({ data: { name: 'Bob', slackUserId: BOB } });
    await prisma.user.create({ data: { name: 'Eve', slackUserId: EVE } });
    await prisma.user.create({ data: { name: 'Root', slackUserId: ROOT, role: 'ADMIN' } });
    await prisma.teamMember.createMany({ data: [ana, bob].map((u) => ({ teamId: team.id, userId: u.id })) });
    await seedWorkflow(prisma, lineWorkflow('notify-webhook', 'http://127.0.0.1:9', ['a1', 'a2'], { trigger: { type: 'manual' } }));
    await seedWorkflow(prisma, lineWorkflow('on-create', 'http://127.0.0.1:9', ['b1'], { trigger: { type: 'incident_created' } }));
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('answers url_verification when signed', async () => {
    const res = await h.send({ body: JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' }), contentType: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ challenge: 'abc123' });
  });

  it('declares an incident and binds the channel, answering in the channel', async () => {
    const reply = (await run(cmd('/incident', 'declare Checkout is down P1'))).json;
    expect(reply.response_type).toBe('in_channel');
    expect(replyText(reply)).toContain('Ana declared incident #');
    const incident = await h.db.prisma.incident.findFirstOrThrow({ where: { title: 'Checkout is down' }, include: { channels: true } });
    expect(incident.priority).toBe('P1');
    expect(incident.channels).toEqual([expect.objectContaining({ platform: 'SLACK', channelId: ROOM })]);
  });

  it('declares an incident in a new channel with --new-channel (name taken once), inviting the declarer', async () => {
    h.slack.channels.set('inc-db-failover', 'CTAKEN001');
    const reply = (await run(cmd('/incident', 'declare DB failover P2 --new-channel', ANA, ELSEWHERE))).json;
    expect(replyText(reply)).toMatch(/declared incident #\d+ in #inc-db-failover-[0-9a-f]{4}/);
    const created = h.slack.ok('conversations.create');
    expect(created.map((c) => c.args.name)).toEqual(['inc-db-failover', expect.stringMatching(/^inc-db-failover-[0-9a-f]{4}$/)]);
    const newId = h.slack.channels.get(String(created[1]!.args.name))!;
    expect(h.slack.ok('conversations.invite')).toEqual([expect.objectContaining({ args: expect.objectContaining({ channel: newId, users: ANA }) })]);
    const incident = await h.db.prisma.incident.findFirstOrThrow({ where: { title: 'DB failover' }, include: { channels: true } });
    expect(incident.channels).toEqual([expect.objectContaining({ platform: 'SLACK', channelId: newId })]);
    await h.slack.waitFor(() => h.slack.ok('chat.postMessage', newId).length === 1, 'the card in the new channel');
    expect(textOf(h.slack.ok('chat.postMessage', newId)[0]!.args)).toContain('DB failover');
    // The channel the command was typed in stays unbound.
    expect(await h.services.incidents.findByChannel({ platform: 'slack', channelId: ELSEWHERE })).toBeNull();
  });

  /** The response_url id of a command request. */
  const responseIdOf = (request: ReturnType<typeof cmd>) => {
    const url = new URLSearchParams(request.body).get('response_url') ?? '';
    return url.slice(url.lastIndexOf('/') + 1);
  };
  const answerTo = (request: ReturnType<typeof cmd>) => waitFor('the response_url answer', () => h.slack.responses.find((r) => r.id === responseIdOf(request)));

  it('acknowledges /workflow run before the run is recorded, then answers through response_url with the usual text', async () => {
    const before = await executions();
    const incident = await h.db.prisma.incident.findFirstOrThrow({ where: { title: 'Checkout is down' } });
    // Hold inserts into the runs table: the command's post-ack work stops at its INSERT.
    const blocker = new pg.Client({ connectionString: h.db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE "WorkflowExecution" IN EXCLUSIVE MODE');
      const request = cmd('/workflow', 'run notify-webhook');
      const res = await h.send(request);
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      // The post-ack work is now waiting on the lock: the ack is out and nothing is recorded yet.
      await waitFor('the run insert to wait on the lock', async () => {
        const waiting = await blocker.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = '"WorkflowExecution"'::regclass`);
        return (waiting.rows[0] as { n: number }).n > 0;
      });
      expect(await executions()).toBe(before);
      expect(h.slack.responses.find((r) => r.id === responseIdOf(request))).toBeUndefined();
      await blocker.query('COMMIT');

      const answer = await answerTo(request);
      expect(answer.body.response_type).toBe('ephemeral');
      expect(answer.body.replace_original).toBe(false);
      const execution = await h.db.prisma.workflowExecution.findFirstOrThrow({ where: { incidentId: incident.id }, orderBy: { createdAt: 'desc' } });
      // Exactly the reply the ack used to carry.
      const expected = renderReply(ephemeral(MESSAGES.runStarted('notify-webhook'), 'success', execution.id));
      expect(answer.body.text).toBe(expected.text);
      expect(answer.body.blocks).toEqual(expected.blocks);
      expect(await executions()).toBe(before + 1);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end();
    }
  });

  it('answers help and parse errors in the ack itself, with no response_url post', async () => {
    const help = cmd('/workflow', 'help');
    const res = await h.send(help);
    expect(res.status).toBe(200);
    expect((res.json as { response_type: string }).response_type).toBe('ephemeral');
    expect(replyText(res.json)).toContain('/workflow run');
    const typo = cmd('/workflow', 'lst');
    const bad = await h.send(typo);
    expect(replyText(bad.json)).toContain('Did you mean `/workflow list`?');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.slack.responses.filter((r) => r.id === responseIdOf(help) || r.id === responseIdOf(typo))).toEqual([]);
  });

  it('sends an unknown workflow\'s error, with its closest names, through response_url', async () => {
    const before = await executions();
    const request = cmd('/workflow', 'run notify-webhok');
    const res = await h.send(request);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const answer = await answerTo(request);
    expect(answer.body.response_type).toBe('ephemeral');
    expect(replyText(answer.body)).toContain('notify-webhook');
    expect(await executions()).toBe(before);
  });

  it('answers a database failure after the ack with an error reply, recording nothing', async () => {
    const prisma = h.db.prisma;
    const runsBefore = await executions();
    const auditsBefore = await prisma.auditLog.count({ where: { action: 'workflow.run' } });
    // The run's transaction fails at its INSERT, as on a full disk or a lost primary.
    await prisma.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION test_refuse_run() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$`);
    await prisma.$executeRawUnsafe(`CREATE TRIGGER test_refuse_run BEFORE INSERT ON "WorkflowExecution" FOR EACH ROW EXECUTE FUNCTION test_refuse_run()`);
    try {
      const request = cmd('/workflow', 'run notify-webhook');
      const res = await h.send(request);
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      const answer = await answerTo(request);
      expect(answer.body.response_type).toBe('ephemeral');
      expect(replyText(answer.body)).toMatch(/Something went wrong on our side and this was not completed.*reference: [0-9a-f]{8}/s);
      expect(replyText(answer.body)).not.toContain('No space left');
      expect(await executions()).toBe(runsBefore);
      expect(await prisma.auditLog.count({ where: { action: 'workflow.run' } })).toBe(auditsBefore);
    } finally {
      await prisma.$executeRawUnsafe('DROP TRIGGER IF EXISTS test_refuse_run ON "WorkflowExecution"');
      await prisma.$executeRawUnsafe('DROP FUNCTION IF EXISTS test_refuse_run()');
    }
  });

  /**
   * Serves `bot` on its own port, sends `/workflow run notify-webhook` and expects an empty ack,
   * then an ephemeral "unavailable" answer at the response_url, and no run recorded.
   */
  async function expectUnavailableAnswer(bot: { router: express.Router }): Promise<void> {
    const app = express().use(bot.router);
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
      const before = await executions();
      const request = cmd('/workflow', 'run notify-webhook');
      const res = await sendSigned(url, request, { secret: SIGNING_SECRET });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      const answer = await answerTo(request);
      expect(answer.body.response_type).toBe('ephemeral');
      expect(replyText(answer.body)).toContain(MESSAGES.unavailable);
      expect(await executions()).toBe(before);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it('answers "database unreachable" through response_url when the services cannot reach it after the ack', async () => {
    const deadPrisma = createPrismaClient('postgresql://postgres@127.0.0.1:1/nothing');
    const logger = new MemoryLogger();
    const prefix = uniquePrefix('slackdead');
    const queue = createWorkflowQueue({ connection: REDIS_URL, prefix });
    const services = createAppServices({ prisma: deadPrisma, scheduler: new WorkflowJobScheduler(queue, deadPrisma, logger), logger, repository: new PrismaWorkflowRepository(deadPrisma) });
    const config = loadConfig({ NODE_ENV: 'test', SLACK_BOT_TOKEN: h.slack.token, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: h.slack.apiUrl });
    // The ledger works (the test database); every service call fails to connect.
    const bot = createSlackBot({ config, services, prisma: h.db.prisma, logger });
    try {
      await expectUnavailableAnswer(bot);
    } finally {
      await bot.stop();
      await queue.close().catch(() => undefined);
      await deletePrefix(prefix);
      await deadPrisma.$disconnect().catch(() => undefined);
    }
  });

  it('explains refusals ephemerally with the shared texts', async () => {
    const before = await executions();
    const outside = await run(cmd('/workflow', 'run notify-webhook', ANA, ELSEWHERE));
    expect(replyText(outside.json)).toContain('not an incident channel');

    const typo = await run(cmd('/workflow', 'run notify-webhok'));
    expect(replyText(typo.json)).toContain('notify-webhook');

    const notManual = await run(cmd('/workflow', 'run on-create'));
    expect(replyText(notManual.json)).toMatch(/not on demand|manual/);

    const stranger = await run(cmd('/workflow', 'run notify-webhook', EVE));
    expect(replyText(stranger.json)).toContain("Only members of the sre team");

    const list = await run(cmd('/workflow', 'list', ANA));
    expect(replyText(list.json)).toContain(MESSAGES.notAdmin('list workflows').slice(0, 30));
    const disable = await run(cmd('/workflow', 'disable notify-webhook', ANA));
    expect(replyText(disable.json)).toContain('Only workflow admins');

    const unknown = await run(cmd('/workflow', 'lst'));
    expect(replyText(unknown.json)).toContain('Did you mean `/workflow list`?');
    for (const r of [outside, typo, notManual, stranger, list, disable, unknown]) {
      expect(r.status).toBe(200);
      expect((r.json as { response_type: string }).response_type).toBe('ephemeral');
    }
    expect(await executions()).toBe(before);
  });

  it('lists workflows for admins, with scope, trigger, state and last run', async () => {
    const res = await run(cmd('/workflow', 'list', ROOT));
    const text = replyText(res.json);
    expect(text).toContain('notify-webhook');
    expect(text).toContain('on-create');
    expect(text).toMatch(/last run (pending|running|completed|failed|cancelled)/);
  });

  it('shows, lists history, dry-runs, disables and enables workflows, and assigns by mention', async () => {
    const show = await run(cmd('/workflow', 'show notify-webhook'));
    expect(replyText(show.json)).toContain('Definition');
    const history = await run(cmd('/workflow', 'history'));
    expect(replyText(history.json)).toContain('notify-webhook');
    const dry = await run(cmd('/workflow', 'run notify-webhook --dry-run'));
    expect(replyText(dry.json)).toContain('would run');
    expect(replyText(dry.json)).toContain('a1');

    const before = await executions();
    expect(replyText((await run(cmd('/workflow', 'disable notify-webhook', ROOT))).json)).toContain('now disabled');
    expect(replyText((await run(cmd('/workflow', 'run notify-webhook'))).json)).toContain('disabled');
    expect(replyText((await run(cmd('/workflow', 'enable notify-webhook', ROOT))).json)).toContain('now enabled');
    expect(await executions()).toBe(before);

    const assigned = await run(cmd('/incident', `assign <@${BOB}|bob>`));
    expect(replyText(assigned.json)).toContain('assigned the incident to Bob');
    const status = await run(cmd('/incident', 'status investigating'));
    expect(replyText(status.json)).toContain('set the status to investigating');
    const incident = await h.db.prisma.incident.findFirstOrThrow({ where: { title: 'Checkout is down' }, include: { assignee: true } });
    expect(incident.assignee?.name).toBe('Bob');
    expect(incident.status).toBe('investigating');
  });

  describe('negative suite', () => {
    const expectNothingRan = async (before: number) => {
      expect(await executions()).toBe(before);
    };

    it('rejects unsigned, wrongly signed, tampered, stale and future-dated requests with 401', async () => {
      const before = await executions();
      const request = cmd('/workflow', 'run notify-webhook');
      const now = Math.floor(Date.now() / 1000);
      const cases = [
        await h.send(request, { signature: null }),
        await h.send(request, { signature: slackSignature('not-the-secret', now, request.body) }),
        await h.send(request, { signature: 'v0=deadbeef' }),
        await h.send({ ...request, body: request.body.replace('notify-webhook', 'on-create') }, { signature: slackSignature(SIGNING_SECRET, now, request.body) }),
        await h.send(request, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
        // Computed at send time with a margin, so a slow machine cannot bring it back inside the window.
        await h.send(request, { timestamp: Math.floor(Date.now() / 1000) + 330 }),
        await h.send(request, { timestamp: Math.floor(Date.now() / 1000) + 86_400 * 365 }),
      ];
      expect(cases.map((c) => c.status)).toEqual([401, 401, 401, 401, 401, 401, 401]);
      await expectNothingRan(before);
    });

    it('refuses a 2 MiB body with 413 before buffering it', async () => {
      const before = await executions();
      const big = cmd('/workflow', `run ${'x'.repeat(2 * 1024 * 1024)}`);
      const res = await h.send(big);
      expect(res.status).toBe(413);
      await expectNothingRan(before);
    });

    it('runs a replayed command and a Slack retry at most once, answering once', async () => {
      const before = await executions();
      const request = cmd('/workflow', 'run notify-webhook');
      const key = `slack:command:${new URLSearchParams(request.body).get('trigger_id')}`;
      const duplicates = () => h.logger.entries.filter((e) => e.msg === 'slack: duplicate delivery ignored' && e.fields.key === key).length;
      const sent = await h.send(request);
      const replay = await h.send(request);
      const retried = await h.send(request, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
      expect([sent.status, replay.status, retried.status]).toEqual([200, 200, 200]);
      // All three are acknowledged at once; whichever claims first runs, the other two are dropped.
      const answer = await answerTo(request);
      await waitFor('both duplicates dropped', () => duplicates() === 2);
      expect(replyText(answer.body)).toContain('Starting');
      expect(h.slack.responses.filter((r) => r.id === responseIdOf(request))).toHaveLength(1);
      expect(await executions()).toBe(before + 1);
    });

    it('handles a replayed click once', async () => {
      const incident = await h.db.prisma.incident.findFirstOrThrow({ where: { title: 'Checkout is down' } });
      const started = await run(cmd('/workflow', 'run notify-webhook'));
      expect(replyText(started.json)).toContain('Starting');
      const execution = await h.db.prisma.workflowExecution.findFirstOrThrow({ where: { incidentId: incident.id }, orderBy: { createdAt: 'desc' } });
      const ephemeralsBefore = h.slack.ok('chat.postEphemeral').length;
      const click = blockAction({ actionId: 'run_cancel', value: execution.id, userId: ANA, channelId: ROOM, messageTs: '1700000000.000100', responseUrl: h.slack.responseUrl('click') });
      const first = await h.send(click);
      const second = await h.send(click);
      const third = await h.send(click, { headers: { 'x-slack-retry-num': '1' } });
      expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
      await h.slack.waitFor(() => h.slack.ok('chat.postEphemeral').length > ephemeralsBefore, 'the click answer');
      await waitFor('CANCELLED', async () => (await h.db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: execution.id } })).status === 'CANCELLED');
      // Give any duplicate a chance to show up, then check there was exactly one answer and one audit entry.
      await new Promise((r) => setTimeout(r, 300));
      const answers = h.slack.ok('chat.postEphemeral').slice(ephemeralsBefore);
      expect(answers).toHaveLength(1);
      expect(textOf(answers[0]!.args)).toContain(MESSAGES.runCancelled);
      const audits = await h.db.prisma.auditLog.count({ where: { action: 'execution.cancel', targetId: execution.id } });
      expect(audits).toBe(1);
    });

    it('handles a retried Events API delivery once', async () => {
      const before = h.slack.ok('chat.postEphemeral').length;
      const event = eventCallback({ type: 'app_mention', user: ANA, text: '<@UBOT> workflow help', ts: '1700000001.000100', channel: ROOM, event_ts: '1700000001.000100' });
      const first = await h.send(event);
      const retry = await h.send(event, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
      expect([first.status, retry.status]).toEqual([200, 200]);
      await h.slack.waitFor(() => h.slack.ok('chat.postEphemeral').length > before, 'the mention answer');
      await new Promise((r) => setTimeout(r, 300));
      const answers = h.slack.ok('chat.postEphemeral').slice(before);
      expect(answers).toHaveLength(1);
      expect(textOf(answers[0]!.args)).toContain('/workflow run');
    });
  });

  it('two people clicking Cancel at once make one transition; the loser is answered gracefully', async () => {
    const res = await run(cmd('/workflow', 'run notify-webhook'));
    expect(res.status).toBe(200);
    const execution = await h.db.prisma.workflowExecution.findFirstOrThrow({ orderBy: { createdAt: 'desc' } });
    const before = h.slack.ok('chat.postEphemeral').length;
    const click = (user: string) => blockAction({ actionId: 'run_cancel', value: execution.id, userId: user, channelId: ROOM, messageTs: '1700000000.000100', responseUrl: h.slack.responseUrl(user) });
    const [a, b] = await Promise.all([h.send(click(ANA)), h.send(click(BOB))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await h.slack.waitFor(() => h.slack.ok('chat.postEphemeral').length >= before + 2, 'both answers');
    const answers = h.slack.ok('chat.postEphemeral').slice(before).map((c) => textOf(c.args));
    expect(answers.filter((t) => t.includes(MESSAGES.runCancelled))).toHaveLength(1);
    expect(answers.filter((t) => t.includes('already finished') || t.includes('Cancelling'))).toHaveLength(1);
    expect(await h.db.prisma.auditLog.count({ where: { action: 'execution.cancel', targetId: execution.id } })).toBe(1);
  });

  it('refuses a click from someone outside the incident team, ephemerally, changing nothing', async () => {
    await run(cmd('/workflow', 'run notify-webhook'));
    const execution = await h.db.prisma.workflowExecution.findFirstOrThrow({ orderBy: { createdAt: 'desc' } });
    const before = h.slack.ok('chat.postEphemeral').length;
    const res = await h.send(blockAction({ actionId: 'run_cancel', value: execution.id, userId: EVE, channelId: ROOM, messageTs: '1700000000.000100', responseUrl: h.slack.responseUrl('eve') }));
    expect(res.status).toBe(200);
    await h.slack.waitFor(() => h.slack.ok('chat.postEphemeral').length > before, 'the refusal');
    const refusal = h.slack.ok('chat.postEphemeral').at(-1)!;
    expect(refusal.args.user).toBe(EVE);
    expect(textOf(refusal.args)).toContain("Only members of the incident's team");
    expect((await h.db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: execution.id } })).status).toBe('PENDING');
  });

  it('answers a click on a stale message gracefully', async () => {
    const execution = await h.db.prisma.workflowExecution.findFirstOrThrow({ where: { status: 'CANCELLED' } });
    const before = h.slack.ok('chat.postEphemeral').length;
    const res = await h.send(blockAction({ actionId: 'run_cancel', value: execution.id, userId: ANA, channelId: ROOM, messageTs: '1700000000.000100', responseUrl: h.slack.responseUrl('stale') }));
    expect(res.status).toBe(200);
    await h.slack.waitFor(() => h.slack.ok('chat.postEphemeral').length > before, 'the stale answer');
    expect(textOf(h.slack.ok('chat.postEphemeral').at(-1)!.args)).toContain('This run already finished (cancelled)');
  });

  it('acks at once and answers with a clear ephemeral error through response_url when the database is down', async () => {
    const deadPrisma = createPrismaClient('postgresql://postgres@127.0.0.1:1/nothing');
    const logger = new MemoryLogger();
    const config = loadConfig({ NODE_ENV: 'test', SLACK_BOT_TOKEN: h.slack.token, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: h.slack.apiUrl });
    // The delivery ledger itself is unreachable: nothing may run.
    const bot = createSlackBot({ config, services: h.services, prisma: deadPrisma, logger });
    try {
      await expectUnavailableAnswer(bot);
    } finally {
      await bot.stop();
      await deadPrisma.$disconnect().catch(() => undefined);
    }
  });
});
