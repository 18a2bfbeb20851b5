/**
 * Maps what happened on the wire to the engine's error kinds, with messages a workflow author can
 * act on ("Jira answered 400: Field 'project' is required (POST /rest/api/3/issue)"). Messages are
 * scrubbed again by the registry; nothing here attaches the raw library error as `cause`, because
 * axios errors carry the request config (with its Authorization header) and loggers serialise causes.
 */
import {
  CancelledError,
  ErrorCode,
  RateLimitedError,
  TransientError,
  UserError,
  WorkflowError,
  type CancelReason,
} from '../engine/errors.js';
import { findBlockedCause, toBlockedDestinationError } from './ssrf/EgressGuard.js';
import type { TimeoutFlag } from './deadline.js';

const MAX_DETAIL = 300;

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds; default when absent. */
export function parseRetryAfter(value: unknown, now: number, fallbackMs = 1000): number {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw === 'number' && Number.isFinite(raw)) return Math.max(0, raw * 1000);
  if (typeof raw !== 'string' || raw.trim() === '') return fallbackMs;
  const seconds = Number(raw.trim());
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(raw);
  return Number.isNaN(date) ? fallbackMs : Math.max(0, date - now);
}

/** Shortens remote text for an error message. */
export function shorten(text: string, max = MAX_DETAIL): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * The error for a completed HTTP exchange with a non-success status.
 * 408 and 5xx are transient, 429 is rate limiting, other 4xx (and unexpected 3xx) are the user's.
 */
export function errorForStatus(service: string, status: number, detail: string, where: string, retryAfter: unknown, now: number): WorkflowError {
  const text = `${service} answered ${status}${detail ? `: ${shorten(detail)}` : ''} (${where})`;
  if (status === 429) return new RateLimitedError(text, parseRetryAfter(retryAfter, now));
  if (status === 408 || status >= 500) return new TransientError(text);
  return new UserError(text);
}

/** How the request's own signals ended it, if they did. */
export function abortedError(ctxSignal: AbortSignal): WorkflowError | null {
  if (!ctxSignal.aborted) return null;
  const reason: unknown = ctxSignal.reason;
  if (reason instanceof WorkflowError) return reason;
  const cancelReason: CancelReason = reason === 'timeout' || reason === 'shutdown' || reason === 'stalled' ? reason : 'manual';
  return new CancelledError(cancelReason);
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT', 'ERR_CONNECT_TIMEOUT', 'ERR_NETWORK', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_BAD_RESPONSE',
]);

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

function messagesOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof Error && current.message && !parts.includes(current.message)) parts.push(current.message);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

/**
 * The error for a request that did not produce a status: cancelled, blocked, timed out, or a
 * transport failure (the outcome is unknown, so it is retryable; idempotency makes that safe).
 */
export function errorForTransport(
  service: string,
  error: unknown,
  where: string,
  signals: { ctx: AbortSignal; timeout?: TimeoutFlag; timeoutMs?: number },
): WorkflowError {
  const aborted = abortedError(signals.ctx);
  if (aborted) return aborted;
  const blocked = findBlockedCause(error);
  if (blocked) return toBlockedDestinationError(blocked);
  if (error instanceof WorkflowError) return error;
  if (signals.timeout?.aborted) return new TransientError(`${service} did not answer within ${signals.timeoutMs ?? '?'} ms (${where})`);
  const codes = codesOf(error);
  const message = shorten(messagesOf(error) || String(error));
  if (codes.some((c) => TRANSIENT_CODES.has(c)) || /socket hang up|network|terminated|fetch failed|timeout/i.test(message)) {
    return new TransientError(`${service} request failed: ${message} (${where})`);
  }
  return new WorkflowError(
    // Unknown failure modes are not retried blindly: report them.
    ErrorCode.Unexpected,
    `${service} request failed unexpectedly: ${message} (${where})`,
  );
}
