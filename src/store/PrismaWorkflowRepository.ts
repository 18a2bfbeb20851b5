import type { PrismaClient } from '../generated/prisma/client.js';
import type { StoredWorkflow, WorkflowRepository } from '../engine/ports.js';
import type { TriggerType } from '../engine/types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `WorkflowRepository` on PostgreSQL. */
export class PrismaWorkflowRepository implements WorkflowRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Enabled, not deleted workflows of the team or of global scope with this trigger type: one
   * query, served by the `(enabled, triggerType, teamId)` index.
   */
  async findCandidates(query: { teamId: string; triggerType: TriggerType }): Promise<StoredWorkflow[]> {
    // A team id that is not a UUID cannot own a workflow (the column is UUID): match global ones only.
    const scope = UUID.test(query.teamId) ? [{ teamId: query.teamId }, { teamId: null }] : [{ teamId: null }];
    const rows = await this.prisma.workflow.findMany({
      where: { enabled: true, deletedAt: null, triggerType: query.triggerType, OR: scope },
      select: { id: true, name: true, teamId: true, enabled: true, version: true, triggerType: true, definition: true, authorId: true },
      orderBy: { name: 'asc' },
    });
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      teamId: row.teamId,
      enabled: row.enabled,
      version: row.version,
      triggerType: row.triggerType as TriggerType,
      definition: row.definition,
      authorId: row.authorId,
    }));
  }
}
