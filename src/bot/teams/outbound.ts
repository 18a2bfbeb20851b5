/**
 * Outbound call discipline for the Bot Connector: a per-conversation pace (Teams allows about
 * 7 messages per second per conversation) and a bounded retry on the statuses Teams uses for
 * "slow down / try again" (429, 412, 502, 503, 504), honouring `Retry-After`.
 */

/** Statuses worth retrying: throttled (429), concurrent update (412), gateway trouble (502/503/504). */
export const RETRYABLE_STATUSES = new Set([412, 429, 502, 503, 504]);

export interface RetryOptions {
  /** Attempts in total, including the first (default 4). */
  attempts?: number;
  /** First backoff when no Retry-After is given (default 500 ms), doubled each time, with jitter. */
  baseDelayMs?: number;
  /** Longest single wait, including Retry-After (default 30 s). */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; status: number; delayMs: number }) => void;
}

/** HTTP status of an error thrown by the Bot Framework connector client, if any. */
export function statusOf(error: unknown): number | undefined {
  const e = error as { statusCode?: unknown; status?: unknown; response?: { status?: unknown } } | null;
  if (!e || typeof e !== 'object') return undefined;
  for (const v of [e.statusCode, e.status, e.response?.status]) if (typeof v === 'number') return v;
  return undefined;
}

/** `Retry-After` of an error's response in milliseconds (seconds or an HTTP date), if any. */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  const headers = (error as { response?: { headers?: unknown } } | null)?.response?.headers as
    | { get?: (name: string) => string | undefined | null; [key: string]: unknown }
    | undefined;
  if (!headers) return undefined;
  const raw = typeof headers.get === 'function' ? headers.get('retry-after') : (headers['retry-after'] as string | undefined);
  if (raw === undefined || raw === null || raw === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(raw));
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Run `call`, retrying retryable statuses a bounded number of times. Other errors pass through at once. */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const status = statusOf(error);
      if (status === undefined || !RETRYABLE_STATUSES.has(status) || attempt >= attempts) throw error;
      const backoff = base * 2 ** (attempt - 1);
      const delayMs = Math.min(max, retryAfterMs(error) ?? backoff / 2 + Math.random() * (backoff / 2));
      options.onRetry?.({ attempt, status, delayMs });
      await sleep(delayMs);
    }
  }
}

/**
 * Paces calls per key (conversation): at most one call starts every `intervalMs`, in order.
 * Keys with nothing queued are forgotten, so memory stays bounded by active conversations.
 */
export class ConversationPacer {
  private readonly tails = new Map<string, { tail: Promise<void>; last: number; pending: number }>();

  constructor(
    /** Minimum gap between two calls in one conversation (default 1000/7 ms, Teams' ~7 per second). */
    private readonly intervalMs = Math.ceil(1000 / 7),
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
    private readonly now: () => number = Date.now,
  ) {}

  /** Run `fn` when this conversation's turn comes. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const slot = this.tails.get(key) ?? { tail: Promise.resolve(), last: 0, pending: 0 };
    this.tails.set(key, slot);
    slot.pending++;
    const result = slot.tail.then(async () => {
      const wait = slot.last + this.intervalMs - this.now();
      if (wait > 0) await this.sleep(wait);
      slot.last = this.now();
      return fn();
    });
    slot.tail = result.then(
      () => undefined,
      () => undefined,
    );
    void slot.tail.then(() => {
      slot.pending--;
      if (slot.pending > 0) return;
      // Keep the slot for one more interval so the pace holds across idle gaps, then forget it.
      const timer = setTimeout(() => {
        if (slot.pending === 0 && this.tails.get(key) === slot) this.tails.delete(key);
      }, this.intervalMs);
      timer.unref?.();
    });
    return result;
  }

  /** Conversations with calls queued or running. */
  get active(): number {
    return this.tails.size;
  }
}
