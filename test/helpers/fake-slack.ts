/**
 * A local Slack Web API: answers `POST /api/<method>` like Slack does (form-encoded or JSON bodies,
 * bearer token, `{ ok: true, ... }` answers with channel and ts), records every call, can answer 429
 * with `Retry-After` for chosen methods/channels, and records posts to `response_url`s
 * (`POST /response/<id>`). Point `@slack/web-api` at it with `slackApiUrl: fake.apiUrl`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** HTTP status answered. */
  status: number;
  /** Order of arrival (1-based). */
  seq: number;
  at: number;
  token: string | undefined;
}

export interface RateLimitRule {
  method: string;
  /** Only calls for this channel (default: any). */
  channel?: string;
  /** How many calls to refuse (default 1). */
  times?: number;
  retryAfterSeconds: number;
}

export interface FailureRule {
  method: string;
  /** HTTP status to answer (e.g. 500, 503). */
  status: number;
  times?: number;
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: ResponseUrlPost[] = [];
  /** Current text/blocks of every message by `channel:ts` (posts, then updates). */
  readonly messages = new Map<string, { channel: string; ts: string; text: unknown; blocks: unknown[]; updates: number }>();
  readonly token: string;
  /** App-level token accepted by apps.connections.open (Socket Mode). */
  readonly appToken: string;
  /** WebSocket URL handed out by apps.connections.open. */
  socketUrl = '';
  private rules: Array<RateLimitRule & { left: number }> = [];
  private failures: Array<FailureRule & { left: number }> = [];
  private server: Server | null = null;
  private seq = 0;
  /** Channels created through conversations.create, name -> id (pre-seed to simulate name_taken). */
  readonly channels = new Map<string, string>();
  private tsCounter = 1_700_000_000;
  url = '';

  constructor(options: { token?: string; appToken?: string } = {}) {
    this.token = options.token ?? 'xoxb-test-token';
    this.appToken = options.appToken ?? 'xapp-test-token';
  }

  /** Base URL for `slackApiUrl` (ends with a slash, as the WebClient expects). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A `response_url` that posts back here. */
  responseUrl(id: string): string {
    return `${this.url}/response/${id}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  /** Refuse the next `times` matching calls with 429 and `Retry-After`. */
  rateLimit(rule: RateLimitRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  /** Answer the next `times` calls of `method` with an HTTP error (after recording them). */
  fail(rule: FailureRule): void {
    this.failures.push({ ...rule, left: rule.times ?? 1 });
  }

  /** Successful calls of `method` (optionally for one channel). */
  ok(method: string, channel?: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method && c.status === 200 && (channel === undefined || c.args.channel === channel));
  }

  /** Poll until `check` holds (throws after `timeoutMs`, naming `what`). */
  async waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; calls: ${this.calls.map((c) => `${c.method}:${c.status}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const args = parseArgs(raw, req.headers['content-type']);

    if (url.pathname.startsWith('/response/')) {
      this.responses.push({ id: url.pathname.slice('/response/'.length), body: args });
      send(res, 200, 'ok', 'text/plain');
      return;
    }
    const match = /^\/api\/([\w.]+)$/.exec(url.pathname);
    if (!match) {
      send(res, 404, { ok: false, error: 'unknown_method' });
      return;
    }
    const method = match[1]!;
    const auth = req.headers.authorization;
    const token = typeof args.token === 'string' ? args.token : auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const call: SlackCall = { method, args, status: 200, seq: ++this.seq, at: Date.now(), token };
    this.calls.push(call);

    if (method === 'apps.connections.open') {
      const valid = token === this.appToken && this.socketUrl !== '';
      send(res, 200, valid ? { ok: true, url: this.socketUrl } : { ok: false, error: token === this.appToken ? 'internal_error' : 'invalid_auth' });
      return;
    }
    if (token !== this.token) {
      send(res, 200, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
      return;
    }
    const failure = this.failures.find((f) => f.left > 0 && f.method === method);
    if (failure) {
      failure.left -= 1;
      call.status = failure.status;
      send(res, failure.status, 'upstream trouble', 'text/plain');
      return;
    }
    const rule = this.rules.find((r) => r.left > 0 && r.method === method && (r.channel === undefined || r.channel === args.channel));
    if (rule) {
      rule.left -= 1;
      call.status = 429;
      res.setHeader('Retry-After', String(rule.retryAfterSeconds));
      send(res, 429, { ok: false, error: 'ratelimited' });
      return;
    }
    send(res, 200, this.answer(method, args));
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const channel = typeof args.channel === 'string' ? args.channel : '';
    const blocks = Array.isArray(args.blocks) ? args.blocks : [];
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://example.slack.com/', team: 'Example', user: 'incident-bot', team_id: 'T0001', user_id: 'UBOT', bot_id: 'BBOT' };
      case 'chat.postMessage': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const ts = `${++this.tsCounter}.000100`;
        this.messages.set(`${channel}:${ts}`, { channel, ts, text: args.text, blocks, updates: 0 });
        return { ok: true, channel, ts, message: { type: 'message', text: args.text, blocks, ts, bot_id: 'BBOT' } };
      }
      case 'chat.update': {
        const ts = String(args.ts ?? '');
        const existing = this.messages.get(`${channel}:${ts}`);
        if (!existing) return { ok: false, error: 'message_not_found' };
        existing.text = args.text;
        existing.blocks = blocks;
        existing.updates += 1;
        return { ok: true, channel, ts, text: args.text, message: { text: args.text, blocks } };
      }
      case 'chat.postEphemeral':
        if (!channel || typeof args.user !== 'string') return { ok: false, error: 'channel_not_found' };
        return { ok: true, message_ts: `${++this.tsCounter}.000200` };
      case 'conversations.open': {
        const users = String(args.users ?? '');
        if (!users) return { ok: false, error: 'users_list_not_supplied' };
        return { ok: true, channel: { id: `D${users.replace(/[^A-Z0-9]/gi, '').toUpperCase()}` } };
      }
      case 'conversations.create': {
        const name = String(args.name ?? '');
        if (!/^[a-z0-9_-]{1,80}$/.test(name)) return { ok: false, error: 'invalid_name_specials' };
        if (this.channels.has(name)) return { ok: false, error: 'name_taken' };
        const id = `C${String(++this.tsCounter).slice(-8)}`;
        this.channels.set(name, id);
        return { ok: true, channel: { id, name, is_channel: true, created: Math.floor(Date.now() / 1000) } };
      }
      case 'conversations.invite':
        return [...this.channels.values()].includes(channel) ? { ok: true, channel: { id: channel } } : { ok: false, error: 'channel_not_found' };
      default:
        return { ok: true };
    }
  }
}

/** Slack's Web API takes form bodies whose nested values are JSON strings, or JSON bodies. */
function parseArgs(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if ((contentType ?? '').includes('application/json')) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if ((key === 'blocks' || key === 'attachments' || key === 'metadata') && value.startsWith('[')) {
      try {
        out[key] = JSON.parse(value);
        continue;
      } catch {
        // keep the string
      }
    }
    out[key] = value;
  }
  return out;
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.statusCode = status;
  res.setHeader('content-type', type);
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Start a fake Slack on loopback. */
export async function startFakeSlack(options: { token?: string; appToken?: string } = {}): Promise<FakeSlack> {
  return new FakeSlack(options).start();
}
