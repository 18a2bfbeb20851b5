/**
 * `jira.create_issue` through jira.js (Jira Cloud REST v3). Jira has no idempotency key, so:
 * the intent is recorded before the request, the issue carries a label derived from the action's
 * idempotency key, and any attempt that finds an earlier pending intent (its outcome unknown:
 * timeout, dropped connection, 5xx after the server acted) searches for that label before
 * creating again. Known limit: Jira's search index can lag a create by a few seconds, so the
 * executor's backoff between attempts is what makes the search see a just-created issue.
 */
import { createHash } from 'node:crypto';
import { HttpException, Version3Client } from 'jira.js';
import { TransientError, UserError, type WorkflowError } from '../../engine/errors.js';
import { JiraCreateIssueInputSchema, type JiraCreateIssueInput } from '../../engine/action-inputs.js';
import type { ActionContext } from '../../engine/ports.js';
import { defineAction, type ActionHandler } from '../ActionRegistry.js';
import { errorForStatus, errorForTransport } from '../http-errors.js';
import type { IntentStore } from '../IntentStore.js';
import type { EgressGuard } from '../ssrf/EgressGuard.js';
import { textToAdf } from './adf.js';
import { requestDeadline, type TimeoutFlag } from '../deadline.js';

/** Input of `jira.create_issue`: the engine's schema (src/engine/action-inputs.ts). */
export const jiraCreateIssueInputSchema = JiraCreateIssueInputSchema;

export interface JiraActionOptions {
  /** JIRA_BASE_URL, e.g. https://acme.atlassian.net. */
  baseUrl?: string;
  intents: IntentStore;
  /** Names of the secrets holding the account e-mail and API token (default JIRA_EMAIL, JIRA_API_TOKEN). */
  emailSecret?: string;
  tokenSecret?: string;
  guard: EgressGuard;
  /** Per-request timeout (default 15 s), also bounded by the run's signal. */
  timeoutMs?: number;
  now?: () => number;
}

/** The label that marks an issue as created for this idempotency key (Jira labels have no spaces). */
export function jiraIdempotencyLabel(idempotencyKey: string): string {
  return `wf-${createHash('sha1').update(idempotencyKey).digest('hex').slice(0, 20)}`;
}

const KIND = 'jira.create_issue';
const CREATE = 'POST /rest/api/3/issue';
const SEARCH = 'POST /rest/api/3/search/jql';

function jiraDetail(data: unknown): string {
  if (!data || typeof data !== 'object') return typeof data === 'string' ? data : '';
  const body = data as { errorMessages?: unknown; errors?: unknown; message?: unknown };
  const parts: string[] = [];
  if (Array.isArray(body.errorMessages)) parts.push(...body.errorMessages.filter((m): m is string => typeof m === 'string'));
  if (body.errors && typeof body.errors === 'object') {
    for (const [field, message] of Object.entries(body.errors as Record<string, unknown>)) parts.push(typeof message === 'string' ? message : `${field} is invalid`);
  }
  if (parts.length === 0 && typeof body.message === 'string') parts.push(body.message);
  return parts.join('; ');
}

function toWorkflowError(error: unknown, where: string, ctx: ActionContext, timeout: TimeoutFlag, timeoutMs: number, now: number): WorkflowError {
  if (error instanceof HttpException && typeof error.status === 'number' && error.status >= 300) {
    const response = error.response as { data?: unknown } | undefined;
    const cause = error.cause as { response?: { headers?: Record<string, unknown> } } | undefined;
    return errorForStatus('Jira', error.status, jiraDetail(response?.data), where, cause?.response?.headers?.['retry-after'], now);
  }
  return errorForTransport('Jira', error, where, { ctx: ctx.signal, timeout, timeoutMs });
}

/** Intent writes failing (database down) must not look like a Jira failure, and are worth a retry. */
async function recordIntent<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new TransientError(`could not ${what} the Jira intent record: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

/** Builds the `jira.create_issue` handler. */
export function createJiraCreateIssueAction(options: JiraActionOptions): ActionHandler<typeof jiraCreateIssueInputSchema> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const now = options.now ?? Date.now;
  const emailSecret = options.emailSecret ?? 'JIRA_EMAIL';
  const tokenSecret = options.tokenSecret ?? 'JIRA_API_TOKEN';

  return defineAction({
    type: KIND,
    schema: jiraCreateIssueInputSchema,
    secretNames: () => [emailSecret, tokenSecret],
    async run(input: JiraCreateIssueInput, ctx: ActionContext) {
      if (!options.baseUrl) throw new UserError('Jira is not configured: set JIRA_BASE_URL');
      const email = ctx.secrets.get(emailSecret);
      const apiToken = ctx.secrets.get(tokenSecret);
      const missing = [email === undefined ? emailSecret : null, apiToken === undefined ? tokenSecret : null].filter(Boolean);
      if (missing.length > 0) throw new UserError(`Jira credentials missing: set secret(s) ${missing.join(', ')}`);
      const base = options.guard.assertUrl(options.baseUrl);
      const host = base.toString().replace(/\/$/, '');

      const deadline = requestDeadline(ctx.signal, timeoutMs);
      const { signal, timeout } = deadline;
      try {
        const client = new Version3Client({
          host,
          authentication: { basic: { email: email!, apiToken: apiToken! } },
          baseRequestConfig: {
            httpAgent: options.guard.httpAgent,
            httpsAgent: options.guard.httpsAgent,
            proxy: false,
            maxRedirects: 0,
            maxContentLength: 1024 * 1024,
            signal,
          },
        });
        const label = jiraIdempotencyLabel(ctx.idempotencyKey);
        const output = (issue: { id: string; key: string }) => ({ key: issue.key, id: issue.id, url: `${host}/browse/${issue.key}` });

        const { record, created } = await recordIntent('write', () => options.intents.begin(ctx.idempotencyKey, KIND));
        if (record.state === 'done' && record.result) {
          ctx.logger.debug({ key: record.result.key }, 'jira issue already created for this step');
          return record.result;
        }
        if (!created) {
          // An earlier attempt may have created the issue without us hearing back.
          let found: { id?: string; key?: string } | undefined;
          try {
            const result = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql: `labels = "${label}"`, fields: ['summary'], maxResults: 1 });
            found = result.issues?.[0];
          } catch (error) {
            throw toWorkflowError(error, SEARCH, ctx, timeout, timeoutMs, now());
          }
          if (found?.id && found.key) {
            const out = output({ id: found.id, key: found.key });
            await recordIntent('complete', () => options.intents.complete(ctx.idempotencyKey, out));
            ctx.logger.info({ key: found.key, label }, 'found jira issue created by an earlier attempt');
            return out;
          }
        }

        const fields: Record<string, unknown> = {
          project: { key: input.project },
          issuetype: { name: input.issueType },
          summary: input.summary,
          labels: [...new Set([...(input.labels ?? []).map((l) => l.trim().replace(/\s+/g, '-')), label])],
        };
        if (input.description) fields.description = textToAdf(input.description);
        if (input.priority) fields.priority = { name: input.priority };
        ctx.logger.debug({ project: input.project, issueType: input.issueType, label, attempt: ctx.attempt }, 'creating jira issue');
        let createdIssue: { id: string; key: string };
        try {
          createdIssue = await client.issues.createIssue({ fields: fields as never });
        } catch (error) {
          throw toWorkflowError(error, CREATE, ctx, timeout, timeoutMs, now());
        }
        const out = output(createdIssue);
        await recordIntent('complete', () => options.intents.complete(ctx.idempotencyKey, out));
        ctx.logger.info({ key: createdIssue.key }, 'created jira issue');
        return out;
      } finally {
        deadline.dispose();
      }
    },
  });
}
