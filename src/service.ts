/**
 * The composition root: builds every part from the config and starts the roles asked for.
 * Tests start it in-process with their own config (database, Redis prefix, port 0).
 */
import type { Config } from './config.js';
import { slackMode, teamsEnabled } from './config.js';
import type { Logger } from './logger.js';
import { createHttpApp, listen, type RunningHttpServer } from './http/server.js';
import { createRedisConnection, pingRedis } from './redis.js';
import { migrate } from './store/migrate.js';
import { createPrismaClient } from './store/prisma.js';

/** A started service. */
export interface ServiceHandle {
  /** Base URL of the HTTP server (roles `web` and `all`). */
  url?: string;
  port?: number;
  /** Graceful stop within SHUTDOWN_TIMEOUT_MS. */
  stop(): Promise<void>;
}

/** Start the roles named by `config.ROLE`. */
export async function startService(config: Config, logger: Logger): Promise<ServiceHandle> {
  if (config.MIGRATE_ON_START) {
    const { applied } = await migrate({ databaseUrl: config.DATABASE_URL, logger });
    logger.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');
  }
  const prisma = createPrismaClient(config.DATABASE_URL);
  await prisma.$queryRaw`SELECT 1`;
  const redis = createRedisConnection(config.REDIS_URL, logger, 'main');

  const slack = slackMode(config);
  const teams = teamsEnabled(config);
  logger.info(
    {
      role: config.ROLE,
      slack,
      teams: teams ? 'on' : 'off',
    },
    `chat platforms: Slack ${slack === 'off' ? 'off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)' : slack}, ` +
      `Teams ${teams ? 'on' : 'off (set TEAMS_ENABLED and MICROSOFT_APP_ID)'}` +
      (slack === 'off' && !teams ? '; progress and failure messages go to the log' : ''),
  );

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
      mounts: [],
    });
    http = await listen(app, config.PORT, config.HOST);
    logger.info({ url: http.url }, 'HTTP server listening');
  }

  return {
    url: http?.url,
    port: http?.port,
    async stop() {
      const deadline = config.SHUTDOWN_TIMEOUT_MS;
      await http?.close(Math.max(1000, deadline / 2));
      redis.disconnect();
      await prisma.$disconnect();
    },
  };
}
