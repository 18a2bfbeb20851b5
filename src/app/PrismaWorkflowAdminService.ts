/**
 * Workflow administration on Prisma: list with the last run, show, enable and disable.
 * Disabling removes the workflow's queued runs (PENDING -> CANCELLED, their jobs removed); runs that
 * already started finish (they can still be cancelled one by one).
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../engine/ports.js';
import type { ExecutionStatus } from '../engine/types.js';
import { writeAudit } from './audit.js';
import { closestNames } from './closest-names.js';
import { toWorkflowSummary } from './mappers.js';
import { requireAdmin } from './permissions.js';
import { TX_OPTIONS, type JobScheduler } from './ports.js';
import { WorkflowCatalog } from '../catalog/WorkflowCatalog.js';
import { CatalogError, type CatalogIssue } from '../catalog/errors.js';
import { AppError, type Actor, type WorkflowAdminService, type WorkflowApplyResult, type WorkflowSummary } from './services.js';

export interface WorkflowAdminDeps {
  prisma: PrismaClient;
  scheduler: JobScheduler;
  logger: Logger;
}

const workflowInclude = { team: { select: { name: true } } } as const;

export class PrismaWorkflowAdminService implements WorkflowAdminService {
  private readonly prisma: PrismaClient;
  private readonly scheduler: JobScheduler;
  private readonly logger: Logger;

  constructor(deps: WorkflowAdminDeps) {
    this.prisma = deps.prisma;
    this.scheduler = deps.scheduler;
    this.logger = deps.logger;
  }

  async list(_actor: Actor): Promise<WorkflowSummary[]> {
    const [rows, lastRuns] = await Promise.all([
      this.prisma.workflow.findMany({ where: { deletedAt: null }, include: workflowInclude, orderBy: { name: 'asc' } }),
      this.prisma.$queryRaw<Array<{ workflowId: string; status: ExecutionStatus; createdAt: Date }>>`
        SELECT DISTINCT ON ("workflowId") "workflowId", "status"::text AS "status", "createdAt"
        FROM "WorkflowExecution" ORDER BY "workflowId", "createdAt" DESC`,
    ]);
    const last = new Map(lastRuns.map((r) => [r.workflowId, r]));
    return rows.map((row) => toWorkflowSummary(row, last.get(row.id) ?? null));
  }

  async show(_actor: Actor, name: string): Promise<WorkflowSummary & { definition: unknown }> {
    const row = await this.find(name);
    const lastRun = await this.prisma.workflowExecution.findFirst({
      where: { workflowId: row.id },
      orderBy: { createdAt: 'desc' },
      select: { status: true, createdAt: true },
    });
    return { ...toWorkflowSummary(row, lastRun), definition: row.definition };
  }

  async setEnabled(actor: Actor, name: string, enabled: boolean): Promise<WorkflowSummary> {
    requireAdmin(actor, enabled ? 'enable workflows' : 'disable workflows');
    const found = await this.find(name);
    const { row, cancelled } = await this.prisma.$transaction(async (tx) => {
      const row = await tx.workflow.update({ where: { id: found.id }, data: { enabled }, include: workflowInclude });
      let cancelled: string[] = [];
      if (!enabled) {
        // Only PENDING rows: a conditional update, so a worker that claims a run first keeps it.
        const pending = await tx.$queryRaw<Array<{ id: string }>>`
          UPDATE "WorkflowExecution"
          SET "status" = 'CANCELLED', "cancelReason" = 'manual', "error" = 'workflow disabled',
              "cancelRequestedAt" = now(), "cancelRequestedBy" = ${actor.name}, "completedAt" = now(), "updatedAt" = now()
          WHERE "workflowId" = ${found.id}::uuid AND "status" = 'PENDING'
          RETURNING id::text AS id`;
        cancelled = pending.map((p) => p.id);
      }
      if (row.enabled !== found.enabled || cancelled.length > 0) {
        await writeAudit(tx, actor, enabled ? 'workflow.enable' : 'workflow.disable', { type: 'workflow', id: row.id }, {
          name: row.name,
          ...(cancelled.length ? { cancelledExecutions: cancelled } : {}),
        });
      }
      return { row, cancelled };
    }, TX_OPTIONS);
    for (const executionId of cancelled) {
      try {
        await this.scheduler.remove(executionId);
      } catch (error) {
        // The row is CANCELLED, so the worker skips the job if it still runs.
        this.logger.warn({ executionId, workflowId: row.id, err: error instanceof Error ? error.message : String(error) }, 'could not remove the job of a cancelled run');
      }
    }
    const lastRun = await this.prisma.workflowExecution.findFirst({
      where: { workflowId: row.id },
      orderBy: { createdAt: 'desc' },
      select: { status: true, createdAt: true },
    });
    return toWorkflowSummary(row, lastRun);
  }

  async apply(actor: Actor, sources: Array<{ file: string; text: string }>): Promise<WorkflowApplyResult> {
    requireAdmin(actor, 'apply workflows');
    const catalog = new WorkflowCatalog({
      logger: this.logger,
      onWorkflowsDisabled: async (_ids, cancelledExecutionIds) => {
        for (const id of cancelledExecutionIds) await this.scheduler.remove(id).catch(() => undefined);
      },
    });
    const loaded = await catalog.parseSources(sources, { prisma: this.prisma });
    if (loaded.issues.length > 0) throw invalidDocuments(loaded.issues);
    try {
      const result = await catalog.apply(this.prisma, loaded.documents, { author: actor.name });
      return {
        changes: result.changes
          .filter((c): c is typeof c & { action: 'create' | 'update' | 'unchanged' } => c.action === 'create' || c.action === 'update' || c.action === 'unchanged')
          .map((c) => ({ name: c.name, action: c.action, fromVersion: c.fromVersion, toVersion: c.toVersion, changed: c.changed })),
      };
    } catch (error) {
      if (error instanceof CatalogError) throw invalidDocuments(error.issues);
      throw error;
    }
  }

  private async find(name: string) {
    const row = await this.prisma.workflow.findFirst({ where: { name, deletedAt: null }, include: workflowInclude });
    if (row) return row;
    throw await unknownWorkflow(this.prisma, name);
  }
}

/** AppError('not_found') naming the closest existing workflows. */
export async function unknownWorkflow(prisma: PrismaClient, name: string): Promise<AppError> {
  const names = (await prisma.workflow.findMany({ where: { deletedAt: null }, select: { name: true } })).map((w) => w.name);
  const close = closestNames(name, names);
  const hint = close.length ? ` Did you mean ${close.map((n) => `"${n}"`).join(', ')}?` : '';
  return new AppError('not_found', `No workflow named "${name}".${hint}`, 'name');
}

function invalidDocuments(issues: CatalogIssue[]): AppError {
  const [first] = issues;
  const message = issues.length === 1 && first ? `Invalid workflow: ${first.path ? `${first.path}: ` : ''}${first.message}` : `${issues.length} problems in the workflow documents.`;
  return new AppError(
    'invalid',
    message,
    first?.path || undefined,
    issues.map((i) => ({ path: i.path, message: i.message, ...(i.line !== undefined ? { line: i.line } : {}), file: i.file })),
  );
}
