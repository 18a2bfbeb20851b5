/**
 * The benchmark's own PostgreSQL database and Redis key space: a fresh database created and
 * migrated (src/store/migrate.ts) at the start of a run and dropped at the end, and a unique BullMQ
 * prefix whose keys are deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { createLogger, type Logger } from '../src/logger.js';
import { migrate } from '../src/store/migrate.js';
import { createPrismaClient, type PrismaClient } from '../src/store/prisma.js';

export interface BenchEnvOptions {
  /** Any database on the server (used to create and drop ours). */
  adminUrl?: string;
  redisUrl?: string;
  /** Level of the product's logger (default `info`, the product's default); output goes to /dev/null. */
  logLevel?: 'info' | 'warn' | 'silent';
}

export interface BenchEnv {
  databaseUrl: string;
  databaseName: string;
  redisUrl: string;
  /** BullMQ prefix unique to this run. */
  prefix: string;
  prisma: PrismaClient;
  /** The product's pino logger, writing to /dev/null. */
  logger: Logger;
  /** A plain pg pool on the bench database (counters, raw SQL). */
  pool: pg.Pool;
  /** A new prefix under this run's prefix (for a row that needs its own queue). */
  subPrefix(label: string): string;
  close(): Promise<void>;
}

function withName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Deletes every key under `prefix:` (SCAN, never FLUSHALL on the shared server). */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function createBenchEnv(options: BenchEnvOptions = {}): Promise<BenchEnv> {
  const adminUrl = options.adminUrl ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = options.redisUrl ?? 'redis://127.0.0.1:6379';
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `bench_${tag}`;
  const prefix = `bench_${tag}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE "${databaseName}"`));
  const databaseUrl = withName(adminUrl, databaseName);
  try {
    await migrate({ databaseUrl });
  } catch (error) {
    await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
    throw error;
  }
  const prisma = createPrismaClient(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const level = options.logLevel ?? 'info';
  const logger = createLogger({ LOG_LEVEL: level }, pino.destination({ dest: '/dev/null', sync: false }));
  const prefixes = new Set<string>([prefix]);
  let closed = false;
  return {
    databaseUrl,
    databaseName,
    redisUrl,
    prefix,
    prisma,
    logger,
    pool,
    subPrefix(label) {
      const p = `${prefix}_${label}`;
      prefixes.add(p);
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
      for (const p of prefixes) await deleteRedisPrefix(redisUrl, p).catch(() => undefined);
    },
  };
}
