/**
 * Slack inside the real composition root (`startService`, role `all`): the request URL is served by
 * the service's one HTTP server next to /healthz and the API, and a `/workflow run` of a workflow
 * whose step is `chat.post` goes through the real worker and action registry to Slack: the run
 * message is posted and edited to completion, and the step's message lands in the incident channel.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { startService, type ServiceHandle } from '../../../src/service.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { startFakeSlack, type FakeSlack } from '../../helpers/fake-slack.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { sendSigned, slashCommand } from '../../helpers/slack-requests.js';
import { seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { finalReply, textOf } from './harness.js';

const SECRET = 'service-test-signing-secret';
const ROOM = 'CSERVICE01';

describe('Slack in the running service', () => {
  let db: TestDatabase;
  let slack: FakeSlack;
  let service: ServiceHandle;
  const prefix = uniquePrefix('slacksvc');

  const command = async (cmd: string, text: string) => {
    const request = slashCommand({ command: cmd, text, userId: 'UANA0001', userName: 'ana', channelId: ROOM, responseUrl: slack.responseUrl(randomUUID()) });
    const res = await sendSigned(`${service.url}/slack/events`, request, { secret: SECRET });
    expect(res.status).toBe(200);
    return finalReply({ slack }, request, res);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    slack = await startFakeSlack();
    const config = loadConfig({
      NODE_ENV: 'test',
      ROLE: 'all',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      MIGRATE_ON_START: 'false',
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
    });
    const team = await db.prisma.team.create({ data: { name: 'sre', slackChannelId: 'CALERTS01' } });
    const ana = await db.prisma.user.create({ data: { name: 'Ana', slackUserId: 'UANA0001' } });
    await db.prisma.teamMember.create({ data: { teamId: team.id, userId: ana.id } });
    await seedWorkflow(db.prisma, {
      name: 'announce',
      trigger: { type: 'manual' },
      settings: { timeout: '1min' },
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'say', type: 'action', action: 'chat.post', input: { channel: 'incident', text: 'Incident {{incident.title}}: responders, please join. @channel' } },
      ],
      edges: [{ from: 'start', to: 'say' }],
    });
    service = await startService(config, createLogger(config), { worker: { progressIntervalMs: 100, reconcileIntervalMs: 0 } });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await slack?.close();
    await deletePrefix(prefix);
    await db?.drop();
  });

  it('serves /slack/events on the same server as /healthz, signature checked', async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const unsigned = await fetch(`${service.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'command=%2Fworkflow&text=help' });
    expect(unsigned.status).toBe(401);
  });

  it('declares, runs a chat.post workflow through the worker, and shows the run to completion', async () => {
    const declared = await command('/incident', 'declare Payments degraded P2');
    expect(textOf(declared as never)).toContain('declared incident #');
    const started = await command('/workflow', 'run announce');
    expect(textOf(started as never)).toContain('Starting `announce`');

    const execution = await waitFor('the run to complete', () => db.prisma.workflowExecution.findFirst({ where: { status: 'COMPLETED' } }));
    const message = await waitFor('the run message stored', async () => {
      const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: execution.id } });
      return (row.chatMessages as Array<{ platform: string; channel: string; ts: string }>).find((m) => m.platform === 'slack');
    });
    expect(message.channel).toBe(ROOM);
    await slack.waitFor(() => textOf(slack.messages.get(`${ROOM}:${message.ts}`) as never).includes('Completed'), 'the completed run message');

    // The chat.post step's own message, neutralised (no @channel ping).
    const said = slack.ok('chat.postMessage', ROOM).find((c) => textOf(c.args).includes('responders, please join'));
    expect(said).toBeDefined();
    expect(textOf(said!.args)).toContain('Payments degraded');
    expect(JSON.stringify(said!.args)).not.toMatch(/@channel|<!channel>/);
  }, 60_000);
});
