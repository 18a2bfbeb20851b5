/**
 * The executor (seed plan's `executeWorkflow` / `WorkflowExecutor`): walks a run's pinned
 * definition in topological order from the trigger node, following the branch each condition
 * node takes, and persists exactly one write per node through the `ExecutionStore`.
 *
 * - Resume: nodes already in `completedNodes` are not run again; their outputs feed templates.
 *   Crash recovery, delay continuations and Retry all call the executor again on the same record.
 * - Stop on the first failed node: the node and the run carry the error, the run ends FAILED.
 * - Timeout: `WORKFLOW_TIMEOUTS[settings.timeout]` from the run's `startedAt`, checked before each
 *   node and each attempt, and enforced during an attempt by aborting its signal. A timed-out run
 *   ends CANCELLED with reason `timeout`. Each attempt is also bounded by `min(30s, remaining * 0.8)`
 *   and counts as a retryable failure when that bound aborts it.
 * - Retries: see retry.ts. A rate-limit wait longer than the remaining time fails the node.
 * - Delays never sleep in a worker slot: the node is recorded `waiting` with `resumeAt` and the
 *   executor returns `{ kind: 'suspended', resumeAt }`; called again after `resumeAt`, the delay
 *   completes and the walk continues.
 * - Cancel: `deps.signal` (abort it with a `CancelledError`), checked before each node, or the
 *   store's cancel flag: taken from the claimed record at the start of a call, then from the
 *   answer of each node write (`recordNode` reports it in the same statement). No new node
 *   starts, the in-flight attempt's signal is aborted, and the run ends CANCELLED with the
 *   signal's reason (`manual` when none is given).
 * - Writes: one per node. The write of the node that ends the run (the last one to run, or the
 *   one that failed or was cancelled) also carries the run's final state, so a run costs one
 *   write per node plus its claim; `store.finish` is used only when no node write can carry it.
 *
 * A `FencedOutError` from the store (another worker owns the run now) is thrown to the caller
 * as is: this worker must stop without writing anything else.
 */
import { ACTION_INPUT_SCHEMAS } from './action-inputs.js';
import { getFieldValue } from './conditions.js';
import { prepareDefinition, type PreparedDefinition, type VersionCache } from './definition-cache.js';
import { formatDefinitionIssues, type ActionNode, type WorkflowDefinition, type WorkflowNode } from './definition.js';
import { CancelledError, ErrorCode, FencedOutError, RateLimitedError, TransientError, UserError, WorkflowError, isRetryable, type CancelReason } from './errors.js';
import { isActivated } from './graph.js';
import type { ActionRunner, Clock, ExecutionOutcome, ExecutionRecord, ExecutionStore, Logger, NodeProgress } from './ports.js';
import { backoffDelayMs, resolveRetryPolicy } from './retry.js';
import { MissingSecretError, redactSecrets, renderTemplates, type TemplateContext } from './templates.js';
import { WORKFLOW_TIMEOUTS, actionTimeoutMs } from './timeouts.js';
import type { ExecutionStatus, NodeResult } from './types.js';
import { lazyChild } from './lazy-logger.js';

export { WORKFLOW_TIMEOUTS } from './timeouts.js';

/** What the executor needs for one run. */
export interface ExecutorDeps {
  store: ExecutionStore;
  actions: ActionRunner;
  clock: Clock;
  logger: Logger;
  /** The fence returned by `store.claim`; every write carries it. */
  fence: number;
  /** External cancel: abort with a `CancelledError` (its reason is kept; default `manual`). */
  signal?: AbortSignal;
  /**
   * Called with a snapshot of the run when a node starts (`currentNodeId` set, not persisted) and
   * after every persisted change. Errors thrown here are logged and ignored.
   *
   * The snapshot is a shallow copy (no deep clone per event: that made long chains quadratic).
   * Its top-level fields stay as they were when it was taken, because the executor replaces
   * `nodeResults` and `completedNodes` rather than changing them; nested objects are shared with
   * the executor's state, so listeners must treat the snapshot as read-only.
   */
  onProgress?(record: ExecutionRecord): void | Promise<void>;
  /** Source of jitter in [0, 1); defaults to `Math.random`. */
  random?: () => number;
  /**
   * Validated definitions by workflow version, shared across runs (the worker's). Only for records
   * read from the database, where a workflow id and version always name the same document.
   */
  definitions?: VersionCache<PreparedDefinition>;
}

/** How a call to the executor ended. */
export interface ExecuteResult {
  /** `finished`: the run reached a final status; `suspended`: a delay is waiting until `resumeAt`. */
  kind: 'finished' | 'suspended';
  status: ExecutionStatus;
  error?: string;
  cancelReason?: CancelReason;
  suspended?: { resumeAt: string };
  /** The run as persisted after this call. */
  record: ExecutionRecord;
}

/** How a node ended. `finished`: its write already stored the run's final state. */
type NodeOutcome =
  | { kind: 'next'; finished?: boolean }
  | { kind: 'failed'; error: string; finished?: boolean }
  | { kind: 'cancelled'; reason: CancelReason; finished?: boolean }
  | { kind: 'suspended'; resumeAt: string };

/** Why an attempt's own timers are stopped once it settled (never seen by an action). */
const ATTEMPT_SETTLED = new Error('attempt settled');

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The result of a node whose work takes no time (the trigger, a zero-second delay). */
function completedAt(now: number): NodeResult {
  return { status: 'completed', attempts: 1, startedAt: iso(now), finishedAt: iso(now) };
}

function cancelReasonOf(signal: AbortSignal | undefined): CancelReason {
  const reason: unknown = signal?.reason;
  return reason instanceof CancelledError ? reason.reason : 'manual';
}

function errorInfo(error: unknown, secrets: ReadonlyMap<string, string>): { code: string; message: string } {
  const code = error instanceof WorkflowError ? error.code : ErrorCode.Unexpected;
  const message = error instanceof Error ? error.message : String(error);
  return { code, message: redactSecrets(message, secrets) };
}

/** Runs one workflow execution. One instance per run (the deps carry the run's fence and signal). */
export class WorkflowExecutor {
  private readonly log: Logger;
  private record!: ExecutionRecord;
  private secrets: ReadonlyMap<string, string> = new Map();
  private definition!: WorkflowDefinition;
  private deadline = 0;
  /** The store's cancel flag as last seen (the claimed record's, then each node write's answer). */
  private cancelRequested = false;
  /** The walk's order and the node's index in it (for "is anything left to run after this node"). */
  private order: string[] = [];
  private nodes: ReadonlyMap<string, WorkflowNode> = new Map();
  private position = 0;

  constructor(private readonly deps: ExecutorDeps) {
    this.log = deps.logger;
  }

  /** Runs (or resumes) `execution` until it finishes or suspends on a delay. */
  async execute(execution: ExecutionRecord, secrets: ReadonlyMap<string, string>): Promise<ExecuteResult> {
    // A shallow copy is enough: the executor replaces `nodeResults` and `completedNodes` rather
    // than changing them, so the caller's record is never modified.
    this.record = { ...execution };
    this.cancelRequested = execution.cancelRequestedAt !== null;
    this.secrets = secrets;
    // Every line below names the run in its fields; the caller's logger carries its own bindings.
    const log = this.log;

    const prepared = this.deps.definitions
      ? this.deps.definitions.get(execution.workflowId, execution.workflowVersion, () => prepareDefinition(execution.definitionSnapshot))
      : prepareDefinition(execution.definitionSnapshot);
    const parsed = prepared.result;
    if (!parsed.ok) {
      const error = `invalid workflow definition:\n${formatDefinitionIssues(parsed.errors)}`;
      log.error({ executionId: execution.id, workflowId: execution.workflowId }, 'workflow definition is invalid');
      return this.finish({ status: 'FAILED', error });
    }
    this.definition = parsed.definition;
    const startedAt = execution.startedAt ? Date.parse(execution.startedAt) : this.deps.clock.now();
    this.deadline = startedAt + WORKFLOW_TIMEOUTS[this.definition.settings.timeout];

    this.nodes = prepared.nodes;
    this.order = prepared.order;
    const resumed = this.record.completedNodes.some((id) => this.nodes.get(id)?.type !== 'trigger');
    log.debug({ executionId: execution.id, workflowId: execution.workflowId, resumed }, 'workflow run started');

    for (this.position = 0; this.position < this.order.length; this.position++) {
      const id = this.order[this.position]!;
      const node = this.nodes.get(id)!;
      if (!this.isRunnable(id)) continue;

      // Node-level lines are debug: at the default level the worker logs a run's end only.
      if (this.deps.signal?.aborted) return this.cancel(cancelReasonOf(this.deps.signal));
      if (this.cancelRequested) return this.cancel('manual');
      if (this.deps.clock.now() >= this.deadline) return this.cancel('timeout');

      log.debug({ executionId: execution.id, workflowId: execution.workflowId, nodeId: id, nodeType: node.type }, 'node started');
      await this.progress({ ...this.record, currentNodeId: id });
      const outcome = await this.runNode(node);
      switch (outcome.kind) {
        case 'next':
          log.debug({ executionId: execution.id, workflowId: execution.workflowId, nodeId: id }, 'node completed');
          if (outcome.finished) return this.finished({ status: 'COMPLETED' });
          break;
        case 'failed':
          log.info({ executionId: execution.id, workflowId: execution.workflowId, nodeId: id, error: outcome.error }, 'node failed');
          return outcome.finished ? this.finished({ status: 'FAILED', error: outcome.error }) : this.finish({ status: 'FAILED', error: outcome.error });
        case 'cancelled':
          return outcome.finished ? this.finished(this.cancelOutcome(outcome.reason)) : this.cancel(outcome.reason);
        case 'suspended':
          log.info({ executionId: execution.id, workflowId: execution.workflowId, nodeId: id, resumeAt: outcome.resumeAt }, 'run suspended until delay ends');
          return { kind: 'suspended', status: this.record.status, suspended: { resumeAt: outcome.resumeAt }, record: { ...this.record } };
      }
    }
    return this.finish({ status: 'COMPLETED' });
  }

  /** Whether node `id` runs now: not completed, and activated by what has completed. */
  private isRunnable(id: string): boolean {
    if (this.record.completedNodes.includes(id)) return false;
    return isActivated(
      this.nodes.get(id)!,
      this.definition.edges,
      (x) => this.nodes.get(x)?.type,
      (x) => this.record.completedNodes.includes(x),
      (x) => this.record.nodeResults[x]?.branch,
    );
  }

  /**
   * Whether the walk would end right after the current node completes with `result`: no later
   * node in the order would be runnable. Activation only changes when a node completes, so if
   * none is runnable now, none ever will be in this call, and the loop would finish the run.
   */
  private endsAfter(nodeId: string, result: NodeResult): boolean {
    const saved = { nodeResults: this.record.nodeResults, completedNodes: this.record.completedNodes };
    this.record.nodeResults = { ...saved.nodeResults, [nodeId]: result };
    this.record.completedNodes = saved.completedNodes.includes(nodeId) ? saved.completedNodes : [...saved.completedNodes, nodeId];
    try {
      for (let i = this.position + 1; i < this.order.length; i++) if (this.isRunnable(this.order[i]!)) return false;
      return true;
    } finally {
      this.record.nodeResults = saved.nodeResults;
      this.record.completedNodes = saved.completedNodes;
    }
  }

  /**
   * Records a node that completed; when nothing is left to run after it, the same write completes
   * the run (returns `{ finished: true }`).
   */
  private async complete(nodeId: string, result: NodeResult): Promise<NodeOutcome> {
    const last = this.endsAfter(nodeId, result);
    await this.recordNode(nodeId, result, true, last ? { status: 'COMPLETED' } : undefined);
    return { kind: 'next', finished: last };
  }

  private async runNode(node: WorkflowNode): Promise<NodeOutcome> {
    const now = this.deps.clock.now();
    switch (node.type) {
      case 'trigger':
        // Runs recorded by the dispatcher arrive with the trigger completed; this covers the rest.
        return this.complete(node.id, completedAt(now));
      case 'condition': {
        const path = node.field.replace(/^\{\{\s*|\s*\}\}$/g, '');
        const actual = getFieldValue(this.templateContext(), path);
        const branch = actual !== undefined && actual === node.value;
        return this.complete(node.id, { status: 'completed', attempts: 1, branch, output: { branch }, startedAt: iso(now), finishedAt: iso(now) });
      }
      case 'delay':
        return this.runDelay(node.id, node.seconds, now);
      case 'action':
        return this.runAction(node);
    }
  }

  private async runDelay(nodeId: string, seconds: number, now: number): Promise<NodeOutcome> {
    const prior = this.record.nodeResults[nodeId];
    if (prior?.status === 'waiting' && prior.resumeAt) {
      if (now < Date.parse(prior.resumeAt)) return { kind: 'suspended', resumeAt: prior.resumeAt };
      return this.complete(nodeId, { ...prior, status: 'completed', finishedAt: iso(now) });
    }
    if (seconds === 0) return this.complete(nodeId, completedAt(now));
    const resumeAt = now + seconds * 1000;
    if (resumeAt >= this.deadline) {
      const result: NodeResult = { status: 'cancelled', attempts: 1, startedAt: iso(now), finishedAt: iso(now), error: { code: ErrorCode.Cancelled, message: 'the delay ends after the workflow timeout' } };
      await this.recordNode(nodeId, result, false, this.cancelOutcome('timeout'));
      return { kind: 'cancelled', reason: 'timeout', finished: true };
    }
    await this.recordNode(nodeId, { status: 'waiting', attempts: 1, startedAt: iso(now), resumeAt: iso(resumeAt) }, false);
    return { kind: 'suspended', resumeAt: iso(resumeAt) };
  }

  private async runAction(node: ActionNode): Promise<NodeOutcome> {
    const { clock } = this.deps;
    const startedAt = clock.now();
    const policy = resolveRetryPolicy(this.definition.settings.retry, node.retry);
    // A failed or cancelled node ends the run: its write carries the run's final state too.
    const fail = async (error: unknown, attempts: number): Promise<NodeOutcome> => {
      const info = errorInfo(error, this.secrets);
      const runError = `${node.name ?? node.id}: ${info.message}`;
      await this.recordNode(node.id, { status: 'failed', attempts, error: info, startedAt: iso(startedAt), finishedAt: iso(clock.now()) }, false, { status: 'FAILED', error: runError });
      return { kind: 'failed', error: runError, finished: true };
    };
    const cancelled = async (reason: CancelReason, attempts: number): Promise<NodeOutcome> => {
      const error = { code: ErrorCode.Cancelled, message: reason === 'timeout' ? 'workflow timed out' : `cancelled (${reason})` };
      await this.recordNode(node.id, { status: 'cancelled', attempts, error, startedAt: iso(startedAt), finishedAt: iso(clock.now()) }, false, this.cancelOutcome(reason));
      return { kind: 'cancelled', reason, finished: true };
    };

    let input: Record<string, unknown>;
    try {
      const rendered = renderTemplates(node.input, this.templateContext(), this.secrets, 'send');
      const checked = ACTION_INPUT_SCHEMAS[node.action].safeParse(rendered);
      if (!checked.success) {
        const detail = checked.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
        throw new UserError(`rendered input is invalid for ${node.action}: ${detail}`);
      }
      input = checked.data as Record<string, unknown>;
    } catch (error) {
      return fail(error instanceof MissingSecretError ? new UserError(error.message) : error, 0);
    }

    for (let attempt = 1; ; attempt++) {
      if (this.deps.signal?.aborted) return cancelled(cancelReasonOf(this.deps.signal), attempt - 1);
      const remaining = this.deadline - clock.now();
      if (remaining <= 0) return cancelled('timeout', attempt - 1);

      const result = await this.attempt(node, input, attempt, remaining);
      if (result.ok) {
        const output = redactSecrets(result.output, this.secrets);
        return this.complete(node.id, { status: 'completed', attempts: attempt, output, startedAt: iso(startedAt), finishedAt: iso(clock.now()) });
      }
      if (result.cancelled) return cancelled(result.cancelled, attempt);
      const error = result.error;
      if (!isRetryable(error) || attempt >= policy.maxAttempts) return fail(error, attempt);

      const wait = error instanceof RateLimitedError ? Math.max(0, error.retryAfterMs) : backoffDelayMs(policy, attempt, this.deps.random);
      const left = this.deadline - clock.now();
      if (wait >= left) {
        if (error instanceof RateLimitedError) {
          return fail(new RateLimitedError(`${errorInfo(error, this.secrets).message} (retry after ${Math.ceil(wait / 1000)}s exceeds the ${Math.max(0, Math.floor(left / 1000))}s left)`, wait), attempt);
        }
        return cancelled('timeout', attempt);
      }
      this.log.info({ executionId: this.record.id, workflowId: this.record.workflowId, nodeId: node.id, attempt, waitMs: wait, error: errorInfo(error, this.secrets).message }, 'retrying action');
      try {
        await clock.sleep(wait, this.deps.signal);
      } catch {
        return cancelled(cancelReasonOf(this.deps.signal), attempt);
      }
      if (await this.deps.store.isCancelRequested(this.record.id)) return cancelled('manual', attempt);
    }
  }

  /** One attempt, bounded by the per-action timeout, the workflow deadline and the external signal. */
  private async attempt(
    node: ActionNode,
    input: Record<string, unknown>,
    attempt: number,
    remaining: number,
  ): Promise<{ ok: true; output: Record<string, unknown> } | { ok: false; error: unknown; cancelled?: CancelReason }> {
    const { clock, signal: external } = this.deps;
    const controller = new AbortController();
    const timers = new AbortController();
    let fired: 'action' | 'workflow' | undefined;
    const limitMs = actionTimeoutMs(remaining);
    const onExternal = () => controller.abort(external?.reason ?? new CancelledError('manual'));
    external?.addEventListener('abort', onExternal, { once: true });
    // One timer for both bounds: whichever is nearer fires first, and then the attempt is over.
    const bound: 'action' | 'workflow' = limitMs < remaining ? 'action' : 'workflow';
    clock.sleep(Math.min(limitMs, remaining), timers.signal).then(
      () => {
        fired = bound;
        controller.abort(bound === 'action' ? new TransientError(`action timed out after ${limitMs}ms`) : new CancelledError('timeout'));
      },
      () => undefined,
    );
    // Why race: an action that ignores its signal must still not hold the run past its bounds.
    const aborted = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const running = this.deps.actions.run(node.action, input, {
        executionId: this.record.id,
        workflowId: this.record.workflowId,
        nodeId: node.id,
        incidentId: this.record.incidentId,
        idempotencyKey: `${this.record.id}:${node.id}`,
        attempt,
        signal: controller.signal,
        secrets: this.secrets,
        executionChain: this.record.executionChain,
        logger: lazyChild(this.log, { nodeId: node.id, attempt }),
      });
      running.catch(() => undefined);
      const output = await Promise.race([running, aborted]);
      return { ok: true, output: output ?? {} };
    } catch (error) {
      if (external?.aborted) return { ok: false, error, cancelled: cancelReasonOf(external) };
      if (fired === 'workflow') return { ok: false, error, cancelled: 'timeout' };
      if (fired === 'action') return { ok: false, error: new TransientError(`action timed out after ${limitMs}ms`, { cause: error }) };
      if (error instanceof CancelledError) return { ok: false, error, cancelled: error.reason };
      return { ok: false, error };
    } finally {
      // With a reason: `abort()` without one builds a DOMException (and its stack) per attempt.
      timers.abort(ATTEMPT_SETTLED);
      external?.removeEventListener('abort', onExternal);
    }
  }

  private templateContext(): TemplateContext {
    const ev = this.record.triggerEvent;
    const steps: TemplateContext['steps'] = {};
    for (const id of this.record.completedNodes) {
      const r = this.record.nodeResults[id];
      if (r) steps[id] = { output: r.output ?? {} };
    }
    return {
      incident: ev.incident as unknown as Record<string, unknown>,
      trigger: {
        type: ev.type,
        previousState: ev.previousState,
        newState: ev.newState,
        workflowName: ev.workflowName,
        occurredAt: ev.occurredAt,
        actor: ev.actor,
        executionChain: ev.executionChain,
      },
      steps,
      execution: { id: this.record.id },
      workflow: { id: this.record.workflowId, name: this.definition.name },
    };
  }

  /**
   * One node write. With `finish`, the same write ends the run; the progress event for it is then
   * sent by `finished`, once, with the final state.
   */
  private async recordNode(nodeId: string, result: NodeResult, completed: boolean, finish?: ExecutionOutcome): Promise<void> {
    const progress: NodeProgress = { nodeId, result, completed };
    const { cancelRequested } = await this.deps.store.recordNode(this.record.id, this.deps.fence, progress, finish);
    this.cancelRequested = cancelRequested;
    this.record.nodeResults = { ...this.record.nodeResults, [nodeId]: result };
    if (completed && !this.record.completedNodes.includes(nodeId)) this.record.completedNodes = [...this.record.completedNodes, nodeId];
    this.record.currentNodeId = nodeId;
    if (!finish) await this.progress(this.record);
  }

  private cancelOutcome(reason: CancelReason): ExecutionOutcome {
    const error = reason === 'timeout' ? `workflow timed out after ${this.definition?.settings.timeout ?? 'its timeout'}` : null;
    return { status: 'CANCELLED', cancelReason: reason, error };
  }

  private async cancel(reason: CancelReason): Promise<ExecuteResult> {
    return this.finish(this.cancelOutcome(reason));
  }

  /** Ends the run with a write of its own (no node write could carry the final state). */
  private async finish(outcome: ExecutionOutcome): Promise<ExecuteResult> {
    await this.deps.store.finish(this.record.id, this.deps.fence, outcome);
    return this.finished(outcome);
  }

  /** The run's final state is stored: update the local copy, log, tell listeners, return. */
  private async finished(outcome: ExecutionOutcome): Promise<ExecuteResult> {
    this.record.status = outcome.status;
    this.record.error = outcome.error ?? null;
    this.record.cancelReason = outcome.cancelReason ?? null;
    this.record.completedAt = iso(this.deps.clock.now());
    const fields = { executionId: this.record.id, workflowId: this.record.workflowId };
    if (outcome.status === 'COMPLETED') this.log.debug(fields, 'workflow run completed');
    else if (outcome.status === 'CANCELLED') this.log.info({ ...fields, reason: outcome.cancelReason }, 'workflow run cancelled');
    await this.progress(this.record);
    return {
      kind: 'finished',
      status: outcome.status,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.cancelReason ? { cancelReason: outcome.cancelReason } : {}),
      record: { ...this.record },
    };
  }

  private async progress(record: ExecutionRecord): Promise<void> {
    if (!this.deps.onProgress) return;
    try {
      await this.deps.onProgress(record === this.record ? { ...record } : record);
    } catch (error) {
      if (error instanceof FencedOutError) throw error;
      this.log.warn({ executionId: record.id, err: errorInfo(error, this.secrets) }, 'onProgress failed');
    }
  }
}

/**
 * The trigger node's result for a run recorded now: the event that fired is the trigger node's
 * whole work, so the dispatcher stores this with the run's row (the INSERT is the trigger node's
 * one write) and the executor starts at the next node. Null when the definition has no trigger
 * node (it is then reported invalid when the run executes).
 */
export function triggerNodeProgress(definition: unknown, now: number): NodeProgress | null {
  const nodes = (definition as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return null;
  const trigger = nodes.find((n): n is { id: string } => (n as { type?: unknown } | null)?.type === 'trigger' && typeof (n as { id?: unknown }).id === 'string');
  if (!trigger) return null;
  return { nodeId: trigger.id, completed: true, result: completedAt(now) };
}

/**
 * Runs (or resumes) one execution: the seed plan's entry point. `secrets` are the decrypted
 * secrets of the workflow's team, by name; they reach actions only through `ActionContext.secrets`
 * and rendered send-time inputs, never stored results or logs.
 */
export function executeWorkflow(execution: ExecutionRecord, secrets: ReadonlyMap<string, string>, deps: ExecutorDeps): Promise<ExecuteResult> {
  return new WorkflowExecutor(deps).execute(execution, secrets);
}
