import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closestMatches, containsMassMention, formatDuration, neutralizeMentions, oneLine, truncate, truncateMiddle } from '../../../src/bot/text.js';

describe('truncate', () => {
  it('keeps short text and cuts long text with an ellipsis', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('hello world', 5)).toBe('hell…');
    expect(truncate('abc', 0)).toBe('');
    expect(truncateMiddle('abcdefghij', 5)).toBe('ab…ij');
  });

  it('never exceeds the limit and never leaves a lone surrogate', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.integer({ min: 1, max: 300 }), (text, max) => {
        for (const out of [truncate(text, max), truncateMiddle(text, max)]) {
          expect(out.length).toBeLessThanOrEqual(max);
          expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(out)).toBe(false);
        }
      }),
    );
  });
});

describe('neutralizeMentions', () => {
  it('removes every kind of ping', () => {
    const hostile = '<!channel> <!here|here> <!everyone> @channel @HERE @everyone <!subteam^S123|@oncall> <@U123|ana> <#C1|general> <at>Bob</at>';
    const out = neutralizeMentions(hostile);
    expect(containsMassMention(out)).toBe(false);
    expect(out).not.toMatch(/<[@!#]/);
    expect(out).not.toContain('<at>');
    expect(out).toContain('ana');
    expect(out).toContain('#general');
  });

  it('holds for generated text', () => {
    const piece = fc.constantFrom('<!channel>', '<!here>', '@channel', '@here', '@everyone', '<!everyone>', '<@U1>', '<!subteam^S1>', '<', '>', '!', '@', ' ', 'x');
    fc.assert(fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
      expect(containsMassMention(oneLine(parts.join(''), 3000))).toBe(false);
    }));
  });
});

describe('formatDuration', () => {
  it('formats human durations', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(1234)).toBe('1.2s');
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(125_000)).toBe('2m 5s');
    expect(formatDuration(3_780_000)).toBe('1h 3m');
    expect(formatDuration(-5)).toBe('0ms');
    expect(formatDuration(Number.NaN)).toBe('0ms');
  });
});

describe('closestMatches', () => {
  it('finds typos and prefixes', () => {
    expect(closestMatches('page-oncal', ['page-oncall', 'open-jira', 'notify'])).toEqual(['page-oncall']);
    expect(closestMatches('open', ['page-oncall', 'open-jira'])).toEqual(['open-jira']);
    expect(closestMatches('zzzzzz', ['page-oncall'])).toEqual([]);
  });
});
