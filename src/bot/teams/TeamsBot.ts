/**
 * What the bot does with each inbound Teams activity: refresh the stored conversation reference,
 * turn messages into the shared command intents, answer `adaptiveCard/action` invokes (Cancel /
 * Retry) with the refreshed card, and notice when it is removed from a conversation.
 */
import { ActivityTypes, CardFactory, TurnContext, type Activity, type ChannelAccount, type Mention } from 'botbuilder';
import type { Actor, AppServices, ChannelRef } from '../../app/services.js';
import type { Logger } from '../../engine/ports.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { parseMessage, type Intent } from '../commands.js';
import { withDeadline } from '../deadline.js';
import { handleIntent } from '../intents.js';
import { MESSAGES, describeError } from '../messages.js';
import { ephemeral, type Reply, type TextReply } from '../reply.js';
import { VERBS, renderReply, renderRunCard, userText, type AdaptiveCard, type RunActionData } from './cards.js';
import { ConversationStore, channelKey, type ConversationKind } from './ConversationStore.js';

/** Teams' content type for a card in an `adaptiveCard/action` invoke response. */
export const CARD_RESPONSE_TYPE = 'application/vnd.microsoft.card.adaptive';
/** Teams waits a few seconds for an invoke answer; answer before that with what we have. */
export const INVOKE_DEADLINE_MS = 4000;

/** Answer to a resent invoke (same activity id): it was already acted on. */
export const DUPLICATE_CLICK = 'Already received: the card shows the run as it is now.';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TeamsBotDeps {
  services: AppServices;
  prisma: PrismaClient;
  conversations: ConversationStore;
  logger: Logger;
}

/** Decode the few HTML entities Teams puts into message text. */
function decodeEntities(text: string): string {
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * The command text of a message: the bot's own @mention removed, other people's mentions rewritten
 * to the neutral `<@id|Name>` form the shared grammar understands, HTML remnants dropped.
 */
export function commandText(activity: Activity): string {
  let text = TurnContext.removeRecipientMention(activity) ?? activity.text ?? '';
  const mentions = (activity.entities ?? []).filter((e) => e.type === 'mention') as unknown as Mention[];
  for (const m of mentions) {
    if (!m.text || m.mentioned?.id === activity.recipient?.id) continue;
    // Quoted because display names have spaces and the grammar splits words on whitespace.
    const label = (m.mentioned.name ?? '').replace(/["'|<>\u201C\u201D\u2018\u2019]/g, '').trim();
    const neutral = label ? `<@${m.mentioned.id}|${label}>` : `<@${m.mentioned.id}>`;
    text = text.split(m.text).join(/\s/.test(neutral) ? `"${neutral}"` : neutral);
  }
  text = text.replace(/<\/?(?:p|div|span|br)[^>]*>/gi, ' ');
  return decodeEntities(text).replace(/\s+/g, ' ').trim();
}

function conversationKind(activity: Partial<Activity>): ConversationKind {
  const type = activity.conversation?.conversationType;
  return type === 'channel' || type === 'groupChat' ? type : 'personal';
}

/** A card with a one-line notice on top (the answer to a click), still within the size budget. */
export function withNotice(card: AdaptiveCard, notice: string, tone: TextReply['tone']): AdaptiveCard {
  const color = tone === 'error' ? 'Attention' : tone === 'warning' ? 'Warning' : tone === 'success' ? 'Good' : 'Default';
  return {
    ...card,
    body: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: userText(notice, 300), color, weight: 'Bolder' }] }, ...card.body],
  };
}

function noticeCard(notice: string, tone: TextReply['tone']): AdaptiveCard {
  return withNotice({ type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5', body: [] }, notice, tone);
}

export class TeamsBot {
  constructor(private readonly deps: TeamsBotDeps) {}

  /** Handle one turn. Never throws: failures are logged and, where someone is waiting, answered. */
  async onTurn(context: TurnContext): Promise<void> {
    const activity = context.activity;
    const log = this.deps.logger.child({ activityType: activity.type, conversationType: activity.conversation?.conversationType });
    let actor: Actor | null = null;
    try {
      actor = await this.refreshConversation(activity);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'teams: could not refresh the conversation reference');
    }
    try {
      switch (activity.type) {
        case ActivityTypes.Message:
          await this.onMessage(context, actor);
          break;
        case ActivityTypes.Invoke:
          if (activity.name === 'adaptiveCard/action') await this.onCardAction(context, actor);
          else await context.sendActivity({ type: 'invokeResponse', value: { status: 200, body: {} } });
          break;
        case ActivityTypes.ConversationUpdate:
          await this.onConversationUpdate(activity);
          break;
        case ActivityTypes.InstallationUpdate:
          if (String((activity as { action?: string }).action ?? '').startsWith('remove'))
            await this.deps.conversations.markRemoved(channelKey(activity.conversation.id), 'app uninstalled from this conversation');
          break;
        default:
          break;
      }
    } catch (error) {
      log.error({ err: error instanceof Error ? error.message : String(error) }, 'teams: turn failed');
      if (activity.type === ActivityTypes.Invoke && activity.name === 'adaptiveCard/action') {
        const { reply } = describeError(error);
        await context.sendActivity(invokeCard(noticeCard(reply.text, 'error'))).catch(() => undefined);
      }
    }
  }

  /**
   * Store or refresh the conversation reference (with the current service URL) and resolve the
   * person, so proactive messages can reach this conversation and this user later.
   */
  private async refreshConversation(activity: Activity): Promise<Actor | null> {
    if (!activity.conversation?.id || !activity.serviceUrl) return null;
    const kind = conversationKind(activity);
    const removed =
      activity.type === ActivityTypes.ConversationUpdate && (activity.membersRemoved ?? []).some((m: ChannelAccount) => m.id === activity.recipient?.id);
    const from = activity.from;
    const actor =
      from?.id && from.role !== 'bot' && !removed ? await this.deps.services.users.resolve({ platform: 'teams', platformUserId: from.id, ...(from.name ? { name: from.name } : {}) }) : null;
    if (removed) return actor;
    const conversationId = channelKey(activity.conversation.id);
    const reference = TurnContext.getConversationReference(activity);
    reference.conversation = { ...reference.conversation!, id: conversationId };
    delete reference.activityId;
    const teamsTeamId = (activity.channelData as { team?: { id?: string } } | undefined)?.team?.id;
    const team =
      kind === 'personal'
        ? null
        : await this.deps.prisma.team.findFirst({
            where: { teamsConversationId: { in: [conversationId, ...(teamsTeamId ? [teamsTeamId] : [])] } },
            select: { id: true },
          });
    await this.deps.conversations.upsert({
      conversationId,
      kind,
      reference,
      serviceUrl: activity.serviceUrl,
      userId: kind === 'personal' ? (actor?.userId ?? null) : null,
      teamId: team?.id ?? null,
    });
    // The Teams team's id is also its General channel's conversation id: keep that reference too,
    // so a team whose alerts go to General can be reached even if nobody spoke there.
    if (teamsTeamId && channelKey(teamsTeamId) !== conversationId) {
      await this.deps.conversations.upsert({
        conversationId: channelKey(teamsTeamId),
        kind: 'channel',
        reference: { ...reference, conversation: { ...reference.conversation!, id: channelKey(teamsTeamId) } },
        serviceUrl: activity.serviceUrl,
        teamId: team?.id ?? null,
      });
    }
    return actor;
  }

  private channelRef(activity: Activity): ChannelRef {
    return { platform: 'teams', channelId: channelKey(activity.conversation.id) };
  }

  private async onMessage(context: TurnContext, actor: Actor | null): Promise<void> {
    const text = commandText(context.activity);
    if (!text) return;
    const parsed = parseMessage(text);
    let reply: Reply;
    if (!parsed.ok) reply = ephemeral(parsed.message, 'warning');
    else if (!actor) reply = describeError(new Error('actor could not be resolved')).reply;
    else reply = await this.run(parsed.intent, actor, context.activity);
    await context.sendActivity(toActivity(reply));
  }

  private run(intent: Intent, actor: Actor, activity: Activity): Promise<Reply> {
    return handleIntent(intent, { actor, channel: this.channelRef(activity), services: this.deps.services, logger: this.deps.logger });
  }

  /**
   * Cancel / Retry clicked on a run card. Teams resends an invoke it did not get an answer to in
   * time, and two people may click at once: the services make one transition, and a resent invoke
   * (same activity id) is recognised here and not acted on twice. The answer is always the card
   * as it is now (with a notice), so a stale card refreshes instead of erroring.
   */
  private async onCardAction(context: TurnContext, actor: Actor | null): Promise<void> {
    const activity = context.activity;
    const action = (activity.value as { action?: { type?: string; verb?: string; data?: Partial<RunActionData> } } | undefined)?.action;
    const executionId = action?.data?.executionId;
    const verb = action?.verb;
    if ((verb !== VERBS.cancel && verb !== VERBS.retry) || typeof executionId !== 'string' || !UUID.test(executionId)) {
      await context.sendActivity(invokeCard(noticeCard(MESSAGES.badButton, 'warning')));
      return;
    }
    if (!actor) {
      await context.sendActivity(invokeCard(noticeCard(describeError(new Error('actor could not be resolved')).reply.text, 'error')));
      return;
    }
    const first = await this.claimInvoke(activity);
    const intent: Intent = verb === VERBS.cancel ? { kind: 'run.cancel', executionId } : { kind: 'run.retry', executionId };
    const work: Promise<Reply> = first
      ? this.run(intent, actor, activity)
      : Promise.resolve(ephemeral(DUPLICATE_CLICK, 'info', executionId));
    const outcome = await withDeadline(
      work,
      INVOKE_DEADLINE_MS,
      () => ephemeral(MESSAGES.slow, 'info', executionId),
      () => undefined,
      (error) => this.deps.logger.warn({ err: String(error), executionId }, 'teams: late card action failed'),
    );
    const reply = outcome.value;
    const notice = reply.kind === 'text' ? reply : ephemeral(MESSAGES.badButton, 'warning');
    const view = await this.deps.services.runs.view(executionId).catch(() => null);
    const card = view ? withNotice(renderRunCard(view), notice.text, notice.tone) : noticeCard(view === null && first ? notice.text : MESSAGES.badButton, notice.tone);
    await context.sendActivity(invokeCard(card));
  }

  /** True for the first delivery of this invoke, false for a Teams retry of the same activity. */
  private async claimInvoke(activity: Activity): Promise<boolean> {
    if (!activity.id) return true;
    try {
      await this.deps.prisma.processedEvent.create({ data: { id: `teams:invoke:${activity.id}`, source: 'teams' } });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') return false;
      throw error;
    }
  }

  private async onConversationUpdate(activity: Activity): Promise<void> {
    const botRemoved = (activity.membersRemoved ?? []).some((m) => m.id === activity.recipient?.id);
    if (botRemoved) await this.deps.conversations.markRemoved(channelKey(activity.conversation.id), 'bot removed from the conversation');
  }
}

/** The activity that carries a command reply. */
export function toActivity(reply: Reply): Partial<Activity> {
  const rendered = renderReply(reply);
  if ('card' in rendered) return { type: ActivityTypes.Message, attachments: [CardFactory.adaptiveCard(rendered.card)] };
  return { type: ActivityTypes.Message, text: rendered.text, textFormat: 'markdown' };
}

/** The invoke response Teams expects for `adaptiveCard/action`: HTTP 200 with the card to show. */
export function invokeCard(card: AdaptiveCard): Partial<Activity> {
  return { type: 'invokeResponse', value: { status: 200, body: { statusCode: 200, type: CARD_RESPONSE_TYPE, value: card } } };
}
