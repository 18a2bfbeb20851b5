/**
 * The composition root: builds every part from the config and starts the roles asked for.
 * `src/main.ts` calls it for the real process; tests and benchmarks start it in-process with their
 * own config (database, Redis prefix, port 0).
 */
import type { Router } from 'express';
import type { Config } from './config.js';
import { slackMode, teamsEnabled } from './config.js';
import type { Logger } from './logger.js';
import type { ChatNotifier } from './engine/ports.js';
import { createHttpApp, listen, type RunningHttpServer } from './http/server.js';
import { createApiRouter } from './http/api/index.js';
import { createRedisConnection, pingRedis } from './redis.js';
import { migrate } from './store/migrate.js';
import { createPrismaClient, type PrismaClient } from './store/prisma.js';
import { PrismaExecutionStore } from './store/PrismaExecutionStore.js';
import { PrismaWorkflowRepository } from './store/PrismaWorkflowRepository.js';
import { createAppServices, type WiredAppServices } from './app/create-app-services.js';
import { createAppActions } from './app/actions/index.js';
import { ActionRegistry, createIntegrationActions, PrismaIntentStore } from './integrations/index.js';
import { SecretStore } from './secrets/SecretStore.js';
import { keyringFromConfig } from './secrets/crypto.js';
import { createWorkflowQueue, type WorkflowQueue } from './worker/queue.js';
import { WorkflowJobScheduler } from './worker/job-scheduler.js';
import { startWorkflowWorker, stopWorkflowWorker, type WorkflowWorkerHandle } from './worker/worker.js';
import { ConsoleNotifier } from './worker/console-notifier.js';
import { CompositeNotifier } from './bot/composite-notifier.js';
import { createSlackBot, type SlackBot } from './bot/slack/index.js';
import { createTeamsBot, type TeamsBotHandle } from './bot/teams/index.js';
import type { TeamsAuthOverrides } from './bot/teams/index.js';

/** A started service. */
export interface ServiceHandle {
  /** Base URL of the HTTP server (roles `web` and `all`). */
  url?: string;
  port?: number;
  prisma: PrismaClient;
  services: WiredAppServices;
  queue: WorkflowQueue;
  /** The workflow worker (roles `worker` and `all`). */
  worker?: WorkflowWorkerHandle;
  /** Graceful stop within SHUTDOWN_TIMEOUT_MS. */
  stop(): Promise<void>;
}

/** Test-only seams: a Teams token issuer and connector on loopback, a DNS lookup for the SSRF guard. */
export interface ServiceOverrides {
  teamsAuth?: TeamsAuthOverrides;
  worker?: { lockDurationMs?: number; reconcileIntervalMs?: number; progressIntervalMs?: number };
}

/** Start the roles named by `config.ROLE`. */
export async function startService(config: Config, logger: Logger, overrides: ServiceOverrides = {}): Promise<ServiceHandle> {
  if (config.MIGRATE_ON_START) {
    const { applied } = await migrate({ databaseUrl: config.DATABASE_URL, logger });
    logger.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');
  }
  const prisma = createPrismaClient(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
  const cleanups: Array<() => Promise<void>> = [async () => prisma.$disconnect()];
  const stopAll = async () => {
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch((error: unknown) => logger.warn({ err: error }, 'error while stopping'));
  };
  try {
    await prisma.$queryRaw`SELECT 1`;

    // Refuse to start when stored secrets cannot be decrypted with the configured key.
    const secrets = new SecretStore(prisma, keyringFromConfig(config));
    await secrets.verifyKey();

    const redis = createRedisConnection(config.REDIS_URL, logger, 'readiness');
    cleanups.push(async () => redis.disconnect());
    const queue = createWorkflowQueue({ connection: config.REDIS_URL, prefix: config.QUEUE_PREFIX, logger });
    cleanups.push(() => queue.close());
    const scheduler = new WorkflowJobScheduler(queue, prisma, logger);
    const services = createAppServices({ prisma, scheduler, logger, repository: new PrismaWorkflowRepository(prisma) });

    // Chat platforms: each is optional; without any, progress and alerts go to the log.
    const slack = slackMode(config);
    const teams = teamsEnabled(config);
    const notifiers: Array<{ name: string; notifier: ChatNotifier }> = [];
    const routers: Array<{ path: string; router: Router }> = [];
    let slackBot: SlackBot | undefined;
    let teamsBot: TeamsBotHandle | undefined;
    if (slack !== 'off') {
      slackBot = createSlackBot({ config, services, prisma, logger: logger.child({ platform: 'slack' }) });
      notifiers.push({ name: 'slack', notifier: slackBot.notifier });
      routers.push({ path: '/', router: slackBot.router });
      const bot = slackBot;
      cleanups.push(() => bot.stop());
    }
    if (teams) {
      teamsBot = createTeamsBot({
        config,
        services,
        prisma,
        logger: logger.child({ platform: 'teams' }),
        ...(overrides.teamsAuth ? { auth: overrides.teamsAuth } : {}),
      });
      notifiers.push({ name: 'teams', notifier: teamsBot.notifier });
      routers.push({ path: '/', router: teamsBot.router });
      const bot = teamsBot;
      cleanups.push(() => bot.stop());
    }
    const notifier: ChatNotifier =
      notifiers.length === 0
        ? new ConsoleNotifier(logger.child({ component: 'console-notifier' }))
        : notifiers.length === 1
          ? (notifiers[0] as { notifier: ChatNotifier }).notifier
          : new CompositeNotifier(notifiers, logger);
    logger.info(
      { role: config.ROLE, slack, teams: teams ? 'on' : 'off' },
      `chat platforms: Slack ${slack === 'off' ? 'off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)' : slack}, ` +
        `Teams ${teams ? 'on' : 'off (set TEAMS_ENABLED and MICROSOFT_APP_ID)'}` +
        (notifiers.length === 0 ? '; progress and failure messages go to the log' : ''),
    );

    let worker: WorkflowWorkerHandle | undefined;
    if (config.ROLE === 'worker' || config.ROLE === 'all') {
      const actions = new ActionRegistry([
        ...createIntegrationActions(config, { intents: new PrismaIntentStore(prisma) }),
        ...createAppActions({ prisma, incidents: services.incidents, notifier }),
      ]);
      worker = await startWorkflowWorker({
        connection: config.REDIS_URL,
        prefix: config.QUEUE_PREFIX,
        prisma,
        store: new PrismaExecutionStore(prisma),
        actions,
        secrets,
        notifier,
        logger,
        concurrency: config.WORKER_CONCURRENCY,
        ageScan: { emit: (event, workflow) => services.dispatcher.dispatchTo(workflow, event) },
        ...overrides.worker,
      });
      const handle = worker;
      cleanups.push(() => stopWorkflowWorker(handle, Math.max(1000, config.SHUTDOWN_TIMEOUT_MS - 2000)));
      logger.info({ concurrency: config.WORKER_CONCURRENCY }, 'workflow worker started');
    }

    let http: RunningHttpServer | undefined;
    if (config.ROLE === 'web' || config.ROLE === 'all') {
      const app = createHttpApp({
        logger,
        readiness: [
          {
            name: 'database',
            check: async () => {
              await prisma.$queryRaw`SELECT 1`;
            },
          },
          { name: 'redis', check: () => pingRedis(redis) },
        ],
        mounts: [{ path: '/api/v1', router: createApiRouter({ services, prisma, logger }) }, ...routers],
      });
      http = await listen(app, config.PORT, config.HOST);
      const server = http;
      // Stop taking requests first; workers and connections close after.
      cleanups.push(() => server.close(Math.max(1000, config.SHUTDOWN_TIMEOUT_MS / 3)));
      logger.info({ url: http.url }, 'HTTP server listening');
    }
    if (slackBot) await slackBot.start();

    return {
      url: http?.url,
      port: http?.port,
      prisma,
      services,
      queue,
      ...(worker ? { worker } : {}),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
