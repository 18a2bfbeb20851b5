import { describe, expect, it } from 'vitest';
import type { ChatNotifier, RunView } from '../../../src/engine/ports.js';
import type { ExecutionStatus } from '../../../src/engine/types.js';
import { ProgressCoalescer } from '../../../src/worker/coalescer.js';
import { ConsoleNotifier } from '../../../src/worker/console-notifier.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';

function view(executionId: string, revision: number, status: ExecutionStatus = 'RUNNING'): RunView {
  return {
    executionId,
    workflowId: 'wf',
    workflowName: 'forty-steps',
    workflowVersion: 1,
    incident: { id: 'inc', number: 7, title: 'Checkout down' },
    trigger: { type: 'manual' },
    status,
    steps: [{ nodeId: `s${revision}`, label: `step ${revision}`, kind: 'action', state: 'completed' }],
    actions: status === 'RUNNING' ? ['cancel'] : [],
    revision,
  };
}

class SlowNotifier implements ChatNotifier {
  readonly published: RunView[] = [];
  constructor(private readonly delayMs: number) {}
  async publishProgress(v: RunView): Promise<void> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.published.push(v);
  }
  async notifyFailure(): Promise<void> {}
  async postMessage(): Promise<{ ref: string }> {
    return { ref: 'x' };
  }
}

describe('ProgressCoalescer', () => {
  it('flush never publishes a run twice at once (a second concurrent post would duplicate the message)', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const published: number[] = [];
    const notifier: ChatNotifier = {
      async publishProgress(v) {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise((r) => setTimeout(r, 50));
        published.push(v.revision);
        concurrent--;
      },
      async notifyFailure() {},
      async postMessage() {
        return { ref: 'x' };
      },
    };
    const coalescer = new ProgressCoalescer(notifier, { intervalMs: 1000 });
    coalescer.publish(view('run-f', 1));
    coalescer.publish(view('run-f', 2, 'COMPLETED'));
    await coalescer.flush();
    expect(maxConcurrent).toBe(1);
    expect(published).toEqual([1, 2]);
  });

  it('a 40-step run in a burst is published a few times, latest state wins, the final state always arrives', async () => {
    const notifier = new SlowNotifier(50);
    const coalescer = new ProgressCoalescer(notifier, { intervalMs: 200 });
    const started = Date.now();
    for (let i = 1; i <= 40; i++) coalescer.publish(view('run-1', i));
    coalescer.publish(view('run-1', 41, 'COMPLETED'));
    // publish never waits for the chat platform.
    expect(Date.now() - started).toBeLessThan(50);
    await coalescer.flush();
    expect(notifier.published.length).toBeLessThanOrEqual(3);
    expect(notifier.published.at(-1)?.status).toBe('COMPLETED');
    expect(notifier.published.at(-1)?.revision).toBe(41);
    const revisions = notifier.published.map((v) => v.revision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(coalescer.size).toBe(0);
  });

  it('with a first delay, a run that ends within it is published once, already final', async () => {
    const notifier = new SlowNotifier(0);
    const coalescer = new ProgressCoalescer(notifier, { intervalMs: 1000, firstDelayMs: 60_000 });
    coalescer.publish(view('run-short', 1));
    coalescer.publish(view('run-short', 2));
    expect(notifier.published).toHaveLength(0);
    coalescer.publish(view('run-short', 3, 'COMPLETED'));
    await coalescer.flush();
    expect(notifier.published.map((v) => [v.revision, v.status])).toEqual([[3, 'COMPLETED']]);
    expect(coalescer.size).toBe(0);
  });

  it('with a first delay, a longer run is shown once the delay passed, then its final state', async () => {
    const notifier = new SlowNotifier(0);
    const coalescer = new ProgressCoalescer(notifier, { intervalMs: 0, firstDelayMs: 30 });
    coalescer.publish(view('run-long', 1));
    expect(notifier.published).toHaveLength(0);
    // Waits for the event, not for a time: the first update goes out on its own once the delay passed.
    for (let i = 0; i < 200 && notifier.published.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(notifier.published.map((v) => v.revision)).toEqual([1]);
    coalescer.publish(view('run-long', 2, 'FAILED'));
    await coalescer.flush();
    expect(notifier.published.map((v) => [v.revision, v.status])).toEqual([
      [1, 'RUNNING'],
      [2, 'FAILED'],
    ]);
  });

  it('drops updates older than what was sent, late updates after the final one, but not a newer attempt', async () => {
    const notifier = new SlowNotifier(0);
    const coalescer = new ProgressCoalescer(notifier, { intervalMs: 0 });
    coalescer.publish(view('run-2', 5));
    await coalescer.flush();
    coalescer.publish(view('run-2', 3));
    coalescer.publish(view('run-2', 9, 'FAILED'));
    await coalescer.flush();
    coalescer.publish(view('run-2', 8));
    await coalescer.flush();
    // A retry: the run is running again with a newer revision.
    coalescer.publish(view('run-2', 10));
    await coalescer.flush();
    expect(notifier.published.map((v) => [v.revision, v.status])).toEqual([
      [5, 'RUNNING'],
      [9, 'FAILED'],
      [10, 'RUNNING'],
    ]);
  });

  it('a failing or hanging notifier never blocks; memory stays bounded; finals are kept', async () => {
    const hanging: ChatNotifier = {
      publishProgress: () => new Promise(() => undefined),
      notifyFailure: async () => undefined,
      postMessage: async () => ({ ref: 'x' }),
    };
    const coalescer = new ProgressCoalescer(hanging, { intervalMs: 1000, maxEntries: 50 });
    for (let run = 0; run < 500; run++) {
      coalescer.publish(view(`run-${run}`, 1));
      coalescer.publish(view(`run-${run}`, 2));
    }
    expect(coalescer.size).toBeLessThanOrEqual(500);

    const failing: ChatNotifier = {
      publishProgress: async () => Promise.reject(new Error('429')),
      notifyFailure: async () => undefined,
      postMessage: async () => ({ ref: 'x' }),
    };
    const logger = new MemoryLogger();
    const c2 = new ProgressCoalescer(failing, { intervalMs: 0, maxEntries: 50, logger });
    for (let run = 0; run < 200; run++) c2.publish(view(`r-${run}`, 1, 'COMPLETED'));
    await c2.flush();
    expect(c2.size).toBe(0);
    expect(logger.entries.filter((e) => e.msg === 'progress publish failed')).toHaveLength(200);
  });
});

describe('ConsoleNotifier', () => {
  it('logs progress and failures so the product runs without a chat platform', async () => {
    const logger = new MemoryLogger();
    const notifier = new ConsoleNotifier(logger);
    await notifier.publishProgress(view('run-3', 1));
    await notifier.notifyFailure({ run: view('run-3', 2, 'FAILED'), teamId: 't', assigneeId: 'u1', authorId: 'u2', failedStep: 'page', error: 'HTTP 500' });
    const posted = await notifier.postMessage({ incidentId: 'inc', teamId: 't', channel: 'incident' }, 'hello');
    expect(posted.ref).toMatch(/^console:/);
    expect(logger.entries.map((e) => e.msg)).toEqual([
      'workflow run: forty-steps on incident #7 RUNNING [step 1: completed]',
      'workflow failed: forty-steps at step "page": HTTP 500 (retry with /workflow retry run-3)',
      'chat message: hello',
    ]);
  });
});
