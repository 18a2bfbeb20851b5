/**
 * `ChatNotifier` for Slack: one live message per run in each of the incident's Slack channels
 * (posted once, then `chat.update`d), failure alerts to the team channel with DMs to the assignee
 * and the workflow author, and plain messages for the `chat.post` action.
 *
 * - Progress goes through the worker's `ProgressCoalescer`: `publishProgress` returns at once, the
 *   latest state wins, at most about one edit per second per run, and the final state always goes out.
 * - Rate limits: the WebClient rejects 429s instead of sleeping on them; `ChannelGate` pauses only
 *   the channel that was limited, for its `Retry-After`, then repeats the call (a 429'd call was not
 *   carried out, so repeating it cannot duplicate a post).
 * - `chat.postMessage` is never retried on anything else (timeouts, 5xx, network errors): it may have
 *   gone through, and a duplicate run message is worse than a missing edit.
 * - Never throws into the run (except `postMessage`, whose failure is the `chat.post` action's error).
 */
import type { webApi } from '@slack/bolt';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { UserError } from '../../engine/errors.js';
import type { ChatNotifier, FailureAlert, Logger, RunView } from '../../engine/ports.js';
import { ProgressCoalescer } from '../../worker/coalescer.js';
import { renderFailureAlert, renderFailureDm, renderPlainMessage, renderRun } from './blocks.js';
import { ChannelGate } from './ChannelGate.js';
import { PrismaDeliveryLedger, type DeliveryLedger } from './dedupe.js';
import { checkMessage, type SlackMessage } from './limits.js';
import { replaceChatMessage } from '../../store/chat-messages.js';

/** What we keep in `WorkflowExecution.chatMessages` for a Slack run message. */
export interface SlackChatMessage {
  platform: 'slack';
  channel: string;
  ts: string;
  revision: number;
}

export interface SlackNotifierDeps {
  /** Built with `rejectRateLimitedCalls: true` and `retryConfig: { retries: 0 }` (see createSlackWebClient). */
  client: webApi.WebClient;
  prisma: PrismaClient;
  logger: Logger;
  gate?: ChannelGate;
  /** Minimum time between two edits of one run message (default 1000 ms). */
  editIntervalMs?: number;
}

export class SlackNotifier implements ChatNotifier {
  private readonly coalescer: ProgressCoalescer;
  private readonly gate: ChannelGate;
  private readonly logger: Logger;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly ledger: DeliveryLedger;

  constructor(private readonly deps: SlackNotifierDeps) {
    this.logger = deps.logger.child({ component: 'slack-notifier' });
    this.gate = deps.gate ?? new ChannelGate();
    this.ledger = new PrismaDeliveryLedger(deps.prisma);
    this.coalescer = new ProgressCoalescer({ publishProgress: (view) => this.publishSerially(view), notifyFailure: async () => {}, postMessage: async () => ({ ref: '' }) }, {
      intervalMs: deps.editIntervalMs ?? 1000,
      logger: this.logger,
    });
  }

  /** Queue the run's latest state; returns at once (the coalescer delivers it). */
  async publishProgress(view: RunView): Promise<void> {
    this.coalescer.publish(view);
  }

  /** Deliver everything queued and wait for it (shutdown, tests). */
  async flush(): Promise<void> {
    await this.coalescer.flush();
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  /**
   * One publish at a time per run, in order: two concurrent first publishes would both find no
   * stored message and post twice (the coalescer's flush can overlap an in-flight send).
   */
  private publishSerially(view: RunView): Promise<void> {
    const previous = this.chains.get(view.executionId) ?? Promise.resolve();
    const next = previous.then(() => this.publishNow(view));
    this.chains.set(view.executionId, next);
    void next.finally(() => {
      if (this.chains.get(view.executionId) === next) this.chains.delete(view.executionId);
    });
    return next;
  }

  /** Post or update the run message in every Slack channel of the incident. */
  private async publishNow(view: RunView): Promise<void> {
    const log = { executionId: view.executionId, revision: view.revision, status: view.status };
    try {
      const channels = await this.deps.prisma.incidentChannel.findMany({
        where: { incidentId: view.incident.id, platform: 'SLACK' },
        select: { channelId: true },
        orderBy: { createdAt: 'asc' },
      });
      if (channels.length === 0) return;
      const execution = await this.deps.prisma.workflowExecution.findUnique({ where: { id: view.executionId }, select: { chatMessages: true } });
      const stored = ((execution?.chatMessages ?? []) as unknown as Array<Partial<SlackChatMessage>>).filter(
        (m): m is SlackChatMessage => m?.platform === 'slack' && typeof m.ts === 'string' && typeof m.channel === 'string',
      );
      const message = guard(renderRun(view), this.logger, log);
      for (const { channelId } of channels) {
        const existing = stored.find((m) => m.channel === channelId);
        if (existing && existing.revision >= view.revision) continue;
        try {
          if (existing) {
            await this.gate.run(channelId, () => this.deps.client.chat.update({ channel: channelId, ts: existing.ts, text: message.text, blocks: message.blocks }));
            await replaceChatMessage(this.deps.prisma, view.executionId, { ...existing, revision: view.revision });
          } else {
            const posted = await this.gate.run(channelId, () => this.deps.client.chat.postMessage({ channel: channelId, text: message.text, blocks: message.blocks, unfurl_links: false }));
            if (posted.ts) await replaceChatMessage(this.deps.prisma, view.executionId, { platform: 'slack', channel: posted.channel ?? channelId, ts: posted.ts, revision: view.revision });
          }
        } catch (error) {
          this.logger.warn({ ...log, channel: channelId, err: slackError(error) }, 'slack: run message not delivered');
        }
      }
    } catch (error) {
      this.logger.warn({ ...log, err: slackError(error) }, 'slack: run message publish failed');
    }
  }

  /** Team channel alert with Retry, plus a DM each to the incident assignee and the workflow author. */
  async notifyFailure(alert: FailureAlert): Promise<void> {
    const log = { executionId: alert.run.executionId, teamId: alert.teamId };
    // One alert per failure, even if the worker reports it twice (redelivered job, two processes).
    const key = `slack:alert:${alert.run.executionId}:${alert.run.finishedAt ?? `r${alert.run.revision}`}`;
    const first = await this.ledger.claim(key, 'slack-alert').catch((error: unknown) => {
      this.logger.warn({ ...log, err: slackError(error) }, 'slack: alert ledger unavailable; sending anyway');
      return true;
    });
    if (!first) return;
    try {
      const team = await this.deps.prisma.team.findUnique({ where: { id: alert.teamId }, select: { slackChannelId: true } });
      if (team?.slackChannelId) {
        const channel = team.slackChannelId;
        const message = guard(renderFailureAlert(alert), this.logger, log);
        await this.gate.run(channel, () => this.deps.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false }));
      }
    } catch (error) {
      this.logger.warn({ ...log, err: slackError(error) }, 'slack: failure alert not delivered to the team channel');
    }
    const recipients: Array<{ userId: string; role: 'assignee' | 'author' }> = [];
    if (alert.assigneeId) recipients.push({ userId: alert.assigneeId, role: 'assignee' });
    if (alert.authorId && alert.authorId !== alert.assigneeId) recipients.push({ userId: alert.authorId, role: 'author' });
    for (const { userId, role } of recipients) {
      try {
        const user = await this.deps.prisma.user.findUnique({ where: { id: userId }, select: { slackUserId: true } });
        if (!user?.slackUserId) continue;
        const slackUserId = user.slackUserId;
        const opened = await this.gate.run(`im:${slackUserId}`, () => this.deps.client.conversations.open({ users: slackUserId }));
        const channel = opened.channel?.id;
        if (!channel) continue;
        const message = guard(renderFailureDm(alert, role), this.logger, log);
        await this.gate.run(channel, () => this.deps.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false }));
      } catch (error) {
        this.logger.warn({ ...log, role, err: slackError(error) }, 'slack: failure DM not delivered');
      }
    }
  }

  /** `chat.post`: a message to the incident's (first) Slack channel or the team's channel. */
  async postMessage(target: { incidentId: string; teamId: string; channel: 'incident' | 'team' }, text: string): Promise<{ ref: string }> {
    let channel: string | null | undefined;
    if (target.channel === 'incident') {
      const bound = await this.deps.prisma.incidentChannel.findFirst({
        where: { incidentId: target.incidentId, platform: 'SLACK' },
        select: { channelId: true },
        orderBy: { createdAt: 'asc' },
      });
      channel = bound?.channelId;
    } else {
      const team = await this.deps.prisma.team.findUnique({ where: { id: target.teamId }, select: { slackChannelId: true } });
      channel = team?.slackChannelId;
    }
    if (!channel) throw new UserError(`chat.post: no Slack channel is bound to the ${target.channel === 'incident' ? 'incident' : 'team'}`);
    const to = channel;
    const message = guard(renderPlainMessage(text), this.logger, { incidentId: target.incidentId });
    const posted = await this.gate.run(to, () => this.deps.client.chat.postMessage({ channel: to, text: message.text, blocks: message.blocks, unfurl_links: false }));
    return { ref: `slack:${posted.channel ?? to}:${posted.ts ?? ''}` };
  }
}

/** Renderers stay within limits by construction; if one ever does not, say so and send text only. */
function guard(message: SlackMessage, logger: Logger, log: object): SlackMessage {
  const problems = checkMessage(message);
  if (problems.length === 0) return message;
  logger.error({ ...log, problems: problems.slice(0, 5) }, 'slack: rendered message breaks Block Kit limits; sending text only');
  return { text: message.text.slice(0, 3000), blocks: [] };
}

/** A log-safe description of a Web API error (code and Slack's error string; never the request). */
export function slackError(error: unknown): string {
  if (error === null || typeof error !== 'object') return String(error);
  const e = error as { code?: unknown; data?: { error?: unknown }; message?: unknown };
  const detail = typeof e.data?.error === 'string' ? e.data.error : typeof e.message === 'string' ? e.message : '';
  return `${typeof e.code === 'string' ? `${e.code}: ` : ''}${detail}`.slice(0, 300);
}
