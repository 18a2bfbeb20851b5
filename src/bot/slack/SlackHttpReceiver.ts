/**
 * Bolt `Receiver` that lives inside the service's one express app: slash commands, interactivity and
 * Events API requests all arrive at `POST /slack/events`. It caps the body before buffering it,
 * verifies Slack's signature (rejecting timestamps more than five minutes off in *either* direction,
 * which Bolt's own check does not), answers Slack's url_verification and ssl_check, and turns the
 * first `ack()` into the HTTP response.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type Request, type Response, type Router } from 'express';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../../engine/ports.js';

/** Options of {@link SlackHttpReceiver}. */
export interface SlackHttpReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Path of the endpoint on the router (default `/slack/events`). */
  path?: string;
  /** Largest accepted body in bytes (default 1 MiB); larger requests get 413 without being buffered. */
  bodyLimitBytes?: number;
  /** Largest accepted clock difference in seconds, past or future (default 300, Slack's recommendation). */
  toleranceSeconds?: number;
  /** If no listener acknowledges within this time, answer 200 with an empty body (default 2800 ms). */
  unhandledTimeoutMs?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
  /** Called when the last request waiting for its answer got it ({@link SlackHttpReceiver.pendingAcks} back to 0). */
  onAcksSettled?: () => void;
}

/** Why a request was refused (logged, never echoed with details to the caller). */
export type RejectReason = 'missing_signature' | 'bad_signature' | 'stale_timestamp' | 'too_large' | 'bad_body';

/** Thrown internally when a body exceeds the cap. */
class BodyTooLargeError extends Error {}

/** Read at most `limit` bytes; rejects with BodyTooLargeError beyond it (the rest is drained, not kept). */
export function readBodyCapped(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
      failed = true;
    });
    // A client that hangs up mid-body never sends 'end'; do not leave the promise pending.
    req.on('close', () => {
      if (!ended && !failed) {
        failed = true;
        reject(new Error('request closed before its body was complete'));
      }
    });
  });
}

/**
 * Check Slack's `X-Slack-Signature` (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`) and that the
 * timestamp is within `toleranceSeconds` of now, in the past or the future.
 */
export function verifySlackSignature(
  input: { signingSecret: string; signature: string | undefined; timestamp: string | undefined; body: Buffer; nowMs: number; toleranceSeconds: number },
): { ok: true } | { ok: false; reason: RejectReason } {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) return { ok: false, reason: 'missing_signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'stale_timestamp' };
  const skew = Math.abs(input.nowMs / 1000 - Number(timestamp));
  if (skew > input.toleranceSeconds) return { ok: false, reason: 'stale_timestamp' };
  const expected = `v0=${createHmac('sha256', input.signingSecret).update(`v0:${timestamp}:`).update(input.body).digest('hex')}`;
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}

/** Parse a Slack request body: form-encoded (commands; interactivity's `payload`) or JSON (Events API). */
export function parseSlackBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8');
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Record<string, unknown>;
  }
  const params = new URLSearchParams(text);
  const payload = params.get('payload');
  if (payload !== null) {
    const parsed: unknown = JSON.parse(payload);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON payload');
    return parsed as Record<string, unknown>;
  }
  return Object.fromEntries(params.entries());
}

export class SlackHttpReceiver implements Receiver {
  /** Mount on the service's express app (at `/`). */
  readonly router: Router;
  private app: App | undefined;
  private readonly path: string;
  private readonly bodyLimit: number;
  private readonly tolerance: number;
  private readonly unhandledTimeoutMs: number;
  private readonly now: () => number;
  private pending = 0;
  private lastArrival = 0;

  constructor(private readonly options: SlackHttpReceiverOptions) {
    this.path = options.path ?? '/slack/events';
    this.bodyLimit = options.bodyLimitBytes ?? 1024 * 1024;
    this.tolerance = options.toleranceSeconds ?? 300;
    this.unhandledTimeoutMs = options.unhandledTimeoutMs ?? 2800;
    this.now = options.now ?? Date.now;
    this.router = express.Router();
    this.router.post(this.path, (req, res) => {
      void this.handle(req, res);
    });
  }

  /** Requests received whose HTTP answer has not been sent yet. */
  get pendingAcks(): number {
    return this.pending;
  }

  /** `performance.now()` when the last request arrived (0 before the first). */
  get lastArrivalAt(): number {
    return this.lastArrival;
  }

  init(app: App): void {
    this.app = app;
  }

  /** Nothing to start: the service's HTTP server owns the port. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  private reject(res: Response, status: 401 | 400 | 413 | 500 | 503, reason: RejectReason | 'not_ready', req: Request): void {
    this.options.logger.warn({ reason, status, retryNum: req.headers['x-slack-retry-num'] }, 'slack request rejected');
    if (res.headersSent) return;
    res.status(status);
    if (status === 413) res.setHeader('Connection', 'close');
    res.type('text/plain').send(status === 401 ? 'invalid request signature' : status === 413 ? 'request body too large' : 'bad request');
  }

  private async handle(req: Request, res: Response): Promise<void> {
    const receivedAt = Date.now();
    // Count the request until its answer is out, whichever way it goes (ack, refusal, hang-up).
    this.pending++;
    this.lastArrival = performance.now();
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      this.pending--;
      if (this.pending === 0) this.options.onAcksSettled?.();
    };
    res.once('finish', settle);
    res.once('close', settle);
    let raw: Buffer;
    try {
      raw = await readBodyCapped(req, this.bodyLimit);
    } catch (error) {
      if (error instanceof BodyTooLargeError) this.reject(res, 413, 'too_large', req);
      else this.reject(res, 400, 'bad_body', req);
      return;
    }
    const verdict = verifySlackSignature({
      signingSecret: this.options.signingSecret,
      signature: header(req, 'x-slack-signature'),
      timestamp: header(req, 'x-slack-request-timestamp'),
      body: raw,
      nowMs: this.now(),
      toleranceSeconds: this.tolerance,
    });
    if (!verdict.ok) {
      this.reject(res, 401, verdict.reason, req);
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = parseSlackBody(raw, header(req, 'content-type'));
    } catch {
      this.reject(res, 400, 'bad_body', req);
      return;
    }
    if (body.ssl_check) {
      res.status(200).end();
      return;
    }
    if (body.type === 'url_verification') {
      res.status(200).json({ challenge: body.challenge });
      return;
    }
    if (!this.app) {
      this.reject(res, 503, 'not_ready', req);
      return;
    }

    let acked = false;
    const respond = (response: unknown) => {
      if (acked || res.headersSent) return;
      acked = true;
      if (response === undefined || response === null || response === '') res.status(200).end();
      else if (typeof response === 'string') res.status(200).type('text/plain').send(response);
      else res.status(200).json(response);
    };
    // Slack gives up after three seconds; never leave it hanging even if no listener acks.
    const timer = setTimeout(() => respond(undefined), this.unhandledTimeoutMs);
    timer.unref();
    const retryNum = Number(header(req, 'x-slack-retry-num'));
    const retryReason = header(req, 'x-slack-retry-reason');
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => {
        respond(response);
      },
      // Listeners budget Slack's three seconds from arrival, not from when they start.
      customProperties: { receivedAt },
      ...(Number.isFinite(retryNum) && header(req, 'x-slack-retry-num') !== undefined ? { retryNum } : {}),
      ...(retryReason ? { retryReason } : {}),
    };
    try {
      await this.app.processEvent(event);
    } catch (error) {
      this.options.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'slack event processing failed');
      if (!acked) {
        acked = true;
        if (!res.headersSent) res.status(500).end();
      }
    } finally {
      clearTimeout(timer);
      respond(undefined);
    }
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
