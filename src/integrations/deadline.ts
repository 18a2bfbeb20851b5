/**
 * One outgoing request's abort signal: the run's signal (cancel, the attempt's bounds) or the
 * request's own timeout, whichever comes first.
 *
 * Why not `AbortSignal.any([ctx.signal, AbortSignal.timeout(ms)])`: on Node 20 that pair costs a
 * timeout signal, a composite signal with weak references and a finalization registration per
 * request, a measurable share of a webhook action's CPU (bench row 1). One controller, one timer
 * and one listener, removed when the request is done, do the same.
 */

/** Whether the request's own timeout fired (as opposed to the run's signal). */
export interface TimeoutFlag {
  readonly aborted: boolean;
}

export interface RequestDeadline {
  /** Aborted when the run's signal aborts (with its reason) or when the timeout fires. */
  readonly signal: AbortSignal;
  /** Set when the timeout fired. */
  readonly timeout: TimeoutFlag;
  /** Stop the timer and forget the run's signal (call when the request and its body are done). */
  dispose(): void;
}

/** Why a request was aborted by its own timeout. */
export class RequestTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`request timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

export function requestDeadline(runSignal: AbortSignal, timeoutMs: number): RequestDeadline {
  const controller = new AbortController();
  const timeout = { aborted: false };
  const onRunAbort = () => controller.abort(runSignal.reason);
  const timer = setTimeout(() => {
    timeout.aborted = true;
    controller.abort(new RequestTimeoutError(timeoutMs));
  }, timeoutMs);
  timer.unref?.();
  if (runSignal.aborted) onRunAbort();
  else runSignal.addEventListener('abort', onRunAbort, { once: true });
  return {
    signal: controller.signal,
    timeout,
    dispose() {
      clearTimeout(timer);
      runSignal.removeEventListener('abort', onRunAbort);
    },
  };
}
