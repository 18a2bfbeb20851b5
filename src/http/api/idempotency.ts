/**
 * `Idempotency-Key` on create calls: the first response (2xx) is stored in ProcessedEvent, keyed by
 * token and key, and a repeat of the same request gets it back (`Idempotent-Replayed: true`).
 * The key reused with a different request is a 422; a repeat while the first is still running is
 * a 409. A request that fails releases its key so the caller can fix it and try again.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { PrismaClient, Prisma } from '../../generated/prisma/client.js';
import type { Logger } from '../../engine/ports.js';
import { canonicalJson } from '../../catalog/checksum.js';
import { ApiError } from './errors.js';
import type { ApiPrincipal } from './tokens.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Longer than the server's request timeout (30 s). */
const ABANDONED_AFTER_MS = 120_000;

interface StoredResult {
  fingerprint: string;
  state: 'pending' | 'done';
  status?: number;
  body?: unknown;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function idempotency(prisma: PrismaClient, logger: Logger): RequestHandler {
  return async (req, res, next) => {
    const key = req.get('Idempotency-Key');
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) throw new ApiError(400, 'bad_request', 'Idempotency-Key must be 1 to 255 visible ASCII characters.', 'Idempotency-Key');
    const principal = res.locals.principal as ApiPrincipal;
    const id = `api:${principal.tokenId}:${sha256(key)}`;
    const fingerprint = sha256(`${req.method} ${req.baseUrl}${req.path}\n${canonicalJson(req.body ?? null)}`);

    const pending: StoredResult = { fingerprint, state: 'pending' };
    for (let attempt = 1; ; attempt++) {
      if (attempt > 3) throw new ApiError(409, 'conflict', 'A request with this Idempotency-Key is in progress; try again.', 'Idempotency-Key');
      const inserted = await prisma.processedEvent.createMany({
        data: [{ id, source: 'api', result: pending as unknown as Prisma.InputJsonValue }],
        skipDuplicates: true,
      });
      if (inserted.count === 1) break;
      const existing = await prisma.processedEvent.findUnique({ where: { id } });
      if (!existing) continue;
      const stored = existing.result as StoredResult | null;
      if (stored?.fingerprint !== fingerprint) {
        throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request.', 'Idempotency-Key');
      }
      if (stored.state === 'done') {
        res.set('Idempotent-Replayed', 'true').status(stored.status ?? 200).json(stored.body);
        return;
      }
      // A pending record older than any request can live belongs to a process that died mid-request.
      if (attempt === 1 && existing.createdAt.getTime() < Date.now() - ABANDONED_AFTER_MS) {
        await prisma.processedEvent.deleteMany({ where: { id, createdAt: existing.createdAt } });
        continue;
      }
      throw new ApiError(409, 'conflict', 'A request with this Idempotency-Key is in progress; try again.', 'Idempotency-Key');
    }

    // Persist the outcome before the response leaves, so a quick repeat finds it.
    const send = res.json.bind(res) as Response['json'];
    res.json = ((body: unknown) => {
      const status = res.statusCode;
      const write =
        status >= 200 && status < 300
          ? prisma.processedEvent.update({ where: { id }, data: { result: { fingerprint, state: 'done', status, body } as unknown as Prisma.InputJsonValue } })
          : prisma.processedEvent.delete({ where: { id } });
      write
        .catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'idempotency record not saved'))
        .finally(() => send(body));
      return res;
    }) as Response['json'];
    next();
  };
}
