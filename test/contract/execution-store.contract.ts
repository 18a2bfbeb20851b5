/**
 * Contract every `ExecutionStore` implementation must pass (memory and Prisma).
 *
 * Usage, in a `*.test.ts` file:
 *
 *   describeExecutionStoreContract('prisma', async () => {
 *     const db = await createTestDatabase();
 *     const store = new PrismaExecutionStore(db.prisma);
 *     return {
 *       store,
 *       seed: async (overrides) => { ...insert a WorkflowExecution (and whatever rows it needs)... },
 *       missingId: () => randomUUID(),
 *       close: () => db.drop(),
 *     };
 *   });
 *
 * The factory runs once per suite (`beforeAll`); `close` runs after it. `seed(overrides)` inserts
 * one new run: status PENDING, fence 0, no startedAt/completedAt, no node results, no cancel
 * request, unless `overrides` says otherwise. The harness picks the ids (and creates any workflow
 * or incident rows it needs) and returns the record as `store.get` would return it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedOutError } from '../../src/engine/errors.js';
import type { ExecutionRecord, ExecutionStore } from '../../src/engine/ports.js';
import type { NodeResult } from '../../src/engine/types.js';

/** Fields a test may set when seeding a run. */
export type SeedOverrides = Partial<
  Pick<ExecutionRecord, 'status' | 'nodeResults' | 'completedNodes' | 'currentNodeId' | 'cancelRequestedAt' | 'startedAt' | 'executionChain' | 'error'>
>;

export interface ExecutionStoreHarness {
  store: ExecutionStore;
  /** Inserts one new run (see the file header) and returns it as stored. */
  seed(overrides?: SeedOverrides): Promise<ExecutionRecord>;
  /** A well-formed id that names no run. */
  missingId(): string;
  close?(): Promise<void>;
}

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:01.500Z';

export function describeExecutionStoreContract(name: string, factory: () => Promise<ExecutionStoreHarness>): void {
  describe(`ExecutionStore contract: ${name}`, () => {
    let h: ExecutionStoreHarness;
    beforeAll(async () => {
      h = await factory();
    });
    afterAll(async () => {
      await h?.close?.();
    });

    async function claimed(overrides: SeedOverrides = {}) {
      const seeded = await h.seed(overrides);
      const claim = await h.store.claim(seeded.id);
      if (!claim) throw new Error('claim returned null for a PENDING run');
      return { id: seeded.id, fence: claim.fence, record: claim.record };
    }

    describe('get', () => {
      it('returns the seeded run and null for an unknown id', async () => {
        const seeded = await h.seed({ executionChain: ['wf-a', 'wf-b'] });
        const got = await h.store.get(seeded.id);
        expect(got).toEqual(seeded);
        expect(got).toMatchObject({ status: 'PENDING', completedNodes: [], nodeResults: {}, currentNodeId: null, executionChain: ['wf-a', 'wf-b'] });
        expect(await h.store.get(h.missingId())).toBeNull();
      });
    });

    describe('claim', () => {
      it('moves PENDING to RUNNING, sets startedAt and bumps the fence', async () => {
        const seeded = await h.seed();
        const claim = await h.store.claim(seeded.id);
        expect(claim).not.toBeNull();
        expect(claim!.fence).toBeGreaterThan(seeded.fence);
        expect(claim!.record.fence).toBe(claim!.fence);
        expect(claim!.record.status).toBe('RUNNING');
        expect(claim!.record.startedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        expect(await h.store.get(seeded.id)).toEqual(claim!.record);
      });

      it('re-claims a RUNNING run (resume) with a new fence, keeping startedAt and progress', async () => {
        const first = await claimed();
        const result: NodeResult = { status: 'completed', attempts: 1, startedAt: T0, finishedAt: T1 };
        await h.store.recordNode(first.id, first.fence, { nodeId: 'start', result, completed: true });
        const again = await h.store.claim(first.id);
        expect(again!.fence).toBeGreaterThan(first.fence);
        expect(again!.record.startedAt).toBe(first.record.startedAt);
        expect(again!.record.completedNodes).toEqual(['start']);
        expect(again!.record.nodeResults).toEqual({ start: result });
      });

      it.each(['COMPLETED', 'FAILED', 'CANCELLED'] as const)('refuses a %s run and changes nothing', async (status) => {
        const seeded = await h.seed({ status });
        expect(await h.store.claim(seeded.id)).toBeNull();
        expect(await h.store.get(seeded.id)).toEqual(seeded);
      });

      it('returns null for an unknown run', async () => {
        expect(await h.store.claim(h.missingId())).toBeNull();
      });
    });

    describe('recordNode', () => {
      it('merges one node result at a time, appends completed nodes once and moves currentNodeId', async () => {
        const run = await claimed();
        const start: NodeResult = { status: 'completed', attempts: 1, startedAt: T0, finishedAt: T0 };
        const check: NodeResult = { status: 'completed', attempts: 1, branch: false, output: { branch: false }, startedAt: T0, finishedAt: T1 };
        await h.store.recordNode(run.id, run.fence, { nodeId: 'start', result: start, completed: true });
        await h.store.recordNode(run.id, run.fence, { nodeId: 'check', result: check, completed: true });
        const got = (await h.store.get(run.id))!;
        expect(got.nodeResults).toEqual({ start, check });
        expect(got.completedNodes).toEqual(['start', 'check']);
        expect(got.currentNodeId).toBe('check');
        expect(got.status).toBe('RUNNING');
      });

      it('round-trips outputs, errors and delay fields exactly', async () => {
        const run = await claimed();
        const ticket: NodeResult = {
          status: 'completed',
          attempts: 3,
          output: { key: 'OPS-1', nested: { list: [1, 'two', null, true], empty: {} }, unicode: 'é ✓' },
          startedAt: T0,
          finishedAt: T1,
        };
        const failed: NodeResult = { status: 'failed', attempts: 2, error: { code: 'transient_error', message: '503 "quoted" \\ back' }, startedAt: T0, finishedAt: T1 };
        const waiting: NodeResult = { status: 'waiting', attempts: 1, startedAt: T0, resumeAt: T1 };
        await h.store.recordNode(run.id, run.fence, { nodeId: 'ticket', result: ticket, completed: true });
        await h.store.recordNode(run.id, run.fence, { nodeId: 'hook', result: failed, completed: false });
        await h.store.recordNode(run.id, run.fence, { nodeId: 'wait', result: waiting, completed: false });
        const got = (await h.store.get(run.id))!;
        expect(got.nodeResults).toEqual({ ticket, hook: failed, wait: waiting });
        expect(got.completedNodes).toEqual(['ticket']);
        expect(got.currentNodeId).toBe('wait');
      });

      it('replaces a node result (waiting -> completed) and never appends a node twice', async () => {
        const run = await claimed();
        const waiting: NodeResult = { status: 'waiting', attempts: 1, startedAt: T0, resumeAt: T1 };
        const done: NodeResult = { ...waiting, status: 'completed', finishedAt: T1 };
        await h.store.recordNode(run.id, run.fence, { nodeId: 'wait', result: waiting, completed: false });
        await h.store.recordNode(run.id, run.fence, { nodeId: 'wait', result: done, completed: true });
        await h.store.recordNode(run.id, run.fence, { nodeId: 'wait', result: done, completed: true });
        const got = (await h.store.get(run.id))!;
        expect(got.nodeResults).toEqual({ wait: done });
        expect(got.completedNodes).toEqual(['wait']);
      });

      it('keeps results and completed nodes seeded before (resume)', async () => {
        const prior: NodeResult = { status: 'completed', attempts: 1, output: { key: 'OPS-9' }, startedAt: T0, finishedAt: T0 };
        const run = await claimed({ status: 'RUNNING', startedAt: T0, completedNodes: ['start', 'ticket'], nodeResults: { ticket: prior }, currentNodeId: 'ticket' });
        const hook: NodeResult = { status: 'completed', attempts: 1, startedAt: T1, finishedAt: T1 };
        await h.store.recordNode(run.id, run.fence, { nodeId: 'hook', result: hook, completed: true });
        const got = (await h.store.get(run.id))!;
        expect(got.completedNodes).toEqual(['start', 'ticket', 'hook']);
        expect(got.nodeResults).toEqual({ ticket: prior, hook });
      });
    });

    describe('finish', () => {
      it.each([
        [{ status: 'COMPLETED' as const }, { error: null, cancelReason: null }],
        [{ status: 'FAILED' as const, error: 'ticket: project OPS does not exist' }, { error: 'ticket: project OPS does not exist', cancelReason: null }],
        [{ status: 'CANCELLED' as const, cancelReason: 'timeout' as const, error: 'workflow timed out after 1min' }, { error: 'workflow timed out after 1min', cancelReason: 'timeout' }],
        [{ status: 'CANCELLED' as const, cancelReason: 'manual' as const }, { error: null, cancelReason: 'manual' }],
      ])('records %j', async (outcome, expected) => {
        const run = await claimed();
        const result: NodeResult = { status: 'completed', attempts: 1, startedAt: T0 };
        await h.store.recordNode(run.id, run.fence, { nodeId: 'start', result, completed: true });
        await h.store.finish(run.id, run.fence, outcome);
        const got = (await h.store.get(run.id))!;
        expect(got).toMatchObject({ status: outcome.status, ...expected, completedNodes: ['start'], nodeResults: { start: result } });
        expect(got.completedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        expect(await h.store.claim(run.id)).toBeNull();
      });
    });

    describe('recordNode with finish (the write of the node that ends the run)', () => {
      it.each([
        [{ status: 'COMPLETED' as const }, true, { error: null, cancelReason: null }],
        [{ status: 'FAILED' as const, error: 'hook: 500 from the receiver' }, false, { error: 'hook: 500 from the receiver', cancelReason: null }],
        [{ status: 'CANCELLED' as const, cancelReason: 'manual' as const }, false, { error: null, cancelReason: 'manual' }],
      ])('stores the node and %j together', async (outcome, completed, expected) => {
        const run = await claimed();
        const start: NodeResult = { status: 'completed', attempts: 1, startedAt: T0, finishedAt: T0 };
        const last: NodeResult = { status: completed ? 'completed' : 'failed', attempts: 2, startedAt: T0, finishedAt: T1 };
        await h.store.recordNode(run.id, run.fence, { nodeId: 'start', result: start, completed: true });
        await h.store.recordNode(run.id, run.fence, { nodeId: 'hook', result: last, completed }, outcome);
        const got = (await h.store.get(run.id))!;
        expect(got).toMatchObject({ status: outcome.status, ...expected, currentNodeId: 'hook', nodeResults: { start, hook: last } });
        expect(got.completedNodes).toEqual(completed ? ['start', 'hook'] : ['start']);
        expect(got.completedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        expect(await h.store.claim(run.id)).toBeNull();
      });

      it('leaves the run as it was when the fence is stale', async () => {
        const run = await claimed();
        await h.store.claim(run.id);
        const before = await h.store.get(run.id);
        const result: NodeResult = { status: 'completed', attempts: 1, startedAt: T0 };
        await expect(h.store.recordNode(run.id, run.fence, { nodeId: 'start', result, completed: true }, { status: 'COMPLETED' })).rejects.toBeInstanceOf(FencedOutError);
        expect(await h.store.get(run.id)).toEqual(before);
      });
    });

    describe('fencing', () => {
      it('refuses writes carrying a stale fence with FencedOutError and changes nothing', async () => {
        const run = await claimed();
        const takeover = (await h.store.claim(run.id))!;
        const before = await h.store.get(run.id);
        const result: NodeResult = { status: 'completed', attempts: 1, startedAt: T0 };
        await expect(h.store.recordNode(run.id, run.fence, { nodeId: 'start', result, completed: true })).rejects.toBeInstanceOf(FencedOutError);
        await expect(h.store.finish(run.id, run.fence, { status: 'FAILED', error: 'stale' })).rejects.toBeInstanceOf(FencedOutError);
        expect(await h.store.get(run.id)).toEqual(before);
        // The new owner can still write.
        await h.store.recordNode(run.id, takeover.fence, { nodeId: 'start', result, completed: true });
        await h.store.finish(run.id, takeover.fence, { status: 'COMPLETED' });
        expect((await h.store.get(run.id))!).toMatchObject({ status: 'COMPLETED', completedNodes: ['start'] });
      });

      it('refuses a fence from the future too', async () => {
        const run = await claimed();
        await expect(h.store.finish(run.id, run.fence + 1, { status: 'COMPLETED' })).rejects.toBeInstanceOf(FencedOutError);
        expect((await h.store.get(run.id))!.status).toBe('RUNNING');
      });
    });

    describe('recordNode reports the cancel flag', () => {
      it('answers false without a cancel request and true for one made before the write', async () => {
        const result: NodeResult = { status: 'completed', attempts: 1, startedAt: T0, finishedAt: T0 };
        const plain = await claimed();
        expect(await h.store.recordNode(plain.id, plain.fence, { nodeId: 'start', result, completed: true })).toEqual({ cancelRequested: false });
        const flagged = await claimed({ cancelRequestedAt: T1 });
        expect(await h.store.recordNode(flagged.id, flagged.fence, { nodeId: 'start', result, completed: true })).toEqual({ cancelRequested: true });
        expect((await h.store.get(flagged.id))!.completedNodes).toEqual(['start']);
      });
    });

    describe('isCancelRequested', () => {
      it('reflects the cancel flag', async () => {
        const plain = await h.seed();
        const flagged = await h.seed({ status: 'RUNNING', startedAt: T0, cancelRequestedAt: T1 });
        expect(await h.store.isCancelRequested(plain.id)).toBe(false);
        expect(await h.store.isCancelRequested(flagged.id)).toBe(true);
        expect(await h.store.isCancelRequested(h.missingId())).toBe(false);
      });
    });
  });
}
