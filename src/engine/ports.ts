/**
 * Ports: the interfaces the engine needs from the outside world. Adapters live elsewhere
 * (`src/store` for Prisma, `src/integrations` for actions, `src/bot/*` for chat) and in-memory
 * versions serve the unit tests. The same contract tests run against every implementation.
 */
import type { CancelReason } from './errors.js';
import type { ExecutionStatus, NodeResult, TriggerEvent, TriggerType } from './types.js';

// ---------------------------------------------------------------------------------------------
// Time

/** Injected time source so tests control `now` and sleeping. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Actions

/** Minimal structured logger (pino-compatible subset) so the engine does not import pino. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  /** Whether lines of this level are written (pino has it); callers use it to skip work for unwritten lines. */
  isLevelEnabled?(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
}

/** Everything an action needs besides its rendered input. */
export interface ActionContext {
  executionId: string;
  workflowId: string;
  nodeId: string;
  incidentId: string;
  /** `executionId:nodeId`: the same key on every attempt, for idempotent side effects. */
  idempotencyKey: string;
  /** 1-based attempt number for this node within this run. */
  attempt: number;
  /** Aborted on cancel, workflow timeout, per-action timeout and shutdown. */
  signal: AbortSignal;
  /** Decrypted secrets by name. Never rendered into inputs, outputs, logs or errors. */
  secrets: ReadonlyMap<string, string>;
  /** Workflow ids of the chain that led to this run, including this workflow (for incident.update). */
  executionChain: readonly string[];
  logger: Logger;
}

/** Runs one action. Throws a `WorkflowError` subclass to say whether a retry may help. */
export interface ActionRunner {
  run(actionType: string, input: Record<string, unknown>, ctx: ActionContext): Promise<Record<string, unknown>>;
}

// ---------------------------------------------------------------------------------------------
// Persistence

/** A run as the engine sees it. */
export interface ExecutionRecord {
  id: string;
  workflowId: string;
  workflowVersion: number;
  incidentId: string;
  status: ExecutionStatus;
  triggerEvent: TriggerEvent;
  /** The workflow document the run is pinned to (a `WorkflowDefinition`, see definition.ts). */
  definitionSnapshot: unknown;
  currentNodeId: string | null;
  completedNodes: string[];
  nodeResults: Record<string, NodeResult>;
  executionChain: string[];
  error: string | null;
  cancelReason: CancelReason | null;
  cancelRequestedAt: string | null;
  attempt: number;
  /** Lease token: a write carrying an older fence is refused (see FencedOutError). */
  fence: number;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

/** One write after each node: the node's result plus where the run now stands. */
export interface NodeProgress {
  nodeId: string;
  result: NodeResult;
  /** Whether the node is finished for good (appended to `completedNodes`). */
  completed: boolean;
}

/** Final state of a run. */
export interface ExecutionOutcome {
  status: Extract<ExecutionStatus, 'COMPLETED' | 'FAILED' | 'CANCELLED'>;
  error?: string | null;
  cancelReason?: CancelReason | null;
}

/**
 * Where runs are persisted. Every write is fenced: it applies only while the row's `fence`
 * equals the caller's, otherwise it throws `FencedOutError` and changes nothing.
 */
export interface ExecutionStore {
  get(executionId: string): Promise<ExecutionRecord | null>;
  /** PENDING -> RUNNING (sets startedAt once), bumping the fence; returns the new fence, or null if the run is not startable. */
  claim(executionId: string): Promise<{ fence: number; record: ExecutionRecord } | null>;
  /**
   * Persist one node's result (exactly one database write, fenced). The same statement reports
   * whether someone has asked to cancel the run, so the executor needs no separate read per node.
   * With `finish`, the same write also ends the run (the last node of a run and the run's final
   * state commit together: no extra write, and never a last node without its final state).
   */
  recordNode(executionId: string, fence: number, progress: NodeProgress, finish?: ExecutionOutcome): Promise<{ cancelRequested: boolean }>;
  /** Persist the final state when no node write carries it (exactly one database write). */
  finish(executionId: string, fence: number, outcome: ExecutionOutcome): Promise<void>;
  /** Whether someone asked to cancel this run. */
  isCancelRequested(executionId: string): Promise<boolean>;
}

/** A stored workflow as matching sees it. */
export interface StoredWorkflow {
  id: string;
  name: string;
  teamId: string | null;
  enabled: boolean;
  version: number;
  triggerType: TriggerType;
  /** The validated document (a `WorkflowDefinition`). */
  definition: unknown;
  authorId: string | null;
}

/** Read access to workflows for matching. */
export interface WorkflowRepository {
  /** Enabled workflows of this team or global scope with this trigger type: one indexed query. */
  findCandidates(query: { teamId: string; triggerType: TriggerType }): Promise<StoredWorkflow[]>;
}

// ---------------------------------------------------------------------------------------------
// Chat

/** One step of a run, as a person sees it. */
export interface RunStepView {
  nodeId: string;
  label: string;
  kind: 'action' | 'condition' | 'delay';
  state: 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled' | 'waiting';
  durationMs?: number;
  /** Short human summary of the output (e.g. "Created OPS-12"), already scrubbed of secrets. */
  summary?: string;
  /** Link to what the step made (ticket URL). */
  url?: string;
  error?: string;
}

/** The chat-agnostic state of a run; Slack renders it as Block Kit, Teams as an Adaptive Card. */
export interface RunView {
  executionId: string;
  workflowId: string;
  workflowName: string;
  workflowVersion: number;
  incident: { id: string; number?: number; title: string };
  trigger: { type: TriggerType; by?: string };
  status: ExecutionStatus;
  steps: RunStepView[];
  error?: string;
  cancelReason?: CancelReason;
  /** Buttons a person may press now. */
  actions: Array<'cancel' | 'retry'>;
  startedAt?: string;
  finishedAt?: string;
  /** Increases with every state change; renderers drop anything older than what they sent. */
  revision: number;
}

/** A failure alert: where it goes is decided by the notifier (team channel, assignee, author). */
export interface FailureAlert {
  run: RunView;
  teamId: string;
  assigneeId: string | null;
  authorId: string | null;
  failedStep?: string;
  error: string;
}

/** Chat output. Implementations must never throw into the run: failures are logged and recorded. */
export interface ChatNotifier {
  /** Post or update the run's live message (coalesced by the implementation). */
  publishProgress(view: RunView): Promise<void>;
  /** Tell the team channel, the incident assignee and the workflow author that a run failed. */
  notifyFailure(alert: FailureAlert): Promise<void>;
  /** chat.post action: a message to the incident channel or the team channel. Returns a reference. */
  postMessage(target: { incidentId: string; teamId: string; channel: 'incident' | 'team' }, text: string): Promise<{ ref: string }>;
}
