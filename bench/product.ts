/**
 * The product as the benchmark drives it, composed from the same building blocks the service
 * uses: the `workflow` queue and its JobScheduler, the app services over Prisma (dispatcher,
 * runs, users...), the real worker with the action registry (webhook action behind the SSRF guard,
 * loopback allowed), and optionally the Slack bot (signed receiver at POST /slack/events plus the
 * Slack notifier) on an express app. Nothing here is a second product: it only wires parts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createAppServices, type WiredAppServices } from '../src/app/create-app-services.js';
import { createAppActions } from '../src/app/actions/index.js';
import { createSlackBot, type SlackBot } from '../src/bot/slack/index.js';
import { loadConfig } from '../src/config.js';
import type { ChatNotifier } from '../src/engine/ports.js';
import { ActionRegistry } from '../src/integrations/ActionRegistry.js';
import { createWebhookAction } from '../src/integrations/actions/webhook.js';
import { EgressGuard } from '../src/integrations/ssrf/EgressGuard.js';
import { PrismaExecutionStore } from '../src/store/PrismaExecutionStore.js';
import { PrismaWorkflowRepository } from '../src/store/PrismaWorkflowRepository.js';
import { ConsoleNotifier } from '../src/worker/console-notifier.js';
import { WorkflowJobScheduler } from '../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../src/worker/queue.js';
import { startWorkflowWorker, stopWorkflowWorker, type WorkflowWorkerHandle } from '../src/worker/worker.js';
import type { BenchEnv } from './env.js';

export interface ProductOptions {
  /** BullMQ prefix (default: the env's). */
  prefix?: string;
  /** Start the worker in this process with this many concurrent jobs. */
  worker?: { concurrency: number; progressIntervalMs?: number };
  /** Mount the Slack bot (receiver + notifier) against this Slack Web API. */
  slack?: { apiUrl: string; token: string; signingSecret: string; editIntervalMs?: number };
}

export interface Product {
  queue: WorkflowQueue;
  services: WiredAppServices;
  worker: WorkflowWorkerHandle | null;
  bot: SlackBot | null;
  /** `http://127.0.0.1:<port>/slack/events` when Slack is mounted. */
  slackEventsUrl: string | null;
  close(): Promise<void>;
}

/** What the product needs from the bench environment (a child process builds just this). */
export type ProductEnv = Pick<BenchEnv, 'prisma' | 'logger' | 'redisUrl' | 'prefix'>;

export async function startProduct(env: ProductEnv, options: ProductOptions = {}): Promise<Product> {
  const prefix = options.prefix ?? env.prefix;
  const { prisma, logger } = env;
  const queue = createWorkflowQueue({ connection: env.redisUrl, prefix, logger });
  await queue.queue.waitUntilReady();
  const services = createAppServices({
    prisma,
    scheduler: new WorkflowJobScheduler(queue, prisma, logger),
    logger,
    repository: new PrismaWorkflowRepository(prisma),
  });

  let bot: SlackBot | null = null;
  let server: Server | null = null;
  let slackEventsUrl: string | null = null;
  if (options.slack) {
    const config = loadConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      SLACK_BOT_TOKEN: options.slack.token,
      SLACK_SIGNING_SECRET: options.slack.signingSecret,
      SLACK_API_URL: options.slack.apiUrl,
    });
    bot = createSlackBot({
      config,
      services,
      prisma,
      logger,
      ...(options.slack.editIntervalMs !== undefined ? { options: { editIntervalMs: options.slack.editIntervalMs } } : {}),
    });
    const app = express();
    app.use(bot.router);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    slackEventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  }

  let worker: WorkflowWorkerHandle | null = null;
  if (options.worker) {
    const notifier: ChatNotifier = bot ? bot.notifier : new ConsoleNotifier(logger);
    const guard = new EgressGuard({ allowList: ['127.0.0.1'] });
    const actions = new ActionRegistry([
      createWebhookAction({ guard }),
      ...createAppActions({ prisma, incidents: services.incidents, notifier }),
    ]);
    worker = await startWorkflowWorker({
      connection: env.redisUrl,
      prefix,
      prisma,
      store: new PrismaExecutionStore(prisma),
      actions,
      notifier,
      logger,
      concurrency: options.worker.concurrency,
      reconcileIntervalMs: 0,
      ...(options.worker.progressIntervalMs !== undefined ? { progressIntervalMs: options.worker.progressIntervalMs } : {}),
    });
    await worker.worker.waitUntilReady();
  }

  return {
    queue,
    services,
    worker,
    bot,
    slackEventsUrl,
    async close() {
      if (worker) await stopWorkflowWorker(worker, 5000);
      if (bot) await bot.stop();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await queue.queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}
