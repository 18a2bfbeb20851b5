/**
 * One fresh PostgreSQL database per call, cloned from a template database that holds every
 * migration. The template is built once (by the vitest global setup, or lazily here) under an
 * advisory lock, named after a hash of the migrations so a changed migration gets a new one,
 * and shared safely by parallel workers and by concurrent test runs on the same server.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, readMigrations } from '../../src/store/migrate.js';
import { createPrismaClient } from '../../src/store/prisma.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';

/** Server to create test databases on (any database on it; we only use it to connect). */
export const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const TEST_DB_PREFIX = 'itest_';
const TEMPLATE_LOCK_KEY = 727073690;
/** Leftover test databases older than this are dropped by the global setup. */
const STALE_AFTER_SECONDS = 6 * 3600;

export interface TestDatabase {
  url: string;
  /** Database name. */
  name: string;
  prisma: PrismaClient;
  /** Disconnects the client, terminates every other connection and drops the database. */
  drop(): Promise<void>;
}

export interface EmptyDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** URL of the same server with another database name. */
export function databaseUrl(name: string, base: string = BASE_DATABASE_URL): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BASE_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Name of the template for the current migrations (changes whenever a migration does). */
export async function templateName(): Promise<string> {
  const migrations = await readMigrations();
  const hash = createHash('sha256');
  for (const m of migrations) hash.update(`${m.name}\0${m.checksum}\0`);
  return `itemplate_${hash.digest('hex').slice(0, 16)}`;
}

/**
 * Makes sure the migrated template database exists. It is built under another name and
 * renamed when complete, so nobody ever clones a half-migrated template.
 */
export async function ensureTemplate(): Promise<string> {
  const name = await templateName();
  await withAdmin(async (admin) => {
    const exists = async (): Promise<boolean> =>
      (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    if (await exists()) return;
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      if (await exists()) return;
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${quoteIdent(building)}`);
      try {
        await migrate({ databaseUrl: databaseUrl(building) });
        await admin.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`);
      } catch (error) {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`).catch(() => undefined);
        throw error;
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => undefined);
    }
  });
  return name;
}

function uniqueName(): string {
  return `${TEST_DB_PREFIX}${Math.floor(Date.now() / 1000)}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

async function createDatabase(name: string, template?: string): Promise<void> {
  const sql = `CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`;
  await withAdmin(async (admin) => {
    // Cloning fails with 55006 while another session is briefly connected to the template
    // (e.g. a concurrent clone); retry a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(sql);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== '55006' || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  });
}

async function dropDatabase(name: string): Promise<void> {
  // WITH (FORCE) terminates remaining connections (PostgreSQL 13+).
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

/** A fresh, fully migrated database with a Prisma client connected to it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = uniqueName();
  await createDatabase(name, template);
  const url = databaseUrl(name);
  const prisma = createPrismaClient(url);
  let dropped = false;
  return {
    url,
    name,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect().catch(() => undefined);
      await dropDatabase(name);
    },
  };
}

/** A fresh database with nothing in it (for migration tests). */
export async function createEmptyDatabase(): Promise<EmptyDatabase> {
  const name = uniqueName();
  await createDatabase(name);
  let dropped = false;
  return {
    url: databaseUrl(name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await dropDatabase(name);
    },
  };
}

/** Drops test databases left behind by crashed runs (older than a few hours, so never a live one). */
export async function dropStaleTestDatabases(): Promise<void> {
  const cutoff = Math.floor(Date.now() / 1000) - STALE_AFTER_SECONDS;
  const names = await withAdmin(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${TEST_DB_PREFIX}%`,
    ]);
    return rows.map((r) => r.datname);
  });
  for (const name of names) {
    const created = Number(name.slice(TEST_DB_PREFIX.length).split('_')[0]);
    if (Number.isFinite(created) && created < cutoff) await dropDatabase(name).catch(() => undefined);
  }
}
