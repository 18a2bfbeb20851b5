import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BlockedDestinationError, CancelledError, RateLimitedError, TransientError, UserError } from '../../../src/engine/errors.js';
import { ActionRegistry } from '../../../src/integrations/ActionRegistry.js';
import { createWebhookAction } from '../../../src/integrations/actions/webhook.js';
import { verifyWebhook } from '../../../src/integrations/actions/signing.js';
import { EgressGuard } from '../../../src/integrations/ssrf/EgressGuard.js';
import { FakeWebhookReceiver } from '../../helpers/fake-webhook.js';
import { makeContext, runWithRetries } from './support.js';

let receiver: FakeWebhookReceiver;

function registry(opts: { timeoutMs?: number; allow?: string[] } = {}): ActionRegistry {
  const guard = new EgressGuard({ allowList: opts.allow ?? ['127.0.0.1/32'] });
  return new ActionRegistry([createWebhookAction({ guard, defaultTimeoutMs: opts.timeoutMs ?? 5000 })]);
}

beforeAll(async () => {
  receiver = await FakeWebhookReceiver.start();
});
afterAll(async () => receiver.close());
afterEach(() => {
  receiver.requests.length = 0;
  receiver.deliveries.clear();
  receiver.bytesSent = 0;
});

describe('webhook action', () => {
  it('sends method, headers, JSON body and the idempotency key, and returns status and body', async () => {
    const out = await registry().run(
      'webhook',
      { url: receiver.url('/incident'), method: 'PUT', headers: { 'X-Team': 'sre' }, body: { incident: 42, title: 'db down' } },
      makeContext({ executionId: 'e1', nodeId: 'n1' }),
    );
    expect(out).toMatchObject({ status: 200, body: '{"ok":true}', bodyTruncated: false, headers: { 'content-type': 'application/json' } });
    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.method).toBe('PUT');
    expect(req.path).toBe('/incident');
    expect(req.headers['x-team']).toBe('sre');
    expect(req.headers['idempotency-key']).toBe('e1:n1');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ incident: 42, title: 'db down' });
  });

  it('signs the body Standard Webhooks style so the receiver can verify it', async () => {
    const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
    await registry().run('webhook', { url: receiver.url(), body: { a: 1 }, signingSecret: 'HOOK_KEY' }, makeContext({ secrets: { HOOK_KEY: secret } }));
    const req = receiver.requests[0]!;
    const headers = { id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']) };
    expect(headers.id).toBe('exec-1:node-1');
    expect(headers.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyWebhook(secret, headers, req.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifyWebhook(secret, headers, req.body + ' ', Math.floor(Date.now() / 1000))).toBe(false);
    expect(verifyWebhook('whsec_' + Buffer.from('another key entirely, 32 bytes!!').toString('base64'), headers, req.body, Math.floor(Date.now() / 1000))).toBe(false);
  });

  it('a missing signing secret is a user error naming the secret', async () => {
    await expect(registry().run('webhook', { url: receiver.url(), signingSecret: 'NOPE' }, makeContext())).rejects.toThrow(/signing secret "NOPE" is not set/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('maps statuses: 404 user error, 503 transient, 429 rate limited with Retry-After', async () => {
    receiver.misbehave({ kind: 'status-after-receive', status: 404, body: '{"error":"no such hook"}' });
    const e404 = await registry().run('webhook', { url: receiver.url('/x') }, makeContext()).catch((e: unknown) => e);
    expect(e404).toBeInstanceOf(UserError);
    expect((e404 as Error).message).toBe('webhook target answered 404: {"error":"no such hook"} (POST http://127.0.0.1:' + receiver.port + '/x)');

    receiver.misbehave({ kind: 'status-after-receive', status: 503 });
    await expect(registry().run('webhook', { url: receiver.url() }, makeContext())).rejects.toBeInstanceOf(TransientError);

    receiver.misbehave({ kind: 'rate-limit', retryAfterSeconds: 7 });
    const e429 = await registry().run('webhook', { url: receiver.url() }, makeContext()).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(RateLimitedError);
    expect((e429 as RateLimitedError).retryAfterMs).toBe(7000);
  });

  it('does not follow redirects and names the Location', async () => {
    receiver.misbehave({ kind: 'redirect', location: 'https://example.com/next' });
    const err = await registry().run('webhook', { url: receiver.url() }, makeContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/302 redirect to https:\/\/example\.com\/next; redirects are not followed/);
    expect(receiver.requests).toHaveLength(1);
  });

  for (const mode of [{ kind: 'drop-after-receive' } as const, { kind: 'status-after-receive', status: 504 } as const]) {
    it(`ambiguous outcome (${mode.kind}${'status' in mode ? ` ${mode.status}` : ''}): retries carry the same key and one delivery exists`, async () => {
      receiver.misbehave(mode, 2);
      const reg = registry();
      const { result, errors, attempts } = await runWithRetries(5, (attempt) =>
        reg.run('webhook', { url: receiver.url(), body: { n: 1 } }, makeContext({ executionId: 'amb', nodeId: mode.kind, attempt })),
      );
      expect(errors).toHaveLength(2);
      for (const e of errors) expect(e).toBeInstanceOf(TransientError);
      expect(attempts).toBe(3);
      expect(result).toMatchObject({ status: 200 });
      expect(receiver.requests).toHaveLength(3);
      expect(new Set(receiver.requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`amb:${mode.kind}`]));
      expect(receiver.deliveries.size).toBe(1);
    });
  }

  it('reads at most 1 MiB of a 50 MiB answer and stores a truncated body', async () => {
    receiver.misbehave({ kind: 'stream', bytes: 50 * 1024 * 1024 });
    const started = Date.now();
    const out = await registry().run('webhook', { url: receiver.url() }, makeContext());
    expect(out.status).toBe(200);
    expect(out.bodyTruncated).toBe(true);
    expect((out.body as string).length).toBe(4096);
    // The server stopped well before 50 MiB because we closed the connection.
    expect(receiver.bytesSent).toBeLessThan(20 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a server sending 1 byte per second in the body ends at the total timeout', async () => {
    receiver.misbehave({ kind: 'slow-body', bytesPerSecond: 1 });
    const started = Date.now();
    const out = await registry({ timeoutMs: 1500 }).run('webhook', { url: receiver.url() }, makeContext());
    const elapsed = Date.now() - started;
    expect(out).toMatchObject({ status: 200, bodyTruncated: true });
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(6000);
  });

  it('a server trickling its status line 1 byte per second fails at the total timeout as transient', async () => {
    receiver.misbehave({ kind: 'slow-headers' });
    const started = Date.now();
    const err = await registry({ timeoutMs: 1500 }).run('webhook', { url: receiver.url() }, makeContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/did not answer within 1500 ms/);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('cancelling the run aborts the in-flight request with CancelledError', async () => {
    receiver.misbehave({ kind: 'slow-headers' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new CancelledError('manual')), 300);
    const started = Date.now();
    const err = await registry({ timeoutMs: 20_000 }).run('webhook', { url: receiver.url() }, makeContext({ signal: controller.signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).reason).toBe('manual');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses loopback when it is not allow-listed', async () => {
    const err = await registry({ allow: [] }).run('webhook', { url: receiver.url() }, makeContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedDestinationError);
    expect(receiver.requests).toHaveLength(0);
  });

  it('rejects invalid input with a user error naming the field', async () => {
    await expect(registry().run('webhook', { url: receiver.url(), method: 'TRACE' }, makeContext())).rejects.toThrow(/invalid input for webhook: method/);
  });
});
