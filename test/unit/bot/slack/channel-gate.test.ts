import { describe, expect, it } from 'vitest';
import { ChannelGate, retryAfterMs } from '../../../../src/bot/slack/ChannelGate.js';

const rateLimited = (seconds: number) => Object.assign(new Error('rate limited'), { code: 'slack_webapi_rate_limited_error', retryAfter: seconds });

/** A gate on a controllable clock: sleeping advances time and is recorded. */
function gate(maxRateLimitRetries = 5) {
  let now = 0;
  const sleeps: number[] = [];
  const g = new ChannelGate({
    maxRateLimitRetries,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  });
  return { g, sleeps, advance: (ms: number) => (now += ms) };
}

describe('ChannelGate', () => {
  it('reads Retry-After from rate-limit errors only', () => {
    expect(retryAfterMs(rateLimited(3))).toBe(3000);
    expect(retryAfterMs(new Error('x'))).toBeNull();
    expect(retryAfterMs({ code: 'slack_webapi_platform_error' })).toBeNull();
  });

  it('waits out Retry-After for the limited channel only, then repeats the call', async () => {
    const { g, sleeps } = gate();
    let calls = 0;
    const result = await g.run('C1', async () => {
      calls += 1;
      if (calls === 1) throw rateLimited(2);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(2);
    expect(sleeps).toEqual([2000]);
    expect(g.waitFor('C2')).toBe(0);
  });

  it('pauses later calls for the channel, not for others', async () => {
    const { g, sleeps, advance } = gate();
    let first = true;
    await g.run('C1', async () => {
      if (first) {
        first = false;
        throw rateLimited(5);
      }
    });
    // The pause has passed during the retry's sleep; a new limit sets a new pause.
    await expect(g.run('C1', async () => Promise.reject(rateLimited(10)))).rejects.toMatchObject({ code: 'slack_webapi_rate_limited_error' });
    expect(g.waitFor('C1')).toBe(10_000);
    expect(g.waitFor('C2')).toBe(0);
    advance(4000);
    expect(g.waitFor('C1')).toBe(6000);
    expect(sleeps[0]).toBe(5000);
  });

  it('never repeats a call that failed for another reason', async () => {
    const { g } = gate();
    let calls = 0;
    await expect(g.run('C1', async () => {
      calls += 1;
      throw Object.assign(new Error('HTTP 500'), { code: 'slack_webapi_http_error' });
    })).rejects.toThrow('HTTP 500');
    expect(calls).toBe(1);
  });

  it('gives up after the configured number of 429s', async () => {
    const { g } = gate(2);
    let calls = 0;
    await expect(g.run('C1', async () => {
      calls += 1;
      throw rateLimited(1);
    })).rejects.toMatchObject({ retryAfter: 1 });
    expect(calls).toBe(3);
  });
});
