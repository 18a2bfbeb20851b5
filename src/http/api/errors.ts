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
    logger.error({ err: error instanceof Error ? error.message : String(error), method: req.method, path: req.originalUrl }, 'API request failed');
    sendError(res, new ApiError(500, 'internal', 'Internal error.'));
  };
}
