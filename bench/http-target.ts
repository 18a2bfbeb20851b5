/** A local HTTP server the benchmark's actions call: answers 200 (at once, or after `delayMs`) and counts requests. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpTarget {
  url: string;
  count(): number;
  close(): Promise<void>;
  /** Called with each request's body as soon as it has arrived (before the answer). */
  onRequest(listener: (body: string) => void): void;
}

export async function startHttpTarget(options: { delayMs?: number } = {}): Promise<HttpTarget> {
  const delayMs = options.delayMs ?? 0;
  let count = 0;
  const listeners: Array<(body: string) => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      count++;
      const body = Buffer.concat(chunks).toString();
      for (const l of listeners) l(body);
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () => count,
    onRequest: (l) => listeners.push(l),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
