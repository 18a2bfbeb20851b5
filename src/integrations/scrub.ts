/**
 * Removes secret values from any text that leaves an action: error messages, logged URLs,
 * stored response bodies. A secret can come back from a remote service in another spelling
 * (a Basic header is base64 of `email:token`, a query string is URL-encoded), so each value is
 * removed in every spelling we can derive, plus any Authorization/Bearer token whatever its value.
 */

/** What replaces a removed value. */
export const REDACTED = '[REDACTED]';

/** Values shorter than this are not scrubbed: removing every "a" would destroy the text. */
const MIN_SECRET_LENGTH = 4;

function spellings(value: string): string[] {
  const out = new Set<string>([value]);
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  out.add(b64);
  out.add(b64.replace(/=+$/, ''));
  out.add(Buffer.from(value, 'utf8').toString('base64url'));
  out.add(encodeURIComponent(value));
  out.add(encodeURIComponent(value).replace(/%20/g, '+'));
  out.add(JSON.stringify(value).slice(1, -1));
  return [...out].filter((s) => s.length >= MIN_SECRET_LENGTH);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const AUTH_PATTERNS: RegExp[] = [
  // "Authorization: Basic xxx", "authorization":"Bearer xxx", Authorization=xxx
  /(authorization["']?\s*[:=]\s*["']?)(?:(basic|bearer|token|digest)\s+)?[^\s"',;}]+/gi,
  /\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*/gi,
  // Credentials embedded in a URL: https://user:pass@host
  /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi,
];

/**
 * A scrubber bound to a set of secret values. Longest spellings are replaced first so that a
 * secret containing another secret is removed whole.
 */
export function createScrubber(secretValues: Iterable<string>): (text: string) => string {
  const needles = new Set<string>();
  for (const value of secretValues) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    for (const s of spellings(value)) needles.add(s);
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  const pattern = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : null;
  return (text: string) => {
    let out = pattern ? text.replace(pattern, REDACTED) : text;
    out = out.replace(AUTH_PATTERNS[0]!, (_m, prefix: string, scheme?: string) => `${prefix}${scheme ? `${scheme} ` : ''}${REDACTED}`);
    out = out.replace(AUTH_PATTERNS[1]!, (_m, scheme: string) => `${scheme} ${REDACTED}`);
    out = out.replace(AUTH_PATTERNS[2]!, (_m, proto: string) => `${proto}${REDACTED}@`);
    return out;
  };
}

/** One-shot form of {@link createScrubber}. */
export function scrubSecrets(text: string, secretValues: Iterable<string>): string {
  return createScrubber(secretValues)(text);
}

/**
 * Deep-scrubs a JSON-like value (strings inside objects and arrays). Keys are scrubbed too,
 * since a response may use a token as a map key.
 */
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
