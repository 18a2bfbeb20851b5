/**
 * Field access and equality conditions. Paths are dotted (`metadata.service`, `steps.a.output.key`);
 * only own properties are followed, so `__proto__`, `constructor` and friends never resolve.
 * A missing path yields `undefined`, which never equals a condition's value: no condition throws.
 */

/** A `field` + `value` pair: holds when the value at `field` strictly equals `value`. */
export interface FieldCondition {
  field: string;
  value: string | number | boolean | null;
}

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** Value at a dotted path, or `undefined` when any segment is missing. Never throws. */
export function getFieldValue(source: unknown, path: string): unknown {
  if (path === '') return undefined;
  let current: unknown = source;
  for (const segment of path.split('.')) {
    if (segment === '' || FORBIDDEN_SEGMENTS.has(segment)) return undefined;
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Whether the value at `condition.field` equals `condition.value` (strict, so `1` is not `"1"`). */
export function matchCondition(source: unknown, condition: FieldCondition): boolean {
  const actual = getFieldValue(source, condition.field);
  if (actual === undefined) return false;
  return actual === condition.value;
}

/** Whether every condition holds (an empty list always holds). */
export function matchConditions(source: unknown, conditions: readonly FieldCondition[]): boolean {
  return conditions.every((c) => matchCondition(source, c));
}
