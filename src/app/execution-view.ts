/** A stored execution's `RunView` for chat, built by the engine from the pinned definition. */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { RunView } from '../engine/ports.js';
import { buildRunView } from '../engine/run-view.js';
import { toExecutionRecord } from '../store/PrismaExecutionStore.js';

/** The run's current view, or null when the execution does not exist. */
export async function buildExecutionView(prisma: PrismaClient, executionId: string): Promise<RunView | null> {
  const row = await prisma.workflowExecution.findUnique({ where: { id: executionId }, include: { workflow: { select: { name: true } } } });
  if (!row) return null;
  const { workflow, ...execution } = row;
  const record = toExecutionRecord(execution);
  return buildRunView(record, record.definitionSnapshot, workflow.name);
}
