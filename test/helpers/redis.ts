/**
 * Redis for BullMQ tests: the shared server on 6379 with a unique key prefix per test, and a
 * cleanup that deletes only that prefix's keys.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other test uses. */
export function uniquePrefix(label = 'wt'): string {
  return `t_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix:` (SCAN, never KEYS or FLUSHALL on the shared server). */
export async function deletePrefix(prefix: string, url: string = REDIS_URL): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis gone (outage tests): nothing to clean.
  } finally {
    redis.disconnect();
  }
  return deleted;
}
