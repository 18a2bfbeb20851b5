import { CancelledError } from './errors.js';
import type { Clock } from './ports.js';

/** The real clock. `sleep` rejects with the signal's reason (or a `CancelledError`) when aborted. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const reasonOf = () => signal?.reason ?? new CancelledError('manual');
      if (signal?.aborted) return reject(reasonOf());
      const onAbort = () => {
        clearTimeout(timer);
        reject(reasonOf());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
