/**
 * Retry policy for actions, in the spirit of Temporal's `RetryPolicy`:
 * - `maxAttempts` (default 3): attempts in total, the first included; 1 disables retries.
 * - `initialDelayMs` (default 1000) and `backoffCoefficient` (default 2): the cap of the n-th wait
 *   is `initialDelayMs * backoffCoefficient^(n-1)`, bounded by `maxDelayMs` (default 30000).
 * - Waits use full jitter: a uniform random delay between 0 and that cap, so many runs failing
 *   together do not retry in lockstep.
 * Only retryable errors (`TransientError`, `RateLimitedError`) are retried. A `RateLimitedError`
 * waits exactly its `retryAfterMs` instead of the backoff.
 */
import { z } from 'zod';

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  backoffCoefficient: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 1_000,
  backoffCoefficient: 2,
  maxDelayMs: 30_000,
});

/** Partial policy as written in a workflow (`settings.retry`, an action's `retry`). */
export const RetryPolicySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(10).optional(),
  initialDelayMs: z.number().int().min(0).max(60_000).optional(),
  backoffCoefficient: z.number().min(1).max(10).optional(),
  maxDelayMs: z.number().int().min(0).max(300_000).optional(),
});

export type RetryPolicyInput = z.infer<typeof RetryPolicySchema>;

/** Defaults, overridden by the workflow's settings, overridden by the node's own policy. */
export function resolveRetryPolicy(...layers: Array<RetryPolicyInput | undefined>): RetryPolicy {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) policy[k as keyof RetryPolicy] = v;
  }
  return policy;
}

/** Wait before attempt `attempt + 1` after attempt `attempt` failed (full jitter). `random` is in [0, 1). */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.backoffCoefficient ** (attempt - 1));
  return Math.floor(random() * cap);
}
