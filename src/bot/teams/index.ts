/**
 * Microsoft Teams: `POST /api/messages` (Bot Framework `CloudAdapter`) and the Teams
 * `ChatNotifier`. Every `botbuilder` import of the product stays in this folder so a later move to
 * the Microsoft 365 Agents SDK is one adapter rewrite.
 */
import { CloudAdapter, type Activity, type TurnContext } from 'botbuilder';
import type { AuthenticateRequestResult } from 'botframework-connector';
import express, { type Request, type Response, type Router } from 'express';
import type { AppServices } from '../../app/services.js';
import type { Config } from '../../config.js';
import type { ChatNotifier, Logger } from '../../engine/ports.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { authenticateInbound, createBotFrameworkAuthentication, type TeamsAuthOverrides } from './auth.js';
import { ConversationStore } from './ConversationStore.js';
import { TeamsBot } from './TeamsBot.js';
import { TeamsNotifier } from './TeamsNotifier.js';
import type { RetryOptions } from './outbound.js';

export { renderRunCard, renderFailureCard, renderWorkflowListCard, MAX_CARD_BYTES, VERBS } from './cards.js';
export type { TeamsAuthOverrides } from './auth.js';

/** Largest activity body we accept (Teams activities are far smaller). */
const MAX_BODY = '1mb';

/** Exposes the adapter's turn processing for a request we have already authenticated. */
class TeamsCloudAdapter extends CloudAdapter {
  processAuthenticated(result: AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(result, activity, logic);
  }
}

/**
 * Why: the connector client's HTTP pipeline retries 429/5xx on its own (up to 3 times, with
 * exponential waits) before we see the error. Our notifier has one bounded retry policy that also
 * covers 412 and records what happened, so the SDK's is removed from each turn's client.
 */
function stripSdkRetry(context: TurnContext): void {
  const adapter = context.adapter as CloudAdapter;
  const client = context.turnState.get(adapter.ConnectorClientKey) as { client?: { pipeline?: { removePolicy(o: { name: string }): unknown } } } | undefined;
  client?.client?.pipeline?.removePolicy({ name: 'defaultRetryPolicy' });
}

export interface TeamsBotDeps {
  config: Config;
  services: AppServices;
  prisma: PrismaClient;
  logger: Logger;
  /** Endpoint and credential overrides (tests, sovereign clouds). */
  auth?: TeamsAuthOverrides;
  /** Outbound retry tuning (tests shorten the waits). */
  retry?: RetryOptions;
}

export interface TeamsBotHandle {
  /** Serves `POST /api/messages`. */
  router: Router;
  notifier: ChatNotifier;
  stop(): Promise<void>;
}

/** Create the Teams bot: the inbound route and the proactive notifier. */
export function createTeamsBot(deps: TeamsBotDeps): TeamsBotHandle {
  const logger = deps.logger.child({ component: 'teams' });
  const auth = createBotFrameworkAuthentication(deps.config, deps.auth);
  const adapter = new TeamsCloudAdapter(auth);
  adapter.use({
    onTurn: async (context, next) => {
      stripSdkRetry(context);
      await next();
    },
  });
  const conversations = new ConversationStore(deps.prisma);
  const bot = new TeamsBot({ services: deps.services, prisma: deps.prisma, conversations, logger });
  const notifier = new TeamsNotifier({
    adapter,
    appId: deps.config.MICROSOFT_APP_ID ?? '',
    prisma: deps.prisma,
    conversations,
    logger,
    ...(deps.retry ? { retry: deps.retry } : {}),
  });
  const inFlight = new Set<Promise<unknown>>();
  let stopping = false;

  const router = express.Router();
  router.post('/api/messages', express.json({ limit: MAX_BODY }), async (req: Request, res: Response) => {
    if (stopping) {
      res.status(503).json({ error: 'shutting down' });
      return;
    }
    const activity = req.body as Activity | undefined;
    if (!activity || typeof activity !== 'object' || typeof activity.type !== 'string' || !activity.type) {
      res.status(400).json({ error: 'expected a Bot Framework activity' });
      return;
    }
    const header = req.headers.authorization ?? '';
    const checked = await authenticateInbound(auth, activity, header);
    if (!checked.ok) {
      // The reason is logged for operators; the caller learns nothing beyond the status.
      logger.warn({ status: checked.status, reason: checked.reason, channelId: activity.channelId }, 'teams: request refused');
      res.status(checked.status).json({ error: checked.status === 401 ? 'unauthorized' : 'authentication unavailable' });
      return;
    }
    const work = adapter.processAuthenticated(checked.result, activity, (context) => bot.onTurn(context));
    inFlight.add(work);
    try {
      const invokeResponse = await work;
      if (invokeResponse) res.status(invokeResponse.status).json(invokeResponse.body ?? {});
      else res.status(200).end();
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'teams: activity processing failed');
      if (!res.headersSent) res.status(500).json({ error: 'internal error' });
    } finally {
      inFlight.delete(work);
    }
  });

  return {
    router,
    notifier,
    async stop() {
      stopping = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}
