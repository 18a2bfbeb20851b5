/** The structural token checks run before the SDK's full validation. */
import { describe, expect, it } from 'vitest';
import { precheck } from '../../../src/bot/teams/auth.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = 1_800_000_000;
const jwt = (header: Record<string, unknown>, payload: Record<string, unknown>, sig = 'c2ln') => `Bearer ${b64(header)}.${b64(payload)}.${sig}`;
const good = { alg: 'RS256', kid: 'k1', typ: 'JWT' };

describe('precheck', () => {
  it('lets a well-formed, current RS256 token through to full validation', () => {
    expect(precheck(jwt(good, { exp: now + 60, nbf: now - 60 }), now)).toBeNull();
  });

  it.each([
    ['Basic dXNlcjpwYXNz', 'not a bearer JWT'],
    ['Bearer abc', 'not a bearer JWT'],
    [jwt({ alg: 'none', kid: 'k1' }, { exp: now + 60 }, ''), 'signing algorithm not allowed'],
    [jwt({ alg: 'HS256', kid: 'k1' }, { exp: now + 60 }), 'signing algorithm not allowed'],
    [jwt({ alg: 'RS256' }, { exp: now + 60 }), 'no key id'],
    [jwt(good, { exp: now + 60 }, ''), 'unsigned'],
    [jwt(good, { exp: now - 301 }), 'expired'],
    [jwt(good, {}), 'expired'],
    [jwt(good, { exp: now + 7200, nbf: now + 301 }), 'not yet valid'],
    ['Bearer e30.bm90IGpzb24.c2ln', 'malformed token'],
  ])('refuses %s (%s)', (header, reason) => {
    expect(precheck(header, now)).toBe(reason);
  });

  it('allows the SDK’s five minutes of clock skew', () => {
    expect(precheck(jwt(good, { exp: now - 299, nbf: now + 299 }), now)).toBeNull();
  });
});
