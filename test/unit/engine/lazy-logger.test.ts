import { describe, expect, it } from 'vitest';
import { lazyChild } from '../../../src/engine/lazy-logger.js';
import type { Logger } from '../../../src/engine/ports.js';

function parent(level: 'debug' | 'info') {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg?: string }> = [];
  let children = 0;
  const order = ['debug', 'info', 'warn', 'error'];
  const make = (bindings: Record<string, unknown>): Logger => {
    const write = (l: string) => (obj: object, msg?: string) => {
      if (order.indexOf(l) >= order.indexOf(level)) lines.push({ level: l, fields: { ...bindings, ...obj }, ...(msg ? { msg } : {}) });
    };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (more) => {
        children++;
        return make({ ...bindings, ...more });
      },
      isLevelEnabled: (l) => order.indexOf(l) >= order.indexOf(level),
    };
  };
  return { logger: make({}), lines, children: () => children };
}

describe('lazyChild', () => {
  it('makes no child for lines the level drops, and one child for the first line written', () => {
    const p = parent('info');
    const log = lazyChild(p.logger, { executionId: 'e1' });
    log.debug({ nodeId: 'a' }, 'node started');
    expect(p.children()).toBe(0);
    expect(log.isLevelEnabled?.('debug')).toBe(false);
    log.info({ status: 'COMPLETED' }, 'run finished');
    log.warn({}, 'second line');
    expect(p.children()).toBe(1);
    expect(p.lines).toEqual([
      { level: 'info', fields: { executionId: 'e1', status: 'COMPLETED' }, msg: 'run finished' },
      { level: 'warn', fields: { executionId: 'e1' }, msg: 'second line' },
    ]);
  });

  it('a child of a lazy logger is lazy too, and carries both sets of bindings', () => {
    const p = parent('info');
    const log = lazyChild(p.logger, { executionId: 'e1' }).child({ action: 'webhook' });
    log.debug({}, 'dropped');
    expect(p.children()).toBe(0);
    log.warn({ status: 500 }, 'retrying');
    expect(p.children()).toBe(1);
    expect(p.lines).toEqual([{ level: 'warn', fields: { executionId: 'e1', action: 'webhook', status: 500 }, msg: 'retrying' }]);
  });

  it('writes debug lines with the bindings when debug is on', () => {
    const p = parent('debug');
    lazyChild(p.logger, { attempt: 2 }).debug({ url: 'x' }, 'webhook request');
    expect(p.lines).toEqual([{ level: 'debug', fields: { attempt: 2, url: 'x' }, msg: 'webhook request' }]);
  });
});
