/**
 * Who may do what. ADMIN and SYSTEM (API tokens, the CLI; the API layer checks token scopes) may do
 * everything; a MEMBER may act on incidents of the teams they belong to.
 */
import type { EventActor } from '../engine/types.js';
import { AppError, type Actor } from './services.js';

export function isPrivileged(actor: Actor): boolean {
  return actor.role === 'ADMIN' || actor.role === 'SYSTEM';
}

/** Managing workflows (enable, disable, apply) is for admins. */
export function requireAdmin(actor: Actor, what: string): void {
  if (!isPrivileged(actor)) throw new AppError('forbidden', `Only admins can ${what}.`);
}

/** Acting on an incident (change it, run, cancel or retry its workflows) is for its team. */
export function requireTeam(actor: Actor, teamId: string, what: string): void {
  if (isPrivileged(actor) || actor.teamIds.includes(teamId)) return;
  throw new AppError('forbidden', `Only members of the incident's team can ${what}.`);
}

/** How an actor appears in a trigger event. */
export function toEventActor(actor: Actor): EventActor {
  if (actor.platform === 'api') return { kind: 'api', name: actor.name };
  if (actor.role === 'SYSTEM') return { kind: 'system', name: actor.name };
  return { kind: 'user', ...(actor.userId ? { id: actor.userId } : {}), name: actor.name };
}
