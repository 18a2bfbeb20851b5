/**
 * Bolt listeners: slash commands, Cancel/Retry buttons and app mentions. Each one only parses,
 * resolves the person, hands the intent to `handleIntent` and renders the reply; everything with
 * an effect goes through the application services.
 *
 * Order per slash command, as Slack recommends: (receiver) verify signature -> parse -> ack at once
 * (with the answer when it needs no I/O: a parse error, help; otherwise empty) -> after the ack, on
 * the bounded post-ack queue (`after-ack.ts`): claim the delivery once, resolve the user, call the
 * service (rows written, job enqueued) -> the answer goes to the command's response_url. No database
 * round trip stands between a command and its ack, so the ack costs the same with 200 in flight as
 * with one, and a slow database delays the answer, never the ack.
 */
import type { AnyMiddlewareArgs, App, BlockButtonAction, Middleware, SlackActionMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { webApi } from '@slack/bolt';
import { randomBytes } from 'node:crypto';
import { AppError, type AppServices, type ChannelRef } from '../../app/services.js';
import type { Logger } from '../../engine/ports.js';
import { parseCommand, parseMessage, type Intent, type RunButtonIntent } from '../commands.js';
import { handleIntent, immediateReply } from '../intents.js';
import { MESSAGES, describeError } from '../messages.js';
import { ephemeral, type Reply } from '../reply.js';
import { AfterAckQueue } from './after-ack.js';
import { ACTION_RUN_CANCEL, ACTION_RUN_RETRY, renderReply, renderRun } from './blocks.js';
import { deliveryKey, type DeliveryLedger } from './dedupe.js';

/** Slash commands this app handles (declared in manifest.slack.yml). */
export const SLASH_COMMANDS = ['/workflow', '/incident'] as const;
/** Block action ids this app handles (interactivity). */
export const ACTION_IDS = [ACTION_RUN_CANCEL, ACTION_RUN_RETRY] as const;
/** Events API event types this app subscribes to. */
export const EVENT_TYPES = ['app_mention'] as const;

/**
 * Bot scopes the handlers and the notifier need, with the call that needs each.
 * The manifest test checks manifest.slack.yml grants every one of them.
 */
export const REQUIRED_BOT_SCOPES: Readonly<Record<string, string>> = {
  commands: 'slash commands /workflow and /incident',
  'chat:write': 'chat.postMessage / chat.update / chat.postEphemeral (run messages, alerts, replies)',
  'chat:write.public': 'run messages and alerts in public channels the bot was not invited to',
  'im:write': 'conversations.open for failure DMs to the assignee and the workflow author',
  'app_mentions:read': 'the app_mention event',
  'channels:manage': 'conversations.create / conversations.invite for /incident declare --new-channel',
};

export interface HandlerDeps {
  services: AppServices;
  ledger: DeliveryLedger;
  logger: Logger;
  /** Where slash commands' work runs after their ack (default: a queue of 8 at once). */
  afterAck?: AfterAckQueue;
  /** How long claiming a delivery may take before it counts as the database being down (default 2000 ms). */
  claimTimeoutMs?: number;
}

/** What was registered: the manifest test compares this with manifest.slack.yml. */
export interface RegisteredHandlers {
  commands: string[];
  actions: string[];
  events: string[];
}

const UUIDISH = /^[A-Za-z0-9_-]{1,200}$/;

/** Register every listener on `app`. */
export function registerHandlers(app: App, deps: HandlerDeps): RegisteredHandlers {
  const logger = deps.logger.child({ component: 'slack' });
  const afterAck =
    deps.afterAck ??
    new AfterAckQueue({ onError: (error) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'slack: post-ack work failed') });

  app.use(dedupeMiddleware(deps.ledger, logger, deps.claimTimeoutMs ?? 2000));

  for (const name of SLASH_COMMANDS) {
    app.command(name, async ({ command, ack, respond, client, context }: SlackCommandMiddlewareArgs & { client: webApi.WebClient; context: Record<string, unknown> }) => {
      const parsed = parseCommand(command.command, command.text ?? '');
      // Answers that need no I/O (a parse error, help) go in the ack itself.
      if (!parsed.ok) {
        await ack(renderReply(ephemeral(parsed.message, 'warning')));
        return;
      }
      const immediate = immediateReply(parsed.intent);
      if (immediate) {
        await ack(renderReply(immediate));
        // The first command of a person creates their user, help included (as before the ack moved).
        afterAck.push(async () => {
          await deps.services.users.resolve({ platform: 'slack', platformUserId: command.user_id, name: command.user_name }).catch((error: unknown) =>
            logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'slack: user not resolved after help'),
          );
        });
        return;
      }
      // Everything else needs the database: acknowledge now, with an empty body (Slack shows nothing),
      // and deliver the answer through response_url once the work is done.
      await ack();
      const claim = claimOf(context);
      afterAck.push(() => answerCommand({ command, intent: parsed.intent, claim, respond, client, retryNum: context.retryNum }));
    });
  }

  /** The post-ack half of a slash command: claim the delivery, do the work, deliver the reply. Never throws. */
  const answerCommand = async (input: {
    command: SlackCommandMiddlewareArgs['command'];
    intent: Intent;
    claim: () => Promise<boolean>;
    respond: SlackCommandMiddlewareArgs['respond'] | undefined;
    client: webApi.WebClient;
    retryNum: unknown;
  }): Promise<void> => {
    const { command, intent, client } = input;
    let fresh: boolean;
    try {
      fresh = await input.claim();
    } catch (error) {
      // The ledger is unreachable or slow: nothing ran; say so.
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'slack: delivery ledger unavailable');
      await deliver(ephemeral(MESSAGES.unavailable, 'error'), command, input.respond, client);
      return;
    }
    if (!fresh) {
      logger.info({ key: deliveryKey(command as unknown as Record<string, unknown>), retryNum: input.retryNum }, 'slack: duplicate delivery ignored');
      return;
    }
    const reply = await runCommand(intent, command, { platform: 'slack', channelId: command.channel_id }, client);
    await deliver(reply, command, input.respond, client);
  };

  /** Resolve the person and carry out the intent; failures come back as error replies. */
  const runCommand = async (intent: Intent, command: SlackCommandMiddlewareArgs['command'], channel: ChannelRef, client: webApi.WebClient): Promise<Reply> => {
    let created: (ChannelRef & { name: string }) | null = null;
    const createIncidentChannel = async (title: string) => {
      created = await createSlackChannel(client, title, command.user_id, logger);
      return created;
    };
    try {
      const actor = await deps.services.users.resolve({ platform: 'slack', platformUserId: command.user_id, name: command.user_name });
      const reply = await handleIntent(intent, { actor, channel, services: deps.services, logger, createIncidentChannel });
      const fresh = created as (ChannelRef & { name: string }) | null;
      if (fresh && reply.kind === 'incident_card') {
        // The new channel opens with the incident card too.
        const card = renderReply(reply);
        await client.chat.postMessage({ channel: fresh.channelId, text: card.text, blocks: card.blocks }).catch((error: unknown) =>
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'slack: incident card not posted in the new channel'),
        );
      }
      return reply;
    } catch (error) {
      const { reply, ref } = describeError(error);
      logger.error({ err: error instanceof Error ? error.message : String(error), ref }, 'slack command failed');
      return reply;
    }
  };

  /**
   * Send a command's answer to its response_url (Slack always sends one). If that fails, or there is
   * none, an ephemeral answer is posted with the bot token instead, so the person is not left with
   * silence; a channel answer is not (a failed response_url post may still have been shown).
   */
  const deliver = async (reply: Reply, command: SlackCommandMiddlewareArgs['command'], respond: SlackCommandMiddlewareArgs['respond'] | undefined, client: webApi.WebClient) => {
    const message = renderReply(reply);
    const err = (error: unknown) => (error instanceof Error ? error.message : String(error));
    if (respond) {
      try {
        await respond({ ...message, replace_original: false });
        return;
      } catch (error) {
        logger.warn({ err: err(error) }, 'slack: response_url answer not delivered');
      }
    }
    try {
      if (reply.visibility === 'channel') {
        if (!respond) await client.chat.postMessage({ channel: command.channel_id, text: message.text, blocks: message.blocks });
      } else await client.chat.postEphemeral({ channel: command.channel_id, user: command.user_id, text: message.text, blocks: message.blocks });
    } catch (error) {
      logger.warn({ err: err(error) }, 'slack: command reply not delivered');
    }
  };

  const onRunButton = (kind: RunButtonIntent['kind']) =>
    async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & { client: webApi.WebClient }) => {
      // A click answers at once; the outcome follows as an ephemeral message.
      await ack();
      const channelId = body.channel?.id ?? body.container?.channel_id;
      const userId = body.user.id;
      const executionId = action.value ?? '';
      let reply: Reply;
      if (!UUIDISH.test(executionId)) reply = ephemeral(MESSAGES.badButton, 'warning');
      else {
        try {
          const actor = await deps.services.users.resolve({ platform: 'slack', platformUserId: userId, name: body.user.name ?? body.user.username });
          reply = await handleIntent({ kind, executionId }, { actor, channel: { platform: 'slack', channelId: channelId ?? '' }, services: deps.services, logger });
        } catch (error) {
          const described = describeError(error);
          if (described.ref) logger.error({ err: error instanceof Error ? error.message : String(error), ref: described.ref }, 'slack button failed');
          reply = described.reply;
        }
      }
      if (!channelId) return;
      try {
        const message = renderReply(reply);
        await client.chat.postEphemeral({ channel: channelId, user: userId, text: message.text, blocks: message.blocks });
      } catch (error) {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'slack: button reply not delivered');
      }
      // A click on a stale run message (the run finished meanwhile): show its final state without the stale button.
      if (action.block_id === 'run_actions' && body.message?.ts && UUIDISH.test(executionId)) {
        await refreshIfStale(deps.services, client, channelId, body.message.ts, executionId, kind).catch((error: unknown) =>
          logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'slack: stale message not refreshed'),
        );
      }
    };
  app.action<BlockButtonAction>({ type: 'block_actions', action_id: ACTION_RUN_CANCEL }, onRunButton('run.cancel') as never);
  app.action<BlockButtonAction>({ type: 'block_actions', action_id: ACTION_RUN_RETRY }, onRunButton('run.retry') as never);

  app.event('app_mention', async ({ event, client }) => {
    const text = (event.text ?? '').replace(/^\s*<@[A-Z0-9]+(?:\|[^>]*)?>\s*/i, '');
    const channelId = event.channel;
    const userId = event.user;
    if (!userId) return;
    const parsed = parseMessage(text);
    let reply: Reply;
    if (!parsed.ok) reply = ephemeral(parsed.message, 'warning');
    else {
      try {
        const actor = await deps.services.users.resolve({ platform: 'slack', platformUserId: userId });
        reply = await handleIntent(parsed.intent, { actor, channel: { platform: 'slack', channelId }, services: deps.services, logger });
      } catch (error) {
        reply = describeError(error).reply;
      }
    }
    const message = renderReply(reply);
    if (reply.visibility === 'channel') await client.chat.postMessage({ channel: channelId, text: message.text, blocks: message.blocks });
    else await client.chat.postEphemeral({ channel: channelId, user: userId, text: message.text, blocks: message.blocks });
  });

  return { commands: [...SLASH_COMMANDS], actions: [...ACTION_IDS], events: [...EVENT_TYPES] };
}

/** A Slack channel name from an incident title: `inc-<slug>`, lowercase, at most 80 characters. */
export function incidentChannelName(title: string, suffix = ''): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const tail = suffix ? `-${suffix}` : '';
  return `inc-${(slug || 'incident').slice(0, 80 - 4 - tail.length).replace(/-$/, '')}${tail}`;
}

/** Create a public channel for an incident (retrying with a suffix if the name is taken) and invite the declarer. */
async function createSlackChannel(client: webApi.WebClient, title: string, userId: string, logger: Logger): Promise<ChannelRef & { name: string }> {
  for (let attempt = 0; ; attempt++) {
    const name = incidentChannelName(title, attempt === 0 ? '' : randomBytes(2).toString('hex'));
    try {
      const res = await client.conversations.create({ name });
      const id = res.channel?.id;
      if (!id) throw new AppError('unavailable', 'Slack did not return the new channel.');
      await client.conversations.invite({ channel: id, users: userId }).catch((error: unknown) =>
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'slack: could not invite the declarer to the new channel'),
      );
      return { platform: 'slack', channelId: id, name: res.channel?.name ?? name };
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      if (code === 'name_taken' && attempt < 2) continue;
      if (error instanceof AppError) throw error;
      throw new AppError('invalid', `Slack refused to create the incident channel (${code ?? 'request failed'}). Declare the incident in an existing channel instead.`);
    }
  }
}

async function refreshIfStale(services: AppServices, client: webApi.WebClient, channel: string, ts: string, executionId: string, kind: RunButtonIntent['kind']): Promise<void> {
  const view = await services.runs.view(executionId);
  if (!view) return;
  const final = view.status === 'COMPLETED' || view.status === 'FAILED' || view.status === 'CANCELLED';
  const clicked = kind === 'run.cancel' ? 'cancel' : 'retry';
  if (!final || view.actions.includes(clicked)) return;
  const message = renderRun(view);
  await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
}

/** Context key under which {@link dedupeMiddleware} hands a slash command's claim to its listener. */
const CLAIM_KEY = 'claimDelivery';

/** The claim the middleware left for a slash command (claims nothing if it is missing: never double-runs by omission). */
function claimOf(context: Record<string, unknown>): () => Promise<boolean> {
  const claim = context[CLAIM_KEY];
  if (typeof claim !== 'function') throw new Error('slack: the dedupe middleware did not run before the command listener');
  return claim as () => Promise<boolean>;
}

/**
 * Run each delivery at most once. Duplicates (Slack retries, replays) are acknowledged and dropped.
 *
 * Every delivery is acknowledged before its claim (an `INSERT` in `ProcessedEvent`), so no ack waits
 * on the database. Slash commands are not claimed here: the middleware leaves the claim in the
 * context and the listener takes it after its ack, on the post-ack queue, because the ack of a
 * command may carry an answer (help, a parse error) that only the listener knows. Clicks are
 * acknowledged here (their ack has no body) and claimed before their listener runs; Events API
 * deliveries were already acknowledged by Bolt. If the ledger cannot be reached nothing runs and the
 * person hears so: a command through response_url (in its listener), a click ephemerally.
 */
export function dedupeMiddleware(ledger: DeliveryLedger, logger: Logger, timeoutMs: number): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const body = args.body as unknown as Record<string, unknown>;
    const ack = (args as { ack?: (response?: unknown) => Promise<void> }).ack;
    const key = deliveryKey(body);
    const claim = () => withTimeout(ledger.claim(key, 'slack'), timeoutMs);
    if (typeof body.command === 'string') {
      args.context[CLAIM_KEY] = claim;
      await args.next();
      return;
    }
    // A second ack() (the click listener's own) is ignored by both receivers.
    if (ack) await ack();
    let fresh: boolean;
    try {
      fresh = await claim();
    } catch (error) {
      logger.warn({ key, err: error instanceof Error ? error.message : String(error) }, 'slack: delivery ledger unavailable');
      // A click has no response body to carry the message: say it ephemerally (Slack only, no database needed).
      const channel = (body.channel as { id?: string } | undefined)?.id;
      const user = (body.user as { id?: string } | undefined)?.id;
      if (body.type === 'block_actions' && channel && user) {
        const message = renderReply(ephemeral(MESSAGES.unavailable, 'error'));
        await args.client.chat.postEphemeral({ channel, user, text: message.text, blocks: message.blocks }).catch(() => undefined);
      }
      return;
    }
    if (!fresh) {
      logger.info({ key, retryNum: (args as { context?: { retryNum?: number } }).context?.retryNum }, 'slack: duplicate delivery ignored');
      return;
    }
    await args.next();
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
