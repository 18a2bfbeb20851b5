/**
 * What a chat command or button does, once, for both platforms: permission checks, the call into
 * the application services, and the platform-neutral {@link Reply}. Adapters only parse and render.
 */
import type { Actor, AppServices, ChannelRef, IncidentSummary } from '../app/services.js';
import { COMMAND_HELP, type Intent } from './commands.js';
import { MESSAGES, describeError } from './messages.js';
import { ephemeral, type Reply } from './reply.js';

/** Minimal logger (pino-compatible) so this module does not depend on pino. */
export interface IntentLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Everything {@link handleIntent} needs besides the intent. */
export interface IntentContext {
  /** The person, resolved through `services.users.resolve`. */
  actor: Actor;
  /** Where the command was typed (or where the clicked message lives). */
  channel: ChannelRef;
  services: AppServices;
  logger?: IntentLogger;
  /**
   * Creates a fresh channel for `/incident declare --new-channel` and adds the actor to it.
   * Platforms that cannot create channels leave it out and the person is told so.
   */
  createIncidentChannel?: (title: string) => Promise<ChannelRef & { name: string }>;
}

/** Whether the actor may manage workflows (list, enable, disable). */
export function isAdmin(actor: Actor): boolean {
  return actor.role === 'ADMIN' || actor.role === 'SYSTEM';
}

/** Whether the actor may act on this incident (run, change, cancel, retry): its team's members and admins. */
export function canActOnIncident(actor: Actor, incident: Pick<IncidentSummary, 'teamId'>): boolean {
  return isAdmin(actor) || actor.teamIds.includes(incident.teamId);
}

/**
 * Carry out one intent and say what happened. Never throws: refusals and failures come back as
 * ephemeral text replies with the same wording on every platform (see `MESSAGES`).
 */
export async function handleIntent(intent: Intent, ctx: IntentContext): Promise<Reply> {
  try {
    return await dispatch(intent, ctx);
  } catch (error) {
    const { reply, ref } = describeError(error);
    if (ref) ctx.logger?.error({ err: error, ref, intent: intent.kind }, 'chat command failed');
    else ctx.logger?.warn({ err: error, intent: intent.kind }, 'chat command refused');
    return reply;
  }
}

/**
 * The answer to an intent that needs no I/O (help), or null when it needs the services. Adapters may
 * send it in the acknowledgement itself; {@link handleIntent} gives the same answer for it.
 */
export function immediateReply(intent: Intent): Reply | null {
  switch (intent.kind) {
    case 'workflow.help':
      return { kind: 'help', visibility: 'ephemeral', command: 'workflow', entries: COMMAND_HELP.filter((h) => h.command === 'workflow') };
    case 'incident.help':
      return { kind: 'help', visibility: 'ephemeral', command: 'incident', entries: COMMAND_HELP.filter((h) => h.command === 'incident') };
    default:
      return null;
  }
}

async function dispatch(intent: Intent, ctx: IntentContext): Promise<Reply> {
  const { actor, services } = ctx;
  switch (intent.kind) {
    case 'workflow.help':
    case 'incident.help':
      return immediateReply(intent)!;

    case 'workflow.list': {
      if (!isAdmin(actor)) return ephemeral(MESSAGES.notAdmin('list workflows'), 'warning');
      const workflows = await services.workflows.list(actor);
      if (workflows.length === 0) return ephemeral(MESSAGES.noWorkflows);
      return { kind: 'workflow_list', visibility: 'ephemeral', workflows };
    }
    case 'workflow.enable':
    case 'workflow.disable': {
      const enable = intent.kind === 'workflow.enable';
      if (!isAdmin(actor)) return ephemeral(MESSAGES.notAdmin(enable ? 'enable workflows' : 'disable workflows'), 'warning');
      const workflow = await services.workflows.setEnabled(actor, intent.name, enable);
      return ephemeral(enable ? MESSAGES.workflowEnabled(workflow.name) : MESSAGES.workflowDisabled(workflow.name), 'success');
    }
    case 'workflow.show': {
      const workflow = await services.workflows.show(actor, intent.name);
      return { kind: 'workflow_detail', visibility: 'ephemeral', workflow };
    }

    case 'workflow.run': {
      const incident = await services.incidents.findByChannel(ctx.channel);
      if (!incident) return ephemeral(MESSAGES.notIncidentChannel('run a workflow for'), 'warning');
      if (!canActOnIncident(actor, incident)) return ephemeral(MESSAGES.notTeamMember(incident.teamName, 'run workflows in this incident'), 'warning');
      if (intent.dryRun) {
        const result = await services.runs.dryRun(actor, incident.id, intent.name);
        return { kind: 'dry_run', visibility: 'ephemeral', workflowName: intent.name, ...result };
      }
      const { executionId } = await services.runs.runManual(actor, incident.id, intent.name, { incident });
      return ephemeral(MESSAGES.runStarted(intent.name), 'success', executionId);
    }
    case 'workflow.history': {
      const incident = await services.incidents.findByChannel(ctx.channel);
      if (!incident) return ephemeral(MESSAGES.notIncidentChannel('show the history of'), 'warning');
      const runs = await services.runs.history(actor, incident.id, 10);
      if (runs.length === 0) return ephemeral(MESSAGES.noRuns);
      return { kind: 'run_history', visibility: 'ephemeral', incident, runs };
    }

    case 'incident.declare': {
      let channel = ctx.channel;
      let where = '';
      if (intent.newChannel) {
        if (!ctx.createIncidentChannel) return ephemeral(MESSAGES.cannotCreateChannel, 'warning');
        const created = await ctx.createIncidentChannel(intent.title);
        channel = { platform: created.platform, channelId: created.channelId };
        where = ` in #${created.name}`;
      }
      const incident = await services.incidents.declare(actor, {
        title: intent.title,
        ...(intent.priority ? { priority: intent.priority } : {}),
        channel,
      });
      return { kind: 'incident_card', visibility: 'channel', headline: `${actor.name} declared incident #${incident.number}${where}`, incident };
    }
    case 'incident.status':
    case 'incident.resolve':
    case 'incident.escalate':
    case 'incident.assign': {
      const current = await services.incidents.findByChannel(ctx.channel);
      if (!current) return ephemeral(MESSAGES.notIncidentChannel('change'), 'warning');
      if (!canActOnIncident(actor, current)) return ephemeral(MESSAGES.notTeamMember(current.teamName, 'change this incident'), 'warning');
      return incidentChange(intent, current, ctx);
    }

    case 'run.cancel': {
      const result = await services.runs.cancel(actor, intent.executionId);
      if (result.outcome === 'already_finished') return ephemeral(MESSAGES.runAlreadyFinished(result.status), 'info', intent.executionId);
      return ephemeral(result.outcome === 'cancelled' ? MESSAGES.runCancelled : MESSAGES.runCancelling, 'success', intent.executionId);
    }
    case 'run.retry': {
      const result = await services.runs.retry(actor, intent.executionId);
      if (result.outcome === 'retrying') return ephemeral(MESSAGES.runRetrying, 'success', intent.executionId);
      if (result.outcome === 'already_retrying') return ephemeral(MESSAGES.runAlreadyRetrying, 'info', intent.executionId);
      return ephemeral(result.message, 'info', intent.executionId);
    }
  }
}

async function incidentChange(
  intent: Extract<Intent, { kind: 'incident.status' | 'incident.resolve' | 'incident.escalate' | 'incident.assign' }>,
  current: IncidentSummary,
  ctx: IntentContext,
): Promise<Reply> {
  const { actor, services } = ctx;
  const card = (headline: string, incident: IncidentSummary): Reply => ({ kind: 'incident_card', visibility: 'channel', headline, incident });
  switch (intent.kind) {
    case 'incident.status': {
      const incident = await services.incidents.setStatus(actor, current.id, intent.status);
      return card(`${actor.name} set the status to ${incident.status}`, incident);
    }
    case 'incident.resolve': {
      const incident = await services.incidents.setStatus(actor, current.id, 'resolved');
      return card(`${actor.name} resolved the incident`, incident);
    }
    case 'incident.escalate': {
      const incident = await services.incidents.escalate(actor, current.id);
      return card(`${actor.name} escalated the incident to level ${incident.escalationLevel}`, incident);
    }
    case 'incident.assign': {
      let assigneeId: string | null;
      if (intent.assignee.kind === 'nobody') assigneeId = null;
      else if (intent.assignee.kind === 'me') assigneeId = actor.userId;
      else {
        const target = await services.users.resolve({
          platform: ctx.channel.platform,
          platformUserId: intent.assignee.platformUserId,
          ...(intent.assignee.label ? { name: intent.assignee.label } : {}),
        });
        assigneeId = target.userId;
      }
      if (intent.assignee.kind !== 'nobody' && !assigneeId) return ephemeral(MESSAGES.unknownUser, 'warning');
      const incident = await services.incidents.assign(actor, current.id, assigneeId);
      return card(incident.assigneeName ? `${actor.name} assigned the incident to ${incident.assigneeName}` : `${actor.name} unassigned the incident`, incident);
    }
  }
}
