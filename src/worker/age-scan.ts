/**
 * Age triggers: a BullMQ job scheduler runs a scan every minute (one scan cluster-wide per tick,
 * whichever worker takes the job). The scan finds open incidents older than each enabled `age`
 * workflow's threshold that have not fired for it yet; `INSERT ... ON CONFLICT DO NOTHING` on
 * AgeTriggerFiring decides who fires, so a workflow fires once per incident even when scans overlap.
 */
import { Queue, Worker } from 'bullmq';
import { toIncidentSnapshot, type IncidentSnapshotRow } from '../app/mappers.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { WorkflowDocumentSchema } from '../engine/definition.js';
import type { Logger, StoredWorkflow } from '../engine/ports.js';
import { evaluateTrigger } from '../engine/triggers.js';
import type { IncidentSnapshot, TriggerEvent } from '../engine/types.js';
import { openRedis, type RedisConnection } from './queue.js';

/** Queue holding the scheduler's scan jobs. */
export const AGE_SCAN_QUEUE_NAME = 'workflow-age-scan';
const SCHEDULER_ID = 'age-scan';

/** Hands one `age` event, for one workflow, to the dispatcher (which records the run and schedules it). */
export type AgeEmit = (event: TriggerEvent, workflow: StoredWorkflow) => Promise<unknown>;

export interface AgeScannerOptions {
  connection: RedisConnection;
  prefix?: string;
  prisma: PrismaClient;
  emit: AgeEmit;
  logger: Logger;
  /** Scan period (default 60 000 ms). */
  everyMs?: number | undefined;
  now?: () => number;
  /** Incidents looked at per workflow and scan (default 500). */
  batchSize?: number;
}


export class AgeScanner {
  private queue: Queue | null = null;
  private worker: Worker | null = null;
  private readonly closers: Array<() => Promise<void> | void> = [];

  constructor(private readonly options: AgeScannerOptions) {}

  /** Create (or update) the scheduler and start consuming its jobs. */
  async start(): Promise<void> {
    const { connection, prefix } = this.options;
    const queueConn = openRedis(connection, { maxRetriesPerRequest: null });
    queueConn.on('error', () => undefined);
    const workerConn = openRedis(connection, { maxRetriesPerRequest: null });
    workerConn.on('error', () => undefined);
    this.queue = new Queue(AGE_SCAN_QUEUE_NAME, { connection: queueConn, prefix });
    this.queue.on('error', () => undefined);
    this.worker = new Worker(AGE_SCAN_QUEUE_NAME, async () => this.scanOnce(), { connection: workerConn, prefix, concurrency: 1 });
    this.worker.on('error', (error) => this.options.logger.warn({ err: error.message }, 'age scan worker: redis error'));
    this.closers.push(
      async () => this.worker?.close(),
      async () => this.queue?.close(),
      () => workerConn.disconnect(),
      () => queueConn.disconnect(),
    );
    await this.ensureScheduler();
  }

  /** Idempotent: (re)creates the every-minute scheduler (needed again after Redis lost its data). */
  async ensureScheduler(): Promise<void> {
    await this.queue?.upsertJobScheduler(SCHEDULER_ID, { every: this.options.everyMs ?? 60_000 }, { name: 'scan', opts: { removeOnComplete: true, removeOnFail: 100 } });
  }

  /** One scan. Returns how many (workflow, incident) pairs fired. */
  async scanOnce(): Promise<number> {
    const { prisma, logger } = this.options;
    const now = this.options.now?.() ?? Date.now();
    const workflows = await prisma.workflow.findMany({ where: { enabled: true, triggerType: 'age', deletedAt: null } });
    let fired = 0;
    for (const wf of workflows) {
      const parsed = WorkflowDocumentSchema.safeParse(wf.definition);
      if (!parsed.success || parsed.data.trigger.type !== 'age') {
        logger.warn({ workflowId: wf.id }, 'age scan: workflow definition invalid; skipped');
        continue;
      }
      const cutoff = new Date(now - parsed.data.trigger.minutes * 60_000);
      const incidents = await prisma.$queryRaw<IncidentSnapshotRow[]>`
        SELECT i.id::text AS id, i.number, i.title, i.priority, i.status, i."teamId"::text AS "teamId",
               i."assigneeId"::text AS "assigneeId", i."escalationLevel", i.metadata, i."createdAt"
          FROM "Incident" i
         WHERE i.status <> 'resolved' AND i."resolvedAt" IS NULL AND i."createdAt" <= ${cutoff}
           AND (${wf.teamId}::uuid IS NULL OR i."teamId" = ${wf.teamId}::uuid)
           AND NOT EXISTS (SELECT 1 FROM "AgeTriggerFiring" f WHERE f."workflowId" = ${wf.id}::uuid AND f."incidentId" = i.id)
         ORDER BY i."createdAt"
         LIMIT ${this.options.batchSize ?? 500}`;
      const stored: StoredWorkflow = {
        id: wf.id,
        name: wf.name,
        teamId: wf.teamId,
        enabled: wf.enabled,
        version: wf.version,
        triggerType: 'age',
        definition: wf.definition,
        authorId: wf.authorId,
      };
      for (const row of incidents) {
        const incident: IncidentSnapshot = toIncidentSnapshot(row);
        const event: TriggerEvent = { type: 'age', incident, occurredAt: new Date(now).toISOString(), actor: { kind: 'system', name: 'age-scan' } };
        if (!evaluateTrigger({ ...parsed.data, name: wf.name, enabled: wf.enabled, teamId: wf.teamId }, event, { now })) continue;
        const won = await prisma.$executeRaw`
          INSERT INTO "AgeTriggerFiring" ("workflowId", "incidentId") VALUES (${wf.id}::uuid, ${row.id}::uuid)
          ON CONFLICT DO NOTHING`;
        if (won !== 1) continue;
        try {
          await this.options.emit(event, stored);
          fired++;
        } catch (error) {
          // Not fired after all: forget the firing so the next scan tries again.
          await prisma.$executeRaw`DELETE FROM "AgeTriggerFiring" WHERE "workflowId" = ${wf.id}::uuid AND "incidentId" = ${row.id}::uuid`.catch(() => undefined);
          logger.warn({ workflowId: wf.id, incidentId: row.id, err: error instanceof Error ? error.message : String(error) }, 'age scan: emit failed; will retry');
        }
      }
    }
    if (fired > 0) logger.info({ fired }, 'age scan fired workflows');
    return fired;
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0)) await Promise.resolve(c()).catch(() => undefined);
  }
}
