/** A stored execution as the engine's `ExecutionRecord`, and its `RunView` for chat. */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { CancelReason } from '../engine/errors.js';
import type { ExecutionRecord, RunView } from '../engine/ports.js';
import type { NodeResult, TriggerEvent } from '../engine/types.js';
import { asRecord } from './mappers.js';

type ExecutionRow = Awaited<ReturnType<PrismaClient['workflowExecution']['findUniqueOrThrow']>>;

export function toExecutionRecord(row: ExecutionRow): ExecutionRecord {
  return {
    id: row.id,
    workflowId: row.workflowId,
    workflowVersion: row.workflowVersion,
    incidentId: row.incidentId,
    status: row.status,
    triggerEvent: row.triggerEvent as unknown as TriggerEvent,
    definitionSnapshot: row.definitionSnapshot,
    currentNodeId: row.currentNodeId,
    completedNodes: row.completedNodes,
    nodeResults: asRecord(row.nodeResults) as Record<string, NodeResult>,
    executionChain: row.executionChain,
    error: row.error,
    cancelReason: (row.cancelReason as CancelReason | null) ?? null,
    cancelRequestedAt: row.cancelRequestedAt?.toISOString() ?? null,
    attempt: row.attempt,
    fence: row.fence,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

/** The run's current view, or null when the execution does not exist. */
export async function buildExecutionView(prisma: PrismaClient, executionId: string): Promise<RunView | null> {
  const row = await prisma.workflowExecution.findUnique({ where: { id: executionId } });
  if (!row) return null;
  const record = toExecutionRecord(row);
  return minimalView(record);
}

function minimalView(record: ExecutionRecord): RunView {
  const definition = asRecord(record.definitionSnapshot);
  const finished = record.status === 'COMPLETED' || record.status === 'FAILED' || record.status === 'CANCELLED';
  return {
    executionId: record.id,
    workflowId: record.workflowId,
    workflowName: typeof definition.name === 'string' ? definition.name : record.workflowId,
    workflowVersion: record.workflowVersion,
    incident: { id: record.incidentId, ...(record.triggerEvent.incident.number !== undefined ? { number: record.triggerEvent.incident.number } : {}), title: record.triggerEvent.incident.title },
    trigger: { type: record.triggerEvent.type, ...(record.triggerEvent.actor?.name ? { by: record.triggerEvent.actor.name } : {}) },
    status: record.status,
    steps: [],
    ...(record.error ? { error: record.error } : {}),
    ...(record.cancelReason ? { cancelReason: record.cancelReason } : {}),
    actions: finished ? (record.status === 'COMPLETED' ? [] : ['retry']) : ['cancel'],
    ...(record.startedAt ? { startedAt: record.startedAt } : {}),
    ...(record.completedAt ? { finishedAt: record.completedAt } : {}),
    revision: record.fence,
  };
}
