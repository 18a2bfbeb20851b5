import { describe, expect, it } from 'vitest';
import { CancelledError, FencedOutError, RateLimitedError, TransientError, UserError } from '../../../src/engine/errors.js';
import { WORKFLOW_TIMEOUTS, executeWorkflow, type ExecutorDeps } from '../../../src/engine/executor.js';
import type { ExecutionRecord } from '../../../src/engine/ports.js';
import { ScriptedActionRunner, untilAborted } from '../../helpers/memory-actions.js';
import { FakeClock } from '../../helpers/memory-clock.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { MemoryExecutionStore } from '../../helpers/memory-store.js';
import { branchingWorkflow, event, execution, incident, linearWorkflow } from './fixtures.js';

const SECRET = 's3cr3t-hook-token-value';
const secrets = new Map([['HOOK_TOKEN', SECRET]]);

async function setup(record: ExecutionRecord, actions = new ScriptedActionRunner()) {
  const clock = new FakeClock();
  const store = new MemoryExecutionStore(clock);
  const logger = new MemoryLogger();
  store.insert(record);
  const claimed = await store.claim(record.id);
  if (!claimed) throw new Error('claim failed');
  const deps: ExecutorDeps = { store, actions, clock, logger, fence: claimed.fence, random: () => 0.5 };
  const run = (overrides: Partial<ExecutorDeps> = {}) => clock.run(executeWorkflow(claimed.record, secrets, { ...deps, ...overrides }));
  return { clock, store, logger, actions, deps, claimed, run };
}

function nodeWrites(store: MemoryExecutionStore): string[] {
  return store.writes.flatMap((w) => (w.kind === 'recordNode' ? [w.progress.nodeId] : []));
}

describe('executor: walk order and branches', () => {
  it('follows the true branch of a condition and joins afterwards', async () => {
    const actions = new ScriptedActionRunner({ 'jira.create_issue': () => ({ key: 'OPS-12', url: 'https://jira.test/browse/OPS-12' }) });
    const { run, store, claimed } = await setup(execution(branchingWorkflow()), actions);
    const result = await run();
    expect(result.status).toBe('COMPLETED');
    expect(actions.nodeOrder()).toEqual(['ticket', 'hook', 'done']);
    const stored = (await store.get(claimed.record.id))!;
    expect(stored.completedNodes).toEqual(['start', 'check', 'ticket', 'hook', 'done']);
    expect(stored.nodeResults.check?.branch).toBe(true);
    expect(stored.nodeResults.chat).toBeUndefined();
    expect(stored.status).toBe('COMPLETED');
  });

  it('follows the false branch and skips the true side', async () => {
    const actions = new ScriptedActionRunner();
    const record = execution(branchingWorkflow(), { triggerEvent: event({ incident: incident({ priority: 'P3' }) }) });
    const { run, store } = await setup(record, actions);
    const result = await run();
    expect(result.status).toBe('COMPLETED');
    expect(actions.nodeOrder()).toEqual(['chat', 'done']);
    const stored = (await store.get(record.id))!;
    expect(stored.nodeResults.check?.branch).toBe(false);
    expect(stored.nodeResults.ticket).toBeUndefined();
    expect(stored.nodeResults.hook).toBeUndefined();
  });

  it('persists exactly one write per node; the last node\'s write also completes the run', async () => {
    const { run, store, claimed } = await setup(execution(linearWorkflow()));
    await run();
    expect(nodeWrites(store)).toEqual(['start', 'a', 'b', 'c']);
    expect(store.writes.filter((w) => w.kind === 'finish')).toHaveLength(0);
    expect(store.writes.filter((w) => w.kind === 'recordNode' && w.finish).map((w) => w.kind === 'recordNode' && w.progress.nodeId)).toEqual(['c']);
    expect(store.writes.at(-1)).toMatchObject({ kind: 'recordNode', progress: { nodeId: 'c', completed: true }, finish: { status: 'COMPLETED' } });
    expect((await store.get(claimed.record.id))!).toMatchObject({ status: 'COMPLETED', completedNodes: ['start', 'a', 'b', 'c'] });
  });

  it('exactly one write ends a branching run, whichever side ran', async () => {
    const { run, store } = await setup(execution(branchingWorkflow()));
    const result = await run();
    expect(result.status).toBe('COMPLETED');
    // Every node write except the one that ends the run leaves the run RUNNING; exactly one write ends it.
    const enders = store.writes.filter((w) => w.kind === 'finish' || (w.kind === 'recordNode' && w.finish));
    expect(enders).toHaveLength(1);
  });

  it('logs each step with execution, workflow and node ids', async () => {
    const { run, logger, claimed } = await setup(execution(linearWorkflow()));
    await run();
    for (const nodeId of ['start', 'a', 'b', 'c']) {
      const entry = logger.entries.find((e) => e.level === 'debug' && e.msg === 'node completed' && e.fields.nodeId === nodeId);
      expect(entry?.fields).toMatchObject({ executionId: claimed.record.id, workflowId: claimed.record.workflowId, nodeId });
    }
  });

  it('passes an idempotency key of executionId:nodeId', async () => {
    const actions = new ScriptedActionRunner();
    const { run, claimed } = await setup(execution(linearWorkflow()), actions);
    await run();
    expect(actions.calls.map((c) => c.idempotencyKey)).toEqual(['a', 'b', 'c'].map((n) => `${claimed.record.id}:${n}`));
  });
});

describe('executor: templates and secrets', () => {
  it('renders step outputs and secrets for sending but stores and logs no secret', async () => {
    const actions = new ScriptedActionRunner({
      'jira.create_issue': () => ({ key: 'OPS-7' }),
      webhook: (input) => ({ echoed: `auth was ${String((input.headers as Record<string, string>).Authorization)}` }),
    });
    const { run, store, logger, claimed } = await setup(execution(branchingWorkflow()), actions);
    await run();
    const hook = actions.calls.find((c) => c.nodeId === 'hook')!;
    expect(hook.input).toEqual({
      url: 'https://hooks.example.test/incident',
      method: 'POST',
      headers: { Authorization: `Bearer ${SECRET}` },
      body: { key: 'OPS-7', number: 42 },
    });
    expect(actions.calls.find((c) => c.nodeId === 'ticket')!.input.summary).toBe('Database down');
    const stored = (await store.get(claimed.record.id))!;
    expect(stored.nodeResults.hook?.output).toEqual({ echoed: 'auth was Bearer [REDACTED]' });
    expect(JSON.stringify(stored)).not.toContain(SECRET);
    expect(JSON.stringify(store.writes)).not.toContain(SECRET);
    expect(logger.text()).not.toContain(SECRET);
  });

  it('fails with a user error when a referenced secret is not configured', async () => {
    const actions = new ScriptedActionRunner();
    const { run } = await setup(execution(branchingWorkflow()), actions);
    const result = await run({});
    expect(result.status).toBe('COMPLETED');
    const second = await setup(execution(branchingWorkflow()), actions);
    const failed = await second.clock.run(executeWorkflow(second.claimed.record, new Map(), second.deps));
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toContain('HOOK_TOKEN');
    expect(failed.record.nodeResults.hook?.error?.code).toBe('user_error');
  });
});

describe('executor: stop on error', () => {
  it('stops at the first failed node and records the error on the node and the run', async () => {
    const actions = new ScriptedActionRunner({
      webhook: (_input, ctx) => {
        if (ctx.nodeId === 'b') throw new UserError(`target rejected the payload (token ${SECRET})`);
        return { ok: true };
      },
    });
    const { run, store, claimed } = await setup(execution(linearWorkflow()), actions);
    const result = await run();
    expect(result.status).toBe('FAILED');
    expect(actions.nodeOrder()).toEqual(['a', 'b']);
    const stored = (await store.get(claimed.record.id))!;
    expect(stored.status).toBe('FAILED');
    expect(stored.nodeResults.b).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'user_error' } });
    expect(stored.nodeResults.b?.error?.message).toContain('target rejected the payload');
    expect(stored.error).toContain('target rejected the payload');
    expect(stored.completedNodes).toEqual(['start', 'a']);
    expect(stored.nodeResults.c).toBeUndefined();
    expect(JSON.stringify(stored)).not.toContain(SECRET);
  });

  it('treats an unexpected error as a failure that is not retried', async () => {
    const actions = new ScriptedActionRunner({ webhook: () => Promise.reject(new TypeError('boom')) });
    const { run } = await setup(execution(linearWorkflow()), actions);
    const result = await run();
    expect(result.status).toBe('FAILED');
    expect(actions.calls).toHaveLength(1);
    expect(result.record.nodeResults.a?.error).toEqual({ code: 'unexpected', message: 'boom' });
  });
});

describe('executor: retries', () => {
  it('retries transient errors with exponential backoff and full jitter', async () => {
    const times: number[] = [];
    const { clock, run } = await setup(execution(linearWorkflow({ settings: { retry: { maxAttempts: 4, initialDelayMs: 1000, backoffCoefficient: 2 } } })));
    const actions = new ScriptedActionRunner({
      webhook: (_i, ctx) => {
        if (ctx.nodeId !== 'a') return {};
        times.push(clock.now());
        if (ctx.attempt < 4) throw new TransientError('503 from target');
        return { ok: true };
      },
    });
    const result = await run({ actions });
    expect(result.status).toBe('COMPLETED');
    expect(result.record.nodeResults.a?.attempts).toBe(4);
    // random() = 0.5: half of 1000, 2000, 4000.
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual([500, 1000, 2000]);
  });

  it('waits exactly the Retry-After a rate-limited action reports', async () => {
    const times: number[] = [];
    const { clock, run } = await setup(execution(linearWorkflow()));
    const actions = new ScriptedActionRunner({
      webhook: (_i, ctx) => {
        if (ctx.nodeId !== 'a') return {};
        times.push(clock.now());
        if (ctx.attempt === 1) throw new RateLimitedError('429 Too Many Requests', 7_000);
        return {};
      },
    });
    const result = await run({ actions });
    expect(result.status).toBe('COMPLETED');
    expect(times[1]! - times[0]!).toBe(7_000);
  });

  it('fails instead of waiting when Retry-After exceeds the remaining time', async () => {
    const { run } = await setup(execution(linearWorkflow({ settings: { timeout: '1min' } })));
    const actions = new ScriptedActionRunner({ webhook: () => Promise.reject(new RateLimitedError('429', 120_000)) });
    const result = await run({ actions });
    expect(result.status).toBe('FAILED');
    expect(actions.calls).toHaveLength(1);
    expect(result.record.nodeResults.a?.error?.code).toBe('rate_limited');
    expect(result.error).toMatch(/retry after 120s/);
  });

  it('does not retry a user error', async () => {
    const actions = new ScriptedActionRunner({ webhook: () => Promise.reject(new UserError('project OPS does not exist')) });
    const { run } = await setup(execution(linearWorkflow({ settings: { retry: { maxAttempts: 5 } } })), actions);
    const result = await run();
    expect(result.status).toBe('FAILED');
    expect(actions.calls).toHaveLength(1);
    expect(result.record.nodeResults.a?.attempts).toBe(1);
  });

  it('gives up after maxAttempts and keeps the last error', async () => {
    const actions = new ScriptedActionRunner({ webhook: () => Promise.reject(new TransientError('connection reset')) });
    const record = execution(linearWorkflow());
    const { run } = await setup(record, actions);
    const result = await run();
    expect(result.status).toBe('FAILED');
    expect(actions.calls).toHaveLength(3);
    expect(result.record.nodeResults.a).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'transient_error', message: 'connection reset' } });
  });
});

describe('executor: timeouts', () => {
  it('ends CANCELLED with reason timeout when a slow action runs out the workflow time, aborting its signal', async () => {
    const actions = new ScriptedActionRunner({ webhook: (_i, ctx) => untilAborted(ctx.signal) });
    const record = execution(linearWorkflow({ settings: { timeout: '1min', retry: { maxAttempts: 10 } } }));
    const { run, clock } = await setup(record, actions);
    const started = clock.now();
    const result = await run();
    expect(result.status).toBe('CANCELLED');
    expect(result.cancelReason).toBe('timeout');
    expect(result.record.nodeResults.a?.status).toBe('cancelled');
    expect(actions.nodeOrder().every((n) => n === 'a')).toBe(true);
    expect(actions.calls.length).toBeGreaterThan(1);
    expect(actions.calls.every((c) => c.signal.aborted)).toBe(true);
    // The first attempt is bounded by min(30s, 60s * 0.8).
    expect(actions.calls[0]!.signal.reason).toBeInstanceOf(TransientError);
    expect(clock.now() - started).toBeLessThanOrEqual(WORKFLOW_TIMEOUTS['1min']);
  });

  it('does not let an action that ignores its signal hold the run past the deadline', async () => {
    const actions = new ScriptedActionRunner({ webhook: () => new Promise(() => undefined) });
    const record = execution(linearWorkflow({ settings: { timeout: '1min', retry: { maxAttempts: 10 } } }));
    const { run, store, clock } = await setup(record, actions);
    const started = clock.now();
    const result = await run();
    expect(result).toMatchObject({ status: 'CANCELLED', cancelReason: 'timeout' });
    expect(actions.calls.length).toBeGreaterThan(1);
    expect(actions.calls.every((c) => c.signal.aborted)).toBe(true);
    expect(clock.now() - started).toBeLessThanOrEqual(WORKFLOW_TIMEOUTS['1min']);
    expect((await store.get(record.id))!.status).toBe('CANCELLED');
  });

  it('checks the deadline before each node (a run resumed after its time is up runs nothing)', async () => {
    const actions = new ScriptedActionRunner();
    const record = execution(linearWorkflow({ settings: { timeout: '1min' } }), {
      status: 'RUNNING',
      startedAt: '2025-12-31T23:58:00.000Z',
      completedNodes: ['start'],
      nodeResults: { start: { status: 'completed', attempts: 1, startedAt: '2025-12-31T23:58:00.000Z' } },
    });
    const { run, store } = await setup(record, actions);
    const result = await run();
    expect(result).toMatchObject({ status: 'CANCELLED', cancelReason: 'timeout' });
    expect(actions.calls).toHaveLength(0);
    expect(nodeWrites(store)).toEqual([]);
  });

  it('uses a per-action timeout of min(30s, remaining * 0.8)', async () => {
    const deadlines: number[] = [];
    const { clock, run } = await setup(execution(linearWorkflow({ settings: { timeout: '15min' } })));
    const actions = new ScriptedActionRunner({
      webhook: (_i, ctx) => {
        if (ctx.nodeId === 'a') deadlines.push(...clock.pendingDeadlines().map((d) => d - clock.now()));
        return {};
      },
    });
    await run({ actions });
    expect(deadlines).toContain(30_000);
  });
});

describe('executor: resume', () => {
  it('continues after completed nodes without running them again, feeding their outputs to templates', async () => {
    const actions = new ScriptedActionRunner();
    const record = execution(branchingWorkflow(), {
      completedNodes: ['start', 'check', 'ticket'],
      nodeResults: {
        start: { status: 'completed', attempts: 1, startedAt: '2026-01-01T00:00:00.000Z' },
        check: { status: 'completed', attempts: 1, branch: true, startedAt: '2026-01-01T00:00:00.000Z' },
        ticket: { status: 'completed', attempts: 1, output: { key: 'OPS-99' }, startedAt: '2026-01-01T00:00:00.000Z' },
      },
      currentNodeId: 'ticket',
      status: 'RUNNING',
      startedAt: '2026-01-01T00:00:00.000Z',
    });
    const { run, store } = await setup(record, actions);
    const result = await run();
    expect(result.status).toBe('COMPLETED');
    expect(actions.nodeOrder()).toEqual(['hook', 'done']);
    expect(actions.calls[0]!.input.body).toEqual({ key: 'OPS-99', number: 42 });
    expect(nodeWrites(store)).toEqual(['hook', 'done']);
  });

  it('retries a failed run from the failed node only', async () => {
    let failB = true;
    const actions = new ScriptedActionRunner({
      webhook: (_i, ctx) => {
        if (ctx.nodeId === 'b' && failB) throw new UserError('bad');
        return { node: ctx.nodeId };
      },
    });
    const record = execution(linearWorkflow());
    const first = await setup(record, actions);
    expect((await first.run()).status).toBe('FAILED');
    failB = false;
    // What Retry does: back to PENDING with the completed nodes kept, then claim again.
    const failed = (await first.store.get(record.id))!;
    first.store.insert({ ...failed, status: 'PENDING', error: null, completedAt: null, attempt: failed.attempt + 1 });
    const claimed = (await first.store.claim(record.id))!;
    const second = await first.clock.run(executeWorkflow(claimed.record, secrets, { ...first.deps, fence: claimed.fence }));
    expect(second.status).toBe('COMPLETED');
    expect(actions.nodeOrder()).toEqual(['a', 'b', 'b', 'c']);
  });
});

describe('executor: delays', () => {
  const delayed = () =>
    linearWorkflow({
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'a', type: 'action', action: 'webhook', input: { url: 'https://hooks.example.test/a' } },
        { id: 'wait', type: 'delay', seconds: 120 },
        { id: 'b', type: 'action', action: 'webhook', input: { url: 'https://hooks.example.test/b' } },
      ],
      edges: [
        { from: 'start', to: 'a' },
        { from: 'a', to: 'wait' },
        { from: 'wait', to: 'b' },
      ],
    });

  it('suspends at a delay instead of sleeping, then continues after resumeAt', async () => {
    const actions = new ScriptedActionRunner();
    const { run, clock, store, claimed, deps } = await setup(execution(delayed()), actions);
    const first = await run();
    expect(first.kind).toBe('suspended');
    expect(first.suspended?.resumeAt).toBe(new Date(clock.now() + 120_000).toISOString());
    expect(clock.pending).toBe(0);
    expect(actions.nodeOrder()).toEqual(['a']);
    const waiting = (await store.get(claimed.record.id))!;
    expect(waiting.nodeResults.wait).toMatchObject({ status: 'waiting', resumeAt: first.suspended!.resumeAt });
    expect(waiting.completedNodes).not.toContain('wait');

    // Woken too early: still suspended, nothing written.
    const writes = store.writes.length;
    const early = await clock.run(executeWorkflow(waiting, secrets, deps));
    expect(early.kind).toBe('suspended');
    expect(store.writes.length).toBe(writes);

    await clock.advance(120_000);
    const done = await clock.run(executeWorkflow((await store.get(claimed.record.id))!, secrets, deps));
    expect(done.status).toBe('COMPLETED');
    expect(actions.nodeOrder()).toEqual(['a', 'b']);
    expect(done.record.nodeResults.wait?.status).toBe('completed');
  });
});

describe('executor: cancel', () => {
  it('aborts the in-flight action and starts no further node when the signal is aborted', async () => {
    const controller = new AbortController();
    const actions = new ScriptedActionRunner({
      webhook: (_i, ctx) => {
        if (ctx.nodeId === 'b') {
          queueMicrotask(() => controller.abort(new CancelledError('manual')));
          return untilAborted(ctx.signal);
        }
        return {};
      },
    });
    const { run, store, claimed } = await setup(execution(linearWorkflow()), actions);
    const result = await run({ signal: controller.signal });
    expect(result).toMatchObject({ status: 'CANCELLED', cancelReason: 'manual' });
    expect(actions.nodeOrder()).toEqual(['a', 'b']);
    expect(actions.calls[1]!.signal.aborted).toBe(true);
    const stored = (await store.get(claimed.record.id))!;
    expect(stored.nodeResults.b?.status).toBe('cancelled');
    expect(stored.nodeResults.c).toBeUndefined();
    // The cancelled node's write ends the run: no separate final write.
    expect(store.writes.filter((w) => w.kind === 'finish')).toHaveLength(0);
    expect(store.writes.at(-1)).toMatchObject({ kind: 'recordNode', progress: { nodeId: 'b' }, finish: { status: 'CANCELLED', cancelReason: 'manual' } });
    expect(stored).toMatchObject({ status: 'CANCELLED', cancelReason: 'manual' });
  });

  it('keeps the reason carried by the signal (shutdown)', async () => {
    const controller = new AbortController();
    controller.abort(new CancelledError('shutdown'));
    const actions = new ScriptedActionRunner();
    const { run } = await setup(execution(linearWorkflow()), actions);
    const result = await run({ signal: controller.signal });
    expect(result.cancelReason).toBe('shutdown');
    expect(actions.calls).toHaveLength(0);
  });

  it('checks the store cancel flag before each node', async () => {
    const record = execution(linearWorkflow());
    const { run, store } = await setup(record, new ScriptedActionRunner());
    const actions = new ScriptedActionRunner({
      webhook: () => {
        store.requestCancel(record.id);
        return {};
      },
    });
    const result = await run({ actions });
    expect(result).toMatchObject({ status: 'CANCELLED', cancelReason: 'manual' });
    expect(actions.nodeOrder()).toEqual(['a']);
  });
});

describe('executor: fencing and progress', () => {
  it('stops with FencedOutError when another worker took the run over', async () => {
    const record = execution(linearWorkflow());
    const { store, deps, claimed, clock } = await setup(record);
    await store.claim(record.id); // another worker
    await expect(clock.run(executeWorkflow(claimed.record, secrets, deps))).rejects.toBeInstanceOf(FencedOutError);
    expect((await store.get(record.id))!.completedNodes).toEqual([]);
  });

  it('reports progress as each node starts and after each write (the last write reports the final state)', async () => {
    const seen: Array<[string | null, string]> = [];
    const { run } = await setup(execution(linearWorkflow()));
    await run({ onProgress: (r) => void seen.push([r.currentNodeId, r.status]) });
    expect(seen.filter(([, s]) => s === 'RUNNING').map(([n]) => n)).toEqual(['start', 'start', 'a', 'a', 'b', 'b', 'c']);
    expect(seen.at(-1)).toEqual(['c', 'COMPLETED']);
    expect(seen.filter(([, s]) => s === 'COMPLETED')).toHaveLength(1);
  });
});

describe('executor: cancel between retries', () => {
  it('does not start another attempt once a cancel was requested', async () => {
    const record = execution(linearWorkflow());
    const { run, store } = await setup(record);
    const actions = new ScriptedActionRunner({
      webhook: () => {
        store.requestCancel(record.id);
        return Promise.reject(new TransientError('503'));
      },
    });
    const result = await run({ actions });
    expect(result).toMatchObject({ status: 'CANCELLED', cancelReason: 'manual' });
    expect(actions.calls).toHaveLength(1);
    expect(result.record.nodeResults.a?.status).toBe('cancelled');
  });
});
