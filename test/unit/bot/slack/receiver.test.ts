import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { deliveryKey } from '../../../../src/bot/slack/dedupe.js';
import { incidentChannelName } from '../../../../src/bot/slack/handlers.js';
import { parseSlackBody, readBodyCapped, verifySlackSignature } from '../../../../src/bot/slack/SlackHttpReceiver.js';
import { slackSignature } from '../../../helpers/slack-requests.js';

const secret = 'shh';
const body = Buffer.from('command=%2Fworkflow&text=list');
const now = 1_800_000_000_000;
const ts = String(now / 1000);
const check = (over: Partial<Parameters<typeof verifySlackSignature>[0]>) =>
  verifySlackSignature({ signingSecret: secret, signature: slackSignature(secret, ts, body), timestamp: ts, body, nowMs: now, toleranceSeconds: 300, ...over });

describe('verifySlackSignature', () => {
  it('accepts a correct signature inside the window, both sides', () => {
    expect(check({})).toEqual({ ok: true });
    for (const skew of [-300, 300]) {
      const t = String(now / 1000 + skew);
      expect(check({ timestamp: t, signature: slackSignature(secret, t, body) })).toEqual({ ok: true });
    }
  });

  it('rejects missing, wrong, stale and future-dated signatures', () => {
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(check({ signature: slackSignature('other', ts, body) })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ body: Buffer.from('command=%2Fworkflow&text=run+x') })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ signature: 'v0=short' })).toEqual({ ok: false, reason: 'bad_signature' });
    for (const skew of [-301, 301, 10 ** 7]) {
      const t = String(now / 1000 + skew);
      expect(check({ timestamp: t, signature: slackSignature(secret, t, body) })).toEqual({ ok: false, reason: 'stale_timestamp' });
    }
    expect(check({ timestamp: 'abc' })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });
});

describe('readBodyCapped', () => {
  const request = (chunks: Buffer[], contentLength?: number) => {
    const stream = new PassThrough() as unknown as IncomingMessage & PassThrough;
    (stream as unknown as { headers: Record<string, string> }).headers = contentLength === undefined ? {} : { 'content-length': String(contentLength) };
    setImmediate(() => {
      for (const c of chunks) stream.write(c);
      stream.end();
    });
    return stream;
  };

  it('reads a body under the cap', async () => {
    await expect(readBodyCapped(request([Buffer.from('ab'), Buffer.from('cd')]), 4)).resolves.toEqual(Buffer.from('abcd'));
  });

  it('refuses by declared length and by streamed length', async () => {
    await expect(readBodyCapped(request([Buffer.alloc(10)], 10), 4)).rejects.toThrow();
    await expect(readBodyCapped(request([Buffer.alloc(3), Buffer.alloc(3)]), 4)).rejects.toThrow();
  });
});

describe('parseSlackBody', () => {
  it('parses slash commands, interactivity payloads and events', () => {
    expect(parseSlackBody(Buffer.from('command=%2Fworkflow&text=run+a'), 'application/x-www-form-urlencoded')).toMatchObject({ command: '/workflow', text: 'run a' });
    expect(parseSlackBody(Buffer.from(`payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions' }))}`), 'application/x-www-form-urlencoded; charset=utf-8')).toEqual({ type: 'block_actions' });
    expect(parseSlackBody(Buffer.from('{"type":"event_callback"}'), 'application/json')).toEqual({ type: 'event_callback' });
    expect(() => parseSlackBody(Buffer.from('[1]'), 'application/json')).toThrow();
  });
});

describe('deliveryKey', () => {
  it('keys events by event_id, commands and clicks by trigger_id (and action_ts), others by body hash', () => {
    expect(deliveryKey({ event_id: 'Ev1', type: 'event_callback' })).toBe('slack:event:Ev1');
    expect(deliveryKey({ command: '/workflow', trigger_id: 't1' })).toBe('slack:command:t1');
    expect(deliveryKey({ type: 'block_actions', trigger_id: 't2', actions: [{ action_ts: '1.5' }] })).toBe('slack:interaction:t2:1.5');
    const a = deliveryKey({ x: 1 });
    expect(a).toMatch(/^slack:body:[0-9a-f]{64}$/);
    expect(deliveryKey({ x: 1 })).toBe(a);
    expect(deliveryKey({ x: 2 })).not.toBe(a);
  });
});

describe('incidentChannelName', () => {
  it('makes a valid Slack channel name from any title', () => {
    expect(incidentChannelName('Checkout is DOWN!!')).toBe('inc-checkout-is-down');
    expect(incidentChannelName('Café <!channel> 😀', 'ab12')).toBe('inc-cafe-channel-ab12');
    expect(incidentChannelName('***')).toBe('inc-incident');
    const long = incidentChannelName('x'.repeat(500), 'ffff');
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long).toMatch(/^[a-z0-9_-]+-ffff$/);
  });
});
