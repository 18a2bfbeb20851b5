/**
 * Core domain types shared by the engine, the worker, the stores and the chat adapters.
 * Everything here is plain data (JSON-serialisable) so it can be persisted and sent in jobs.
 */
import type { CancelReason } from './errors.js';

/** What can start a workflow. */
export type TriggerType = 'incident_created' | 'state_changed' | 'escalation' | 'manual' | 'age';
export const TRIGGER_TYPES: readonly TriggerType[] = ['incident_created', 'state_changed', 'escalation', 'manual', 'age'];

/** The incident as the engine sees it when an event happens. */
export interface IncidentSnapshot {
  id: string;
  number?: number;
  title: string;
  priority: string;
  status: string;
  teamId: string;
  assigneeId?: string | null;
  escalationLevel?: number;
  metadata: Record<string, unknown>;
  /** ISO 8601. */
  createdAt: string;
}

/** Who or what caused an event. */
export interface EventActor {
  kind: 'user' | 'api' | 'workflow' | 'system';
  /** Internal user id, API token id, or execution id. */
  id?: string;
  name?: string;
}

/** One normalised inbound event (seed plan's `TriggerEvent`). */
export interface TriggerEvent {
  type: TriggerType;
  incident: IncidentSnapshot;
  /** For `state_changed`. */
  previousState?: string;
  newState?: string;
  /** For `manual`: the workflow the person asked for. */
  workflowName?: string;
  /** Workflow ids that caused this event, oldest first (cycle detection). */
  executionChain?: string[];
  actor?: EventActor;
  /** ISO 8601. */
  occurredAt: string;
}

export type ExecutionStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export type NodeStatus = 'completed' | 'failed' | 'cancelled' | 'waiting';

/** What happened at one node of a run. */
export interface NodeResult {
  status: NodeStatus;
  output?: unknown;
  error?: { code: string; message: string };
  /** For condition nodes: which branch was taken. */
  branch?: boolean;
  attempts: number;
  /** ISO 8601. */
  startedAt: string;
  finishedAt?: string;
  /** For delay nodes: when the run continues (ISO 8601). */
  resumeAt?: string;
}

export type { CancelReason };
