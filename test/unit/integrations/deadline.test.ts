import { describe, expect, it } from 'vitest';
import { RequestTimeoutError, requestDeadline } from '../../../src/integrations/deadline.js';

describe('requestDeadline', () => {
  it("aborts with the run's reason when the run's signal aborts; the timeout flag stays down", () => {
    const run = new AbortController();
    const d = requestDeadline(run.signal, 60_000);
    const reason = new Error('cancelled by someone');
    run.abort(reason);
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBe(reason);
    expect(d.timeout.aborted).toBe(false);
    d.dispose();
  });

  it('aborts with a RequestTimeoutError and raises the flag when the timeout fires', async () => {
    const run = new AbortController();
    const d = requestDeadline(run.signal, 5);
    await new Promise<void>((resolve) => d.signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(d.timeout.aborted).toBe(true);
    expect(d.signal.reason).toBeInstanceOf(RequestTimeoutError);
    expect(run.signal.aborted).toBe(false);
    d.dispose();
  });

  it('starts aborted when the run already is', () => {
    const run = new AbortController();
    run.abort('gone');
    const d = requestDeadline(run.signal, 60_000);
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBe('gone');
    d.dispose();
  });

  it('after dispose, neither the run nor the timer touches the request signal', async () => {
    const run = new AbortController();
    const d = requestDeadline(run.signal, 5);
    d.dispose();
    run.abort('late');
    await new Promise((r) => setTimeout(r, 20));
    expect(d.signal.aborted).toBe(false);
    expect(d.timeout.aborted).toBe(false);
  });
});
