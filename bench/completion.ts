/**
 * Waiting for runs: from outside the worker through BullMQ's queue events (job id = execution id
 * on a first attempt), which works for a worker in another process; or, for a worker in this
 * process, through its own `completed` event, the way the baselines count their jobs (reading the
 * queue's event stream costs the process CPU that the baselines do not pay).
 */
import { QueueEvents, type Worker } from 'bullmq';
import { WORKFLOW_QUEUE_NAME } from '../src/worker/queue.js';

export interface CompletionTracker {
  /** Resolves when the job of this execution has completed (or already did). */
  wait(executionId: string): Promise<void>;
  /** Resolves once `n` jobs completed since the tracker was made (or since `reset`). */
  waitCount(n: number): Promise<void>;
  count(): number;
  reset(): void;
  stop(): Promise<void>;
}

export async function trackCompletions(redisUrl: string, prefix: string): Promise<CompletionTracker> {
  const events = new QueueEvents(WORKFLOW_QUEUE_NAME, { connection: { url: redisUrl }, prefix });
  await events.waitUntilReady();
  const tracker = completionCounter(() => events.close());
  events.on('completed', ({ jobId }) => tracker.completed(jobId));
  return tracker;
}

/** Completions of a worker running in this process (its `completed` event). */
export function trackWorkerCompletions(worker: Worker): CompletionTracker {
  const tracker = completionCounter(async () => {
    worker.off('completed', listener);
  });
  const listener = (job: { id?: string }) => tracker.completed(job.id ?? '');
  worker.on('completed', listener);
  return tracker;
}

function completionCounter(stop: () => Promise<void>): CompletionTracker & { completed(jobId: string): void } {
  const done = new Set<string>();
  const waiters = new Map<string, () => void>();
  let count = 0;
  let countWaiter: { n: number; resolve: () => void } | null = null;
  const completed = (jobId: string) => {
    count++;
    const w = waiters.get(jobId);
    if (w) {
      waiters.delete(jobId);
      w();
    } else if (done.size < 100_000) done.add(jobId);
    if (countWaiter && count >= countWaiter.n) {
      const r = countWaiter.resolve;
      countWaiter = null;
      r();
    }
  };
  return {
    completed,
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
    stop,
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
