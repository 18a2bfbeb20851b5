import type { PrismaClient } from '../generated/prisma/client.js';
import type { StoredWorkflow, WorkflowRepository } from '../engine/ports.js';
import type { TriggerType } from '../engine/types.js';
import { sqlFor, type Sql } from './prisma.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CandidateRow {
  id: string;
  name: string;
  teamId: string | null;
  enabled: boolean;
  version: number;
  triggerType: string;
  definition: unknown;
  authorId: string | null;
}

/** `WorkflowRepository` on PostgreSQL (the client, or an interactive transaction on it). */
export class PrismaWorkflowRepository implements WorkflowRepository {
  private readonly sql: Sql;

  constructor(prisma: PrismaClient) {
    this.sql = sqlFor(prisma);
  }

  /**
   * Enabled, not deleted workflows of the team or of global scope with this trigger type: one
   * prepared statement per event, served by the `(enabled, triggerType, teamId)` index.
   */
  async findCandidates(query: { teamId: string; triggerType: TriggerType }): Promise<StoredWorkflow[]> {
    // A team id that is not a UUID cannot own a workflow (the column is UUID): match global ones only.
    const teamId = UUID.test(query.teamId) ? query.teamId : null;
    const rows = await this.sql.query<CandidateRow>(
      'workflow-candidates',
      `SELECT "id"::text AS "id", "name", "teamId"::text AS "teamId", "enabled", "version", "triggerType", "definition", "authorId"::text AS "authorId"
         FROM "Workflow"
        WHERE "enabled" AND "deletedAt" IS NULL AND "triggerType" = $1::text AND ("teamId" = $2::uuid OR "teamId" IS NULL)
        ORDER BY "name" ASC`,
      [query.triggerType, teamId],
    );
    return rows.map((row) => ({ ...row, version: Number(row.version), triggerType: row.triggerType as TriggerType }));
  }
}
