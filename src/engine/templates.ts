/**
 * `{{path}}` templates in action inputs. Rendering walks the input structure and replaces
 * references inside each string; JSON is never assembled from strings. A string that is exactly
 * one reference keeps the referenced value's type (a number stays a number).
 *
 * Two modes: `send` substitutes secret values (only for the request that goes out), `display`
 * puts a marker in their place (for anything stored, logged or shown).
 */
import { getFieldValue } from './conditions.js';

/** A template reference: `{{ incident.title }}` has path `incident.title`. */
const REFERENCE = /\{\{\s*([^{}\s]+)\s*\}\}/g;
const WHOLE_REFERENCE = /^\{\{\s*([^{}\s]+)\s*\}\}$/;

/** Replaces secret values when scrubbing text. */
export const REDACTED = '[REDACTED]';

/** What `{{secrets.NAME}}` becomes when rendering for storage or display. */
export function secretMarker(name: string): string {
  return `[secret:${name}]`;
}

/** Everything a template may reference. */
export interface TemplateContext {
  incident: Record<string, unknown>;
  trigger: Record<string, unknown>;
  /** Outputs of earlier action nodes: `steps.<id>.output.<key>`. */
  steps: Record<string, { output: unknown }>;
  execution?: { id: string };
  workflow?: { id: string; name: string };
}

export type RenderMode = 'send' | 'display';

/** Every reference path in a string, in order. */
export function findReferences(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((m) => m[1] as string);
}

/** The reference path when `text` is exactly one `{{ref}}`, else `undefined`. */
export function wholeReference(text: string): string | undefined {
  return WHOLE_REFERENCE.exec(text)?.[1];
}

/**
 * Visits every string in a JSON-like value with its path (`['headers', 'Authorization']`).
 * Object keys are not visited: templates live in values only.
 */
export function forEachString(value: unknown, visit: (text: string, path: (string | number)[]) => void, path: (string | number)[] = []): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => forEachString(v, visit, [...path, i]));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) forEachString(v, visit, [...path, k]);
  }
}

function lookup(path: string, ctx: TemplateContext, secrets: ReadonlyMap<string, string>, mode: RenderMode): unknown {
  if (path.startsWith('secrets.')) {
    const name = path.slice('secrets.'.length);
    if (mode === 'display') return secretMarker(name);
    const value = secrets.get(name);
    if (value === undefined) throw new MissingSecretError(name);
    return value;
  }
  return getFieldValue(ctx, path);
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** A template referenced a secret that is not configured. */
export class MissingSecretError extends Error {
  constructor(readonly secretName: string) {
    super(`secret "${secretName}" is not configured`);
    this.name = 'MissingSecretError';
  }
}

/** Renders one string. Throws `MissingSecretError` in `send` mode when a secret is missing. */
export function renderString(text: string, ctx: TemplateContext, secrets: ReadonlyMap<string, string>, mode: RenderMode): unknown {
  const whole = wholeReference(text);
  if (whole !== undefined) return lookup(whole, ctx, secrets, mode);
  return text.replace(REFERENCE, (_m, path: string) => stringify(lookup(path, ctx, secrets, mode)));
}

/**
 * Renders every string in `value` (objects and arrays are rebuilt, other values kept). A whole
 * reference to something missing becomes `undefined`, so an optional field simply drops out.
 */
export function renderTemplates<T>(value: T, ctx: TemplateContext, secrets: ReadonlyMap<string, string>, mode: RenderMode): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return renderString(v, ctx, secrets, mode);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) {
        const rendered = walk(inner);
        if (rendered !== undefined) out[k] = rendered;
      }
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

/** Secrets to scrub: a map or record of name -> value, or just the values. */
export type SecretSource = ReadonlyMap<string, string> | Record<string, string> | Iterable<string>;

function secretValues(secrets: SecretSource): string[] {
  let values: Iterable<string>;
  if (secrets instanceof Map) values = secrets.values();
  else if (typeof (secrets as Iterable<string>)[Symbol.iterator] === 'function') values = secrets as Iterable<string>;
  else values = Object.values(secrets as Record<string, string>);
  return [...values].filter((v) => typeof v === 'string' && v.length > 0);
}

/** The forms a secret may take inside an error text, a URL or a header. */
function encodedForms(secret: string): string[] {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const forms = new Set<string>([
    secret,
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(secret, 'utf8').toString('base64url'),
    encodeURIComponent(secret),
    encodeURI(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
  ]);
  return [...forms].filter((f) => f.length > 0);
}

function scrubString(text: string, forms: string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return out;
}

/**
 * Removes every secret value, and its base64, base64url, URL-encoded and JSON-escaped forms,
 * from a string or from every string (keys included) in a JSON-like value. Use it on anything
 * that came back from the outside (error bodies from Jira or a webhook) before it is stored,
 * logged or shown. `Error` instances inside become `Name: message` strings. Every non-empty
 * value is removed, however short. A secret embedded in a larger encoded blob (e.g. inside
 * `user:secret` in basic auth) is only caught in the forms listed above.
 */
export function redactSecrets<T>(value: T, secrets: SecretSource): T {
  const forms = secretValues(secrets)
    .flatMap(encodedForms)
    .sort((a, b) => b.length - a.length);
  if (forms.length === 0) return value;
  const walk = (v: unknown, seen: WeakSet<object>): unknown => {
    if (typeof v === 'string') return scrubString(v, forms);
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, seen));
    if (v instanceof Error) return scrubString(`${v.name}: ${v.message}`, forms);
    const out: Record<string, unknown> = {};
    for (const [k, inner] of Object.entries(v)) out[scrubString(k, forms)] = walk(inner, seen);
    return out;
  };
  return walk(value, new WeakSet()) as T;
}
