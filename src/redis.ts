/**
 * Redis connections. BullMQ needs `maxRetriesPerRequest: null` on connections its workers block
 * on; every connection logs its errors (an unhandled 'error' event would crash the process) and
 * keeps reconnecting while Redis is away.
 */
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** Open a connection that reconnects forever and never crashes the process on errors. */
export function createRedisConnection(url: string, logger: Logger, name: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let lastLogged = 0;
  redis.on('error', (error: Error) => {
    // A down Redis emits an error per reconnect attempt; one line every 10 s is enough.
    const now = Date.now();
    if (now - lastLogged > 10_000) {
      lastLogged = now;
      logger.warn({ connection: name, err: error.message }, 'redis connection error');
    }
  });
  return redis;
}

/** Readiness check: answers only when the connection is ready and PING succeeds. */
export async function pingRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis connection is ${redis.status}`);
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
}
