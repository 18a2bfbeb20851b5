/**
 * The product as a user starts it: the real entry point in a child process, against a real
 * database and a private Redis we can stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';

const ENTRY = ['--import', 'tsx', 'src/main.ts'];

function startProcess(env: Record<string, string>): { child: ChildProcess; output: () => string; url: Promise<string> } {
  const child = spawn(process.execPath, ENTRY, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)","msg":"HTTP server listening"/.exec(out);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  // The invalid-environment case never listens: keep its rejection from being unhandled.
  url.catch(() => undefined);
  return { child, output: () => out, url };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('service process', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    await db?.drop();
  });

  it('starts without chat credentials, says which platforms are off, answers health and readiness, and reports Redis down by name', async () => {
    const proc = startProcess({ DATABASE_URL: db.url, REDIS_URL: redis.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    try {
      const url = await proc.url;
      expect(proc.output()).toMatch(/Slack off/);
      expect(proc.output()).toMatch(/Teams off/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);

      await redis.stop();
      const down = await fetch(`${url}/readyz`);
      expect(down.status).toBe(503);
      const body = (await down.json()) as { failing: string[] };
      expect(body.failing).toEqual(['redis']);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      await redis.start();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = (await fetch(`${url}/readyz`)).status;
      }
      expect(status).toBe(200);

      proc.child.kill('SIGTERM');
      expect(await exitCode(proc.child)).toBe(0);
      expect(proc.output()).toMatch(/"msg":"stopped"/);
    } finally {
      proc.child.kill('SIGKILL');
    }
  }, 90_000);

  it('refuses to start with an invalid environment, naming the variable, without a stack trace', async () => {
    const proc = startProcess({ DATABASE_URL: 'mysql://nope', PORT: '0' });
    const code = await exitCode(proc.child);
    expect(code).not.toBe(0);
    expect(proc.output()).toContain('DATABASE_URL');
    expect(proc.output()).toContain('postgresql://');
    expect(proc.output()).not.toMatch(/\n\s+at /);
  }, 60_000);
});
