/**
 * A scripted `ActionRunner` for unit tests: each action type maps to a handler, and every call
 * is recorded (node, attempt, input, whether its signal ended up aborted).
 */
import type { ActionContext, ActionRunner } from '../../src/engine/ports.js';

export type ActionHandler = (input: Record<string, unknown>, ctx: ActionContext) => Promise<Record<string, unknown>> | Record<string, unknown>;

export interface ActionCall {
  actionType: string;
  nodeId: string;
  attempt: number;
  input: Record<string, unknown>;
  signal: AbortSignal;
  idempotencyKey: string;
}

export class ScriptedActionRunner implements ActionRunner {
  readonly calls: ActionCall[] = [];
  constructor(private readonly handlers: Record<string, ActionHandler | undefined> = {}) {}

  /** Replaces the handler of one action type. */
  on(actionType: string, handler: ActionHandler): this {
    this.handlers[actionType] = handler;
    return this;
  }

  async run(actionType: string, input: Record<string, unknown>, ctx: ActionContext): Promise<Record<string, unknown>> {
    this.calls.push({ actionType, nodeId: ctx.nodeId, attempt: ctx.attempt, input: structuredClone(input), signal: ctx.signal, idempotencyKey: ctx.idempotencyKey });
    const handler = this.handlers[actionType];
    if (!handler) return { ok: true };
    return handler(input, ctx);
  }

  /** Node ids in call order. */
  nodeOrder(): string[] {
    return this.calls.map((c) => c.nodeId);
  }
}

/** Waits until `signal` aborts, then rejects with its reason (a slow, well-behaved action). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
