/**
 * A local Slack Web API that enforces Slack's per-channel message limits: `chat.postMessage` and
 * `chat.update` each allow about one call per second per channel, with short bursts tolerated
 * (a token bucket of `burst` calls refilled at `perSecond`); beyond that the call is refused with
 * HTTP 429, `Retry-After` and `{ ok: false, error: 'ratelimited' }`, exactly as Slack does, and is
 * not carried out. Records every call and the current text of every message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackApiCall {
  method: string;
  channel: string | undefined;
  status: number;
}

export interface LimitedSlackApi {
  /** For `slackApiUrl` (ends with a slash). */
  apiUrl: string;
  token: string;
  calls: SlackApiCall[];
  /** Current fallback text of each message by `channel:ts`. */
  messages: Map<string, string>;
  close(): Promise<void>;
}

interface Bucket {
  tokens: number;
  at: number;
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  return Object.fromEntries(new URLSearchParams(raw));
}

export async function startLimitedSlackApi(options: { perSecond?: number; burst?: number; token?: string } = {}): Promise<LimitedSlackApi> {
  const perSecond = options.perSecond ?? 1;
  const burst = options.burst ?? 3;
  const token = options.token ?? 'xoxb-bench-token';
  const calls: SlackApiCall[] = [];
  const messages = new Map<string, string>();
  const buckets = new Map<string, Bucket>();
  let ts = 1_800_000_000;

  /** Take a token for `key`; returns 0 when allowed, else the seconds to wait. */
  const take = (key: string): number => {
    const now = performance.now() / 1000;
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * perSecond);
    b.at = now;
    buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
  };

  const send = (res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const args = parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
    const method = /^\/api\/([\w.]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname)?.[1] ?? '';
    const channel = typeof args.channel === 'string' ? args.channel : undefined;
    if (req.headers.authorization !== `Bearer ${token}`) {
      calls.push({ method, channel, status: 200 });
      return send(res, 200, { ok: false, error: 'invalid_auth' });
    }
    if ((method === 'chat.postMessage' || method === 'chat.update') && channel) {
      const wait = take(`${method}:${channel}`);
      if (wait > 0) {
        calls.push({ method, channel, status: 429 });
        return send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(wait) });
      }
    }
    calls.push({ method, channel, status: 200 });
    const text = typeof args.text === 'string' ? args.text : '';
    switch (method) {
      case 'chat.postMessage': {
        const id = `${++ts}.000100`;
        messages.set(`${channel}:${id}`, text);
        return send(res, 200, { ok: true, channel, ts: id, message: { text, ts: id } });
      }
      case 'chat.update': {
        const key = `${channel}:${String(args.ts)}`;
        if (!messages.has(key)) return send(res, 200, { ok: false, error: 'message_not_found' });
        messages.set(key, text);
        return send(res, 200, { ok: true, channel, ts: args.ts, text });
      }
      case 'conversations.open':
        return send(res, 200, { ok: true, channel: { id: `D${String(args.users ?? 'X')}` } });
      case 'chat.postEphemeral':
        return send(res, 200, { ok: true, message_ts: `${++ts}.000200` });
      default:
        return send(res, 200, { ok: true });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { ok: false, error: 'internal_error' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    token,
    calls,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
