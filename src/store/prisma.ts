import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

/** Connections in the pool when the caller does not say (the same default as `DATABASE_POOL_SIZE`). */
export const DEFAULT_POOL_SIZE = 20;

export interface PrismaClientOptions {
  /** Most connections the `pg` pool opens (adapter-pg's own default is 10). */
  poolSize?: number;
}

/**
 * A Prisma client over `pg` through the driver adapter: no query-engine binary, works offline.
 * Call `$disconnect()` when done.
 */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const max = options.poolSize ?? DEFAULT_POOL_SIZE;
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max }) });
}
