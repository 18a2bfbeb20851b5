import { describe, expect, it } from 'vitest';
import { canonicalJson, documentChecksum, sameJson } from '../../../src/catalog/checksum.js';

describe('canonicalJson / documentChecksum', () => {
  it('ignores key order at every depth but not array order', () => {
    const a = { name: 'x', trigger: { type: 'manual' }, nodes: [{ id: 'a', type: 'trigger' }, { id: 'b' }] };
    const b = { nodes: [{ type: 'trigger', id: 'a' }, { id: 'b' }], trigger: { type: 'manual' }, name: 'x' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(documentChecksum(a)).toBe(documentChecksum(b));
    expect(sameJson(a, { ...a, nodes: [...a.nodes].reverse() })).toBe(false);
  });

  it('changes with any value and drops undefined members like JSON does', () => {
    const base = { name: 'x', conditions: [{ field: 'priority', value: 'P1' }] };
    expect(documentChecksum(base)).not.toBe(documentChecksum({ ...base, conditions: [{ field: 'priority', value: 'P2' }] }));
    expect(documentChecksum({ ...base, description: undefined })).toBe(documentChecksum(base));
    expect(documentChecksum(base)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(documentChecksum({ v: 1 })).not.toBe(documentChecksum({ v: '1' }));
  });
});
