import { describe, expect, it } from 'vitest';
import { createLineLocator } from '../../../src/catalog/locate.js';

const TEXT = `# comment
name: demo
team: payments
nodes:
  - id: start
    type: trigger
  - id: post
    type: action
    input:
      text: hi
`;

describe('createLineLocator', () => {
  const locator = createLineLocator(TEXT);

  it('finds the line of keys and sequence items', () => {
    expect(locator.lineOf(['name'])).toBe(2);
    expect(locator.lineOf(['team'])).toBe(3);
    expect(locator.lineOf(['nodes', 1])).toBe(7);
    expect(locator.lineOf(['nodes', 1, 'input', 'text'])).toBe(10);
  });

  it('falls back to the nearest existing ancestor for missing paths', () => {
    expect(locator.lineOf(['nodes', 1, 'retry'])).toBe(7);
    expect(locator.lineOf(['nodes', 9])).toBe(4);
    // The document itself starts after the leading comment.
    expect(locator.lineOf(['missing'])).toBe(2);
  });

  it('works for JSON and never throws on garbage', () => {
    const json = createLineLocator('{\n  "name": "x",\n  "team": "ops"\n}\n');
    expect(json.lineOf(['team'])).toBe(3);
    expect(() => createLineLocator(': : [').lineOf(['a'])).not.toThrow();
  });
});
