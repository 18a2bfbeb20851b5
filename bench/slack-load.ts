/**
 * Slash-command acknowledgement latency: fire `inFlight` signed `/workflow run` commands at once
 * at a receiver and time each answer. The baseline is a Bolt app that only acknowledges.
 */
import bolt from '@slack/bolt';
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
function sendCommand(url: URL, secret: string, fields: Record<string, string>, agent: Agent): Promise<{ ms: number; status: number }> {
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
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - start, status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Fire `inFlight` commands at once, `rounds` times; returns p50/p99 and non-200 count. */
export async function measureAcks(
  url: string,
  secret: string,
  makeFields: (i: number) => Record<string, string>,
  inFlight: number,
  rounds: number,
): Promise<{ p50: number; p99: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    const results = await Promise.all(Array.from({ length: inFlight }, () => sendCommand(new URL(url), secret, makeFields(n++), agent)));
    for (const res of results) {
      latencies.push(res.ms);
      if (res.status !== 200) errors++;
    }
  }
  agent.destroy();
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), errors };
}

/** A Bolt app that only acknowledges `/workflow`; the baseline for acknowledgement latency. */
export async function startAckOnlyBolt(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const receiver = new bolt.ExpressReceiver({ signingSecret: secret, endpoints: '/slack/events' });
  const app = new bolt.App({ receiver, token: 'xoxb-bench', tokenVerificationEnabled: false });
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
