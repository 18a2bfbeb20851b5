import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';

export type { PrismaClient };

/** Connections in the pool when the caller does not say (the same default as `DATABASE_POOL_SIZE`). */
export const DEFAULT_POOL_SIZE = 20;

export interface PrismaClientOptions {
  /** Most connections the `pg` pool opens (adapter-pg's own default is 10). */
  poolSize?: number;
}

/** The `pg` pool under each client made by `createPrismaClient` (the one Prisma's adapter uses). */
const pools = new WeakMap<object, pg.Pool>();

/**
 * A Prisma client over `pg` through the driver adapter: no query-engine binary, works offline.
 * The client owns its `pg` pool; `sqlFor(client)` sends statements straight to that same pool.
 * Call `$disconnect()` when done (it ends the pool).
 */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? DEFAULT_POOL_SIZE });
  // An idle client whose server went away emits 'error' on the pool; without a listener that
  // would crash the process. The next query reports the outage to its caller instead.
  pool.on('error', () => undefined);
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(client, pool);
  return client;
}

/** One SQL statement runner: the same text and positional parameters (`$1`...) on either path. */
export interface Sql {
  /**
   * Runs `text` with `values` and returns the rows. `name` makes it a prepared statement on each
   * pooled connection (parsed and planned once), used on the hot paths that repeat a statement.
   */
  query<Row>(name: string, text: string, values: readonly unknown[]): Promise<Row[]>;
}

/**
 * The statement runner for `db`. For a client from `createPrismaClient`, statements go to its
 * `pg` pool directly: why not `$queryRaw` — on the worker's per-node path Prisma's raw-query
 * pipeline (argument serialisation, the query interpreter, result mapping) cost more CPU than the
 * statement itself, and the node writes are the product's hottest path (bench rows 1-3). Inside
 * an interactive transaction (or for any other client) the same text runs through
 * `$queryRawUnsafe` on that transaction, so a statement never leaves the caller's transaction.
 * Values come back the same way on both paths: jsonb parsed, timestamptz as `Date`, uuid as text.
 */
export function sqlFor(db: PrismaClient | Prisma.TransactionClient): Sql {
  const pool = pools.get(db);
  if (pool) {
    return {
      async query<Row>(name: string, text: string, values: readonly unknown[]) {
        const result = await pool.query({ name, text, values: values as unknown[] });
        return result.rows as Row[];
      },
    };
  }
  return {
    query<Row>(_name: string, text: string, values: readonly unknown[]) {
      return db.$queryRawUnsafe<Row[]>(text, ...values);
    },
  };
}
