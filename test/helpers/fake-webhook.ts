/**
 * A webhook receiver on a local port that records every request, dedupes deliveries on
 * `Idempotency-Key` (as a well-behaved receiver does), counts TCP connections, and can be told
 * to misbehave for the next N requests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type WebhookMisbehaviour =
  | { kind: 'drop-after-receive' }
  | { kind: 'status-after-receive'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  | { kind: 'stream'; bytes: number }
  | { kind: 'slow-body'; bytesPerSecond: number }
  | { kind: 'slow-headers' }
  | { kind: 'redirect'; location: string; status?: number }
  /** Answers with the request echoed back (headers, path, body), as careless servers do in errors. */
  | { kind: 'echo'; status: number };

export class FakeWebhookReceiver {
  readonly requests: RecordedRequest[] = [];
  /** First request per Idempotency-Key: what a deduping receiver acted on. */
  readonly deliveries = new Map<string, RecordedRequest>();
  connections = 0;
  /** Bytes written by `stream` / `slow-body` answers before the client went away. */
  bytesSent = 0;
  /** Body of a normal 200 answer. */
  reply: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '{"ok":true}' };
  private readonly queue: WebhookMisbehaviour[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    readonly host: string,
  ) {}

  static async start(host = '127.0.0.1'): Promise<FakeWebhookReceiver> {
    const server = http.createServer();
    const receiver = new FakeWebhookReceiver(server, host);
    server.on('connection', () => receiver.connections++);
    server.on('request', (req, res) => receiver.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://${this.host}:${this.port}${path}`;
  }

  /** The next `times` requests get this behaviour (queued in order). */
  misbehave(mode: WebhookMisbehaviour, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push(mode);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      this.requests.push(record);
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string' && !this.deliveries.has(key)) this.deliveries.set(key, record);
      const mode = this.queue.shift();
      this.respond(mode, req, res);
    });
  }

  private respond(mode: WebhookMisbehaviour | undefined, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!mode) {
      res.writeHead(this.reply.status, { 'content-type': 'application/json', ...this.reply.headers });
      res.end(this.reply.body);
      return;
    }
    switch (mode.kind) {
      case 'drop-after-receive':
        req.socket.destroy();
        return;
      case 'status-after-receive':
        res.writeHead(mode.status, { 'content-type': 'application/json', ...mode.headers });
        res.end(mode.body ?? '{"error":"gateway timeout"}');
        return;
      case 'rate-limit':
        res.writeHead(429, { 'retry-after': String(mode.retryAfterSeconds), 'content-type': 'application/json' });
        res.end('{"error":"slow down"}');
        return;
      case 'echo':
        res.writeHead(mode.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: mode.status >= 400 ? `rejected ${req.url}` : undefined, headers: req.headers, body: this.requests.at(-1)?.body }));
        return;
      case 'redirect':
        res.writeHead(mode.status ?? 302, { location: mode.location });
        res.end();
        return;
      case 'stream': {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(mode.bytes) });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let left = mode.bytes;
        const pump = (): void => {
          while (left > 0) {
            const piece = chunk.subarray(0, Math.min(chunk.length, left));
            left -= piece.length;
            this.bytesSent += piece.length;
            if (!res.write(piece)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        res.on('close', () => (left = 0));
        pump();
        return;
      }
      case 'slow-body': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          this.bytesSent += mode.bytesPerSecond;
          res.write('x'.repeat(mode.bytesPerSecond));
        }, 1000);
        this.timers.add(timer);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'slow-headers': {
        const line = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n';
        let i = 0;
        const timer = setInterval(() => {
          if (req.socket.destroyed || i >= line.length) return clearInterval(timer);
          this.bytesSent++;
          req.socket.write(line[i++]!);
        }, 1000);
        this.timers.add(timer);
        req.socket.on('close', () => clearInterval(timer));
        return;
      }
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A plain TCP listener that only counts connections (for "zero connections" assertions). */
export async function startConnectionCounter(host = '127.0.0.1'): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = http.createServer((_req, res) => res.end('reached'));
  server.on('connection', () => count++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    count: () => count,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
