import { describe, expect, it } from 'vitest';
import { VersionCache, prepareDefinition, type PreparedDefinition } from '../../../src/engine/definition-cache.js';

/** The worker's use: validated definitions by workflow version. */
function definitionCache(capacity?: number) {
  const cache = new VersionCache<PreparedDefinition>(capacity);
  return { get: (id: string, version: number, snapshot: unknown) => cache.get(id, version, () => prepareDefinition(snapshot)), get size() { return cache.size; } };
}
import { branchingWorkflow, linearWorkflow } from './fixtures.js';

describe('VersionCache of prepared definitions', () => {
  it('validates a workflow version once and answers later runs of it from the cache', () => {
    const cache = definitionCache();
    const first = cache.get('wf-1', 1, linearWorkflow());
    expect(first.result.ok).toBe(true);
    expect(first.order).toEqual(['start', 'a', 'b', 'c']);
    // Same version: the same prepared object, without looking at the snapshot again.
    expect(cache.get('wf-1', 1, { not: 'a workflow' })).toBe(first);
    // Another version is validated on its own.
    const second = cache.get('wf-1', 2, branchingWorkflow());
    expect(second).not.toBe(first);
    expect(second.order[0]).toBe('start');
    expect(cache.size).toBe(2);
  });

  it('keeps an invalid version as invalid, with its issues', () => {
    const cache = definitionCache();
    const bad = cache.get('wf-2', 1, { name: 'x', nodes: [] });
    expect(bad.result.ok).toBe(false);
    expect(bad.order).toEqual([]);
    expect(cache.get('wf-2', 1, linearWorkflow())).toBe(bad);
  });

  it('drops the least recently used version beyond its capacity', () => {
    const cache = definitionCache(2);
    const a = cache.get('a', 1, linearWorkflow());
    const b = cache.get('b', 1, linearWorkflow());
    expect(cache.get('a', 1, linearWorkflow())).toBe(a); // a is now the most recent
    cache.get('c', 1, linearWorkflow()); // evicts b
    expect(cache.size).toBe(2);
    expect(cache.get('a', 1, linearWorkflow())).toBe(a);
    expect(cache.get('b', 1, linearWorkflow())).not.toBe(b); // validated again
  });

  it('prepares without a cache exactly as the cache does', () => {
    expect(prepareDefinition(linearWorkflow())).toEqual(definitionCache().get('x', 1, linearWorkflow()));
  });
});
