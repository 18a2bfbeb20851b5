/**
 * The Teams bot running for real on loopback: a test database, the real app services over a BullMQ
 * queue (unique prefix), `createTeamsBot` mounted in express, a local token issuer whose tokens the
 * bot validates (and from which the bot gets its own outbound token through MSAL), and a fake Bot
 * Connector at the activities' `serviceUrl` that checks those outbound tokens. Optionally the real
 * worker, publishing through the Teams notifier.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfidentialClientApplication } from '@azure/msal-node';
import express from 'express';
import { createAppServices, type WiredAppServices } from '../../../src/app/create-app-services.js';
import { createTeamsBot, type TeamsAuthOverrides, type TeamsBotHandle } from '../../../src/bot/teams/index.js';
import { loadConfig } from '../../../src/config.js';
import type { ActionRunner } from '../../../src/engine/ports.js';
import { PrismaExecutionStore } from '../../../src/store/PrismaExecutionStore.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { startWorkflowWorker, stopWorkflowWorker, type WorkflowWorkerHandle } from '../../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { startFakeBotConnector, type FakeBotConnector } from '../../helpers/fake-bot-connector.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { BOT_CONNECTOR_AUDIENCE, TEST_LOGIN_HOST, startTestTokenIssuer, type TestTokenIssuer, type TokenOptions } from '../../helpers/test-token-issuer.js';

export const TENANT_ID = '72f988bf-0000-4000-8000-000000000001';
export const BOT_NAME = 'Incident Workflows';

export interface TeamsHarness {
  db: TestDatabase;
  issuer: TestTokenIssuer;
  connector: FakeBotConnector;
  services: WiredAppServices;
  teams: TeamsBotHandle;
  worker: WorkflowWorkerHandle | null;
  logger: MemoryLogger;
  appId: string;
  url: string;
  /** Bot's account id in Teams activities (`28:<appId>`). */
  botId: string;
  /** POST an activity to /api/messages with a valid token (or the given one; null = no header). */
  post(activity: Record<string, unknown>, token?: string | null): Promise<{ status: number; body: unknown }>;
  /** A valid channel -> bot token for this bot and service URL. */
  token(opts?: TokenOptions & { serviceUrl?: string }): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Start the real worker with this action runner, publishing through the Teams notifier. */
  worker?: { actions: ActionRunner };
}

export async function startTeamsHarness(options: HarnessOptions = {}): Promise<TeamsHarness> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix('teams');
  const logger = new MemoryLogger();
  const issuer = await startTestTokenIssuer();
  const appId = randomUUID();
  const password = `pw-${randomUUID()}`;
  issuer.apps.set(appId, password);
  const connector = await startFakeBotConnector({ verifyToken: (t) => issuer.verify(t, BOT_CONNECTOR_AUDIENCE)?.appid === appId });

  const msalClient = new ConfidentialClientApplication({
    auth: { clientId: appId, clientSecret: password, authority: issuer.authority(), knownAuthorities: [TEST_LOGIN_HOST] },
    system: { networkClient: issuer.msalNetworkClient() as never },
  });
  const config = loadConfig({ NODE_ENV: 'test', TEAMS_ENABLED: 'true', MICROSOFT_APP_ID: appId, MICROSOFT_APP_PASSWORD: password, LOG_LEVEL: 'silent' });

  const queue: WorkflowQueue = createWorkflowQueue({ connection: REDIS_URL, prefix });
  const services = createAppServices({
    prisma: db.prisma,
    scheduler: new WorkflowJobScheduler(queue, db.prisma, logger),
    logger,
    repository: new PrismaWorkflowRepository(db.prisma),
  });
  const teams = createTeamsBot({
    config,
    services,
    prisma: db.prisma,
    logger,
        // The ESM and CJS builds of msal-node declare the same class twice; it is one class at run time.
    auth: { openIdMetadataUrl: issuer.openIdMetadataUrl, tokenIssuer: issuer.issuer, msalClient: msalClient as unknown as TeamsAuthOverrides['msalClient'] },
    retry: { baseDelayMs: 20, maxDelayMs: 3000 },
  });
  const app = express();
  app.use(teams.router);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let worker: WorkflowWorkerHandle | null = null;
  if (options.worker) {
    worker = await startWorkflowWorker({
      connection: REDIS_URL,
      prefix,
      prisma: db.prisma,
      store: new PrismaExecutionStore(db.prisma),
      actions: options.worker.actions,
      notifier: teams.notifier,
      logger,
      concurrency: 4,
      lockDurationMs: 5000,
      reconcileIntervalMs: 0,
      progressIntervalMs: 100,
      // These tests follow a card from its first post through its updates: show runs at once.
      firstProgressDelayMs: 0,
    });
    await worker.worker.waitUntilReady();
  }

  const token = (opts: TokenOptions & { serviceUrl?: string } = {}) => issuer.channelToken(appId, opts.serviceUrl ?? connector.serviceUrl, opts);

  return {
    db,
    issuer,
    connector,
    services,
    teams,
    worker,
    logger,
    appId,
    url,
    botId: `28:${appId}`,
    token,
    async post(activity, tok) {
      const bearer = tok === undefined ? token({ serviceUrl: String(activity.serviceUrl ?? connector.serviceUrl) }) : tok;
      const res = await fetch(`${url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(bearer !== null ? { authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify(activity),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.status, body };
    },
    async close() {
      if (worker) await stopWorkflowWorker(worker, 3000);
      await teams.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.close();
      await connector.stop();
      await issuer.stop();
      await deletePrefix(prefix);
      await db.drop();
    },
  };
}

/** Teams activity builders (the shapes Teams sends). */
export class Activities {
  constructor(
    private readonly h: Pick<TeamsHarness, 'botId' | 'connector'>,
    readonly conversationId = '19:incident-room@thread.tacv2',
  ) {}

  private base(type: string, from: { id: string; name: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      type,
      id: `f:${randomUUID()}`,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: this.h.connector.serviceUrl,
      from: { ...from, aadObjectId: randomUUID() },
      recipient: { id: this.h.botId, name: BOT_NAME },
      conversation: { id: this.conversationId, conversationType: 'channel', tenantId: TENANT_ID, isGroup: true },
      channelData: { tenant: { id: TENANT_ID }, team: { id: '19:team-general@thread.tacv2' }, channel: { id: this.conversationId } },
      ...extra,
    };
  }

  /** A channel message that @mentions the bot, as Teams sends it (HTML-ish text plus a mention entity). */
  channelMessage(text: string, from = { id: '29:ana', name: 'Ana' }, extraMentions: Array<{ id: string; name: string }> = []): Record<string, unknown> {
    const botTag = `<at>${BOT_NAME}</at>`;
    let body = text;
    for (const m of extraMentions) body = body.replace(`@${m.name}`, `<at>${m.name}</at>`);
    return this.base('message', from, {
      text: `${botTag} ${body}`,
      textFormat: 'plain',
      conversation: { id: `${this.conversationId};messageid=${Date.now()}`, conversationType: 'channel', tenantId: TENANT_ID, isGroup: true },
      entities: [
        { type: 'mention', mentioned: { id: this.h.botId, name: BOT_NAME }, text: botTag },
        ...extraMentions.map((m) => ({ type: 'mention', mentioned: m, text: `<at>${m.name}</at>` })),
      ],
    });
  }

  /** A 1:1 message to the bot. */
  personalMessage(text: string, from = { id: '29:ana', name: 'Ana' }): Record<string, unknown> {
    return this.base('message', from, {
      text,
      conversation: { id: `a:personal-${from.id}`, conversationType: 'personal', tenantId: TENANT_ID },
      channelData: { tenant: { id: TENANT_ID } },
    });
  }

  /** The bot was added to (or removed from) the channel's team. */
  conversationUpdate(change: 'added' | 'removed', from = { id: '29:ana', name: 'Ana' }): Record<string, unknown> {
    const bot = { id: this.h.botId, name: BOT_NAME };
    return this.base('conversationUpdate', from, change === 'added' ? { membersAdded: [bot] } : { membersRemoved: [bot] });
  }

  /** Someone pressed an `Action.Execute` button. */
  cardAction(verb: string, data: Record<string, unknown>, from = { id: '29:ana', name: 'Ana' }, id = `f:${randomUUID()}`): Record<string, unknown> {
    return this.base('invoke', from, {
      id,
      name: 'adaptiveCard/action',
      value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
      conversation: { id: `${this.conversationId};messageid=1`, conversationType: 'channel', tenantId: TENANT_ID, isGroup: true },
    });
  }
}

/** Text of every TextRun / TextBlock / fact in a card or activity (for assertions). */
export function textOf(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.text === 'string') out.push(o.text);
      if (typeof o.value === 'string') out.push(o.value);
      if (typeof o.title === 'string') out.push(o.title);
      Object.values(o).forEach(walk);
    }
  };
  walk(value);
  return out.join(' ');
}

/** The Adaptive Card in a connector call body (first attachment), if any. */
export function cardOf(body: Record<string, unknown>): Record<string, unknown> | undefined {
  return (body.attachments as Array<{ contentType: string; content: Record<string, unknown> }> | undefined)?.find(
    (a) => a.contentType === 'application/vnd.microsoft.card.adaptive',
  )?.content;
}
