/**
 * Work that follows an acknowledgement. Slack wants the HTTP answer to a slash command within three
 * seconds and recommends acknowledging at once and answering through `response_url`; the command's
 * real work (database, queue) therefore runs here, after the ack has been written.
 *
 * Everything shares one Node thread, so post-ack work must not delay the acks still to be sent:
 * - a task never starts inside the tick that acknowledged (it starts from `setImmediate` or a timer);
 * - at most `concurrency` tasks run at once, the rest wait in arrival order;
 * - while `holdFor()` says so (the receiver: requests are waiting for their ack, or one arrived a
 *   moment ago, i.e. a burst is still coming in) no new task starts. Measured on the bench (row 5):
 *   post-ack work started during a burst of 200 commands slowed the reading of the burst's later
 *   requests by seconds, because every task's database round trips add CPU to each turn of the
 *   event loop; held until the burst was acknowledged, the acks cost what an ack-only Bolt app's do.
 *   A task is never held longer than `maxHoldMs`, so answers cannot starve under sustained load.
 */

/** Options of {@link AfterAckQueue}. */
export interface AfterAckQueueOptions {
  /** Tasks running at once (default 8). */
  concurrency?: number;
  /** Called with whatever a task throws (tasks should catch their own errors; this is the backstop). */
  onError?: (error: unknown) => void;
  /** Milliseconds new tasks should still wait (0: they may start). Asked before each start. */
  holdFor?: () => number;
  /** Longest a task waits because of `holdFor` (default 1000 ms). */
  maxHoldMs?: number;
}

/** A FIFO of post-ack tasks with bounded concurrency that yields to pending acks. */
export class AfterAckQueue {
  private readonly concurrency: number;
  private readonly onError: (error: unknown) => void;
  private readonly holdFor: () => number;
  private readonly maxHoldMs: number;
  private waiting: Array<{ task: () => Promise<void>; at: number } | undefined> = [];
  private head = 0;
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private timer: { handle: NodeJS.Timeout; at: number } | null = null;
  private scheduled = false;

  constructor(options: AfterAckQueueOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
    this.onError = options.onError ?? (() => {});
    this.holdFor = options.holdFor ?? (() => 0);
    this.maxHoldMs = options.maxHoldMs ?? 1000;
  }

  /** Tasks waiting plus running. */
  get size(): number {
    return this.waiting.length - this.head + this.running;
  }

  /** Queue `task`; it starts on a later turn of the event loop, never synchronously. */
  push(task: () => Promise<void>): void {
    this.waiting.push({ task, at: performance.now() });
    this.schedule();
  }

  /** The hold may be over (e.g. the last pending request was acknowledged): look again soon. */
  release(): void {
    if (this.head < this.waiting.length) this.schedule();
  }

  /** Resolves once every queued and running task has finished (used at shutdown). */
  drain(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Pump on the next turn of the event loop (after the I/O already waiting), once. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Pump again in `ms` (keeping the earliest of the pending wake-ups). */
  private wakeIn(ms: number): void {
    const at = performance.now() + ms;
    if (this.timer && this.timer.at <= at) return;
    if (this.timer) clearTimeout(this.timer.handle);
    this.timer = {
      at,
      handle: setTimeout(() => {
        this.timer = null;
        this.pump();
      }, Math.max(1, Math.ceil(ms))),
    };
  }

  private pump(): void {
    while (this.running < this.concurrency && this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      const waited = performance.now() - next.at;
      const hold = waited < this.maxHoldMs ? this.holdFor() : 0;
      if (hold > 0) {
        this.wakeIn(Math.min(hold, this.maxHoldMs - waited));
        return;
      }
      this.waiting[this.head] = undefined;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.start(next.task);
    }
  }

  private start(task: () => Promise<void>): void {
    this.running++;
    let done: Promise<void>;
    try {
      done = task();
    } catch (error) {
      done = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    done.catch(this.onError).finally(() => {
      this.running--;
      if (this.head < this.waiting.length) this.schedule();
      else if (this.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
  }
}
