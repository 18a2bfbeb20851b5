/**
 * Requests shaped like the ones Slack sends to a request URL: slash commands (form-encoded),
 * `block_actions` (form-encoded `payload` JSON) and Events API callbacks (JSON), signed with the
 * app's signing secret (`X-Slack-Signature: v0=HMAC-SHA256("v0:<ts>:<body>")`).
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';

export interface SlackRequest {
  body: string;
  contentType: string;
}

/** The signature Slack would put on `body` at `timestamp` (seconds). */
export function slackSignature(secret: string, timestamp: number | string, body: string | Buffer): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

export interface SendOptions {
  secret: string;
  /** Seconds since epoch (default now). */
  timestamp?: number;
  /** Override the signature (null = no signature headers at all). */
  signature?: string | null;
  headers?: Record<string, string>;
}

/** POST a signed request to `url`; resolves with status and body text. */
export async function sendSigned(url: string, request: SlackRequest, options: SendOptions): Promise<{ status: number; text: string; json: unknown }> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': request.contentType, ...(options.headers ?? {}) };
  if (options.signature !== null) {
    headers['x-slack-request-timestamp'] = String(timestamp);
    headers['x-slack-signature'] = options.signature ?? slackSignature(options.secret, timestamp, request.body);
  }
  const res = await fetch(url, { method: 'POST', headers, body: request.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** A random id in Slack's style (`T0A1B2C3`). */
export function slackId(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex').toUpperCase()}`;
}

export interface SlashCommandInput {
  command: '/workflow' | '/incident' | string;
  text: string;
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  responseUrl: string;
  triggerId?: string;
}

/** A slash command invocation, exactly the fields Slack sends. */
export function slashCommand(input: SlashCommandInput): SlackRequest {
  const params = new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0001',
    team_domain: 'example',
    channel_id: input.channelId,
    channel_name: input.channelName ?? 'incident-room',
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command,
    text: input.text,
    api_app_id: 'A0001',
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId ?? `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(8).toString('hex')}`,
  });
  return { body: params.toString(), contentType: FORM };
}

export interface BlockActionInput {
  actionId: string;
  value: string;
  blockId?: string;
  userId: string;
  userName?: string;
  channelId: string;
  messageTs: string;
  responseUrl: string;
  triggerId?: string;
  actionTs?: string;
}

/** A button click (`block_actions`), as Slack sends it: form-encoded with a JSON `payload`. */
export function blockAction(input: BlockActionInput): SlackRequest {
  const payload = {
    type: 'block_actions',
    user: { id: input.userId, username: input.userName ?? input.userId.toLowerCase(), name: input.userName ?? input.userId.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0001',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: input.messageTs, channel_id: input.channelId, is_ephemeral: false },
    trigger_id: input.triggerId ?? `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(8).toString('hex')}`,
    team: { id: 'T0001', domain: 'example' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: 'incident-room' },
    message: { type: 'message', ts: input.messageTs, text: 'run', bot_id: 'BBOT', blocks: [] },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        action_id: input.actionId,
        block_id: input.blockId ?? 'run_actions',
        text: { type: 'plain_text', text: input.actionId === 'run_cancel' ? 'Cancel' : 'Retry', emoji: true },
        value: input.value,
        type: 'button',
        action_ts: input.actionTs ?? `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
  return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: FORM };
}

/** An Events API `event_callback` (JSON). */
export function eventCallback(event: Record<string, unknown>, eventId = `Ev${randomBytes(5).toString('hex').toUpperCase()}`): SlackRequest {
  const body = {
    token: 'deprecated-verification-token',
    team_id: 'T0001',
    api_app_id: 'A0001',
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: 'T0001', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: randomUUID(),
  };
  return { body: JSON.stringify(body), contentType: JSON_TYPE };
}
