/**
 * Text helpers shared by the Slack and Teams renderers: safe truncation, neutralising
 * mass-mention and mention syntax in user-controlled text, and human durations.
 * Platform-neutral: no chat SDK imports here.
 */

/** The ellipsis appended by {@link truncate}. One character, so limits stay easy to reason about. */
export const ELLIPSIS = '…';

/**
 * Shorten `text` to at most `max` UTF-16 code units (what `String.length` counts, which is
 * never less than the character count chat platforms apply), ending with an ellipsis when cut.
 * Never splits a surrogate pair. `max` below 1 yields ''.
 */
export function truncate(text: string, max: number): string {
  if (max < 1) return '';
  if (text.length <= max) return text;
  let end = max - ELLIPSIS.length;
  if (end <= 0) return ELLIPSIS.slice(0, max);
  // Do not leave a lone high surrogate before the ellipsis.
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

/**
 * Like {@link truncate} but keeps both the head and the tail, with the ellipsis in the middle
 * (useful for errors, whose end often says what went wrong).
 */
export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 3) return truncate(text, max);
  const head = Math.ceil((max - 1) / 2);
  const tail = max - 1 - head;
  let headEnd = head;
  const h = text.charCodeAt(headEnd - 1);
  if (h >= 0xd800 && h <= 0xdbff) headEnd -= 1;
  let tailStart = text.length - tail;
  const t = text.charCodeAt(tailStart);
  if (t >= 0xdc00 && t <= 0xdfff) tailStart += 1;
  return text.slice(0, headEnd) + ELLIPSIS + text.slice(tailStart);
}

const ZWSP = '\u200B';

/**
 * Remove the power to ping from user-controlled text while keeping it readable:
 * - `@channel`, `@here`, `@everyone` (any case) get a zero-width space after the `@`;
 * - Slack special syntax `<!channel>`, `<!here|here>`, `<!everyone>`, `<!subteam^S1|@team>`,
 *   user and channel mentions `<@U123|name>`, `<#C123|name>` become plain `@label` / `#label` text;
 * - Teams `<at>Name</at>` mention tags become plain `@Name`.
 * Renderers still escape their own markup (`&`, `<`, `>`) after this.
 */
export function neutralizeMentions(text: string): string {
  return text
    .replace(/<!(channel|here|everyone)(?:\|[^>]*)?>/gi, (_m, word: string) => `@${ZWSP}${word}`)
    .replace(/<!subteam\^[^|>]*(?:\|@?([^>]*))?>/gi, (_m, label: string | undefined) => `@${ZWSP}${label ?? 'group'}`)
    .replace(/<!([^>]*)>/g, (_m, inner: string) => `!${ZWSP}${inner}`)
    .replace(/<@([A-Z0-9]+)(?:\|([^>]*))?>/gi, (_m, id: string, label: string | undefined) => `@${ZWSP}${label ?? id}`)
    .replace(/<#([A-Z0-9]+)(?:\|([^>]*))?>/gi, (_m, id: string, label: string | undefined) => `#${label ?? id}`)
    .replace(/<at>(.*?)<\/at>/gi, (_m, name: string) => `@${ZWSP}${name}`)
    .replace(/@(channel|here|everyone)/gi, (_m, word: string) => `@${ZWSP}${word}`);
}

/** Whether `text` still contains something that would ping a whole channel (used by tests and guards). */
export function containsMassMention(text: string): boolean {
  return /<!(channel|here|everyone)\b/i.test(text) || /<!subteam\^/i.test(text) || /@(channel|here|everyone)/i.test(text);
}

/** Neutralise mentions, collapse whitespace to single spaces, then truncate: for one-line labels. */
export function oneLine(text: string, max: number): string {
  return truncate(neutralizeMentions(text).replace(/\s+/g, ' ').trim(), max);
}

/**
 * A short human duration: `850ms`, `1.2s`, `42s`, `2m 5s`, `1h 3m`, `2d 4h`.
 * Negative or non-finite input renders as `0ms`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0ms';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)}s`;
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const totalSeconds = Math.floor(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m ${totalSeconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** Milliseconds between two ISO timestamps, or undefined if either is missing or invalid. */
export function durationBetween(startIso: string | undefined | null, endIso: string | undefined | null): number | undefined {
  if (!startIso || !endIso) return undefined;
  const ms = Date.parse(endIso) - Date.parse(startIso);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** Closest names for a typo: one implementation serves chat subcommands and workflow/team names. */
export { closestNames as closestMatches } from '../app/closest-names.js';
