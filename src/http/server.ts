/**
 * The one HTTP server of a `web` process: health, readiness, the HTTP API, Slack and Teams.
 * Components hand in routers; this file owns only what every request shares.
 */
import express, { type Express, type Router } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';

/** A dependency /readyz checks. `check` rejects (or times out) when the dependency is down. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface HttpAppOptions {
  logger: Logger;
  readiness: ReadinessCheck[];
  /** Routers mounted at a path prefix, in order. */
  mounts?: Array<{ path: string; router: Router }>;
  /** How long one readiness check may take before it counts as failed. */
  readinessTimeoutMs?: number;
}

/** Build the express app (no listening). */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  let shuttingDown = false;
  app.locals.setShuttingDown = () => {
    shuttingDown = true;
  };

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    if (shuttingDown) {
      res.status(503).json({ status: 'unavailable', failing: ['shutdown'], checks: {} });
      return;
    }
    const timeoutMs = options.readinessTimeoutMs ?? 2000;
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
          return [name, { ok: true }] as const;
        } catch (error) {
          return [name, { ok: false, error: error instanceof Error ? error.message : String(error) }] as const;
        }
      }),
    );
    const failing = results.filter(([, r]) => !r.ok).map(([name]) => name);
    if (failing.length > 0) options.logger.warn({ failing }, 'readiness check failed');
    res.status(failing.length === 0 ? 200 : 503).json({
      status: failing.length === 0 ? 'ready' : 'unavailable',
      failing,
      checks: Object.fromEntries(results),
    });
  });

  for (const { path, router } of options.mounts ?? []) app.use(path, router);

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'No such endpoint' } });
  });
  return app;
}

/** A listening server with a bounded, connection-draining close. */
export interface RunningHttpServer {
  server: Server;
  port: number;
  url: string;
  /** Stop accepting connections, let in-flight requests finish, force-close after `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

/** Listen on `host:port` (port 0 picks a free one). */
export async function listen(app: Express, port: number, host: string): Promise<RunningHttpServer> {
  const server = createServer(app);
  // Slack retries after 3 s and Teams after 15 s; a slow client must not hold a socket forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const locals = app.locals as { setShuttingDown?: () => void };
        locals.setShuttingDown?.();
        const timer = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, timeoutMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
