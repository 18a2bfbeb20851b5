/** A local HTTP server the benchmark's actions call: answers 200 at once and counts requests. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpTarget {
  url: string;
  count(): number;
  /** Resolves when a request whose JSON body has this `runId` arrives (used for "first action started"). */
  close(): Promise<void>;
  onRequest(listener: (body: string) => void): void;
}

export async function startHttpTarget(): Promise<HttpTarget> {
  let count = 0;
  const listeners: Array<(body: string) => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      count++;
      const body = Buffer.concat(chunks).toString();
      for (const l of listeners) l(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
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
