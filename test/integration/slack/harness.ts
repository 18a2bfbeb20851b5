/**
 * The Slack bot running for real on loopback: a test database, the real app services over a BullMQ
 * queue (unique prefix), `createSlackBot` mounted in an express app on its own port, and a fake
 * Slack Web API the bot's WebClient talks to. Optionally the real worker, publishing through the
 * Slack notifier.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createAppServices, type WiredAppServices } from '../../../src/app/create-app-services.js';
import { createSlackBot, type SlackBot, type SlackBotDeps } from '../../../src/bot/slack/index.js';
import { loadConfig } from '../../../src/config.js';
import type { ActionRunner } from '../../../src/engine/ports.js';
import { PrismaExecutionStore } from '../../../src/store/PrismaExecutionStore.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { startWorkflowWorker, stopWorkflowWorker, type WorkflowWorkerHandle } from '../../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { startFakeSlack, type FakeSlack } from '../../helpers/fake-slack.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { sendSigned, type SendOptions, type SlackRequest } from '../../helpers/slack-requests.js';
import { waitFor } from '../../helpers/worker-process-fixtures.js';
import { MESSAGES } from '../../../src/bot/messages.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

export interface SlackHarness {
  db: TestDatabase;
  slack: FakeSlack;
  services: WiredAppServices;
  bot: SlackBot;
  worker: WorkflowWorkerHandle | null;
  logger: MemoryLogger;
  /** `http://127.0.0.1:<port>/slack/events` */
  eventsUrl: string;
  /** Send a request signed with the app's secret (options override timestamp/signature). */
  send(request: SlackRequest, options?: Partial<SendOptions>): Promise<{ status: number; text: string; json: unknown }>;
  close(): Promise<void>;
}

export interface SlackHarnessOptions {
  worker?: { actions: ActionRunner };
  /** Redis URL for the queue (a dead port simulates a queue outage). */
  redisUrl?: string;
  bot?: SlackBotDeps['options'];
}

export async function startSlackHarness(options: SlackHarnessOptions = {}): Promise<SlackHarness> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix('slack');
  const logger = new MemoryLogger();
  const slack = await startFakeSlack();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
  });
  const queue: WorkflowQueue = createWorkflowQueue({ connection: options.redisUrl ?? REDIS_URL, prefix });
  // Connect and load BullMQ's scripts now, so the first command is not slowed by it.
  await queue.queue.waitUntilReady().catch(() => undefined);
  const services = createAppServices({
    prisma: db.prisma,
    scheduler: new WorkflowJobScheduler(queue, db.prisma, logger),
    logger,
    repository: new PrismaWorkflowRepository(db.prisma),
  });
  // A generous claim timeout: on a loaded test machine a slow INSERT must not read as "database down".
  const bot = createSlackBot({ config, services, prisma: db.prisma, logger, options: { editIntervalMs: 100, claimTimeoutMs: 10_000, ...(options.bot ?? {}) } });
  const app = express();
  app.use(bot.router);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;

  let worker: WorkflowWorkerHandle | null = null;
  if (options.worker) {
    worker = await startWorkflowWorker({
      connection: REDIS_URL,
      prefix,
      prisma: db.prisma,
      store: new PrismaExecutionStore(db.prisma),
      actions: options.worker.actions,
      notifier: bot.notifier,
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

  return {
    db,
    slack,
    services,
    bot,
    worker,
    logger,
    eventsUrl,
    send: (request, opts = {}) => sendSigned(eventsUrl, request, { secret: SIGNING_SECRET, ...opts }),
    async close() {
      if (worker) await stopWorkflowWorker(worker, 3000);
      await bot.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.close().catch(() => undefined);
      await slack.close();
      await deletePrefix(prefix);
      await db.drop();
    },
  };
}

/**
 * The reply to a slash command as the person ends up seeing it: the ack body when it carries one
 * (help, parse errors), otherwise (an empty ack: the command needed the database) what arrived at
 * the command's response_url.
 */
export async function finalReply(h: Pick<SlackHarness, 'slack'>, request: SlackRequest, res: { json: unknown }): Promise<Record<string, unknown>> {
  const ack = (res.json ?? {}) as Record<string, unknown>;
  if (ack.text !== undefined && !textOf(ack).includes(MESSAGES.slow)) return ack;
  const responseUrl = new URLSearchParams(request.body).get('response_url') ?? '';
  const id = responseUrl.slice(responseUrl.lastIndexOf('/') + 1);
  const late = await waitFor('the late reply at response_url', () => h.slack.responses.find((r) => r.id === id));
  return late.body;
}

/** Text of a Slack message payload (fallback text plus every text in its blocks). */
export function textOf(message: { text?: unknown; blocks?: unknown } | undefined): string {
  if (!message) return '';
  const parts: string[] = [typeof message.text === 'string' ? message.text : ''];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'text' && typeof value === 'string') parts.push(value);
        else walk(value);
      }
    }
  };
  walk(message.blocks);
  return parts.join('\n');
}

/** Buttons (action_id and value) in a message's blocks. */
export function buttonsOf(message: { blocks?: unknown } | undefined): Array<{ action_id: string; value: string; block_id: string }> {
  const out: Array<{ action_id: string; value: string; block_id: string }> = [];
  for (const block of (message?.blocks as Array<{ type: string; block_id?: string; elements?: Array<{ type: string; action_id: string; value: string }> }>) ?? []) {
    if (block.type !== 'actions') continue;
    for (const e of block.elements ?? []) if (e.type === 'button') out.push({ action_id: e.action_id, value: e.value, block_id: block.block_id ?? '' });
  }
  return out;
}
