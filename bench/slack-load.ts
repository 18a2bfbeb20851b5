/**
 * Slash-command acknowledgement latency: fire `inFlight` signed `/workflow run` commands at once
 * at a receiver and time each answer. The baseline is a Bolt app that only acknowledges.
 */
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { quantile } from './stats.js';

/** Sign a body the way Slack does (v0 scheme). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Send one signed form-encoded slash command; resolves with the latency in ms and the status. */
function sendCommand(url: URL, secret: string, fields: Record<string, string>, agent: Agent): Promise<{ ms: number; status: number; body: string }> {
  const body = new URLSearchParams(fields).toString();
  const ts = Math.floor(Date.now() / 1000);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': slackSignature(secret, ts, body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ms: performance.now() - start, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Fire `inFlight` commands at once, `rounds` times; returns p50/p99, the count of answers that
 * were not 200 (or, with `expect`, whose body does not match it) and every latency.
 */
export async function measureAcks(
  url: string,
  secret: string,
  makeFields: (i: number) => Record<string, string>,
  inFlight: number,
  rounds: number,
  expect?: RegExp,
): Promise<{ p50: number; p99: number; errors: number; firstError?: string; latencies: number[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    const results = await Promise.all(Array.from({ length: inFlight }, () => sendCommand(new URL(url), secret, makeFields(n++), agent)));
    for (const res of results) {
      latencies.push(res.ms);
      if (res.status !== 200 || (expect && !expect.test(res.body))) {
        errors++;
        firstError ??= `${res.status} ${res.body.slice(0, 200)}`;
      }
    }
  }
  agent.destroy();
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), errors, ...(firstError ? { firstError } : {}), latencies };
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
