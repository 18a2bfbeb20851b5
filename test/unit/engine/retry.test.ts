import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, resolveRetryPolicy } from '../../../src/engine/retry.js';
import { actionTimeoutMs } from '../../../src/engine/timeouts.js';
import { CancelledError } from '../../../src/engine/errors.js';
import { systemClock } from '../../../src/engine/system-clock.js';

describe('retry policy', () => {
  it('has documented defaults, overridden by workflow then node', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ maxAttempts: 3, initialDelayMs: 1000, backoffCoefficient: 2, maxDelayMs: 30000 });
    expect(resolveRetryPolicy({ maxAttempts: 5, initialDelayMs: 200 }, { maxAttempts: 2 })).toEqual({ maxAttempts: 2, initialDelayMs: 200, backoffCoefficient: 2, maxDelayMs: 30000 });
  });

  it('uses full jitter under an exponentially growing cap', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(p, n, () => 0.999999))).toEqual([999, 1999, 3999, 7999]);
    expect(backoffDelayMs(p, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(p, 20, () => 0.5)).toBe(15000);
  });

  it('bounds an action by min(30s, remaining * 0.8)', () => {
    expect(actionTimeoutMs(300_000)).toBe(30_000);
    expect(actionTimeoutMs(10_000)).toBe(8_000);
    expect(actionTimeoutMs(-5)).toBe(0);
  });
});

describe('systemClock', () => {
  it('sleeps and can be aborted with a reason', async () => {
    await systemClock.sleep(1);
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new CancelledError('shutdown'));
    await expect(sleeping).rejects.toMatchObject({ reason: 'shutdown' });
    expect(systemClock.now()).toBeGreaterThan(0);
  });
});
