/**
 * Per-channel pacing of Slack Web API calls. When Slack answers 429 with `Retry-After` for a call
 * in one channel, later calls for that channel wait until then; calls for other channels go on.
 * The WebClient is built with `rejectRateLimitedCalls`, so a 429 surfaces here as an error instead
 * of the client sleeping (and blocking its whole queue) on its own.
 */
import { webApi } from '@slack/bolt';

const SlackErrorCode = webApi.ErrorCode;

/** How long Slack asked us to wait, in ms, if `error` is a rate-limit rejection. */
export function retryAfterMs(error: unknown): number | null {
  if (error === null || typeof error !== 'object') return null;
  const e = error as { code?: unknown; retryAfter?: unknown };
  if (e.code !== SlackErrorCode.RateLimitedError) return null;
  const seconds = typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) ? e.retryAfter : 1;
  return Math.max(0, seconds) * 1000;
}

export interface ChannelGateOptions {
  /** How many 429s in a row one call tolerates before giving up (default 5). */
  maxRateLimitRetries?: number;
  /** Longest wait honoured for one Retry-After (default 60 s); longer asks are capped. */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Called whenever a channel gets paused (metrics, tests). */
  onRateLimited?: (channel: string, waitMs: number) => void;
}

export class ChannelGate {
  private readonly pausedUntil = new Map<string, number>();
  private readonly maxRetries: number;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: ChannelGateOptions = {}) {
    this.maxRetries = options.maxRateLimitRetries ?? 5;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until `channel` may be called again (0 when it is not paused). */
  waitFor(channel: string): number {
    const until = this.pausedUntil.get(channel);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left <= 0) this.pausedUntil.delete(channel);
    return Math.max(0, left);
  }

  /**
   * Run `call` for `channel` after any pause, and again after each 429 (a rate-limited call was not
   * carried out by Slack, so repeating it cannot duplicate anything). Other errors are thrown as is:
   * callers decide whether those may be repeated (a post may not: it might have gone through).
   */
  async run<T>(channel: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const wait = this.waitFor(channel);
      if (wait > 0) await this.sleep(wait);
      try {
        return await call();
      } catch (error) {
        const after = retryAfterMs(error);
        if (after === null) throw error;
        // Record the pause even when giving up, so the next call for this channel still waits.
        const waitMs = Math.min(after, this.maxWaitMs);
        this.pausedUntil.set(channel, Math.max(this.pausedUntil.get(channel) ?? 0, this.now() + waitMs));
        this.options.onRateLimited?.(channel, waitMs);
        if (attempt >= this.maxRetries) throw error;
      }
    }
  }
}
