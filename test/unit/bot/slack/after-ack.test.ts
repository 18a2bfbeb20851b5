/**
 * The post-ack queue of slash commands: tasks never start in the tick that queued them (the ack's),
 * run in arrival order with at most `concurrency` at once, wait while `holdFor` says so (until
 * released, or until they have waited `maxHoldMs`), and `drain` waits for all of them.
 */
import { describe, expect, it } from 'vitest';
import { AfterAckQueue } from '../../../../src/bot/slack/after-ack.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A task that records its start and finishes when told to. */
function gated(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
    finish: () => finish(),
  };
}

describe('AfterAckQueue', () => {
  it('never starts a task synchronously, and runs them in order, at most `concurrency` at once', async () => {
    const log: string[] = [];
    const queue = new AfterAckQueue({ concurrency: 2 });
    const tasks = ['a', 'b', 'c', 'd'].map((n) => gated(log, n));
    for (const t of tasks) queue.push(t.task);
    expect(log).toEqual([]);
    expect(queue.size).toBe(4);
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    tasks[1]!.finish();
    await tick();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    tasks[0]!.finish();
    tasks[2]!.finish();
    tasks[3]!.finish();
    await queue.drain();
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start a', 'start b', 'start c', 'start d']);
    expect(queue.size).toBe(0);
  });

  it('keeps going after a task throws, reporting the error', async () => {
    const errors: unknown[] = [];
    const queue = new AfterAckQueue({ concurrency: 1, onError: (e) => errors.push(e) });
    let ran = false;
    queue.push(() => Promise.reject(new Error('boom')));
    queue.push(() => {
      throw new Error('sync boom');
    });
    queue.push(async () => {
      ran = true;
    });
    await queue.drain();
    expect(ran).toBe(true);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'sync boom']);
  });

  it('holds tasks while acks are pending and starts them once released', async () => {
    let pending = true;
    const queue = new AfterAckQueue({ concurrency: 4, holdFor: () => (pending ? 60_000 : 0), maxHoldMs: 60_000 });
    let ran = 0;
    queue.push(async () => {
      ran++;
    });
    for (let i = 0; i < 5; i++) await tick();
    expect(ran).toBe(0);
    pending = false;
    queue.release();
    await queue.drain();
    expect(ran).toBe(1);
  });

  it('starts a held task anyway once it has waited maxHoldMs, so answers cannot starve', async () => {
    const queue = new AfterAckQueue({ concurrency: 1, holdFor: () => 60_000, maxHoldMs: 20 });
    let ran = false;
    queue.push(async () => {
      ran = true;
    });
    await queue.drain();
    expect(ran).toBe(true);
  });
});
