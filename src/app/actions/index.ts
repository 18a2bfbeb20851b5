/** The action handlers the application layer contributes to the `ActionRegistry`. */
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { ChatNotifier } from '../../engine/ports.js';
import type { ActionHandler } from '../../integrations/ActionRegistry.js';
import type { PrismaIncidentService } from '../PrismaIncidentService.js';
import { createChatPostAction } from './chat-post.js';
import { createIncidentUpdateAction } from './incident-update.js';

export { createChatPostAction, createIncidentUpdateAction };

/** `incident.update` and `chat.post`, ready for `registry.register(...)`. */
export function createAppActions(deps: { prisma: PrismaClient; incidents: PrismaIncidentService; notifier: ChatNotifier }): ActionHandler[] {
  return [createIncidentUpdateAction(deps), createChatPostAction(deps)] as ActionHandler[];
}
