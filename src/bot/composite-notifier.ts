/**
 * Fans one `ChatNotifier` call out to every configured platform (Slack and Teams can both be on:
 * each posts only where the incident or team has a channel on its platform). One platform failing
 * never stops the other, and never reaches the run.
 */
import type { ChatNotifier, FailureAlert, Logger, RunView } from '../engine/ports.js';

export class CompositeNotifier implements ChatNotifier {
  constructor(
    private readonly notifiers: ReadonlyArray<{ name: string; notifier: ChatNotifier }>,
    private readonly logger: Logger,
  ) {}

  async publishProgress(view: RunView): Promise<void> {
    await this.each('publishProgress', (n) => n.publishProgress(view));
  }

  async notifyFailure(alert: FailureAlert): Promise<void> {
    await this.each('notifyFailure', (n) => n.notifyFailure(alert));
  }

  /** Posts on every platform; the reference names each platform's message. */
  async postMessage(target: Parameters<ChatNotifier['postMessage']>[0], text: string): Promise<{ ref: string }> {
    const refs: string[] = [];
    let lastError: unknown;
    for (const { name, notifier } of this.notifiers) {
      try {
        refs.push(`${name}:${(await notifier.postMessage(target, text)).ref}`);
      } catch (error) {
        lastError = error;
        this.logger.warn({ platform: name, err: error instanceof Error ? error.message : String(error) }, 'chat.post failed on one platform');
      }
    }
    // chat.post is an action: if no platform took the message, the step must fail visibly.
    if (refs.length === 0 && lastError !== undefined) throw lastError;
    return { ref: refs.join(',') };
  }

  private async each(what: string, call: (n: ChatNotifier) => Promise<void>): Promise<void> {
    await Promise.all(
      this.notifiers.map(async ({ name, notifier }) => {
        try {
          await call(notifier);
        } catch (error) {
          this.logger.warn({ platform: name, err: error instanceof Error ? error.message : String(error) }, `${what} failed`);
        }
      }),
    );
  }
}
