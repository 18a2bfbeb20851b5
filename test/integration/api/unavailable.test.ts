/**
 * The API with its database down: a Prisma client over `pg` pointed at a closed port. Token
 * authentication is the first thing to touch the database, so even an authenticated request must
 * answer 503 `unavailable` (retryable), not 500, and the body must not leak driver details.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServices } from '../../../src/app/create-app-services.js';
import { createApiRouter } from '../../../src/http/api/index.js';
import { createHttpApp, listen, type RunningHttpServer } from '../../../src/http/server.js';
import { createLogger } from '../../../src/logger.js';
import { createPrismaClient, type PrismaClient } from '../../../src/store/prisma.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.js';

const UNAVAILABLE = { error: { code: 'unavailable', message: 'The database is unreachable; try again shortly.' } };

describe('API with the database unreachable', () => {
  let prisma: PrismaClient;
  let server: RunningHttpServer;
  let queue: WorkflowQueue;
  const prefix = uniquePrefix('apidown');
  const logger = new MemoryLogger();

  beforeAll(async () => {
    // Port 1 on loopback: nothing listens there, so every connection is refused.
    prisma = createPrismaClient('postgresql://postgres@127.0.0.1:1/x', { poolSize: 2 });
    queue = createWorkflowQueue({ connection: REDIS_URL, prefix, logger });
    const services = createAppServices({ prisma, scheduler: new WorkflowJobScheduler(queue, prisma, logger), logger });
    const app = createHttpApp({
      logger: createLogger({ LOG_LEVEL: 'silent' }),
      readiness: [],
      mounts: [{ path: '/api/v1', router: createApiRouter({ services, prisma, logger }) }],
    });
    server = await listen(app, 0, '127.0.0.1');
  });

  afterAll(async () => {
    await server?.close(5_000);
    await queue?.close();
    await prisma?.$disconnect();
    await deletePrefix(prefix);
  });

  const get = (path: string, token: string | null) =>
    fetch(`${server.url}/api/v1${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });

  it('answers 503 unavailable when token authentication cannot reach the database', async () => {
    const res = await get('/incidents', 'iwf_0123456789abcdefghijklmnopqrstuvwxyzABCD');
    expect(res.status).toBe(503);
    const body: unknown = await res.json();
    expect(body).toEqual(UNAVAILABLE);
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|P10\d\d|prisma/i);
  });

  it('keeps requests that never reach the database as they were (401 without a token)', async () => {
    const res = await get('/incidents', null);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
});
