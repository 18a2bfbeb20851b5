/**
 * The `incident.update` action: changes the run's incident (status, priority, assignee) through the
 * incident service, so the change is audited and emits the same trigger events as a person's change.
 * The events carry the run's execution chain, so chained workflows are bounded by cycle detection.
 * Retrying after success changes nothing and emits nothing (a change to the same value is a no-op).
 */
import type { PrismaClient } from '../../generated/prisma/client.js';
import { IncidentUpdateInputSchema } from '../../engine/action-inputs.js';
import { UserError } from '../../engine/errors.js';
import type { EventActor } from '../../engine/types.js';
import { defineAction } from '../../integrations/ActionRegistry.js';
import type { PrismaIncidentService } from '../PrismaIncidentService.js';
import { AppError } from '../services.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNASSIGN = new Set(['none', 'nobody', 'unassigned', 'null']);

export interface IncidentUpdateDeps {
  prisma: PrismaClient;
  incidents: PrismaIncidentService;
}

/** `assignee` may be a user id, an email, a Slack or Teams user id, or `none` to unassign. */
async function resolveAssignee(prisma: PrismaClient, assignee: string): Promise<string | null> {
  const value = assignee.trim();
  if (UNASSIGN.has(value.toLowerCase())) return null;
  const user = await prisma.user.findFirst({
    where: { OR: [...(UUID.test(value) ? [{ id: value }] : []), { email: value }, { slackUserId: value }, { teamsUserId: value }] },
    select: { id: true },
  });
  if (!user) throw new UserError(`incident.update: no user "${value}" to assign`);
  return user.id;
}

export function createIncidentUpdateAction(deps: IncidentUpdateDeps) {
  return defineAction({
    type: 'incident.update',
    schema: IncidentUpdateInputSchema,
    async run(input, ctx) {
      const actor: EventActor = { kind: 'workflow', id: ctx.executionId, name: `workflow ${ctx.workflowId}` };
      try {
        const assigneeId = input.assignee === undefined ? undefined : await resolveAssignee(deps.prisma, input.assignee);
        const updated = await deps.incidents.applyChange(
          ctx.incidentId,
          {
            ...(input.status !== undefined ? { status: input.status } : {}),
            ...(input.priority !== undefined ? { priority: input.priority } : {}),
            ...(assigneeId !== undefined ? { assigneeId } : {}),
          },
          { actor, auditActor: actor, executionChain: [...ctx.executionChain] },
        );
        ctx.logger.info({ executionId: ctx.executionId, nodeId: ctx.nodeId, incidentId: ctx.incidentId }, 'incident updated by workflow');
        return { status: updated.status, priority: updated.priority, assigneeId: updated.assigneeId };
      } catch (error) {
        if (error instanceof AppError) throw new UserError(`incident.update: ${error.message}`);
        throw error;
      }
    },
  });
}
