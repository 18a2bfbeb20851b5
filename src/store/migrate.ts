/**
 * The project's own migration runner. Prisma's CLI cannot fetch its schema engine on these
 * machines, so we apply `prisma/migrations/<name>/migration.sql` ourselves and record each one
 * in Prisma's `_prisma_migrations` table exactly as `prisma migrate deploy` would, so the real
 * CLI sees them as applied wherever it can run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** Default migrations folder: `<repo>/prisma/migrations`. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations/', import.meta.url));

/**
 * The advisory lock key Prisma's schema engine takes for `migrate deploy`; using the same one
 * means our runner and the real CLI also exclude each other.
 */
export const MIGRATION_LOCK_KEY = 72707369;

/** Prisma's own DDL for its bookkeeping table (schema engine, PostgreSQL flavour). */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Minimal logger (pino-compatible). */
export interface MigrateLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MigrateOptions {
  databaseUrl: string;
  /** Folder holding `<name>/migration.sql` directories. Defaults to `prisma/migrations`. */
  migrationsDir?: string;
  logger?: MigrateLogger;
}

/** A migration could not be applied, or the database's history disagrees with the files. */
export class MigrationError extends Error {
  /** The migration's folder name, when one migration is at fault. */
  readonly migration: string | undefined;
  constructor(message: string, options?: { migration?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MigrationError';
    this.migration = options?.migration;
  }
}

/** One migration folder on disk. */
export interface MigrationFile {
  name: string;
  /** Absolute path of its `migration.sql`. */
  file: string;
  sql: string;
  /** sha256 of the file's bytes, hex, as Prisma computes it. */
  checksum: string;
}

/** Reads every `<name>/migration.sql` under `dir`, sorted by name. */
export async function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const out: MigrationFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name, 'migration.sql');
    const exists = await stat(file).then((s) => s.isFile(), () => false);
    if (!exists) continue;
    const bytes = await readFile(file);
    out.push({ name, file, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') });
  }
  return out;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending migrations in name order, each in its own transaction, while holding a
 * PostgreSQL advisory lock (a second runner waits, then finds nothing to do).
 *
 * Refuses to run when an applied migration's file changed (checksum mismatch) or when
 * `_prisma_migrations` records an attempt that neither finished nor was rolled back. A failing
 * migration is rolled back entirely (including its bookkeeping row) and the error names its file.
 */
export async function migrate(options: MigrateOptions): Promise<{ applied: string[] }> {
  const dir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const log = options.logger;
  const migrations = await readMigrations(dir);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      );
      const applied = new Map<string, AppliedRow>();
      for (const row of rows) {
        if (row.rolled_back_at !== null) continue;
        if (row.finished_at === null) {
          throw new MigrationError(
            `Migration ${row.migration_name} was started but did not finish (a previous attempt failed). ` +
              'Fix the database by hand, then mark it rolled back (set rolled_back_at) or applied before migrating again.',
            { migration: row.migration_name },
          );
        }
        applied.set(row.migration_name, row);
      }
      const known = new Set(migrations.map((m) => m.name));
      for (const name of applied.keys()) {
        if (!known.has(name)) log?.warn({ migration: name }, 'applied migration not found in the migrations folder');
      }
      for (const m of migrations) {
        const row = applied.get(m.name);
        if (row && row.checksum !== m.checksum) {
          throw new MigrationError(
            `Migration ${m.name} was modified after it was applied (${m.file}: checksum ${m.checksum}, recorded ${row.checksum}). ` +
              'Applied migrations must not change; add a new migration instead.',
            { migration: m.name },
          );
        }
      }
      const done: string[] = [];
      for (const m of migrations) {
        if (applied.has(m.name)) continue;
        await applyOne(client, m);
        log?.info({ migration: m.name }, 'migration applied');
        done.push(m.name);
      }
      return { applied: done };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function applyOne(client: pg.Client, m: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    const id = randomUUID();
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, clock_timestamp(), 0)',
      [id, m.checksum, m.name],
    );
    // No parameters: node-postgres then uses the simple query protocol, which runs a multi-statement script.
    await client.query(m.sql);
    await client.query(
      'UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1 WHERE id = $1',
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`Migration ${m.name} failed (${m.file}): ${reason}. Nothing from it was applied.`, {
      migration: m.name,
      cause: error,
    });
  }
}
