/**
 * Coalesces a run's live-message updates: per execution the latest `RunView` wins, at most one
 * publish per interval, the final state (COMPLETED / FAILED / CANCELLED) is always delivered, and
 * `publish()` never waits for the chat platform, so a slow Slack or Teams never holds a worker slot.
 * `publishUpdate()` takes a thunk instead of a view: the view is built only when it is actually
 * sent, so updates that a later one replaces cost nothing to build.
 */
import type { ChatNotifier, Logger, RunView } from '../engine/ports.js';

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Whether a view shows a finished run. */
export function isFinalView(view: RunView): boolean {
  return FINAL.has(view.status);
}

export interface CoalescerOptions {
  /** Minimum time between two publishes of the same run (default 1000 ms). */
  intervalMs?: number;
  /**
   * How long a run's first, non-final update waits before it is published (default 0). A run
   * that finishes within it is published once, already final: one chat message instead of a
   * post and an edit a few milliseconds apart.
   */
  firstDelayMs?: number;
  /**
   * Most runs tracked at once (default 1000). Beyond it, the pending non-final update of the
   * oldest run is dropped (a later or final update replaces it anyway); final updates are never dropped.
   */
  maxEntries?: number;
  logger?: Logger;
  now?: () => number;
}

/** A run update whose view is built only if and when it is sent. */
export interface RunUpdate {
  executionId: string;
  /** The revision the built view will carry (`runRevision` of the same record). */
  revision: number;
  /** Whether the built view shows a finished run (COMPLETED / FAILED / CANCELLED). */
  final: boolean;
  /** Builds the view; called at most once, at send time. */
  build(): RunView;
}

interface Entry {
  pending: RunUpdate | null;
  lastSentAt: number;
  lastRevision: number;
  timer: NodeJS.Timeout | null;
  inFlight: Promise<void> | null;
  finalSent: boolean;
}

export class ProgressCoalescer {
  private readonly entries = new Map<string, Entry>();
  private readonly intervalMs: number;
  private readonly firstDelayMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Runs whose final state went out recently, with that final view's revision: late (older)
   * updates for them are dropped; a newer one means the run was retried and is live again (bounded FIFO).
   */
  private readonly finished = new Map<string, number>();

  constructor(
    private readonly notifier: ChatNotifier,
    private readonly options: CoalescerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.firstDelayMs = options.firstDelayMs ?? 0;
    this.maxEntries = options.maxEntries ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Number of runs currently tracked (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Queue a view for publishing; returns at once. */
  publish(view: RunView): void {
    this.publishUpdate({ executionId: view.executionId, revision: view.revision, final: isFinalView(view), build: () => view });
  }

  /** Queue an update whose view is built only when it is sent; returns at once. */
  publishUpdate(update: RunUpdate): void {
    const id = update.executionId;
    let entry = this.entries.get(id);
    const finalRevision = this.finished.get(id);
    if (!entry && finalRevision !== undefined && update.revision <= finalRevision) return;
    if (!entry) {
      this.finished.delete(id);
      this.evictIfFull();
      entry = { pending: null, lastSentAt: 0, lastRevision: -1, timer: null, inFlight: null, finalSent: false };
      this.entries.set(id, entry);
    }
    if (entry.finalSent && !update.final) {
      if (update.revision <= entry.lastRevision) return;
      entry.finalSent = false;
    }
    if (entry.pending && entry.pending.revision > update.revision) return;
    if (update.revision <= entry.lastRevision && !(update.final && !entry.finalSent)) return;
    entry.pending = update;
    this.schedule(id, entry);
  }

  /** Publish everything pending now and wait for it (shutdown, tests). */
  async flush(): Promise<void> {
    // Never start a second publish for a run while one is in flight: both would find no stored
    // message yet and both would post. Wait for it, then send what is still pending.
    for (;;) {
      for (const [id, entry] of this.entries) {
        if (entry.inFlight) continue;
        if (entry.timer) {
          clearTimeout(entry.timer);
          entry.timer = null;
        }
        if (entry.pending) this.send(id, entry);
      }
      if (this.inFlight.size === 0) return;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private schedule(id: string, entry: Entry): void {
    if (entry.inFlight) return;
    const final = entry.pending !== null && entry.pending.final;
    if (final && entry.lastSentAt === 0) {
      // Nothing shown yet: the final state goes out now, replacing a first update still waiting.
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      this.send(id, entry);
      return;
    }
    if (entry.timer) return;
    const wait = entry.lastSentAt === 0 ? this.firstDelayMs : Math.max(0, entry.lastSentAt + this.intervalMs - this.now());
    if (wait === 0) {
      this.send(id, entry);
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (entry.pending) this.send(id, entry);
    }, wait);
    entry.timer.unref?.();
  }

  private send(id: string, entry: Entry): void {
    const update = entry.pending;
    if (!update) return;
    entry.pending = null;
    entry.lastSentAt = this.now();
    entry.lastRevision = update.revision;
    if (update.final) entry.finalSent = true;
    let view: RunView;
    try {
      view = update.build();
    } catch (error) {
      this.options.logger?.warn({ executionId: id, err: error instanceof Error ? error.message : String(error) }, 'could not build the run view');
      if (entry.finalSent) this.entries.delete(id);
      return;
    }
    const p = this.notifier
      .publishProgress(view)
      .catch((error: unknown) => {
        this.options.logger?.warn({ executionId: id, err: error instanceof Error ? error.message : String(error) }, 'progress publish failed');
      })
      .finally(() => {
        this.inFlight.delete(p);
        entry.inFlight = null;
        if (entry.pending) this.schedule(id, entry);
        else if (entry.finalSent && this.entries.get(id) === entry) {
          this.entries.delete(id);
          this.finished.set(id, entry.lastRevision);
          if (this.finished.size > this.maxEntries) this.finished.delete(this.finished.keys().next().value!);
        }
      });
    entry.inFlight = p;
    this.inFlight.add(p);
  }

  private evictIfFull(): void {
    if (this.entries.size < this.maxEntries) return;
    for (const [id, entry] of this.entries) {
      if (entry.inFlight || entry.pending?.final) continue;
      if (entry.timer) clearTimeout(entry.timer);
      this.entries.delete(id);
      if (this.entries.size < this.maxEntries) return;
    }
  }
}
