/**
 * The application layer: what a person or another system can ask the product to do.
 * Slack, Teams and the HTTP API all call these services (and only these), so the three
 * behave the same: same permission checks, same trigger events, same error texts.
 *
 * Implementations live next to this file (src/app/*.ts) on top of Prisma and the worker's queue.
 */
import type { ExecutionStatus, NodeResult, TriggerType } from '../engine/types.js';
import type { RunView } from '../engine/ports.js';

export type Platform = 'slack' | 'teams' | 'api' | 'cli';

/** Who is asking. Chat adapters resolve the platform identity into a stored user. */
export interface Actor {
  userId: string | null;
  name: string;
  role: 'ADMIN' | 'MEMBER' | 'SYSTEM';
  platform: Platform;
  /** Team ids the actor belongs to (empty for API tokens and the system). */
  teamIds: string[];
}

/** A failure that should be shown to the person as is (ephemeral message, 4xx JSON). */
export class AppError extends Error {
  constructor(
    readonly code: 'not_found' | 'forbidden' | 'invalid' | 'conflict' | 'unavailable',
    message: string,
    readonly field?: string,
    /** Every problem when there are several (e.g. each issue of an invalid workflow document). */
    readonly details?: Array<{ path: string; message: string; line?: number; file?: string }>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export interface IncidentSummary {
  id: string;
  number: number;
  title: string;
  priority: string;
  status: string;
  teamId: string;
  teamName: string;
  assigneeId: string | null;
  assigneeName: string | null;
  escalationLevel: number;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface WorkflowSummary {
  id: string;
  name: string;
  description: string;
  scope: string;
  triggerType: TriggerType;
  enabled: boolean;
  version: number;
  lastRun: { status: ExecutionStatus; at: string } | null;
}

export interface ExecutionSummary {
  id: string;
  workflowId: string;
  workflowName: string;
  workflowVersion: number;
  incidentId: string;
  status: ExecutionStatus;
  triggerType: string;
  error: string | null;
  attempt: number;
  nodeResults: Record<string, NodeResult>;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

/** Where a chat command was typed. */
export interface ChannelRef {
  platform: 'slack' | 'teams';
  channelId: string;
}

export interface IncidentService {
  declare(actor: Actor, input: { title: string; priority?: string; teamId?: string; metadata?: Record<string, unknown>; channel?: ChannelRef }): Promise<IncidentSummary>;
  findByChannel(channel: ChannelRef): Promise<IncidentSummary | null>;
  get(actor: Actor, incidentId: string): Promise<IncidentSummary>;
  list(actor: Actor, filter: { status?: string; teamId?: string; limit?: number }): Promise<IncidentSummary[]>;
  setStatus(actor: Actor, incidentId: string, status: string): Promise<IncidentSummary>;
  setPriority(actor: Actor, incidentId: string, priority: string): Promise<IncidentSummary>;
  assign(actor: Actor, incidentId: string, assigneeUserId: string | null): Promise<IncidentSummary>;
  escalate(actor: Actor, incidentId: string): Promise<IncidentSummary>;
  /** Several changes at once, all or nothing (one transaction, one audit row; a status change emits state_changed). */
  update(actor: Actor, incidentId: string, patch: { status?: string; priority?: string; assigneeId?: string | null }): Promise<IncidentSummary>;
}

/** Optional hints for `RunService.runManual`. */
export interface RunManualOptions {
  /**
   * The incident as the caller just loaded it (e.g. by its channel); used instead of reading it again
   * when its id is `incidentId`. Permission and applicability checks run on it all the same.
   */
  incident?: IncidentSummary;
}

export interface RunService {
  /** `/workflow run <name>`: a manual trigger. Errors (unknown, disabled, not manual-capable) say why, with close names for typos. */
  runManual(actor: Actor, incidentId: string, workflowName: string, options?: RunManualOptions): Promise<{ executionId: string }>;
  /** Dry run: does the trigger match, why not, and the rendered inputs of each action. No side effect. */
  dryRun(actor: Actor, incidentId: string, workflowName: string): Promise<{ matches: boolean; reasons: string[]; actions: Array<{ nodeId: string; action: string; input: unknown }> }>;
  cancel(actor: Actor, executionId: string): Promise<{ outcome: 'cancelled' | 'cancelling' | 'already_finished'; status: ExecutionStatus }>;
  retry(actor: Actor, executionId: string): Promise<{ outcome: 'retrying' | 'already_retrying' | 'refused'; message: string }>;
  history(actor: Actor, incidentId: string, limit?: number): Promise<ExecutionSummary[]>;
  getExecution(actor: Actor, executionId: string): Promise<ExecutionSummary>;
  listExecutions(actor: Actor, filter: { incidentId?: string; workflowId?: string; status?: ExecutionStatus; limit?: number }): Promise<ExecutionSummary[]>;
  view(executionId: string): Promise<RunView | null>;
}

export interface WorkflowAdminService {
  list(actor: Actor): Promise<WorkflowSummary[]>;
  show(actor: Actor, name: string): Promise<WorkflowSummary & { definition: unknown }>;
  setEnabled(actor: Actor, name: string, enabled: boolean): Promise<WorkflowSummary>;
  /** Create or update workflows from document texts (YAML or JSON), all or nothing; each change is a new version. Admins only. */
  apply(actor: Actor, sources: Array<{ file: string; text: string }>): Promise<WorkflowApplyResult>;
}

/** What applying workflow documents did, per workflow. */
export interface WorkflowApplyResult {
  changes: Array<{ name: string; action: 'create' | 'update' | 'unchanged'; fromVersion: number | null; toVersion: number | null; changed: string[] }>;
}

export interface UserDirectory {
  /** Find or create the stored user for a chat identity. */
  resolve(identity: { platform: 'slack' | 'teams'; platformUserId: string; name?: string }): Promise<Actor>;
  findByPlatformId(platform: 'slack' | 'teams', platformUserId: string): Promise<{ id: string; name: string } | null>;
}

/** Everything the chat adapters and the HTTP API need. */
export interface AppServices {
  incidents: IncidentService;
  runs: RunService;
  workflows: WorkflowAdminService;
  users: UserDirectory;
}
