/**
 * The error family every part of the product speaks. What matters is the *kind*:
 * - `UserError`: the workflow or its input is wrong; retrying cannot help; tell the author.
 * - `TransientError`: the world hiccupped (timeout, 5xx, connection reset); retry with backoff.
 * - `RateLimitedError`: the other side asked us to wait `retryAfterMs`; retry after that.
 * - `CancelledError`: the run was stopped, with a reason.
 * - anything else is unexpected: not retried, reported.
 */
export enum ErrorCode {
  UserError = 'user_error',
  ValidationError = 'validation_error',
  TransientError = 'transient_error',
  RateLimited = 'rate_limited',
  Cancelled = 'cancelled',
  BlockedDestination = 'blocked_destination',
  FencedOut = 'fenced_out',
  Unexpected = 'unexpected',
}

/** Why a run stopped early. */
export type CancelReason = 'manual' | 'timeout' | 'shutdown' | 'stalled';

/** Base class: every error we raise on purpose carries a stable code. */
export class WorkflowError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/** The workflow or its input is wrong. Never retried. */
export class UserError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.UserError, message, options);
  }
}

/** A temporary failure: retried with exponential backoff and jitter. */
export class TransientError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.TransientError, message, { ...options, retryable: true });
  }
}

/** The remote side rate-limited us; retry no sooner than `retryAfterMs`. */
export class RateLimitedError extends WorkflowError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(ErrorCode.RateLimited, message, { ...options, retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

/** The run was cancelled (by a person, the workflow timeout, shutdown or a stalled worker). */
export class CancelledError extends WorkflowError {
  readonly reason: CancelReason;
  constructor(reason: CancelReason, message = `cancelled (${reason})`) {
    super(ErrorCode.Cancelled, message);
    this.reason = reason;
  }
}

/** An outbound request aimed at a forbidden address (SSRF guard). Never retried. */
export class BlockedDestinationError extends WorkflowError {
  constructor(message: string) {
    super(ErrorCode.BlockedDestination, message);
  }
}

/** A worker that lost its lease tried to write: the write was refused. */
export class FencedOutError extends WorkflowError {
  constructor(message: string) {
    super(ErrorCode.FencedOut, message);
  }
}

/** True when an error may be retried (transient or rate-limited). */
export function isRetryable(error: unknown): boolean {
  return error instanceof WorkflowError && error.retryable;
}
