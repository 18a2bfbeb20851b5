/**
 * What the worker needs besides the execution record to tell people about a run: workflow name
 * and author, incident title, number, team and assignee. Read once per job.
 */
import type { PrismaClient } from '../generated/prisma/client.js';

export interface RunContext {
  workflowName: string;
  authorId: string | null;
  incident: { id: string; number: number; title: string; teamId: string; assigneeId: string | null };
  triggeredByUserId: string | null;
}

interface RunContextRow {
  triggeredByUserId: string | null;
  workflowName: string;
  authorId: string | null;
  incidentId: string;
  incidentNumber: number;
  incidentTitle: string;
  teamId: string;
  assigneeId: string | null;
}

/**
 * The run's context in one statement (a join). A nested Prisma `select` would issue one query per
 * relation (Prisma's default relation-load strategy), three per job.
 */
export async function loadRunContext(prisma: PrismaClient, executionId: string): Promise<RunContext | null> {
  if (!isUuid(executionId)) return null;
  const rows = await prisma.$queryRaw<RunContextRow[]>`
    SELECT e."triggeredByUserId"::text AS "triggeredByUserId",
           w."name" AS "workflowName",
           w."authorId"::text AS "authorId",
           i."id"::text AS "incidentId",
           i."number" AS "incidentNumber",
           i."title" AS "incidentTitle",
           i."teamId"::text AS "teamId",
           i."assigneeId"::text AS "assigneeId"
      FROM "WorkflowExecution" e
      JOIN "Workflow" w ON w."id" = e."workflowId"
      JOIN "Incident" i ON i."id" = e."incidentId"
     WHERE e."id" = ${executionId}::uuid`;
  const row = rows[0];
  if (!row) return null;
  return {
    workflowName: row.workflowName,
    authorId: row.authorId,
    incident: { id: row.incidentId, number: Number(row.incidentNumber), title: row.incidentTitle, teamId: row.teamId, assigneeId: row.assigneeId },
    triggeredByUserId: row.triggeredByUserId,
  };
}

/** Ids look like UUIDs in this schema; anything else cannot be an execution. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
