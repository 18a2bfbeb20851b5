/**
 * `linear.create_issue` through @linear/sdk. Idempotent by construction: the issue is created
 * with a client-chosen id (a v5 UUID of the action's idempotency key), so a retry after an
 * unknown outcome is rejected by Linear; on any rejection we fetch the issue by that id and, if it
 * exists, treat the step as done. The SDK uses the global fetch, which cannot take our guarded
 * agent, so the API URL (operator configuration, not workflow input) is checked up front: the
 * literal check and a guarded DNS lookup.
 */
import { LinearClient, LinearError, LinearErrorType } from '@linear/sdk';
import { RateLimitedError, TransientError, UserError, type WorkflowError } from '../../engine/errors.js';
import { LinearCreateIssueInputSchema, type LinearCreateIssueInput } from '../../engine/action-inputs.js';
import type { ActionContext } from '../../engine/ports.js';
import { defineAction, type ActionHandler } from '../ActionRegistry.js';
import { abortedError, errorForTransport, parseRetryAfter, shorten } from '../http-errors.js';
import { findBlockedCause, toBlockedDestinationError, type EgressGuard } from '../ssrf/EgressGuard.js';
import { uuidV5 } from '../uuid.js';
import { requestDeadline, type TimeoutFlag } from '../deadline.js';

/** Input of `linear.create_issue`: the engine's schema (src/engine/action-inputs.ts). */
export const linearCreateIssueInputSchema = LinearCreateIssueInputSchema;

export interface LinearActionOptions {
  /** LINEAR_API_URL. */
  apiUrl: string;
  guard: EgressGuard;
  /** Name of the secret holding the API key (default LINEAR_API_KEY). */
  apiKeySecret?: string;
  timeoutMs?: number;
  now?: () => number;
}

const WHERE_CREATE = 'issueCreate';
const WHERE_FETCH = 'issue';

function toWorkflowError(error: unknown, where: string, ctx: ActionContext, timeout: TimeoutFlag, timeoutMs: number, now: number): WorkflowError {
  const aborted = abortedError(ctx.signal);
  if (aborted) return aborted;
  if (timeout.aborted) return new TransientError(`Linear did not answer within ${timeoutMs} ms (${where})`);
  if (error instanceof LinearError) {
    const status = error.status;
    const text = `Linear ${status ? `answered ${status}` : 'request failed'}: ${shorten(error.message)} (${where})`;
    if (error.type === LinearErrorType.Ratelimited || status === 429) {
      const headers = (error.raw as { response?: { headers?: { get?: (n: string) => string | null } } } | undefined)?.response?.headers;
      return new RateLimitedError(text, parseRetryAfter(headers?.get?.('retry-after') ?? undefined, now));
    }
    if (error.type === LinearErrorType.NetworkError || error.type === LinearErrorType.InternalError || error.type === LinearErrorType.LockTimeout || (status !== undefined && (status >= 500 || status === 408))) {
      return new TransientError(text);
    }
    if (status === undefined) return errorForTransport('Linear', error.raw ?? error, where, { ctx: ctx.signal, timeout, timeoutMs });
    return new UserError(text);
  }
  return errorForTransport('Linear', error, where, { ctx: ctx.signal, timeout, timeoutMs });
}

/** Builds the `linear.create_issue` handler. */
export function createLinearCreateIssueAction(options: LinearActionOptions): ActionHandler<typeof linearCreateIssueInputSchema> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const now = options.now ?? Date.now;
  const apiKeySecret = options.apiKeySecret ?? 'LINEAR_API_KEY';

  return defineAction({
    type: 'linear.create_issue',
    schema: linearCreateIssueInputSchema,
    secretNames: () => [apiKeySecret],
    async run(input: LinearCreateIssueInput, ctx: ActionContext) {
      const apiKey = ctx.secrets.get(apiKeySecret);
      if (apiKey === undefined) throw new UserError(`Linear API key missing: set secret ${apiKeySecret}`);
      const url = options.guard.assertUrl(options.apiUrl);
      await new Promise<void>((resolve, reject) => {
        options.guard.lookup(url.hostname, { all: true }, (err) => {
          const blocked = err ? findBlockedCause(err) : null;
          if (blocked) reject(toBlockedDestinationError(blocked));
          else resolve();
        });
      });

      const deadline = requestDeadline(ctx.signal, timeoutMs);
      const { signal, timeout } = deadline;
      try {
        // Extra options are spread into every fetch() call by the SDK's GraphQL client.
        const client = new LinearClient({ apiKey, apiUrl: options.apiUrl, signal, redirect: 'manual' } as ConstructorParameters<typeof LinearClient>[0]);
        const id = uuidV5(ctx.idempotencyKey);

        const fetchIssue = async () => {
          const issue = await client.issue(id);
          return { identifier: issue.identifier, id: issue.id, url: issue.url };
        };

        ctx.logger.debug({ teamId: input.teamId, id, attempt: ctx.attempt }, 'creating linear issue');
        try {
          const payload = await client.createIssue({
            id,
            teamId: input.teamId,
            title: input.title,
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.priority !== undefined ? { priority: input.priority } : {}),
            ...(input.labelIds && input.labelIds.length > 0 ? { labelIds: input.labelIds } : {}),
          });
          if (!payload.success) throw new UserError(`Linear did not create the issue (${WHERE_CREATE})`);
        } catch (error) {
          const mapped = error instanceof UserError ? error : toWorkflowError(error, WHERE_CREATE, ctx, timeout, timeoutMs, now());
          if (mapped.retryable || !(error instanceof LinearError)) throw mapped;
          // Rejected: most likely because an earlier attempt already created this id.
          try {
            const existing = await fetchIssue();
            ctx.logger.info({ identifier: existing.identifier }, 'linear issue already created by an earlier attempt');
            return existing;
          } catch {
            throw mapped;
          }
        }
        try {
          const out = await fetchIssue();
          ctx.logger.info({ identifier: out.identifier }, 'created linear issue');
          return out;
        } catch (error) {
          throw toWorkflowError(error, WHERE_FETCH, ctx, timeout, timeoutMs, now());
        }
      } finally {
        deadline.dispose();
      }
    },
  });
}
