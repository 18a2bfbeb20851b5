/**
 * The HTTP API on loopback over a fresh test database and a real BullMQ queue (unique prefix):
 * the same wiring the service uses (createHttpApp + createApiRouter + createAppServices).
 */
import type { RunningHttpServer } from '../../../src/http/server.js';
import { createHttpApp, listen } from '../../../src/http/server.js';
import { createApiRouter, createApiToken } from '../../../src/http/api/index.js';
import { createAppServices, type WiredAppServices } from '../../../src/app/create-app-services.js';
import { createLogger } from '../../../src/logger.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { createWorkflowQueue, type WorkflowQueue } from '../../../src/worker/queue.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../../helpers/redis.js';

export interface ApiHarness {
  db: TestDatabase;
  server: RunningHttpServer;
  services: WiredAppServices;
  queue: WorkflowQueue;
  prefix: string;
  logger: MemoryLogger;
  /** A token with every scope. */
  token: string;
  teamId: string;
  call(method: string, path: string, options?: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export const ALL_SCOPES = ['incidents:read', 'incidents:write', 'workflows:read', 'workflows:write', 'executions:read', 'executions:write'];

export async function startApi(): Promise<ApiHarness> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix('api');
  const logger = new MemoryLogger();
  const queue = createWorkflowQueue({ connection: REDIS_URL, prefix, logger });
  const services = createAppServices({
    prisma: db.prisma,
    scheduler: new WorkflowJobScheduler(queue, db.prisma, logger),
    repository: new PrismaWorkflowRepository(db.prisma),
    logger,
  });
  const app = createHttpApp({
    logger: createLogger({ LOG_LEVEL: 'silent' }),
    readiness: [],
    mounts: [{ path: '/api/v1', router: createApiRouter({ services, prisma: db.prisma, logger }) }],
  });
  const server = await listen(app, 0, '127.0.0.1');
  const team = await db.prisma.team.create({ data: { name: 'payments' } });
  const { token } = await createApiToken(db.prisma, { name: 'alerting', scopes: ALL_SCOPES });

  const call: ApiHarness['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const bearer = options.token === undefined ? token : options.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${server.url}/api/v1${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };

  return {
    db,
    server,
    services,
    queue,
    prefix,
    logger,
    token,
    teamId: team.id,
    call,
    async close() {
      await server.close(1000);
      await queue.close();
      await deletePrefix(prefix);
      await db.drop();
    },
  };
}

/** A linear workflow document: trigger -> each node in order. */
export function workflowDoc(
  name: string,
  trigger: Record<string, unknown>,
  actions: Array<{ id: string; action: string; input: Record<string, unknown> }>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const nodes = [{ id: 'start', type: 'trigger' }, ...actions.map((a) => ({ id: a.id, type: 'action', action: a.action, input: a.input }))];
  const ids = nodes.map((n) => n.id);
  const edges = ids.slice(1).map((to, i) => ({ from: ids[i]!, to }));
  return { name, team: 'payments', trigger, nodes, edges, ...extra };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
