/** Waiting for runs: the worker's BullMQ `completed` event (job id = execution id on a first attempt). */
import type { WorkflowWorkerHandle } from '../src/worker/worker.js';

export interface CompletionTracker {
  /** Resolves when the job of this execution has completed (or already did). */
  wait(executionId: string): Promise<void>;
  /** Resolves once `n` jobs completed since the tracker was made (or since `reset`). */
  waitCount(n: number): Promise<void>;
  count(): number;
  reset(): void;
  stop(): void;
}

export function trackCompletions(handle: WorkflowWorkerHandle): CompletionTracker {
  const done = new Set<string>();
  const waiters = new Map<string, () => void>();
  let count = 0;
  let countWaiter: { n: number; resolve: () => void } | null = null;
  const onCompleted = (job: { id?: string }) => {
    const id = job.id ?? '';
    count++;
    const w = waiters.get(id);
    if (w) {
      waiters.delete(id);
      w();
    } else if (done.size < 100_000) done.add(id);
    if (countWaiter && count >= countWaiter.n) {
      const r = countWaiter.resolve;
      countWaiter = null;
      r();
    }
  };
  handle.worker.on('completed', onCompleted);
  return {
    wait(executionId) {
      if (done.delete(executionId)) return Promise.resolve();
      return new Promise((resolve) => waiters.set(executionId, resolve));
    },
    waitCount(n) {
      if (count >= n) return Promise.resolve();
      return new Promise((resolve) => (countWaiter = { n, resolve }));
    },
    count: () => count,
    reset() {
      count = 0;
      done.clear();
    },
    stop() {
      handle.worker.off('completed', onCompleted);
    },
  };
}

/** Run `fn(i)` for i in [0, n) with at most `parallel` in flight. */
export async function inParallel(n: number, parallel: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel, n) }, async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(lanes);
}
