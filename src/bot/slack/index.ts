/**
 * The Slack side of the product: `createSlackBot` wires Bolt (HTTP on the service's express app, or
 * Socket Mode), the listeners, the delivery ledger and the notifier.
 */
import express, { type Router } from 'express';
import { App, SocketModeReceiver, webApi } from '@slack/bolt';
import type { AppServices } from '../../app/services.js';
import type { Config } from '../../config.js';
import type { ChatNotifier, Logger } from '../../engine/ports.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { toSlackLogger } from './bolt-logger.js';
import { PrismaDeliveryLedger, type DeliveryLedger } from './dedupe.js';
import { AfterAckQueue } from './after-ack.js';
import { registerHandlers, type RegisteredHandlers } from './handlers.js';
import { SlackHttpReceiver } from './SlackHttpReceiver.js';
import { SlackNotifier } from './SlackNotifier.js';

export { SlackNotifier } from './SlackNotifier.js';
export { SlackHttpReceiver, verifySlackSignature } from './SlackHttpReceiver.js';
export { REQUIRED_BOT_SCOPES, SLASH_COMMANDS, ACTION_IDS, EVENT_TYPES } from './handlers.js';

/** How long delivery claims are kept (Slack replays are refused by signature after five minutes). */
export const LEDGER_RETENTION_MS = 60 * 60 * 1000;
const LEDGER_PRUNE_INTERVAL_MS = 10 * 60 * 1000;

export interface SlackBotDeps {
  config: Pick<Config, 'SLACK_SIGNING_SECRET' | 'SLACK_BOT_TOKEN' | 'SLACK_APP_TOKEN' | 'SLACK_SOCKET_MODE' | 'SLACK_API_URL'>;
  services: AppServices;
  prisma: PrismaClient;
  logger: Logger;
  /** Overrides for tests (a ledger that fails, a shorter ack deadline...). */
  options?: {
    ledger?: DeliveryLedger;
    claimTimeoutMs?: number;
    /** Slash commands whose post-ack work (claim, services, response_url) runs at once (default 8). */
    afterAckConcurrency?: number;
    /** Post-ack work starts once no request has arrived for this long and none waits for its ack (default 50 ms). */
    afterAckQuietMs?: number;
    bodyLimitBytes?: number;
    editIntervalMs?: number;
    now?: () => number;
  };
}

export interface SlackBot {
  /** Mount at `/` on the service's express app: handles `POST /slack/events` (empty in Socket Mode). */
  router: Router;
  notifier: ChatNotifier & { flush(): Promise<void> };
  /** Connects Socket Mode when enabled; nothing to do over HTTP. */
  start(): Promise<void>;
  /** Disconnects Socket Mode, finishes commands already acknowledged (their answers) and delivers pending run-message edits. */
  stop(): Promise<void>;
  /** What is registered (checked against manifest.slack.yml). */
  handlers: RegisteredHandlers;
}

/**
 * A Web API client pointed at `SLACK_API_URL` that never retries on its own: 429s are rejected so
 * `ChannelGate` can pause just that channel, and nothing else is retried so a post is never doubled.
 */
export function createSlackWebClient(token: string, apiUrl: string, logger: Logger): webApi.WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 10_000,
    logger: toSlackLogger(logger),
  });
}

/** Build the Slack bot. Throws if Slack is not configured (no bot token, or no signing secret over HTTP). */
export function createSlackBot(deps: SlackBotDeps): SlackBot {
  const { config, logger } = deps;
  const token = config.SLACK_BOT_TOKEN;
  if (!token) throw new Error('createSlackBot: SLACK_BOT_TOKEN is not set');
  const slackLogger = toSlackLogger(logger.child({ component: 'bolt' }));
  // Bolt's own client (ephemeral replies, respond) gets the same base URL; posts from listeners are not retried either.
  // Bolt's respond() (response_url) uses this fetch and has no timeout of its own: bound it, so an
  // unresponsive response_url cannot hold a post-ack slot forever.
  const clientOptions = { slackApiUrl: config.SLACK_API_URL, rejectRateLimitedCalls: false, retryConfig: { retries: 0 }, timeout: 10_000, fetch: fetchWithTimeout(10_000) };
  // A fixed token: no auth.test round trip at start (Bolt would make one to learn the bot id).
  const authorize = async () => ({ botToken: token });

  let app: App;
  let router: Router;
  let httpReceiver: SlackHttpReceiver | null = null;
  // Post-ack work waits while requests wait for their ack or a burst is still arriving (after-ack.ts).
  const quietMs = deps.options?.afterAckQuietMs ?? 50;
  const afterAck = new AfterAckQueue({
    concurrency: deps.options?.afterAckConcurrency ?? 8,
    holdFor: () => {
      if (!httpReceiver) return 0;
      if (httpReceiver.pendingAcks > 0) return quietMs;
      return Math.max(0, quietMs - (performance.now() - httpReceiver.lastArrivalAt));
    },
    onError: (error) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'slack: post-ack work failed'),
  });
  if (config.SLACK_SOCKET_MODE) {
    if (!config.SLACK_APP_TOKEN) throw new Error('createSlackBot: SLACK_APP_TOKEN is required for Socket Mode');
    // Built here rather than by `App({ socketMode })` so apps.connections.open also goes to SLACK_API_URL.
    const receiver = new SocketModeReceiver({
      appToken: config.SLACK_APP_TOKEN,
      logger: slackLogger,
      installerOptions: { clientOptions: { slackApiUrl: config.SLACK_API_URL } },
    });
    app = new App({ receiver, authorize, logger: slackLogger, clientOptions, convoStore: false });
    router = express.Router();
  } else {
    if (!config.SLACK_SIGNING_SECRET) throw new Error('createSlackBot: SLACK_SIGNING_SECRET is required over HTTP');
    const receiver = new SlackHttpReceiver({
      signingSecret: config.SLACK_SIGNING_SECRET,
      logger,
      ...(deps.options?.bodyLimitBytes !== undefined ? { bodyLimitBytes: deps.options.bodyLimitBytes } : {}),
      ...(deps.options?.now ? { now: deps.options.now } : {}),
      onAcksSettled: () => afterAck.release(),
    });
    httpReceiver = receiver;
    // convoStore: false (both modes): the conversation-state middleware is unused here and costs every
    // request a rejected promise with a stack trace before its ack.
    app = new App({ receiver, authorize, logger: slackLogger, clientOptions, convoStore: false });
    router = receiver.router;
  }

  const prismaLedger = new PrismaDeliveryLedger(deps.prisma);
  const handlers = registerHandlers(app, {
    services: deps.services,
    ledger: deps.options?.ledger ?? prismaLedger,
    logger,
    afterAck,
    ...(deps.options?.claimTimeoutMs !== undefined ? { claimTimeoutMs: deps.options.claimTimeoutMs } : {}),
  });
  app.error(async (error) => {
    logger.error({ err: error.message, code: (error as { code?: string }).code }, 'slack: unhandled listener error');
  });

  const notifier = new SlackNotifier({
    client: createSlackWebClient(token, config.SLACK_API_URL, logger),
    prisma: deps.prisma,
    logger,
    ...(deps.options?.editIntervalMs !== undefined ? { editIntervalMs: deps.options.editIntervalMs } : {}),
  });

  // Claims only matter inside Slack's five-minute replay window; keep an hour, drop the rest.
  let pruneTimer: NodeJS.Timeout | null = null;
  const prune = () => {
    prismaLedger.prune(LEDGER_RETENTION_MS).catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'slack: ledger prune failed'));
  };

  return {
    router,
    notifier,
    handlers,
    async start() {
      if (!pruneTimer) {
        pruneTimer = setInterval(prune, LEDGER_PRUNE_INTERVAL_MS);
        pruneTimer.unref();
      }
      if (config.SLACK_SOCKET_MODE) await app.start();
    },
    async stop() {
      if (pruneTimer) clearInterval(pruneTimer);
      pruneTimer = null;
      if (config.SLACK_SOCKET_MODE) await app.stop();
      await afterAck.drain();
      await notifier.flush();
    },
  };
}

/** `fetch` that gives up after `ms` unless the caller brought its own signal (the WebClient does). */
function fetchWithTimeout(ms: number): typeof fetch {
  return (input, init) => fetch(input, init?.signal ? init : { ...init, signal: AbortSignal.timeout(ms) });
}
