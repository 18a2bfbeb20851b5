/**
 * Removes secrets from any text that leaves an action: error messages, logged URLs, stored
 * response bodies. Secret values (and their base64, URL-encoded and JSON-escaped spellings) are
 * removed by the engine's `redactSecrets`; on top of that, anything that looks like a credential
 * whatever its value is removed too: Authorization headers, Basic/Bearer tokens (a Basic header
 * is base64 of `email:token`, which no single secret's spelling matches) and URL userinfo.
 */
import { REDACTED, redactSecrets } from '../engine/templates.js';

export { REDACTED };

function scrubCredentials(text: string): string {
  return text
    .replace(/(authorization["']?\s*[:=]\s*["']?)(?:(basic|bearer|token|digest)\s+)?[^\s"',;}]+/gi, (_m, prefix: string, scheme?: string) => `${prefix}${scheme ? `${scheme} ` : ''}${REDACTED}`)
    .replace(/\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, (_m, proto: string) => `${proto}${REDACTED}@`);
}

/** A scrubber bound to a set of secret values. */
export function createScrubber(secretValues: Iterable<string>): (text: string) => string {
  const values = [...secretValues];
  return (text: string) => scrubCredentials(redactSecrets(text, values));
}

/** One-shot form of {@link createScrubber}. */
export function scrubSecrets(text: string, secretValues: Iterable<string>): string {
  return createScrubber(secretValues)(text);
}

/** Deep-scrubs a JSON-like value (strings inside objects and arrays, keys included). */
export function scrubValue<T>(value: T, scrub: (text: string) => string): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubValue(v, scrub)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[scrub(k)] = scrubValue(v, scrub);
    return out as T;
  }
  return value;
}
