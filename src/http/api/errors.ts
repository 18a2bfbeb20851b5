/** JSON errors of the HTTP API: `{ error: { code, message, field?, details? } }` with the matching status. */
import type { ErrorRequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../../engine/ports.js';
import { AppError } from '../../app/services.js';

export type ApiErrorCode =
  | 'malformed_json'
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation_failed'
  | 'idempotency_key_reused'
  | 'unavailable'
  | 'internal';

/** A failure the API answers as is. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Body of every error response (also used in the OpenAPI document). */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

export function sendError(res: Response, error: ApiError): void {
  res.status(error.status).json({
    error: {
      code: error.code,
      message: error.message,
      ...(error.field !== undefined ? { field: error.field } : {}),
      ...(error.details !== undefined ? { details: error.details } : {}),
    },
  });
}

/** `nodes.0.input` -> `nodes[0].input`; `[]` -> undefined. */
export function fieldOf(path: readonly PropertyKey[]): string | undefined {
  if (path.length === 0) return undefined;
  return path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${String(seg)}` : String(seg)), '');
}

/** A zod failure on a request part, as a 422 (body) or 400 (query, path). */
export function validationError(error: z.ZodError, where: 'body' | 'query' | 'params'): ApiError {
  const issues = error.issues.map((i) => ({ field: fieldOf(i.path) ?? where, message: i.message }));
  const [first] = issues;
  const status = where === 'body' ? 422 : 400;
  return new ApiError(status, status === 422 ? 'validation_failed' : 'bad_request', first ? `${first.field}: ${first.message}` : 'invalid request', first?.field, issues.length > 1 ? issues : undefined);
}

const APP_STATUS: Record<AppError['code'], { status: number; code: ApiErrorCode }> = {
  not_found: { status: 404, code: 'not_found' },
  forbidden: { status: 403, code: 'forbidden' },
  invalid: { status: 422, code: 'validation_failed' },
  conflict: { status: 409, code: 'conflict' },
  unavailable: { status: 503, code: 'unavailable' },
};

/** Prisma's codes for "cannot reach / timed out reaching / connection closed by" the database server. */
const PRISMA_UNREACHABLE = new Set(['P1001', 'P1002', 'P1017']);
/** Socket errors and PostgreSQL's "admin shutdown" / "cannot connect now" / "crash shutdown" states. */
const DRIVER_UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', '57P01', '57P02', '57P03']);
/** adapter-pg's classification of the same (`DriverAdapterError.cause.kind`). */
const ADAPTER_UNREACHABLE = new Set(['DatabaseNotReachable', 'ConnectionClosed']);

/**
 * Whether an error means the database cannot be reached (down, restarting, refusing connections).
 * Prisma wraps driver-adapter failures several ways (known request error with `meta.driverAdapterError`,
 * `DriverAdapterError` with a `cause`, initialization errors, raw `pg` errors), so the chain of causes
 * is walked and each link checked by code, adapter kind and Prisma's own message.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const o = e as { code?: unknown; errorCode?: unknown; kind?: unknown; message?: unknown; name?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown }; errors?: unknown };
    const code = typeof o.code === 'string' ? o.code : typeof o.errorCode === 'string' ? o.errorCode : undefined;
    if (code !== undefined && (PRISMA_UNREACHABLE.has(code) || DRIVER_UNREACHABLE.has(code))) return true;
    if (typeof o.kind === 'string' && ADAPTER_UNREACHABLE.has(o.kind)) return true;
    if (typeof o.message === 'string' && /Can't reach database server|Connection terminated unexpectedly|timeout exceeded when trying to connect/i.test(o.message)) return true;
    queue.push(o.cause, o.meta?.driverAdapterError);
    if (Array.isArray(o.errors)) queue.push(...(o.errors as unknown[]));
  }
  return false;
}

/** Maps AppError, body-parser errors and anything else to JSON; unexpected errors are logged, not shown. */
export function apiErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof ApiError) return sendError(res, error);
    if (error instanceof AppError) {
      const m = APP_STATUS[error.code];
      return sendError(res, new ApiError(m.status, m.code, error.message, error.field, error.details));
    }
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.parse.failed') return sendError(res, new ApiError(400, 'malformed_json', 'The request body is not valid JSON.'));
    if (type === 'entity.too.large') return sendError(res, new ApiError(413, 'payload_too_large', 'The request body is larger than 1 MiB.'));
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      return sendError(res, new ApiError(415, 'unsupported_media_type', 'Unsupported content encoding or charset.'));
    }
    if (isDatabaseUnavailable(error)) {
      // Retryable and not the caller's fault; the driver's text (host, port) stays in the log.
      logger.warn({ err: error instanceof Error ? error.message : String(error), method: req.method, path: req.originalUrl }, 'API request failed: database unreachable');
      return sendError(res, new ApiError(503, 'unavailable', 'The database is unreachable; try again shortly.'));
    }
    logger.error({ err: error instanceof Error ? error.message : String(error), method: req.method, path: req.originalUrl }, 'API request failed');
    sendError(res, new ApiError(500, 'internal', 'Internal error.'));
  };
}
