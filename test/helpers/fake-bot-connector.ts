/**
 * A local Bot Connector: the REST API a bot calls at the activity's `serviceUrl` to reply, update
 * messages and open 1:1 conversations. It speaks the real v3 request/response shapes, records every
 * call, checks the bot's bearer token when asked to, and can be told to fail like Teams does
 * (429 with Retry-After, 412, 502/504, 403 when the bot was removed, 404 for a missing conversation).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectorCall {
  method: string;
  /** `send` (POST activities), `reply` (POST activities/{replyToId}), `update` (PUT activities/{id}), `createConversation` (POST /v3/conversations). */
  kind: 'send' | 'reply' | 'update' | 'createConversation' | 'other';
  path: string;
  conversationId?: string;
  activityId?: string;
  body: Record<string, unknown>;
  authorization?: string;
  status: number;
  /** The id the connector answered with (new activity or conversation). */
  responseId?: string;
  at: number;
}

export interface InjectedFailure {
  match: (call: Pick<ConnectorCall, 'kind' | 'conversationId' | 'activityId'>) => boolean;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many matching calls fail (default 1). */
  times?: number;
}

export interface FakeBotConnectorOptions {
  /** When set, every call must carry a bearer token this function accepts, else 401. */
  verifyToken?: (token: string) => boolean;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class FakeBotConnector {
  private server!: Server;
  serviceUrl = '';
  readonly calls: ConnectorCall[] = [];
  private readonly failures: Array<InjectedFailure & { remaining: number }> = [];
  /** Conversations the bot was removed from: every call answers 403. */
  readonly removed = new Set<string>();
  /** Conversations that do not exist (deleted chat): every call answers 404. */
  readonly missing = new Set<string>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: FakeBotConnectorOptions = {}) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'ServiceError', message: String(error) } }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    // Trailing slash as Teams sends it (e.g. https://smba.trafficmanager.net/emea/).
    this.serviceUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Make the next matching call(s) fail with `status`. */
  failNext(failure: InjectedFailure): void {
    this.failures.push({ ...failure, remaining: failure.times ?? 1 });
  }

  /** Successful calls of one kind (optionally in one conversation). */
  ok(kind: ConnectorCall['kind'], conversationId?: string): ConnectorCall[] {
    return this.calls.filter((c) => c.kind === kind && c.status < 300 && (conversationId === undefined || c.conversationId === conversationId));
  }

  /** Wait until `predicate` holds (re-checked after every call), or fail after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 15_000, what = 'connector condition'): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; calls: ${JSON.stringify(this.calls.map((c) => `${c.method} ${c.path} ${c.status}`))}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const url = new URL(req.url ?? '/', 'http://localhost');
    // The service URL may carry a path (e.g. /emea/): the API starts at its `v3` segment.
    const all = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const segments = all.indexOf('v3') >= 0 ? all.slice(all.indexOf('v3')) : all;
    let kind: ConnectorCall['kind'] = 'other';
    let conversationId: string | undefined;
    let activityId: string | undefined;
    if (segments[0] === 'v3' && segments[1] === 'conversations') {
      conversationId = segments[2];
      if (segments.length === 2 && req.method === 'POST') kind = 'createConversation';
      else if (segments[3] === 'activities' && segments.length === 4 && req.method === 'POST') kind = 'send';
      else if (segments[3] === 'activities' && segments.length === 5 && req.method === 'POST') {
        kind = 'reply';
        activityId = segments[4];
      } else if (segments[3] === 'activities' && segments.length === 5 && req.method === 'PUT') {
        kind = 'update';
        activityId = segments[4];
      }
    }
    const authorization = req.headers.authorization;
    const call: ConnectorCall = { method: req.method ?? '', kind, path: url.pathname, body, status: 0, at: Date.now(), ...(conversationId ? { conversationId } : {}), ...(activityId ? { activityId } : {}), ...(authorization ? { authorization } : {}) };

    const respond = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      const id = (payload as { id?: unknown } | null)?.id;
      if (typeof id === 'string') call.responseId = id;
      this.calls.push(call);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
      for (const waiter of [...this.waiters]) waiter();
    };

    if (this.options.verifyToken) {
      const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
      if (!token || !this.options.verifyToken(token)) return respond(401, { message: 'Authorization has been denied for this request.' });
    }
    if (conversationId && this.removed.has(conversationId))
      return respond(403, { error: { code: 'BotNotInConversationRoster', message: 'The bot is not part of the conversation roster.' } });
    if (conversationId && this.missing.has(conversationId)) return respond(404, { error: { code: 'ConversationNotFound', message: 'Conversation not found.' } });
    const failure = this.failures.find((f) => f.remaining > 0 && f.match({ kind, ...(conversationId ? { conversationId } : {}), ...(activityId ? { activityId } : {}) }));
    if (failure) {
      failure.remaining--;
      return respond(failure.status, failure.body ?? { error: { code: 'Throttled', message: `injected ${failure.status}` } }, failure.headers);
    }

    switch (kind) {
      case 'send':
      case 'reply':
        return respond(201, { id: `act-${randomUUID()}` });
      case 'update':
        return respond(200, { id: activityId });
      case 'createConversation': {
        const member = (body.members as Array<{ id: string }> | undefined)?.[0]?.id ?? 'unknown';
        return respond(201, { id: `a:personal-${member}`, activityId: `act-${randomUUID()}` });
      }
      default:
        return respond(404, { error: { code: 'NotFound', message: `no route for ${req.method} ${url.pathname}` } });
    }
  }
}

/** Start a fake Bot Connector on loopback. */
export async function startFakeBotConnector(options: FakeBotConnectorOptions = {}): Promise<FakeBotConnector> {
  return new FakeBotConnector(options).start();
}
