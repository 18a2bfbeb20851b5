/**
 * Fixtures for the worker's integration tests (also loaded by the child worker process):
 * - `EffectServer`: a local HTTP receiver that honours `Idempotency-Key` like real receivers do
 *   (first request applies the effect, later ones replay it) while recording every raw request;
 * - `HttpTestActionRunner`: a tiny `ActionRunner` for `webhook` nodes that POSTs there with the
 *   node's idempotency key and honours the abort signal;
 * - seeding helpers for teams, incidents, workflows and PENDING executions.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { CancelledError, TransientError, UserError } from '../../src/engine/errors.js';
import type { ActionContext, ActionRunner } from '../../src/engine/ports.js';
import type { WorkflowDocumentInput } from '../../src/engine/definition.js';
import type { TriggerEvent } from '../../src/engine/types.js';

/** One request as the server saw it. */
export interface RawRequest {
  key: string;
  path: string;
  /** Arrival time (ms since epoch). */
  at: number;
  attempt: string | undefined;
  pid: string | undefined;
  /** Whether the client was still there when the response was sent. */
  answered: boolean;
  /** When the client hung up before the answer (an aborted request). */
  abortedAt?: number;
  /** The Authorization header, if any (to prove a secret reached the receiver). */
  authorization?: string;
  /** Whether this request applied the effect (first for its key) or replayed it. */
  applied: boolean;
}

export interface RouteBehaviour {
  /** Wait this long before answering (the client may abort meanwhile). */
  delayMs?: number;
  /** Answer with this status instead of 200 (no effect applied for >= 400). */
  status?: number;
}

/** A local webhook receiver. Routes are `/<anything>`; behaviour per path prefix. */
export class EffectServer {
  readonly requests: RawRequest[] = [];
  /** Applied effects per idempotency key (a receiver honouring the key keeps this at 1). */
  readonly effects = new Map<string, number>();
  private readonly behaviours = new Map<string, RouteBehaviour>();
  private readonly sockets = new Set<import('node:net').Socket>();
  private server: Server | null = null;
  url = '';
  /** Awaited for every request before it is answered (tests snapshot the database here). */
  onRequest: ((request: RawRequest) => Promise<void>) | null = null;

  /** Behaviour for every path starting with `prefix`. The longest matching prefix wins. */
  on(prefix: string, behaviour: RouteBehaviour): this {
    this.behaviours.set(prefix, behaviour);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Raw requests per key. */
  rawCount(key: string): number {
    return this.requests.filter((r) => r.key === key).length;
  }

  private behaviourFor(path: string): RouteBehaviour {
    let best: RouteBehaviour = {};
    let bestLen = -1;
    for (const [prefix, b] of this.behaviours) {
      if (path.startsWith(prefix) && prefix.length > bestLen) {
        best = b;
        bestLen = prefix.length;
      }
    }
    return best;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const key = String(req.headers['idempotency-key'] ?? '');
    const path = req.url ?? '/';
    const entry: RawRequest = {
      key,
      path,
      at,
      attempt: req.headers['x-attempt'] as string | undefined,
      pid: req.headers['x-pid'] as string | undefined,
      answered: false,
      applied: false,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    };
    this.requests.push(entry);
    if (this.onRequest) await this.onRequest(entry).catch(() => undefined);
    const b = this.behaviourFor(path);
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        entry.abortedAt ??= Date.now();
      }
    });
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    const status = b.status ?? 200;
    if (status < 400 && key) {
      // Honour the key: the first request applies the effect, later ones replay the stored answer.
      const n = this.effects.get(key) ?? 0;
      if (n === 0) entry.applied = true;
      this.effects.set(key, entry.applied ? 1 : n);
    }
    if (clientGone) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: status < 400, key, replayed: status < 400 && !entry.applied }));
    entry.answered = true;
  }
}

/**
 * `ActionRunner` for `webhook` nodes only: POSTs to the node's URL with `Idempotency-Key`.
 * 5xx -> TransientError (retried by the executor), 4xx -> UserError. With `allowSuicide`, a URL
 * ending in `/die` kills this process (poison job for the crash tests; child processes only).
 */
export class HttpTestActionRunner implements ActionRunner {
  constructor(private readonly options: { allowSuicide?: boolean } = {}) {}

  async run(actionType: string, input: Record<string, unknown>, ctx: ActionContext): Promise<Record<string, unknown>> {
    if (actionType !== 'webhook') throw new UserError(`test runner only knows webhook, not ${actionType}`);
    const url = String(input.url);
    if (this.options.allowSuicide && url.endsWith('/die')) process.kill(process.pid, 'SIGKILL');
    let response: Response;
    try {
      response = await fetch(url, {
        method: String(input.method ?? 'POST'),
        headers: {
          ...((input.headers as Record<string, string> | undefined) ?? {}),
          'content-type': 'application/json',
          'idempotency-key': ctx.idempotencyKey,
          'x-attempt': String(ctx.attempt),
          'x-pid': String(process.pid),
        },
        body: JSON.stringify(input.body ?? {}),
        signal: ctx.signal,
      });
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new CancelledError('manual');
      throw new TransientError(`request failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status >= 500) throw new TransientError(`HTTP ${response.status}`);
    if (response.status >= 400) throw new UserError(`HTTP ${response.status}`);
    return { status: response.status, replayed: body.replayed === true };
  }
}

/** A workflow of webhook steps `a1..an` in a line, each POSTing to `${baseUrl}/${name}/<step>`. */
export function lineWorkflow(
  name: string,
  baseUrl: string,
  steps: Array<string | { id: string; path?: string; delaySeconds?: number }>,
  options: { trigger?: WorkflowDocumentInput['trigger']; retry?: { maxAttempts: number } } = {},
): WorkflowDocumentInput {
  const nodes: WorkflowDocumentInput['nodes'] = [{ id: 'start', type: 'trigger' }];
  const edges: NonNullable<WorkflowDocumentInput['edges']> = [];
  let prev = 'start';
  for (const s of steps) {
    const step = typeof s === 'string' ? { id: s } : s;
    if (step.delaySeconds !== undefined) nodes.push({ id: step.id, type: 'delay', seconds: step.delaySeconds });
    else {
      nodes.push({
        id: step.id,
        type: 'action',
        action: 'webhook',
        input: { url: `${baseUrl}/${step.path ?? `${name}/${step.id}`}`, method: 'POST', body: { step: step.id, incident: '{{incident.id}}' } },
        ...(options.retry ? { retry: options.retry } : {}),
      });
    }
    edges.push({ from: prev, to: step.id });
    prev = step.id;
  }
  return { name, trigger: options.trigger ?? { type: 'incident_created' }, settings: { timeout: '5min' }, nodes, edges };
}

export interface Seeded {
  teamId: string;
  incidentId: string;
  incidentCreatedAt: string;
}

/** A team and one open incident. */
export async function seedIncident(prisma: PrismaClient, opts: { teamName?: string; title?: string; createdAt?: Date; assigneeId?: string } = {}): Promise<Seeded> {
  const team = await prisma.team.upsert({
    where: { name: opts.teamName ?? 'sre' },
    create: { name: opts.teamName ?? 'sre' },
    update: {},
  });
  const incident = await prisma.incident.create({
    data: { title: opts.title ?? 'Database down', teamId: team.id, ...(opts.createdAt ? { createdAt: opts.createdAt } : {}), ...(opts.assigneeId ? { assigneeId: opts.assigneeId } : {}) },
  });
  return { teamId: team.id, incidentId: incident.id, incidentCreatedAt: incident.createdAt.toISOString() };
}

/** Stores a workflow document as the current version. */
export async function seedWorkflow(prisma: PrismaClient, doc: WorkflowDocumentInput, opts: { teamId?: string | null; authorId?: string } = {}): Promise<string> {
  const wf = await prisma.workflow.create({
    data: {
      name: doc.name,
      triggerType: doc.trigger.type,
      trigger: doc.trigger as object,
      conditions: (doc.conditions ?? []) as object,
      definition: doc as object,
      teamId: opts.teamId ?? null,
      ...(opts.authorId ? { authorId: opts.authorId } : {}),
    },
  });
  return wf.id;
}

/** Writes a PENDING execution row (what the dispatcher does before enqueueing). */
export async function seedExecution(prisma: PrismaClient, workflowId: string, seeded: Seeded, doc: WorkflowDocumentInput): Promise<string> {
  const id = randomUUID();
  const event: TriggerEvent = {
    type: doc.trigger.type,
    incident: { id: seeded.incidentId, title: 'Database down', priority: 'P3', status: 'open', teamId: seeded.teamId, metadata: {}, createdAt: seeded.incidentCreatedAt },
    occurredAt: new Date().toISOString(),
  };
  await prisma.workflowExecution.create({
    data: {
      id,
      workflowId,
      workflowVersion: 1,
      incidentId: seeded.incidentId,
      triggerType: doc.trigger.type,
      triggerEvent: event as object,
      definitionSnapshot: doc as object,
      executionChain: [workflowId],
    },
  });
  return id;
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 20_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
