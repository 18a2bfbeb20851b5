/**
 * Socket Mode for local development: the bot opens its connection through apps.connections.open at
 * SLACK_API_URL with the app-level token, receives envelopes over the WebSocket, runs them through
 * the same listeners (with the same once-only ledger), acknowledges at once and answers slash
 * commands through their response_url.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServices } from '../../../src/app/create-app-services.js';
import { createSlackBot, type SlackBot } from '../../../src/bot/slack/index.js';
import { loadConfig } from '../../../src/config.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { FakeSlackSocket } from '../../helpers/fake-slack-socket.js';
import { startFakeSlack, type FakeSlack } from '../../helpers/fake-slack.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/worker-process-fixtures.js';
import { textOf } from './harness.js';

describe('Slack Socket Mode', () => {
  let db: TestDatabase;
  let slack: FakeSlack;
  let socket: FakeSlackSocket;
  let queue: WorkflowQueue;
  let bot: SlackBot;
  const logger = new MemoryLogger();
  const prefix = uniquePrefix('slacksock');

  const commandPayload = (text: string, triggerId = randomUUID()) => ({
    token: 'x',
    team_id: 'T0001',
    channel_id: 'CSOCKET01',
    channel_name: 'incident-room',
    user_id: 'UANA0001',
    user_name: 'ana',
    command: '/incident',
    text,
    api_app_id: 'A0001',
    response_url: slack.responseUrl(randomUUID()),
    trigger_id: triggerId,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    slack = await startFakeSlack();
    socket = await new FakeSlackSocket().start();
    slack.socketUrl = socket.url;
    queue = createWorkflowQueue({ connection: REDIS_URL, prefix });
    const services = createAppServices({ prisma: db.prisma, scheduler: new WorkflowJobScheduler(queue, db.prisma, logger), logger, repository: new PrismaWorkflowRepository(db.prisma) });
    const team = await db.prisma.team.create({ data: { name: 'sre' } });
    const ana = await db.prisma.user.create({ data: { name: 'Ana', slackUserId: 'UANA0001' } });
    await db.prisma.teamMember.create({ data: { teamId: team.id, userId: ana.id } });
    const config = loadConfig({ NODE_ENV: 'test', SLACK_BOT_TOKEN: slack.token, SLACK_APP_TOKEN: slack.appToken, SLACK_SOCKET_MODE: 'true', SLACK_API_URL: slack.apiUrl });
    bot = createSlackBot({ config, services, prisma: db.prisma, logger });
    await bot.start();
    await socket.connected();
  }, 60_000);

  afterAll(async () => {
    await bot?.stop();
    await socket?.close();
    await slack?.close();
    await queue?.close();
    await deletePrefix(prefix);
    await db?.drop();
  });

  it('connects through apps.connections.open at SLACK_API_URL with the app-level token', () => {
    const opens = slack.calls.filter((c) => c.method === 'apps.connections.open');
    expect(opens.length).toBeGreaterThanOrEqual(1);
    expect(opens[0]!.token).toBe(slack.appToken);
    expect(socket.connections).toBe(1);
  });

  it('acks a slash command envelope at once, answers through response_url; a redelivery runs nothing twice', async () => {
    const payload = commandPayload('declare Socket incident P2');
    const ack = await socket.push('slash_commands', payload);
    // Acknowledged before any database work: the answer follows at the command's response_url.
    expect(ack.payload ?? {}).toEqual({});
    const id = payload.response_url.slice(payload.response_url.lastIndexOf('/') + 1);
    const reply = (await waitFor('the response_url answer', () => slack.responses.find((r) => r.id === id))).body;
    expect(reply.response_type).toBe('in_channel');
    expect(textOf(reply as never)).toContain('Ana declared incident #');
    const again = await socket.push('slash_commands', payload);
    expect(again.payload ?? {}).toEqual({});
    await waitFor('the redelivery dropped', () => logger.entries.some((e) => e.msg === 'slack: duplicate delivery ignored'));
    expect(await db.prisma.incident.count({ where: { title: 'Socket incident' } })).toBe(1);
    expect(slack.responses.filter((r) => r.id === id)).toHaveLength(1);
  });

  it('handles an events_api envelope (app mention) once, even when retried', async () => {
    const before = slack.ok('chat.postEphemeral').length;
    const body = {
      type: 'event_callback',
      team_id: 'T0001',
      api_app_id: 'A0001',
      event_id: 'EvSOCKET1',
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'app_mention', user: 'UANA0001', text: '<@UBOT> incident help', ts: '1.1', channel: 'CSOCKET01', event_ts: '1.1' },
    };
    await socket.push('events_api', body);
    await socket.push('events_api', body, { retry_attempt: 1, retry_reason: 'timeout' });
    await slack.waitFor(() => slack.ok('chat.postEphemeral').length > before, 'the mention answer');
    await new Promise((r) => setTimeout(r, 300));
    const answers = slack.ok('chat.postEphemeral').slice(before);
    expect(answers).toHaveLength(1);
    expect(textOf(answers[0]!.args)).toContain('/incident declare');
  });

  it('exposes no HTTP endpoint in Socket Mode', () => {
    const stack = (bot.router as unknown as { stack: unknown[] }).stack;
    expect(stack).toHaveLength(0);
  });
});
