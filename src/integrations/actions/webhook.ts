/**
 * The `webhook` action: one HTTP request through the SSRF-guarded agents. Never follows redirects,
 * reads at most `maxResponseBytes` of the answer, stores a short prefix of it, and sends the same
 * `Idempotency-Key` (and Standard Webhooks `webhook-id`) on every attempt so receivers can dedupe.
 */
import axios, { type AxiosResponse } from 'axios';
import type { Readable } from 'node:stream';
import { BlockedDestinationError, UserError } from '../../engine/errors.js';
import { WebhookInputSchema, type WebhookInput } from '../../engine/action-inputs.js';
import type { ActionContext } from '../../engine/ports.js';
import { defineAction, type ActionHandler } from '../ActionRegistry.js';
import { errorForStatus, errorForTransport } from '../http-errors.js';
import { checkAddress, parseIpLiteral } from '../ssrf/address-policy.js';
import { findBlockedCause, type EgressGuard } from '../ssrf/EgressGuard.js';
import { signWebhook } from './signing.js';
import { requestDeadline } from '../deadline.js';

/** Input of the `webhook` action: the engine's schema (src/engine/action-inputs.ts). */
export const webhookInputSchema = WebhookInputSchema;

export interface WebhookActionOptions {
  guard: EgressGuard;
  /** Total time for the exchange (default 10 s, WEBHOOK_TIMEOUT_MS), also bounded by the run's signal. */
  defaultTimeoutMs?: number;
  /** Most bytes of response body read before the connection is closed (default 1 MiB). */
  maxResponseBytes?: number;
  /** Most characters of body kept in the output (default 4096). */
  storedBodyChars?: number;
  now?: () => number;
}

const KEPT_RESPONSE_HEADERS = ['content-type', 'content-length', 'location', 'retry-after', 'x-request-id', 'request-id'];
const DROPPED_REQUEST_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'idempotency-key', 'webhook-id', 'webhook-timestamp', 'webhook-signature']);

interface BodyRead {
  text: string;
  truncated: boolean;
  incomplete: boolean;
}

async function readLimited(stream: Readable, maxBytes: number): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  let incomplete = false;
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      if (size + buf.length > maxBytes) {
        chunks.push(buf.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(buf);
      size += buf.length;
    }
  } catch {
    // Aborted mid-body (total timeout or cancel): keep what arrived, the caller decides.
    incomplete = true;
  } finally {
    stream.destroy();
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated, incomplete };
}

/** Whether a redirect target would have been allowed (literal check, then a guarded lookup). */
async function redirectVerdict(guard: EgressGuard, target: URL): Promise<{ ok: true } | { ok: false; reason: string }> {
  const literal = parseIpLiteral(target.hostname);
  if (literal) return checkAddress(literal.toString(), target.hostname, guard.allow);
  return new Promise((resolve) => {
    guard.lookup(target.hostname, { all: true }, (err) => {
      const blocked = err ? findBlockedCause(err) : null;
      resolve(blocked ? { ok: false, reason: `${blocked.address}, ${blocked.reason}` } : { ok: true });
    });
  });
}

/** Builds the `webhook` handler. */
export function createWebhookAction(options: WebhookActionOptions): ActionHandler<typeof webhookInputSchema> {
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 10_000;
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  const storedChars = options.storedBodyChars ?? 4096;
  const now = options.now ?? Date.now;

  return defineAction({
    type: 'webhook',
    schema: webhookInputSchema,
    secretNames: (input: WebhookInput) => (input.signingSecret ? [input.signingSecret] : []),
    async run(input: WebhookInput, ctx: ActionContext) {
      const url = options.guard.assertUrl(input.url);
      const where = `${input.method} ${url.origin}${url.pathname}`;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(input.headers ?? {})) {
        if (!DROPPED_REQUEST_HEADERS.has(name.toLowerCase())) headers[name] = value;
      }
      const hasBody = input.body !== undefined || !['GET', 'DELETE'].includes(input.method);
      const body = hasBody ? JSON.stringify(input.body ?? null) : '';
      if (hasBody) headers['Content-Type'] = 'application/json';
      headers['Idempotency-Key'] = ctx.idempotencyKey;
      if (input.signingSecret) {
        const secret = ctx.secrets.get(input.signingSecret);
        if (secret === undefined) throw new UserError(`signing secret "${input.signingSecret}" is not set (use: secrets set ${input.signingSecret})`);
        const timestamp = Math.floor(now() / 1000);
        headers['webhook-id'] = ctx.idempotencyKey;
        headers['webhook-timestamp'] = String(timestamp);
        headers['webhook-signature'] = signWebhook(secret, ctx.idempotencyKey, timestamp, body);
      }

      const timeoutMs = defaultTimeoutMs;
      const deadline = requestDeadline(ctx.signal, timeoutMs);
      const { signal, timeout } = deadline;
      try {
        ctx.logger.debug({ method: input.method, url: `${url.origin}${url.pathname}`, attempt: ctx.attempt, signed: Boolean(input.signingSecret) }, 'webhook request');

        let response: AxiosResponse<Readable>;
        try {
          response = await axios.request<Readable>({
            url: url.toString(),
            method: input.method,
            headers,
            data: hasBody ? body : undefined,
            // Send the exact bytes that were signed.
            transformRequest: [(data: unknown) => data],
            responseType: 'stream',
            maxRedirects: 0,
            maxContentLength: maxBytes,
            maxBodyLength: 10 * 1024 * 1024,
            validateStatus: () => true,
            httpAgent: options.guard.httpAgent,
            httpsAgent: options.guard.httpsAgent,
            proxy: false,
            signal,
          });
        } catch (error) {
          throw errorForTransport('webhook target', error, where, { ctx: ctx.signal, timeout, timeoutMs });
        }

        const read = await readLimited(response.data, maxBytes);
        if (read.incomplete) {
          const aborted = errorForTransport('webhook target', new Error('aborted'), where, { ctx: ctx.signal, timeout, timeoutMs });
          // A cancel wins; a body cut by the total timeout still counts when the status said success.
          if (ctx.signal.aborted || response.status < 200 || response.status >= 300) throw aborted;
        }
        const status = response.status;
        ctx.logger.debug({ status, bytes: Buffer.byteLength(read.text), truncated: read.truncated || read.incomplete }, 'webhook response');

        if (status >= 300 && status < 400) {
          const location = String(response.headers.location ?? '');
          let target: URL | null = null;
          try {
            target = location ? new URL(location, url) : null;
          } catch {
            target = null;
          }
          const verdict = target ? await redirectVerdict(options.guard, target) : null;
          if (verdict && !verdict.ok) {
            throw new BlockedDestinationError(`blocked destination: ${where} redirected to ${target!.origin}${target!.pathname} (${verdict.reason}); redirects are not followed`);
          }
          throw new UserError(`webhook target answered ${status} redirect to ${target ? `${target.origin}${target.pathname}` : '(no Location)'}; redirects are not followed, point the workflow at the final URL (${where})`);
        }
        if (status < 200 || status >= 300) {
          throw errorForStatus('webhook target', status, read.text, where, response.headers['retry-after'], now());
        }
        const kept: Record<string, string> = {};
        for (const name of KEPT_RESPONSE_HEADERS) {
          const value = response.headers[name] as unknown;
          if (typeof value === 'string') kept[name] = value;
        }
        const truncated = read.truncated || read.incomplete || read.text.length > storedChars;
        return {
          status,
          headers: kept,
          body: read.text.length > storedChars ? read.text.slice(0, storedChars) : read.text,
          bodyTruncated: truncated,
        };
      } finally {
        deadline.dispose();
      }
    },
  });
}

