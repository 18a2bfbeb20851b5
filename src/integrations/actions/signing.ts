/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the receiver recomputes
 * `base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"))` and compares it with the
 * `v1,` entries of `webhook-signature`. Secrets in the `whsec_<base64>` form are base64-decoded,
 * as the reference libraries do; any other string is used as raw UTF-8 key bytes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

function keyBytes(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** The `v1,<base64>` signature for one message. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyBytes(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** Verifies a `webhook-signature` header (space-separated list) and the timestamp tolerance. */
export function verifyWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, headers.id, ts, body));
  return headers.signature.split(' ').some((candidate) => {
    const got = Buffer.from(candidate);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
