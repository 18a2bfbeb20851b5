/** The `chat.post` action: a message to the incident's channel or its team's channel via the `ChatNotifier` port. */
import type { PrismaClient } from '../../generated/prisma/client.js';
import { ChatPostInputSchema } from '../../engine/action-inputs.js';
import { UserError } from '../../engine/errors.js';
import type { ChatNotifier } from '../../engine/ports.js';
import { defineAction } from '../../integrations/ActionRegistry.js';

export interface ChatPostDeps {
  prisma: PrismaClient;
  notifier: ChatNotifier;
}

export function createChatPostAction(deps: ChatPostDeps) {
  return defineAction({
    type: 'chat.post',
    schema: ChatPostInputSchema,
    async run(input, ctx) {
      const incident = await deps.prisma.incident.findUnique({ where: { id: ctx.incidentId }, select: { teamId: true } });
      if (!incident) throw new UserError(`chat.post: incident ${ctx.incidentId} no longer exists`);
      const { ref } = await deps.notifier.postMessage({ incidentId: ctx.incidentId, teamId: incident.teamId, channel: input.channel }, input.text);
      return { ref, channel: input.channel };
    },
  });
}
