/** Bolt and the WebClient log through `@slack/logger`'s interface; this forwards to our pino logger. */
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../../engine/ports.js';

/** Wrap our logger for Bolt / WebClient. Bolt's debug chatter stays at debug; levels are pino's. */
export function toSlackLogger(logger: Logger): SlackLogger {
  let level: LogLevel = LogLevel.INFO;
  const format = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : safeJson(m))).join(' ').slice(0, 2000);
  return {
    debug: (...msg: unknown[]) => logger.debug({ source: 'bolt' }, format(msg)),
    info: (...msg: unknown[]) => logger.info({ source: 'bolt' }, format(msg)),
    warn: (...msg: unknown[]) => logger.warn({ source: 'bolt' }, format(msg)),
    error: (...msg: unknown[]) => logger.error({ source: 'bolt' }, format(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
