import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY, MigrationError, migrate, readMigrations } from '../../src/store/migrate.js';
import { createEmptyDatabase, type EmptyDatabase } from '../helpers/db.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function emptyDb(): Promise<EmptyDatabase> {
  const db = await createEmptyDatabase();
  cleanups.push(() => db.drop());
  return db;
}

async function tempMigrations(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
  logs: string | null;
}

const rowsOf = (url: string) => query<MigrationRow>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
const tablesOf = async (url: string) =>
  (
    await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    )
  ).map((r) => r.table_name);

describe('migrate', () => {
  it('applies the project migrations once and records them the way Prisma does', async () => {
    const db = await emptyDb();
    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);

    const first = await migrate({ databaseUrl: db.url });
    expect(first.applied).toEqual(files.map((f) => f.name));

    const rows = await rowsOf(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      const file = files[i]!;
      expect(row.checksum).toBe(file.checksum);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    expect(await tablesOf(db.url)).toContain('WorkflowExecution');

    // Prisma's exact bookkeeping table shape.
    const columns = await query<{ column_name: string; data_type: string; is_nullable: string; character_maximum_length: number | null }>(
      db.url,
      "SELECT column_name, data_type, is_nullable, character_maximum_length FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position",
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable, c.character_maximum_length])).toEqual([
      ['id', 'character varying', 'NO', 36],
      ['checksum', 'character varying', 'NO', 64],
      ['finished_at', 'timestamp with time zone', 'YES', null],
      ['migration_name', 'character varying', 'NO', 255],
      ['logs', 'text', 'YES', null],
      ['rolled_back_at', 'timestamp with time zone', 'YES', null],
      ['started_at', 'timestamp with time zone', 'NO', null],
      ['applied_steps_count', 'integer', 'NO', null],
    ]);

    const second = await migrate({ databaseUrl: db.url });
    expect(second.applied).toEqual([]);
    const after = await rowsOf(db.url);
    expect(after.map((r) => [r.id, r.finished_at?.toISOString()])).toEqual(rows.map((r) => [r.id, r.finished_at?.toISOString()]));
  });

  it('checksum is the sha256 of the file bytes', async () => {
    const sql = 'CREATE TABLE "a" ("id" INTEGER NOT NULL);\n';
    const dir = await tempMigrations({ '20260101000000_a': sql });
    const [file] = await readMigrations(dir);
    expect(file?.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
  });

  it('two runners started at once both succeed and apply each migration once', async () => {
    const db = await emptyDb();
    const results = await Promise.all([migrate({ databaseUrl: db.url }), migrate({ databaseUrl: db.url }), migrate({ databaseUrl: db.url })]);
    const files = await readMigrations();
    const allApplied = results.flatMap((r) => r.applied).sort();
    expect(allApplied).toEqual(files.map((f) => f.name).sort());
    const rows = await rowsOf(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
  });

  it('a runner waits while another session holds the migration lock, then applies', async () => {
    const db = await emptyDb();
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);

    const waiting = migrate({ databaseUrl: db.url });
    // Wait (by state, not by time) until the runner is blocked on the advisory lock.
    for (let i = 0; ; i++) {
      const { rows } = await holder.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1",
        [MIGRATION_LOCK_KEY],
      );
      if (rows[0]?.n === 1) break;
      if (i > 500) throw new Error('runner never waited on the lock');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await tablesOf(db.url)).toEqual([]);

    await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    const result = await waiting;
    expect(result.applied.length).toBeGreaterThan(0);
    expect((await rowsOf(db.url)).map((r) => r.migration_name)).toEqual(result.applied);
  });

  it('two runner processes started at once apply each migration once', async () => {
    const db = await emptyDb();
    const script = `import { migrate } from ${JSON.stringify(new URL('../../src/store/migrate.ts', import.meta.url).pathname)};
const { applied } = await migrate({ databaseUrl: process.env.MIGRATE_DATABASE_URL });
console.log(JSON.stringify(applied));`;
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, MIGRATE_DATABASE_URL: db.url } }, (error, stdout) => {
          if (error) reject(error);
          else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as string[]);
        });
      });
    const [a, b] = await Promise.all([run(), run()]);
    const files = (await readMigrations()).map((f) => f.name);
    expect([...a, ...b].sort()).toEqual(files.sort());
    expect(a.length === 0 || b.length === 0).toBe(true);
    expect((await rowsOf(db.url)).map((r) => r.migration_name)).toEqual(files);
  });

  it('a failing migration leaves the database as it was and names the file', async () => {
    const db = await emptyDb();
    const dir = await tempMigrations({
      '20260101000000_first': 'CREATE TABLE "first" ("id" INTEGER NOT NULL);\n',
    });
    await migrate({ databaseUrl: db.url, migrationsDir: dir });
    const tablesBefore = await tablesOf(db.url);
    const rowsBefore = await rowsOf(db.url);

    await mkdir(path.join(dir, '20260102000000_broken'));
    // The first statement succeeds; the second fails: the whole file must roll back.
    await writeFile(
      path.join(dir, '20260102000000_broken', 'migration.sql'),
      'CREATE TABLE "second" ("id" INTEGER NOT NULL);\nALTER TABLE "nope" ADD COLUMN "x" INTEGER;\n',
    );
    await mkdir(path.join(dir, '20260103000000_later'));
    await writeFile(path.join(dir, '20260103000000_later', 'migration.sql'), 'CREATE TABLE "third" ("id" INTEGER);\n');

    const error = await migrate({ databaseUrl: db.url, migrationsDir: dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migration).toBe('20260102000000_broken');
    expect((error as Error).message).toContain(path.join('20260102000000_broken', 'migration.sql'));
    expect((error as Error).message).toContain('"nope"');

    expect(await tablesOf(db.url)).toEqual(tablesBefore);
    expect(await rowsOf(db.url)).toEqual(rowsBefore);
  });

  it('refuses when an applied migration was changed', async () => {
    const db = await emptyDb();
    const dir = await tempMigrations({ '20260101000000_first': 'CREATE TABLE "first" ("id" INTEGER NOT NULL);\n' });
    await migrate({ databaseUrl: db.url, migrationsDir: dir });
    await appendFile(path.join(dir, '20260101000000_first', 'migration.sql'), '-- edited\n');
    await mkdir(path.join(dir, '20260102000000_next'));
    await writeFile(path.join(dir, '20260102000000_next', 'migration.sql'), 'CREATE TABLE "next" ("id" INTEGER);\n');

    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir })).rejects.toThrow(/20260101000000_first was modified/);
    expect(await tablesOf(db.url)).not.toContain('next');
  });

  it('refuses when a previous attempt recorded by Prisma did not finish', async () => {
    const db = await emptyDb();
    const dir = await tempMigrations({
      '20260101000000_first': 'CREATE TABLE "first" ("id" INTEGER NOT NULL);\n',
      '20260102000000_second': 'CREATE TABLE "second" ("id" INTEGER NOT NULL);\n',
    });
    await migrate({ databaseUrl: db.url, migrationsDir: dir });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES ('00000000-0000-4000-8000-000000000001', $1, '20260103000000_failed', 'boom', now(), 0)`,
      ['0'.repeat(64)],
    );
    await client.end();
    await mkdir(path.join(dir, '20260104000000_more'));
    await writeFile(path.join(dir, '20260104000000_more', 'migration.sql'), 'CREATE TABLE "more" ("id" INTEGER);\n');

    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir })).rejects.toThrow(/20260103000000_failed .*did not finish/);
    expect(await tablesOf(db.url)).not.toContain('more');
  });

  it('re-applies a migration Prisma marked rolled back', async () => {
    const db = await emptyDb();
    const src = await tempMigrations({ '20260101000000_first': 'CREATE TABLE "first" ("id" INTEGER NOT NULL);\n' });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, rolled_back_at, applied_steps_count)
       VALUES ('00000000-0000-4000-8000-000000000002', $1, '20260101000000_first', 'failed once', now(), 0)`,
      ['0'.repeat(64)],
    );
    await client.end();
    const result = await migrate({ databaseUrl: db.url, migrationsDir: src });
    expect(result.applied).toEqual(['20260101000000_first']);
    const rows = await rowsOf(db.url);
    expect(rows.filter((r) => r.finished_at !== null).map((r) => r.migration_name)).toEqual(['20260101000000_first']);
    expect(rows).toHaveLength(2);
  });
});
