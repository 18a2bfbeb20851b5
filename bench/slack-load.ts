/**
 * Slash-command load for row 5, playing Slack's part: fire `inFlight` signed `/workflow run`
 * commands at once at a receiver, time each HTTP acknowledgement, and receive what the app then
 * posts to each command's `response_url` (timed from the send, on the machine's shared clock). The
 * baseline receiver is a Bolt app that only acknowledges ({@link startAckOnlyBolt}).
 *
 * By default the sender and the response_url server each run in a child process of their own
 * (this file is their entry point too). With 200 requests in flight on one thread every request's
 * CPU adds to every later request's latency, so a sender sharing the measured server's thread
 * charges its own signing and HTTP client work to whichever side is measured, and a response_url
 * server sharing the sender's thread delays the reading of acks while answers arrive (which only
 * the product sends). Both sides are measured through the same sender, either way. `inProcess: true`
 * runs the same code in the caller's process (to show what that costs). */
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import { fork, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { quantile } from './stats.js';

/** Sign a body the way Slack does (v0 scheme). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** One round of commands fired at once. */
export interface RoundRequest {
  url: string;
  secret: string;
  /** One form per command; each `response_url` should point at {@link LoadClient.responseUrl}. */
  commands: Array<Record<string, string>>;
  /** Ack bodies must match this (regex source); omitted = any 200. */
  expectAck?: string;
  /** Wait for every command's response_url answer (up to `responseTimeoutMs`, default 30 s) and check it matches this (regex source). */
  expectResponse?: string;
  responseTimeoutMs?: number;
}

/** What one round measured. Latencies are in ms from the moment each request was handed to the socket pool. */
export interface RoundResult {
  acks: number[];
  /** Acks that were not 200 or did not match `expectAck`. */
  ackErrors: number;
  firstAckError?: string;
  /** Time until each command's response_url answer arrived (answered commands only). */
  responses: number[];
  /** Commands whose answer never arrived within the timeout. */
  missingResponses: number;
  /** Answers that arrived but did not match `expectResponse`. */
  wrongResponses: number;
  firstWrongResponse?: string;
}

/** Slack's side of row 5: a command sender plus a response_url server. */
export interface LoadClient {
  /** `response_url` for command `id` (any string without a slash). */
  responseUrl(id: string): string;
  round(request: RoundRequest): Promise<RoundResult>;
  close(): Promise<void>;
}

/** Milliseconds on a clock every process of this machine shares (wall clock, sub-millisecond). */
const clock = () => performance.timeOrigin + performance.now();

interface Arrival {
  at: number;
  text: string;
}

/** Slack's response_url endpoint: keeps what arrives for each id until it is collected. */
async function startResponder(): Promise<{ base: string; collect(ids: string[], timeoutMs: number): Promise<Array<Arrival | null>>; close(): Promise<void> }> {
  const arrivals = new Map<string, Arrival>();
  const waiters = new Map<string, () => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = clock();
      const id = decodeURIComponent((req.url ?? '').replace(/^\/response\//, ''));
      let text = Buffer.concat(chunks).toString('utf8');
      try {
        text = String((JSON.parse(text) as { text?: unknown }).text ?? text);
      } catch {
        // keep the raw body
      }
      if (!arrivals.has(id)) arrivals.set(id, { at, text });
      waiters.get(id)?.();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response/`;
  const collect = async (ids: string[], timeoutMs: number): Promise<Array<Arrival | null>> => {
    const deadline = performance.now() + timeoutMs;
    await Promise.all(
      ids.map(
        (id) =>
          new Promise<void>((resolve) => {
            if (arrivals.has(id)) return resolve();
            const timer = setTimeout(() => {
              waiters.delete(id);
              resolve();
            }, Math.max(0, deadline - performance.now()));
            waiters.set(id, () => {
              clearTimeout(timer);
              waiters.delete(id);
              resolve();
            });
          }),
      ),
    );
    return ids.map((id) => {
      const arrival = arrivals.get(id) ?? null;
      arrivals.delete(id);
      return arrival;
    });
  };
  return {
    base,
    collect,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the sender measured: per command, when it was sent (shared clock) and its ack. */
interface Sent {
  starts: number[];
  acks: number[];
  ackErrors: number;
  firstAckError?: string;
}

/** Fire every command of `r` at once and time each acknowledgement. */
async function sendRound(r: Pick<RoundRequest, 'url' | 'secret' | 'commands' | 'expectAck'>): Promise<Sent> {
  const target = new URL(r.url);
  // Everything a request needs is built before the clock starts, so the sender's own CPU stays out
  // of the measured interval as far as one thread allows.
  const ts = Math.floor(Date.now() / 1000);
  const prepared = r.commands.map((fields) => {
    const body = new URLSearchParams(fields).toString();
    return {
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': slackSignature(r.secret, ts, body),
      },
    };
  });
  const agent = new Agent({ keepAlive: true, maxSockets: prepared.length });
  const expectAck = r.expectAck ? new RegExp(r.expectAck) : undefined;
  const starts: number[] = [];
  const results = await Promise.all(
    prepared.map(
      (p, i) =>
        new Promise<{ ms: number; status: number; body: string }>((resolve, reject) => {
          const t0 = performance.now();
          starts[i] = performance.timeOrigin + t0;
          const req = request(target, { method: 'POST', agent, headers: p.headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          });
          req.on('error', reject);
          req.end(p.body);
        }),
    ),
  );
  agent.destroy();
  const out: Sent = { starts, acks: [], ackErrors: 0 };
  for (const res of results) {
    out.acks.push(res.ms);
    if (res.status !== 200 || (expectAck && !expectAck.test(res.body))) {
      out.ackErrors++;
      out.firstAckError ??= `${res.status} ${res.body.slice(0, 200)}`;
    }
  }
  return out;
}

/** Combine what the sender and the responder saw into one {@link RoundResult}. */
function combine(r: RoundRequest, base: string, sent: Sent, arrivals: Array<Arrival | null> | null): RoundResult {
  const out: RoundResult = { acks: sent.acks, ackErrors: sent.ackErrors, responses: [], missingResponses: 0, wrongResponses: 0 };
  if (sent.firstAckError !== undefined) out.firstAckError = sent.firstAckError;
  if (!arrivals || r.expectResponse === undefined) return out;
  const expected = new RegExp(r.expectResponse);
  arrivals.forEach((arrival, i) => {
    if (!arrival) {
      out.missingResponses++;
      return;
    }
    out.responses.push(arrival.at - sent.starts[i]!);
    if (!expected.test(arrival.text)) {
      out.wrongResponses++;
      out.firstWrongResponse ??= arrival.text.slice(0, 200);
    }
  });
  return out;
}

/** The response_url ids of a round's commands (made by `responseUrl`). */
function responseIds(r: RoundRequest, base: string): string[] {
  return r.commands.map((fields) => decodeURIComponent((fields.response_url ?? '').slice(base.length)));
}

/** A child process of this file playing one part, spoken to over IPC. */
interface ChildPart {
  ready: Record<string, unknown>;
  call<T>(type: string, payload: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

async function forkPart(role: 'sender' | 'responder'): Promise<ChildPart> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', role], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('message', (msg: Record<string, unknown>) => resolve(msg));
    child.once('exit', (code) => reject(new Error(`slack load ${role} exited with ${code}`)));
  });
  let seq = 0;
  const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (msg: { seq?: number; result?: unknown; error?: string }) => {
    if (msg.seq === undefined) return;
    const p = pending.get(msg.seq);
    pending.delete(msg.seq);
    if (msg.error !== undefined) p?.reject(new Error(msg.error));
    else p?.resolve(msg.result);
  });
  child.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error(`slack load ${role} exited`));
    pending.clear();
  });
  return {
    ready,
    call: <T>(type: string, payload: Record<string, unknown>) =>
      new Promise<T>((resolve, reject) => {
        const id = ++seq;
        pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
        child.send({ type, seq: id, ...payload });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}

/**
 * Start Slack's side of row 5: a sender and a response_url server, each in its own child process
 * (default; Slack's own servers do not share a thread with each other or with the app), or both in
 * this process with `inProcess`. Commands must carry `response_url`s made by `responseUrl`.
 */
export async function startLoadClient(options: { inProcess?: boolean } = {}): Promise<LoadClient> {
  if (options.inProcess) {
    const responder = await startResponder();
    return {
      responseUrl: (id) => `${responder.base}${encodeURIComponent(id)}`,
      async round(r) {
        const sent = await sendRound(r);
        const arrivals = r.expectResponse === undefined ? null : await responder.collect(responseIds(r, responder.base), r.responseTimeoutMs ?? 30_000);
        return combine(r, responder.base, sent, arrivals);
      },
      close: () => responder.close(),
    };
  }
  const [sender, responder] = await Promise.all([forkPart('sender'), forkPart('responder')]);
  const base = String(responder.ready.base);
  return {
    responseUrl: (id) => `${base}${encodeURIComponent(id)}`,
    async round(r) {
      const sent = await sender.call<Sent>('send', { request: { url: r.url, secret: r.secret, commands: r.commands, ...(r.expectAck ? { expectAck: r.expectAck } : {}) } });
      const arrivals =
        r.expectResponse === undefined ? null : await responder.call<Array<Arrival | null>>('collect', { ids: responseIds(r, base), timeoutMs: r.responseTimeoutMs ?? 30_000 });
      return combine(r, base, sent, arrivals);
    },
    close: async () => {
      await Promise.all([sender.close(), responder.close()]);
    },
  };
}

/** p50 and p99 of a set of latencies. */
export function p50p99(latencies: number[]): { p50: number; p99: number } {
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** A Bolt app that only acknowledges `/workflow`; the baseline for acknowledgement latency. */
export async function startAckOnlyBolt(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const receiver = new ExpressReceiver({ signingSecret: secret, endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  // A fixed authorization, as the product has: without it Bolt calls auth.test on every request.
  const app = new App({ receiver, authorize: async () => ({ botToken: 'xoxb-bench', botId: 'BBENCH', botUserId: 'UBENCHBOT' }), logLevel: LogLevel.ERROR });
  app.command('/workflow', async ({ ack }) => {
    await ack();
  });
  const server: Server = await new Promise((resolve) => {
    const s = receiver.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/slack/events`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Child entry point: `fork(this file, ['--child', 'sender' | 'responder'])`.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--child') && process.send) {
  const role = process.argv[process.argv.indexOf('--child') + 1];
  const responder = role === 'responder' ? await startResponder() : null;
  const reply = (seq: unknown, work: Promise<unknown>) =>
    work.then(
      (result) => process.send!({ seq, result }),
      (error: unknown) => process.send!({ seq, error: error instanceof Error ? error.message : String(error) }),
    );
  process.on('message', (msg: { type: string; seq?: number; request?: RoundRequest; ids?: string[]; timeoutMs?: number }) => {
    if (msg.type === 'stop') {
      void (responder ? responder.close() : Promise.resolve()).then(() => process.exit(0));
    } else if (msg.type === 'send' && msg.request) {
      void reply(msg.seq, sendRound(msg.request));
    } else if (msg.type === 'collect' && responder && msg.ids) {
      void reply(msg.seq, responder.collect(msg.ids, msg.timeoutMs ?? 30_000));
    }
  });
  process.send(responder ? { type: 'ready', base: responder.base } : { type: 'ready' });
}
