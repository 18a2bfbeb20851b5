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

export async function loadRunContext(prisma: PrismaClient, executionId: string): Promise<RunContext | null> {
  const row = await prisma.workflowExecution.findUnique({
    where: { id: executionId },
    select: {
      triggeredByUserId: true,
      workflow: { select: { name: true, authorId: true } },
      incident: { select: { id: true, number: true, title: true, teamId: true, assigneeId: true } },
    },
  });
  if (!row) return null;
  return {
    workflowName: row.workflow.name,
    authorId: row.workflow.authorId,
    incident: row.incident,
    triggeredByUserId: row.triggeredByUserId,
  };
}

/** Ids look like UUIDs in this schema; anything else cannot be an execution. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
