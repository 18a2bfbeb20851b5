/**
 * The explicit local-development switch: with TEAMS_ALLOW_UNAUTHENTICATED and no app id (the Bot
 * Framework Emulator flow) requests without a token are accepted and replies carry no token. The
 * switch is refused in production by config, and without it a missing app id is refused too.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServices } from '../../../src/app/create-app-services.js';
import { createTeamsBot, type TeamsBotHandle } from '../../../src/bot/teams/index.js';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { startFakeBotConnector, type FakeBotConnector } from '../../helpers/fake-bot-connector.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';

describe('Teams without authentication (Emulator, development only)', () => {
  let db: TestDatabase;
  let connector: FakeBotConnector;
  let queue: WorkflowQueue;
  let teams: TeamsBotHandle;
  let server: Server;
  let url = '';
  const prefix = uniquePrefix('teams-emu');

  beforeAll(async () => {
    db = await createTestDatabase();
    connector = await startFakeBotConnector();
    queue = createWorkflowQueue({ connection: REDIS_URL, prefix });
    const logger = new MemoryLogger();
    const config = loadConfig({ NODE_ENV: 'development', TEAMS_ENABLED: 'true', TEAMS_ALLOW_UNAUTHENTICATED: 'true' });
    const services = createAppServices({ prisma: db.prisma, scheduler: new WorkflowJobScheduler(queue, db.prisma), logger, repository: new PrismaWorkflowRepository(db.prisma) });
    teams = createTeamsBot({ config, services, prisma: db.prisma, logger });
    const app = express();
    app.use(teams.router);
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await teams?.stop();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await queue?.close();
    await connector?.stop();
    await deletePrefix(prefix);
    await db?.drop();
  });

  it('accepts an activity without a token and replies without one', async () => {
    const res = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        id: 'emu-1',
        channelId: 'emulator',
        serviceUrl: connector.serviceUrl,
        from: { id: 'user-1', name: 'Dev' },
        recipient: { id: 'bot', name: 'Bot' },
        conversation: { id: 'emu-conversation' },
        text: 'workflow help',
      }),
    });
    expect(res.status).toBe(200);
    await connector.waitFor(() => connector.calls.length > 0, 10_000, 'the reply');
    expect(connector.calls[0]!.authorization).toBeUndefined();
    expect(connector.calls[0]!.status).toBe(201);
  });

  it('is not possible in production, nor by default without an app id', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', TEAMS_ENABLED: 'true', TEAMS_ALLOW_UNAUTHENTICATED: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'development', TEAMS_ENABLED: 'true' })).toThrow(/MICROSOFT_APP_ID/);
  });
});
