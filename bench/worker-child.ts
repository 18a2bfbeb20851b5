/**
 * A worker process for the memory row: the product's own composition (`startService`, role
 * `worker`) on the bench database and prefix given in argv, run with --expose-gc. Over IPC it
 * answers `{ type: 'mem' }` with its heap used right after a full GC, its RSS one second after that
 * GC, and the highest RSS sampled (every 250 ms, without forcing a GC) since the previous `mem`;
 * `{ type: 'stop' }` stops it.
 */
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/service.js';
import { serviceEnv } from './product.js';

const [databaseUrl, redisUrl, prefix, concurrency] = process.argv.slice(2);
if (!databaseUrl || !redisUrl || !prefix || !process.send) {
  process.stderr.write('usage: worker-child <databaseUrl> <redisUrl> <prefix> <concurrency> (with an IPC channel)\n');
  process.exit(2);
}
const logger = createLogger({ LOG_LEVEL: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
const config = loadConfig(serviceEnv({ databaseUrl, redisUrl, prefix, logger }, { role: 'worker', worker: { concurrency: Number(concurrency ?? 10) } }));
const service = await startService(config, logger, { worker: { reconcileIntervalMs: 0 } });

const SETTLE_MS = 1000;
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 250);
sampler.unref();

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (msg: { type: string }) => {
  if (msg.type === 'mem') {
    const peak = Math.max(peakRss, process.memoryUsage.rss());
    gc?.();
    gc?.();
    const heapUsed = process.memoryUsage().heapUsed;
    // V8 hands the pages a GC freed back to the OS from a background task (its unmapper) shortly
    // after the GC: RSS read at once still counts 50-100 MB that are about to go, and that amount
    // varies from one read to the next. A second later it has settled.
    setTimeout(() => {
      const rss = process.memoryUsage.rss();
      peakRss = rss;
      process.send!({ type: 'mem', rss, heapUsed, peakRss: peak });
    }, SETTLE_MS);
  } else if (msg.type === 'stop') {
    clearInterval(sampler);
    void (async () => {
      await service.stop();
      process.send!({ type: 'stopped' });
      process.exit(0);
    })();
  }
});
process.send({ type: 'ready' });
