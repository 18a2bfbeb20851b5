/**
 * The product as the benchmark drives it: the service's own composition root, `startService`
 * (src/service.ts), started in-process with a config pointing at the bench database and prefix,
 * the webhook SSRF allow-list opened for the loopback target, and optionally Slack against a local
 * Slack Web API. Role `all` runs the worker in this process; role `web` leaves it out.
 */
import { loadConfig } from '../src/config.js';
import type { WiredAppServices } from '../src/app/create-app-services.js';
import { startService, type ServiceHandle } from '../src/service.js';
import type { WorkflowQueue } from '../src/worker/queue.js';
import type { BenchEnv } from './env.js';

export interface ProductOptions {
  /** BullMQ prefix (default: the env's). */
  prefix?: string;
  /** Run the worker in this process (role `all`) with this many concurrent jobs; omitted = role `web`. */
  worker?: { concurrency: number; progressIntervalMs?: number };
  /** Configure Slack (HTTP receiver at /slack/events, notifier) against this Slack Web API. */
  slack?: { apiUrl: string; token: string; signingSecret: string };
}

export interface Product {
  handle: ServiceHandle;
  queue: WorkflowQueue;
  services: WiredAppServices;
  /** BullMQ prefix the product uses. */
  prefix: string;
  /** `http://127.0.0.1:<port>/slack/events` when Slack is configured. */
  slackEventsUrl: string | null;
  close(): Promise<void>;
}

/** What the product needs from the bench environment (a child process builds just this). */
export type ProductEnv = Pick<BenchEnv, 'databaseUrl' | 'logger' | 'redisUrl' | 'prefix'>;

/** The environment a bench service runs with (also used by the worker child). */
export function serviceEnv(env: ProductEnv, options: ProductOptions & { role?: 'web' | 'worker' | 'all' } = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    ROLE: options.role ?? (options.worker ? 'all' : 'web'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: options.prefix ?? env.prefix,
    MIGRATE_ON_START: 'false',
    WORKER_CONCURRENCY: String(options.worker?.concurrency ?? 5),
    WEBHOOK_ALLOWLIST: '127.0.0.1/32',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...(options.slack
      ? { SLACK_BOT_TOKEN: options.slack.token, SLACK_SIGNING_SECRET: options.slack.signingSecret, SLACK_API_URL: options.slack.apiUrl }
      : {}),
  };
}

export async function startProduct(env: ProductEnv, options: ProductOptions = {}): Promise<Product> {
  const prefix = options.prefix ?? env.prefix;
  const config = loadConfig(serviceEnv(env, options));
  const handle = await startService(config, env.logger, {
    worker: { reconcileIntervalMs: 0, ...(options.worker?.progressIntervalMs !== undefined ? { progressIntervalMs: options.worker.progressIntervalMs } : {}) },
  });
  await handle.queue.queue.waitUntilReady();
  return {
    handle,
    queue: handle.queue,
    services: handle.services,
    prefix,
    slackEventsUrl: options.slack && handle.url ? `${handle.url}/slack/events` : null,
    async close() {
      await handle.queue.queue.obliterate({ force: true }).catch(() => undefined);
      await handle.stop();
    },
  };
}
