/**
 * Chat platforms want an answer quickly (Slack: three seconds). {@link withDeadline} answers in time
 * with a fallback and lets the real work finish in the background, handing its result to `late`.
 */

/** The result of {@link withDeadline}: the real value in time, or the fallback. */
export type DeadlineResult<T> = { inTime: true; value: T } | { inTime: false; value: T };

/**
 * Race `work` against `ms`. If `work` settles first its value is returned. Otherwise `fallback()` is
 * returned and, when `work` settles later, `late(value)` is called (errors in `late` are swallowed by
 * the caller's `onLateError`). `work` must not reject (wrap it so it returns an error value).
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  fallback: () => T,
  late: (value: T) => Promise<void> | void,
  onLateError: (error: unknown) => void = () => {},
): Promise<DeadlineResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const winner = await Promise.race([work.then((value) => ({ value })), timeout]);
  clearTimeout(timer);
  if (winner !== 'timeout') return { inTime: true, value: winner.value };
  work.then(
    async (value) => {
      try {
        await late(value);
      } catch (error) {
        onLateError(error);
      }
    },
    onLateError,
  );
  return { inTime: false, value: fallback() };
}
