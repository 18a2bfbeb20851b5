/** Outbound discipline: bounded retries on Teams' throttling statuses, Retry-After, per-conversation pacing. */
import { describe, expect, it } from 'vitest';
import { ConversationPacer, retryAfterMs, statusOf, withRetry } from '../../../src/bot/teams/outbound.js';

/** An error shaped like the connector client's (status plus response headers). */
function httpError(status: number, retryAfter?: string): Error {
  const headers = new Map<string, string>(retryAfter !== undefined ? [['retry-after', retryAfter]] : []);
  return Object.assign(new Error(`HTTP ${status}`), { statusCode: status, response: { status, headers: { get: (k: string) => headers.get(k) } } });
}

describe('withRetry', () => {
  it('retries 429, 412, 502 and 504, then succeeds', async () => {
    for (const status of [429, 412, 502, 504]) {
      const waits: number[] = [];
      let calls = 0;
      const result = await withRetry(
        async () => {
          calls++;
          if (calls < 3) throw httpError(status);
          return 'ok';
        },
        { sleep: async (ms) => void waits.push(ms), baseDelayMs: 100 },
      );
      expect(result).toBe('ok');
      expect(calls).toBe(3);
      expect(waits).toHaveLength(2);
      expect(waits[1]!).toBeGreaterThanOrEqual(100);
    }
  });

  it('honours Retry-After in seconds and caps it', async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw httpError(429, '3');
        if (calls === 2) throw httpError(429, '3600');
        return 'ok';
      },
      { sleep: async (ms) => void waits.push(ms), maxDelayMs: 30_000 },
    );
    expect(waits).toEqual([3000, 30_000]);
  });

  it('gives up after the bounded number of attempts and rethrows', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw httpError(429, '0');
        },
        { attempts: 4, sleep: async () => undefined },
      ),
    ).rejects.toThrow('HTTP 429');
    expect(calls).toBe(4);
  });

  it('does not retry 403, 404 or errors without a status', async () => {
    for (const error of [httpError(403), httpError(404), new Error('socket hang up')]) {
      let calls = 0;
      await expect(
        withRetry(
          async () => {
            calls++;
            throw error;
          },
          { sleep: async () => undefined },
        ),
      ).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });
});

describe('retryAfterMs / statusOf', () => {
  it('reads seconds, HTTP dates and plain header objects', () => {
    expect(retryAfterMs(httpError(429, '2'))).toBe(2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(httpError(429, 'Thu, 01 Jan 2026 00:00:05 GMT'), now)).toBe(5000);
    expect(retryAfterMs({ response: { headers: { 'retry-after': '1' } } })).toBe(1000);
    expect(retryAfterMs(httpError(429))).toBeUndefined();
    expect(statusOf(httpError(502))).toBe(502);
    expect(statusOf(new Error('x'))).toBeUndefined();
  });
});

describe('ConversationPacer', () => {
  it('spaces calls in one conversation by the interval, in order, and leaves others alone', async () => {
    let now = 0;
    const starts: Array<[string, number]> = [];
    const pacer = new ConversationPacer(
      143,
      async (ms) => {
        now += ms;
      },
      () => now,
    );
    await Promise.all([
      ...[1, 2, 3, 4].map((i) => pacer.run('c1', async () => void starts.push([`c1-${i}`, now]))),
      pacer.run('c2', async () => void starts.push(['c2-1', now])),
    ]);
    const c1 = starts.filter(([k]) => k.startsWith('c1'));
    expect(c1.map(([k]) => k)).toEqual(['c1-1', 'c1-2', 'c1-3', 'c1-4']);
    for (let i = 1; i < c1.length; i++) expect(c1[i]![1] - c1[i - 1]![1]).toBeGreaterThanOrEqual(143);
  });

  it('keeps going after a failed call', async () => {
    const pacer = new ConversationPacer(1);
    await expect(pacer.run('c', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(pacer.run('c', async () => 'next')).resolves.toBe('next');
  });
});
