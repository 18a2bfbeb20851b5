/**
 * A private redis-server on a free port, for tests that stop and restart Redis (never touch the
 * shared one on 6379).
 */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Start a throw-away redis-server; `stop()` then `start()` simulates an outage. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const ping = async () => {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
      return stdout.trim() === 'PONG';
    } catch {
      return false;
    }
  };
  const handle: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes'], {
        stdio: 'ignore',
      });
      await new Promise((resolve) => child.once('exit', resolve));
      for (let i = 0; i < 100 && !(await ping()); i++) await new Promise((r) => setTimeout(r, 50));
      if (!(await ping())) throw new Error(`redis-server on ${port} did not start`);
    },
    async stop() {
      await run('redis-cli', ['-p', String(port), 'shutdown', 'nosave']).catch(() => undefined);
      for (let i = 0; i < 100 && (await ping()); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
  await handle.start();
  return handle;
}
