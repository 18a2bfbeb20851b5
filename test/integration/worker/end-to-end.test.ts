import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionRegistry, createIntegrationActions, MemoryIntentStore } from '../../../src/integrations/index.js';
import { generateKey } from '../../../src/secrets/crypto.js';
import { SecretStore } from '../../../src/secrets/SecretStore.js';
import { TriggerDispatcher } from '../../../src/app/dispatcher.js';
import { findMatchingWorkflows } from '../../../src/engine/triggers.js';
import type { TriggerEvent } from '../../../src/engine/types.js';
import { PrismaWorkflowRepository } from '../../../src/store/PrismaWorkflowRepository.js';
import { WorkflowJobScheduler } from '../../../src/worker/job-scheduler.js';
import { stopWorkflowWorker } from '../../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { EffectServer, lineWorkflow, seedExecution, seedIncident, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';
import { producer, startTestWorker, type TestWorker } from './setup.js';

describe('worker end to end', () => {
  let db: TestDatabase;
  let server: EffectServer;
  let worker: TestWorker;
  const prefix = uniquePrefix('e2e');
  const queue = producer(prefix);

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().on('/', { delayMs: 150 }).start();
    worker = await startTestWorker(db, prefix);
  });

  afterAll(async () => {
    await stopWorkflowWorker(worker.handle, 2000);
    await queue.close();
    await server.close();
    await deletePrefix(prefix);
    await db.drop();
  });

  it('runs the two workflows an event matches in parallel, persisting each node before the next starts', async () => {
    const seeded = await seedIncident(db.prisma);
    const docA = lineWorkflow('page-oncall', server.url, ['a1', 'a2', 'a3']);
    const docB = lineWorkflow('open-ticket', server.url, ['a1', 'a2', 'a3']);
    await seedWorkflow(db.prisma, docA);
    await seedWorkflow(db.prisma, docB);
    // An unrelated workflow that must not match.
    await seedWorkflow(db.prisma, lineWorkflow('on-resolve', server.url, ['x'], { trigger: { type: 'state_changed', to: 'resolved' } }));

    // At each request, note which nodes the database already holds as completed for that run.
    const seenCompleted = new Map<string, string[]>();
    server.onRequest = async (req) => {
      const [executionId, nodeId] = req.key.split(':') as [string, string];
      const row = await db.prisma.workflowExecution.findUnique({ where: { id: executionId }, select: { completedNodes: true, nodeResults: true } });
      seenCompleted.set(`${executionId}:${nodeId}`, row?.completedNodes ?? []);
    };

    const logger = new MemoryLogger();
    const repository = new PrismaWorkflowRepository(db.prisma);
    const dispatcher = new TriggerDispatcher({
      prisma: db.prisma,
      match: (event) => findMatchingWorkflows(event, { repository, logger }),
      scheduler: new WorkflowJobScheduler(queue, db.prisma),
      logger,
    });
    const event: TriggerEvent = {
      type: 'incident_created',
      incident: { id: seeded.incidentId, title: 'Database down', priority: 'P1', status: 'open', teamId: seeded.teamId, metadata: {}, createdAt: seeded.incidentCreatedAt },
      occurredAt: new Date().toISOString(),
    };
    const ids = await dispatcher.emit(event);
    expect(ids).toHaveLength(2);

    await waitFor('both runs to complete', async () => {
      const rows = await db.prisma.workflowExecution.findMany({ where: { id: { in: ids } }, select: { status: true } });
      return rows.every((r) => r.status === 'COMPLETED');
    });

    const rows = await db.prisma.workflowExecution.findMany({ where: { id: { in: ids } } });
    for (const row of rows) {
      expect(row.completedNodes).toEqual(['start', 'a1', 'a2', 'a3']);
      const results = row.nodeResults as Record<string, { status: string; output?: { status?: number } }>;
      for (const node of ['a1', 'a2', 'a3']) {
        expect(results[node]?.status).toBe('completed');
        expect(results[node]?.output?.status).toBe(200);
      }
      // Node results were in the database before the next node started.
      expect(seenCompleted.get(`${row.id}:a1`)).toEqual(['start']);
      expect(seenCompleted.get(`${row.id}:a2`)).toEqual(['start', 'a1']);
      expect(seenCompleted.get(`${row.id}:a3`)).toEqual(['start', 'a1', 'a2']);
      expect(row.startedAt).not.toBeNull();
      expect(row.completedAt).not.toBeNull();
    }

    // Parallel: the second run started before the first one's last step was answered.
    const firstByRun = ids.map((id) => Math.min(...server.requests.filter((r) => r.key.startsWith(id)).map((r) => r.at)));
    const lastByRun = ids.map((id) => Math.max(...server.requests.filter((r) => r.key.startsWith(id)).map((r) => r.at)));
    expect(Math.max(...firstByRun)).toBeLessThan(Math.min(...lastByRun));

    // Each side effect exactly once, and nothing for the workflow that did not match.
    expect(server.requests).toHaveLength(6);
    expect(new Set(server.requests.map((r) => r.key)).size).toBe(6);
    expect(server.requests.some((r) => r.path.includes('on-resolve'))).toBe(false);

    // The live message: the final state reached the notifier for both runs, with growing revisions.
    await worker.handle.runtime.coalescer.flush();
    for (const id of ids) {
      const views = worker.notifier.viewsOf(id);
      expect(views.at(-1)?.status).toBe('COMPLETED');
      expect(views.at(-1)?.steps.map((s) => s.state)).toEqual(['completed', 'completed', 'completed']);
      const revisions = views.map((v) => v.revision);
      expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    }
    expect(worker.notifier.alerts).toHaveLength(0);
  });
});

describe('worker robustness and secrets', () => {
  let db: TestDatabase;
  let server: EffectServer;
  const prefix = uniquePrefix('robust');

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().start();
  });

  afterAll(async () => {
    await server.close();
    await deletePrefix(prefix);
    await db.drop();
  });

  it('drops malformed and unknown jobs without crashing, then runs a good one; decrypts only the referenced secrets and never leaks them', async () => {
    const keyring = { current: generateKey('k1'), previous: [] };
    const secretStore = new SecretStore(db.prisma, keyring);
    await secretStore.set('API_TOKEN', 'tok-very-secret-1234');
    await secretStore.set('UNUSED_SECRET', 'never-decrypted-5678');
    const requested: string[][] = [];
    const secrets = { loadNames: async (names: Iterable<string>) => {
      requested.push([...names]);
      return secretStore.loadNames(names);
    } };
    const worker = await startTestWorker(db, prefix, { secrets });
    const queue = producer(prefix);
    try {
      await queue.queue.add('execute', { nonsense: true } as never, { jobId: 'bad-job' });
      await queue.queue.add('execute', { executionId: randomUUID(), incidentId: randomUUID(), workflowId: randomUUID(), triggeredBy: 'event', executionChain: [] }, { jobId: 'unknown-job' });

      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('with-secret', server.url, ['a1']);
      const a1 = doc.nodes[1] as { input: Record<string, unknown> };
      a1.input.headers = { Authorization: 'Bearer {{secrets.API_TOKEN}}' };
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      await waitFor('COMPLETED', async () => (await db.prisma.workflowExecution.findUnique({ where: { id } }))?.status === 'COMPLETED');

      expect(server.requests.find((r) => r.key === `${id}:a1`)?.authorization).toBe('Bearer tok-very-secret-1234');
      expect(requested).toEqual([['API_TOKEN']]);
      const job = await queue.getJob(id);
      expect(job).toBeUndefined(); // removeOnComplete
      await worker.handle.runtime.coalescer.flush();
      const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id } });
      const everything = JSON.stringify([row, worker.notifier.views, worker.logger.entries]);
      expect(everything).not.toContain('tok-very-secret-1234');
      expect(everything).not.toContain('never-decrypted-5678');
      expect(worker.logger.entries.some((e) => e.msg === 'malformed workflow job dropped')).toBe(true);
      expect(worker.logger.entries.some((e) => e.msg === 'unknown execution; job dropped')).toBe(true);
    } finally {
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
  });
});

describe('worker with the real ActionRegistry', () => {
  let db: TestDatabase;
  let server: EffectServer;
  const prefix = uniquePrefix('registry');

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await new EffectServer().start();
  });

  afterAll(async () => {
    await server.close();
    await deletePrefix(prefix);
    await db.drop();
  });

  it('runs webhook nodes through the product handlers (SSRF guard allow-listing the local receiver) with Idempotency-Key', async () => {
    const actions = new ActionRegistry(
      createIntegrationActions({ WEBHOOK_ALLOWLIST: ['127.0.0.1'], WEBHOOK_TIMEOUT_MS: 5000, LINEAR_API_URL: 'http://127.0.0.1:9/graphql' }, { intents: new MemoryIntentStore() }),
    );
    const worker = await startTestWorker(db, prefix, { actions });
    const queue = producer(prefix);
    try {
      const seeded = await seedIncident(db.prisma);
      const doc = lineWorkflow('real-webhooks', server.url, ['a1', 'a2']);
      const wf = await seedWorkflow(db.prisma, doc);
      const id = await seedExecution(db.prisma, wf, seeded, doc);
      await queue.scheduleWorkflow({ executionId: id, incidentId: seeded.incidentId, workflowId: wf, triggeredBy: 'event', executionChain: [wf] });
      await waitFor('COMPLETED', async () => (await db.prisma.workflowExecution.findUnique({ where: { id } }))?.status === 'COMPLETED');
      expect(server.requests.map((r) => r.key)).toEqual([`${id}:a1`, `${id}:a2`]);
    } finally {
      await stopWorkflowWorker(worker.handle, 2000);
      await queue.close();
    }
  });
});
