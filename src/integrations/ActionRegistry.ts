/**
 * The engine's `ActionRunner`: dispatches by action type to a handler, validates the rendered input
 * against the handler's zod schema, and is the last line of the secrets rule: every error message
 * and every output leaving an action is scrubbed of the run's secret values.
 */
import type { z } from 'zod';
import { CancelledError, ErrorCode, UserError, WorkflowError } from '../engine/errors.js';
import type { ActionContext, ActionRunner } from '../engine/ports.js';
import { abortedError } from './http-errors.js';
import { createScrubber, scrubValue } from './scrub.js';
import { lazyChild } from '../engine/lazy-logger.js';

/** One action type. `run` receives the parsed input and throws engine errors. */
export interface ActionHandler<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly schema: S;
  run(input: z.output<S>, ctx: ActionContext): Promise<Record<string, unknown>>;
  /** Secrets this handler reads by name besides those the templates reference (credentials, signing key). */
  secretNames?(input: z.output<S>): string[];
}

/** Helper that keeps the input type tied to the schema. */
export function defineAction<S extends z.ZodType>(handler: ActionHandler<S>): ActionHandler<S> {
  return handler;
}

/** Dispatches action types to handlers. */
export class ActionRegistry implements ActionRunner {
  private readonly handlers = new Map<string, ActionHandler>();

  constructor(handlers: Iterable<ActionHandler> = []) {
    for (const h of handlers) this.register(h);
  }

  /** Adds a handler; a type can be registered once. */
  register(handler: ActionHandler): this {
    if (this.handlers.has(handler.type)) throw new Error(`action type ${handler.type} registered twice`);
    this.handlers.set(handler.type, handler);
    return this;
  }

  /** Registered action types, sorted. */
  types(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /**
   * Names of the secrets the handler itself needs for this (unrendered or rendered) input, so the
   * worker decrypts only those plus the ones the templates reference. Empty for unknown types.
   */
  secretNamesFor(actionType: string, input: Record<string, unknown>): string[] {
    const handler = this.handlers.get(actionType);
    if (!handler?.secretNames) return [];
    const parsed = handler.schema.safeParse(input);
    return parsed.success ? handler.secretNames(parsed.data) : [];
  }

  async run(actionType: string, input: Record<string, unknown>, ctx: ActionContext): Promise<Record<string, unknown>> {
    const scrub = createScrubber(ctx.secrets.values());
    const handler = this.handlers.get(actionType);
    if (!handler) throw new UserError(`unknown action type "${actionType}" (known: ${this.types().join(', ')})`);
    const parsed = handler.schema.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
      throw new UserError(scrub(`invalid input for ${actionType}: ${issues}`));
    }
    const aborted = abortedError(ctx.signal);
    if (aborted) throw aborted;
    const logger = lazyChild(ctx.logger, { action: actionType, nodeId: ctx.nodeId, attempt: ctx.attempt });
    try {
      const output = await handler.run(parsed.data, { ...ctx, logger });
      return scrubValue(output, scrub);
    } catch (error) {
      throw sanitise(error, scrub, ctx.signal);
    }
  }
}

/** Rebuilds an error with a scrubbed message and no cause chain (causes can hold credentials). */
function sanitise(error: unknown, scrub: (s: string) => string, signal: AbortSignal): WorkflowError {
  if (error instanceof CancelledError) return error;
  if (error instanceof WorkflowError) {
    const clean = Object.create(Object.getPrototypeOf(error) as object) as WorkflowError;
    for (const key of Object.keys(error)) {
      if (key !== 'cause') (clean as unknown as Record<string, unknown>)[key] = (error as unknown as Record<string, unknown>)[key];
    }
    Object.defineProperty(clean, 'message', { value: scrub(error.message), writable: true, configurable: true });
    Object.defineProperty(clean, 'stack', { value: scrub(`${error.name}: ${clean.message}`), writable: true, configurable: true });
    Object.defineProperty(clean, 'name', { value: error.name, writable: true, configurable: true });
    return clean;
  }
  const aborted = abortedError(signal);
  if (aborted) return aborted;
  const message = error instanceof Error ? error.message : String(error);
  return new WorkflowError(ErrorCode.Unexpected, scrub(`action failed unexpectedly: ${message}`));
}
