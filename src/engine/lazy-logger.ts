import type { Logger } from './ports.js';

/**
 * A child logger made only when a line is actually written through it (most actions log nothing,
 * or only debug lines that the default level drops).
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const get = () => (child ??= parent.child(bindings));
  const writes = (level: 'debug' | 'info' | 'warn' | 'error') => parent.isLevelEnabled?.(level) ?? true;
  return {
    debug: (obj, msg) => (writes('debug') ? get().debug(obj, msg) : undefined),
    info: (obj, msg) => (writes('info') ? get().info(obj, msg) : undefined),
    warn: (obj, msg) => get().warn(obj, msg),
    error: (obj, msg) => get().error(obj, msg),
    // A child of a child stays lazy too: the bindings add up and nothing is made until a line is written.
    child: (more) => (child ? child.child(more) : lazyChild(parent, { ...bindings, ...more })),
    isLevelEnabled: (level) => writes(level),
  };
}
