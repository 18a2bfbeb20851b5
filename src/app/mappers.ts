/** Database rows to the plain summaries the adapters show. */
import type { ExecutionStatus, IncidentSnapshot, NodeResult, TriggerType } from '../engine/types.js';
import type { ExecutionSummary, IncidentSummary, WorkflowSummary } from './services.js';

export const incidentInclude = {
  team: { select: { name: true } },
  assignee: { select: { name: true } },
} as const;

interface IncidentRow {
  id: string;
  number: number;
  title: string;
  priority: string;
  status: string;
  teamId: string;
  assigneeId: string | null;
  escalationLevel: number;
  metadata: unknown;
  createdAt: Date;
  updatedAt: Date;
  team: { name: string };
  assignee: { name: string } | null;
}

export function toIncidentSummary(row: IncidentRow): IncidentSummary {
  return {
    id: row.id,
    number: row.number,
    title: row.title,
    priority: row.priority,
    status: row.status,
    teamId: row.teamId,
    teamName: row.team.name,
    assigneeId: row.assigneeId,
    assigneeName: row.assignee?.name ?? null,
    escalationLevel: row.escalationLevel,
    metadata: asRecord(row.metadata),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The incident columns a trigger event's snapshot is built from. */
export type IncidentSnapshotRow = Omit<IncidentRow, 'team' | 'assignee' | 'updatedAt'>;

export function toIncidentSnapshot(row: IncidentSnapshotRow): IncidentSnapshot {
  return {
    id: row.id,
    number: row.number,
    title: row.title,
    priority: row.priority,
    status: row.status,
    teamId: row.teamId,
    assigneeId: row.assigneeId,
    escalationLevel: row.escalationLevel,
    metadata: asRecord(row.metadata),
    createdAt: row.createdAt.toISOString(),
  };
}

export const executionInclude = { workflow: { select: { name: true } } } as const;

interface ExecutionRow {
  id: string;
  workflowId: string;
  workflowVersion: number;
  incidentId: string;
  status: ExecutionStatus;
  triggerType: string;
  error: string | null;
  attempt: number;
  nodeResults: unknown;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  workflow: { name: string };
}

export function toExecutionSummary(row: ExecutionRow): ExecutionSummary {
  return {
    id: row.id,
    workflowId: row.workflowId,
    workflowName: row.workflow.name,
    workflowVersion: row.workflowVersion,
    incidentId: row.incidentId,
    status: row.status,
    triggerType: row.triggerType,
    error: row.error,
    attempt: row.attempt,
    nodeResults: asRecord(row.nodeResults) as Record<string, NodeResult>,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

interface WorkflowRow {
  id: string;
  name: string;
  description: string;
  teamId: string | null;
  enabled: boolean;
  triggerType: string;
  version: number;
  team: { name: string } | null;
}

export function toWorkflowSummary(row: WorkflowRow, lastRun: { status: ExecutionStatus; createdAt: Date } | null): WorkflowSummary {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    scope: row.team ? row.team.name : 'global',
    triggerType: row.triggerType as TriggerType,
    enabled: row.enabled,
    version: row.version,
    lastRun: lastRun ? { status: lastRun.status, at: lastRun.createdAt.toISOString() } : null,
  };
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
