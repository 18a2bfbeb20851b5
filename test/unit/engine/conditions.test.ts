import { describe, expect, it } from 'vitest';
import { getFieldValue, matchCondition, matchConditions } from '../../../src/engine/conditions.js';
import { incident } from './fixtures.js';

describe('getFieldValue', () => {
  const source = { a: { b: { c: 1, zero: 0, nothing: null }, list: ['x', 'y'] }, top: 'v' };

  it('reads nested dotted paths and array indexes', () => {
    expect(getFieldValue(source, 'top')).toBe('v');
    expect(getFieldValue(source, 'a.b.c')).toBe(1);
    expect(getFieldValue(source, 'a.b.zero')).toBe(0);
    expect(getFieldValue(source, 'a.b.nothing')).toBeNull();
    expect(getFieldValue(source, 'a.list.1')).toBe('y');
  });

  it('returns undefined for missing paths without throwing', () => {
    expect(getFieldValue(source, 'a.missing.deeper')).toBeUndefined();
    expect(getFieldValue(source, 'top.length')).toBeUndefined();
    expect(getFieldValue(source, 'a.b.nothing.x')).toBeUndefined();
    expect(getFieldValue(source, '')).toBeUndefined();
    expect(getFieldValue(source, 'a..b')).toBeUndefined();
    expect(getFieldValue(null, 'a')).toBeUndefined();
    expect(getFieldValue(undefined, 'a.b')).toBeUndefined();
  });

  it('never follows the prototype chain', () => {
    expect(getFieldValue(source, 'constructor')).toBeUndefined();
    expect(getFieldValue(source, '__proto__')).toBeUndefined();
    expect(getFieldValue(source, 'a.toString')).toBeUndefined();
    expect(getFieldValue(source, 'a.list.map')).toBeUndefined();
    expect(getFieldValue(Object.create({ inherited: 1 }), 'inherited')).toBeUndefined();
  });
});

describe('matchConditions', () => {
  const inc = incident({ metadata: { service: 'database', tier: 1, region: { name: 'eu' }, flag: false } });

  it('all conditions must hold', () => {
    expect(matchConditions(inc, [])).toBe(true);
    expect(matchConditions(inc, [{ field: 'priority', value: 'P1' }, { field: 'metadata.service', value: 'database' }])).toBe(true);
    expect(matchConditions(inc, [{ field: 'priority', value: 'P1' }, { field: 'metadata.service', value: 'api' }])).toBe(false);
  });

  it('compares nested values strictly', () => {
    expect(matchCondition(inc, { field: 'metadata.region.name', value: 'eu' })).toBe(true);
    expect(matchCondition(inc, { field: 'metadata.tier', value: 1 })).toBe(true);
    expect(matchCondition(inc, { field: 'metadata.tier', value: '1' })).toBe(false);
    expect(matchCondition(inc, { field: 'metadata.flag', value: false })).toBe(true);
  });

  it('a missing path never matches, not even null', () => {
    expect(matchCondition(inc, { field: 'metadata.nope', value: null })).toBe(false);
    expect(matchCondition(inc, { field: 'metadata.region.name.deeper', value: 'eu' })).toBe(false);
    expect(matchCondition(inc, { field: 'assigneeId', value: null })).toBe(true);
  });
});

describe('getFieldValue (properties)', () => {
  it('never throws and never reaches outside own properties, for any path', async () => {
    const fc = await import('fast-check');
    const segment = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'length', '0'));
    fc.assert(
      fc.property(fc.anything(), fc.array(segment, { maxLength: 6 }), (source, parts) => {
        const value = getFieldValue(source, parts.join('.'));
        if (typeof value === 'function') return false;
        return !matchCondition(source, { field: parts.join('.') + '.__proto__', value: null });
      }),
    );
  });
});
