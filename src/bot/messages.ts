/**
 * The texts people see when something is refused or goes wrong, identical on Slack and Teams,
 * and the mapping from a thrown error to an answer ({@link describeError}).
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../app/services.js';
import { ephemeral, type TextReply } from './reply.js';

/** Refusal and error texts. Functions take the variable parts; user-supplied parts are quoted in backticks. */
export const MESSAGES = {
  notAdmin: (what: string) => `Only workflow admins can ${what}. Ask an admin on your team if you need this changed.`,
  notTeamMember: (teamName: string, what: string) => `Only members of the ${teamName} team (the incident's team) or admins can ${what}.`,
  notIncidentChannel: (what: string) =>
    `This channel is not an incident channel, so there is no incident to ${what}. Use it in the incident's channel, or declare an incident here with \`/incident declare <title>\`.`,
  unavailable:
    "I couldn't reach the database or the job queue just now, so nothing was done. Please try again in a minute.",
  slow: 'This is taking longer than usual. I will post the result here when it is done.',
  unexpected: (ref: string) => `Something went wrong on our side and this was not completed. If it keeps happening, give an admin this reference: ${ref}.`,
  unknownUser: 'I could not find that person. Mention them with @ and pick them from the list.',
  runAlreadyFinished: (status: string) => `This run already finished (${status.toLowerCase()}), so there is nothing to cancel.`,
  runCancelled: 'Run cancelled.',
  runCancelling: 'Cancelling the run: it stops at the next safe point.',
  runRetrying: 'Retrying the run from the failed step. Its progress appears in the run message.',
  runAlreadyRetrying: 'Someone already retried this run; follow it in the run message.',
  runStarted: (name: string) => `Starting \`${name}\`. Its progress appears in this channel.`,
  workflowEnabled: (name: string) => `Workflow \`${name}\` is now enabled.`,
  workflowDisabled: (name: string) => `Workflow \`${name}\` is now disabled: it will not run until enabled again.`,
  noWorkflows: 'There are no workflows yet.',
  noRuns: 'No workflow has run in this incident yet.',
  cannotCreateChannel: 'I cannot create channels here. Declare the incident in the channel you want to use for it.',
  badButton: 'That button is no longer valid. Use the buttons on the latest run message.',
} as const;

/** Whether an error means a dependency (database, queue) is down or timing out rather than a bug. */
export function isUnavailableError(error: unknown, depth = 0): boolean {
  if (depth > 4 || error === null || typeof error !== 'object') return false;
  if (error instanceof AppError) return error.code === 'unavailable';
  const e = error as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'P1001', 'P1002', 'P1008', 'P1017', 'P2024'].includes(code)) return true;
  if (name === 'PrismaClientInitializationError' || name === 'PrismaClientRustPanicError') return true;
  if (/ECONNREFUSED|Connection (is )?closed|connection terminated|Can't reach database|timeout exceeded when trying to connect|Connection terminated|Reached the max retries per request limit/i.test(message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isUnavailableError(inner, depth + 1))) return true;
  return isUnavailableError(e.cause, depth + 1);
}

/**
 * Turn a thrown error into what the person sees: an `AppError` keeps its message (it was written for
 * people); an outage says so; anything else is reported with a reference (the caller logs it under
 * that reference, never the raw error text, which might carry internals).
 */
export function describeError(error: unknown): { reply: TextReply; ref?: string } {
  if (error instanceof AppError && error.code !== 'unavailable') {
    return { reply: ephemeral(error.message, error.code === 'forbidden' ? 'warning' : 'error') };
  }
  if (isUnavailableError(error)) return { reply: ephemeral(MESSAGES.unavailable, 'error') };
  const ref = randomUUID().slice(0, 8);
  return { reply: ephemeral(MESSAGES.unexpected(ref), 'error'), ref };
}
