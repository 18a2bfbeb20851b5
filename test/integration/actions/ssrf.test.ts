/**
 * SSRF table: every forbidden destination is refused with a "blocked destination" error before a
 * single TCP connection reaches the loopback listener.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockedDestinationError, UserError } from '../../../src/engine/errors.js';
import { ActionRegistry } from '../../../src/integrations/ActionRegistry.js';
import { createWebhookAction } from '../../../src/integrations/actions/webhook.js';
import { BlockedConnectError, EgressGuard } from '../../../src/integrations/ssrf/EgressGuard.js';
import { FakeWebhookReceiver, startConnectionCounter } from '../../helpers/fake-webhook.js';
import { makeContext } from './support.js';

/** Test resolver: fixed answers for *.test names, the system resolver for the rest. */
const FIXED: Record<string, Array<{ address: string; family: number }>> = {
  'loopback.test': [{ address: '127.0.0.1', family: 4 }],
  'localtest.me': [{ address: '127.0.0.1', family: 4 }],
  'rebind.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ],
  'mapped.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'private.test': [{ address: '10.1.2.3', family: 4 }],
  'internal.test': [{ address: '127.0.0.1', family: 4 }],
};
const lookups: string[] = [];
const testLookup: net.LookupFunction = (hostname, options, callback) => {
  lookups.push(hostname);
  const fixed = FIXED[hostname];
  if (!fixed) return dns.lookup(hostname, options, callback as never);
  if (options.all) return callback(null, fixed);
  callback(null, fixed[0]!.address, fixed[0]!.family);
};

let counter: Awaited<ReturnType<typeof startConnectionCounter>>;
let redirector: FakeWebhookReceiver;

beforeAll(async () => {
  counter = await startConnectionCounter('127.0.0.1');
  // The redirector lives on 127.0.0.2 so allow-listing it does not allow the counter on 127.0.0.1.
  redirector = await FakeWebhookReceiver.start('127.0.0.2');
});
afterAll(async () => {
  await counter.close();
  await redirector.close();
});

function forbiddenUrls(p: number): Array<string | { redirectTo: string; status?: number }> {
  return [
    `http://127.0.0.1:${p}/`,
    `http://localhost:${p}/`,
    `http://2130706433:${p}/`,
    `http://0x7f000001:${p}/`,
    `http://0177.0.0.1:${p}/`,
    `http://127.1:${p}/`,
    `http://0x7f.1:${p}/`,
    `http://127.000.000.001:${p}/`,
    `http://127.0.0.1.:${p}/`,
    `http://[::1]:${p}/`,
    `http://[::ffff:127.0.0.1]:${p}/`,
    `http://[::ffff:7f00:1]:${p}/`,
    `http://[0:0:0:0:0:ffff:127.0.0.1]:${p}/`,
    `http://[::127.0.0.1]:${p}/`,
    `http://0.0.0.0:${p}/`,
    `http://0:${p}/`,
    `http://[::]:${p}/`,
    `http://127.255.255.254:${p}/`,
    `https://127.0.0.1:${p}/`,
    `http://user:pass@127.0.0.1:${p}/`,
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://192.0.2.1/',
    'http://198.51.100.7/',
    'http://203.0.113.9/',
    'http://198.18.0.1/',
    'http://240.0.0.1/',
    'http://[fc00::1]/',
    'http://[fe80::1]/',
    'http://[ff02::1]/',
    'http://[2001:db8::1]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[2002:7f00:1::]/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'http://[::ffff:169.254.169.254]/',
    'http://0xa9fea9fe/',
    'http://2852039166/',
    'http://0251.0376.0251.0376/',
    `http://loopback.test:${p}/`,
    `http://localtest.me:${p}/`,
    `http://rebind.test:${p}/`,
    `http://mapped.test:${p}/`,
    'http://metadata.test/latest/meta-data/',
    'http://private.test/',
    { redirectTo: `http://127.0.0.1:${p}/` },
    { redirectTo: 'http://169.254.169.254/latest/meta-data/' },
    { redirectTo: `http://loopback.test:${p}/admin` },
    { redirectTo: `http://[::1]:${p}/`, status: 307 },
    { redirectTo: `http://0x7f000001:${p}/`, status: 308 },
  ];
}

describe('SSRF guard', () => {
  const guard = new EgressGuard({ allowList: ['127.0.0.2/32'], lookup: testLookup, connectTimeoutMs: 2000 });
  const registry = new ActionRegistry([createWebhookAction({ guard, defaultTimeoutMs: 3000 })]);

  it('has a table of at least 40 forbidden destinations', () => {
    expect(forbiddenUrls(1).length).toBeGreaterThanOrEqual(40);
  });

  it('refuses every forbidden destination with a blocked-destination error and zero connections', async () => {
    const failures: string[] = [];
    for (const entry of forbiddenUrls(counter.port)) {
      let url: string;
      let label: string;
      if (typeof entry === 'string') {
        url = entry;
        label = entry;
      } else {
        redirector.misbehave({ kind: 'redirect', location: entry.redirectTo, status: entry.status });
        url = redirector.url('/start');
        label = `redirect -> ${entry.redirectTo}`;
      }
      const err = await registry.run('webhook', { url, body: { probe: true } }, makeContext()).then(
        () => null,
        (e: unknown) => e,
      );
      if (!(err instanceof BlockedDestinationError) || !/blocked destination/.test(err.message)) {
        failures.push(`${label}: ${err instanceof Error ? `${err.name}: ${err.message}` : 'succeeded'}`);
      }
    }
    expect(failures).toEqual([]);
    expect(counter.count()).toBe(0);
    // The redirect cases did reach the allow-listed redirector, and only it.
    expect(redirector.requests).toHaveLength(5);
    // Host names were resolved through the guarded lookup (checked at connect time).
    expect(lookups).toEqual(expect.arrayContaining(['loopback.test', 'rebind.test', 'mapped.test', 'metadata.test']));
  });

  it('the agent itself refuses IP literals and bad DNS answers (no reliance on the up-front check)', async () => {
    const get = (host: string) =>
      new Promise<unknown>((resolve) => {
        const req = http.get({ host, port: counter.port, path: '/', agent: guard.httpAgent }, (res) => resolve(res.statusCode));
        req.on('error', resolve);
      });
    for (const host of ['127.0.0.1', '::1', '0.0.0.0', 'loopback.test', 'rebind.test', 'localhost']) {
      const result = await get(host);
      expect(result, host).toBeInstanceOf(BlockedConnectError);
    }
    for (const host of ['127.0.0.1', 'loopback.test', 'mapped.test']) {
      const result = await new Promise<unknown>((resolve) => {
        const req = https.get({ host, port: counter.port, path: '/', agent: guard.httpsAgent }, (res) => resolve(res.statusCode));
        req.on('error', resolve);
      });
      expect(result, `https ${host}`).toBeInstanceOf(BlockedConnectError);
    }
    expect(counter.count()).toBe(0);
  });

  it('an allow-listed internal host name reaches its target', async () => {
    const allowed = new EgressGuard({ allowList: ['internal.test'], lookup: testLookup });
    const reg = new ActionRegistry([createWebhookAction({ guard: allowed })]);
    const before = counter.count();
    const out = await reg.run('webhook', { url: `http://internal.test:${counter.port}/ok`, method: 'GET' }, makeContext());
    expect(out).toMatchObject({ status: 200, body: 'reached' });
    expect(counter.count()).toBe(before + 1);
  });

  it('an allow-listed CIDR reaches its target', async () => {
    const out = await registry.run('webhook', { url: redirector.url('/fine') }, makeContext());
    expect(out).toMatchObject({ status: 200 });
  });

  it('refuses non-http schemes as user errors', async () => {
    await expect(registry.run('webhook', { url: 'file:///etc/passwd' }, makeContext())).rejects.toThrow(/must be an http\(s\) URL/);
    await expect(registry.run('webhook', { url: 'gopher://127.0.0.1:70/' }, makeContext())).rejects.toBeInstanceOf(UserError);
  });
});
