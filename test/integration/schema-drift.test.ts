import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.js';
import { checkSchemaDrift, DEFAULT_SCHEMA_PATH, diffShapes, expectedShape, readLiveShape, type SchemaDifference } from '../../src/store/schema-drift.js';
import { createEmptyDatabase, type EmptyDatabase } from '../helpers/db.js';

let db: EmptyDatabase;
let schemaText: string;

beforeAll(async () => {
  db = await createEmptyDatabase();
  await migrate({ databaseUrl: db.url });
  schemaText = await readFile(DEFAULT_SCHEMA_PATH, 'utf8');
});
afterAll(async () => {
  await db?.drop();
});

/** Inserts `lines` just before the closing brace of `model`. */
function addToModel(text: string, model: string, lines: string): string {
  const start = text.indexOf(`model ${model} {`);
  if (start < 0) throw new Error(`model ${model} not found`);
  const end = text.indexOf('\n}', start);
  return `${text.slice(0, end)}\n${lines}${text.slice(end)}`;
}

const brief = (diffs: SchemaDifference[]) => diffs.map((d) => `${d.kind} ${d.table ?? ''}.${d.column ?? d.name ?? ''}`.trim());

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('schema drift', () => {
  it('a database migrated from empty matches schema.prisma exactly', async () => {
    const diffs = await checkSchemaDrift({ databaseUrl: db.url });
    expect(diffs).toEqual([]);
  });

  it('reports a field added to the schema without a migration', async () => {
    const modified = addToModel(schemaText, 'Workflow', '  ownerNote String?');
    const diffs = await checkSchemaDrift({ databaseUrl: db.url, schemaText: modified });
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatchObject({ kind: 'missing_column', table: 'Workflow', column: 'ownerNote', expected: 'text' });
  });

  it('reports a new model, a new index, a new enum and a changed default', async () => {
    let modified = addToModel(schemaText, 'Incident', '  @@index([assigneeId])');
    modified = modified.replace('priority        String    @default("P3")', 'priority        String    @default("P2")');
    modified += '\nenum Severity {\n  LOW\n  HIGH\n}\n\nmodel Note {\n  id       Int      @id @default(autoincrement())\n  severity Severity\n}\n';
    const diffs = await checkSchemaDrift({ databaseUrl: db.url, schemaText: modified });
    expect(brief(diffs).sort()).toEqual(
      [
        'column_default Incident.priority',
        'missing_enum .Severity',
        'missing_index Incident.Incident_assigneeId_idx',
        'missing_table Note.',
      ].sort(),
    );
  });

  it('reports a field whose type, nullability or uniqueness changed', async () => {
    let modified = schemaText.replace('slackChannelId      String?', 'slackChannelId      String  @unique');
    modified = modified.replace('escalationLevel Int       @default(0)', 'escalationLevel BigInt    @default(0)');
    const diffs = await checkSchemaDrift({ databaseUrl: db.url, schemaText: modified });
    expect(brief(diffs).sort()).toEqual(
      ['column_nullability Team.slackChannelId', 'column_type Incident.escalationLevel', 'missing_index Team.Team_slackChannelId_key'].sort(),
    );
  });

  it('reports what the database has that the schema does not', async () => {
    // Inside a transaction that is rolled back, so the shared database stays clean.
    const diffs = await withClient(async (client) => {
      await client.query('BEGIN');
      try {
        await client.query('ALTER TABLE "Team" ADD COLUMN "legacy" INTEGER');
        await client.query('CREATE INDEX "Team_legacy_idx" ON "Team"("legacy")');
        await client.query('CREATE TABLE "Scratch" ("id" INTEGER)');
        await client.query('ALTER TABLE "Workflow" ALTER COLUMN "enabled" DROP DEFAULT');
        return diffShapes(expectedShape(schemaText), await readLiveShape(client));
      } finally {
        await client.query('ROLLBACK');
      }
    });
    expect(brief(diffs).sort()).toEqual(
      ['column_default Workflow.enabled', 'extra_column Team.legacy', 'extra_index Team.Team_legacy_idx', 'extra_table Scratch.'].sort(),
    );
    expect(await checkSchemaDrift({ databaseUrl: db.url })).toEqual([]);
  });
});
