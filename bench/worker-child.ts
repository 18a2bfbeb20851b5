/**
 * A worker process for the memory row: the product's worker (same composition as bench/product.ts)
 * on the bench database and prefix given in argv, run with --expose-gc. Over IPC it answers
 * `{ type: 'mem' }` with its memory after a full GC, and `{ type: 'stop' }` by stopping gracefully.
 */
import { pino } from 'pino';
import { createLogger } from '../src/logger.js';
import { createPrismaClient } from '../src/store/prisma.js';
import { startProduct } from './product.js';

const [databaseUrl, redisUrl, prefix, concurrency] = process.argv.slice(2);
if (!databaseUrl || !redisUrl || !prefix || !process.send) {
  process.stderr.write('usage: worker-child <databaseUrl> <redisUrl> <prefix> <concurrency> (with an IPC channel)\n');
  process.exit(2);
}
const prisma = createPrismaClient(databaseUrl);
const logger = createLogger({ LOG_LEVEL: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
const product = await startProduct({ prisma, logger, redisUrl, prefix }, { worker: { concurrency: Number(concurrency ?? 10) } });
let completed = 0;
product.worker!.worker.on('completed', () => completed++);

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (msg: { type: string }) => {
  if (msg.type === 'mem') {
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    process.send!({ type: 'mem', rss: m.rss, heapUsed: m.heapUsed, completed });
  } else if (msg.type === 'stop') {
    void (async () => {
      await product.close();
      await prisma.$disconnect();
      process.send!({ type: 'stopped' });
      process.exit(0);
    })();
  }
});
process.send({ type: 'ready' });
