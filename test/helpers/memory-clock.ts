/**
 * A controllable clock: `now` only moves when the test advances it, and `sleep` resolves when
 * time reaches its deadline (or rejects at once when its signal aborts).
 */
import type { Clock } from '../../src/engine/ports.js';

interface Timer {
  due: number;
  seq: number;
  resolve(): void;
}

/** Lets every pending promise callback run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  private timers: Timer[] = [];
  private seq = 0;

  constructor(private current = Date.parse('2026-01-01T00:00:00.000Z')) {}

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        due: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Number of sleeps still waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Deadlines of the pending sleeps, in ms since the epoch, soonest first. */
  pendingDeadlines(): number[] {
    return this.timers.map((t) => t.due).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, waking sleeps in deadline order and letting each one's callbacks run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.nextTimer();
      if (!next || next.due > target) break;
      this.fire(next);
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Sets the time (forward only) without waking anything beyond what `advance` would. */
  async set(ms: number): Promise<void> {
    await this.advance(Math.max(0, ms - this.current));
  }

  /**
   * Drives `promise` to completion: lets callbacks run, and whenever everything is waiting on
   * the clock, jumps to the next sleep's deadline. Fails if nothing is pending and it never settles.
   */
  async run<T>(promise: Promise<T>, maxSteps = 10_000): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => undefined);
    for (let step = 0; step < maxSteps; step++) {
      await flushMicrotasks();
      if (settled) return tracked;
      const next = this.nextTimer();
      if (!next) {
        await new Promise((r) => setTimeout(r, 5));
        if (settled) return tracked;
        if (!this.nextTimer()) throw new Error('FakeClock.run: the promise is stuck and nothing waits on the clock');
        continue;
      }
      this.fire(next);
    }
    throw new Error('FakeClock.run: too many steps');
  }

  private nextTimer(): Timer | undefined {
    return [...this.timers].sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
  }

  private fire(timer: Timer): void {
    this.timers = this.timers.filter((t) => t !== timer);
    this.current = Math.max(this.current, timer.due);
    timer.resolve();
  }
}
