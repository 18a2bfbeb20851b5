import { describe, expect, it } from 'vitest';
import { checkAddress, parseAllowList, parseIpLiteral } from '../../../src/integrations/ssrf/address-policy.js';

const none = parseAllowList([]);

describe('address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'reserved'],
    ['240.1.2.3', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'ipv4Mapped loopback'],
    ['::ffff:169.254.169.254', 'ipv4Mapped linkLocal'],
    ['::7f00:1', 'ipv4Compatible'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:a00:1::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['2001:db8::1', 'reserved'],
  ])('%s is forbidden (%s)', (address, reason) => {
    expect(checkAddress(address, undefined, none)).toEqual({ ok: false, reason });
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is allowed', (address) => {
    expect(checkAddress(address, undefined, none)).toEqual({ ok: true });
  });

  it('parses every IPv4 spelling of loopback', () => {
    for (const s of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0x7f.1', '[::1]', '127.0.0.1.']) {
      const parsed = parseIpLiteral(s);
      expect(parsed, s).not.toBeNull();
      expect(checkAddress(parsed!.toString(), undefined, none).ok, s).toBe(false);
    }
    expect(parseIpLiteral('example.com')).toBeNull();
  });

  it('allow-list entries: CIDR, single address, host name', () => {
    const allow = parseAllowList(['10.20.0.0/16', '127.0.0.2', 'Jira.Internal.', 'fd00::/8']);
    expect(checkAddress('10.20.3.4', 'x', allow)).toEqual({ ok: true });
    expect(checkAddress('10.21.3.4', 'x', allow).ok).toBe(false);
    expect(checkAddress('127.0.0.2', undefined, allow)).toEqual({ ok: true });
    expect(checkAddress('127.0.0.1', undefined, allow).ok).toBe(false);
    expect(checkAddress('::ffff:10.20.1.1', undefined, allow)).toEqual({ ok: true });
    expect(checkAddress('fd00::5', undefined, allow)).toEqual({ ok: true });
    expect(checkAddress('192.168.1.1', 'jira.internal', allow)).toEqual({ ok: true });
    expect(checkAddress('192.168.1.1', 'other.internal', allow).ok).toBe(false);
  });
});
