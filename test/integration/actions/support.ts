/** Shared pieces for the action tests: a context like the executor builds, and captured logs. */
import { Writable } from 'node:stream';
import type { ActionContext } from '../../../src/engine/ports.js';
import { createLogger } from '../../../src/logger.js';

/** A pino logger at debug level writing into a string buffer. */
export function captureLogs(): { logger: ActionContext['logger']; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ LOG_LEVEL: 'debug' }, sink);
  return { logger, text: () => chunks.join('') };
}

export interface ContextOverrides extends Partial<Omit<ActionContext, 'secrets'>> {
  secrets?: Record<string, string>;
}

/** An ActionContext as the executor would pass it for `executionId:nodeId`. */
export function makeContext(overrides: ContextOverrides = {}): ActionContext {
  const executionId = overrides.executionId ?? 'exec-1';
  const nodeId = overrides.nodeId ?? 'node-1';
  return {
    executionId,
    workflowId: overrides.workflowId ?? 'wf-1',
    nodeId,
    incidentId: overrides.incidentId ?? 'inc-1',
    idempotencyKey: overrides.idempotencyKey ?? `${executionId}:${nodeId}`,
    attempt: overrides.attempt ?? 1,
    signal: overrides.signal ?? new AbortController().signal,
    secrets: new Map(Object.entries(overrides.secrets ?? {})),
    executionChain: overrides.executionChain ?? ['wf-1'],
    logger: overrides.logger ?? captureLogs().logger,
  };
}

/** Runs `fn` for attempts 1..max like the executor: stops at the first success or a non-retryable error. */
export async function runWithRetries<T>(
  max: number,
  fn: (attempt: number) => Promise<T>,
): Promise<{ result?: T; errors: unknown[]; attempts: number }> {
  const errors: unknown[] = [];
  for (let attempt = 1; attempt <= max; attempt++) {
    try {
      return { result: await fn(attempt), errors, attempts: attempt };
    } catch (error) {
      errors.push(error);
      if (!(error as { retryable?: boolean }).retryable) return { errors, attempts: attempt };
    }
  }
  return { errors, attempts: max };
}
