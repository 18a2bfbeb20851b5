/**
 * Which IP addresses an outbound request may reach. Everything that is not plain global unicast
 * is forbidden unless an allow-list entry covers it: loopback, RFC 1918, link-local (and the cloud
 * metadata address 169.254.169.254), CGNAT, 0.0.0.0/8, multicast, broadcast, reserved and
 * documentation ranges, IPv6 unique-local, link-local, loopback, unspecified, and every IPv6 form
 * that embeds an IPv4 address (compatible, 6to4, Teredo, NAT64), which are refused outright because
 * the embedded address is what the packet may finally reach. IPv4-mapped addresses are judged by
 * the IPv4 address they carry.
 */
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** A parsed allow-list: CIDR ranges and exact host names (lower case, no trailing dot). */
export interface AllowList {
  cidrs: Array<[Address, number]>;
  hosts: Set<string>;
}

/** Parses entries such as `10.1.2.0/24`, `fd00::/8`, `127.0.0.1`, `jira.internal`. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const list: AllowList = { cidrs: [], hosts: new Set() };
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    if (entry.includes('/')) {
      list.cidrs.push(ipaddr.parseCIDR(entry));
      continue;
    }
    const literal = parseIpLiteral(entry);
    if (literal) {
      list.cidrs.push([literal, literal.kind() === 'ipv4' ? 32 : 128]);
      continue;
    }
    list.hosts.add(normaliseHost(entry));
  }
  return list;
}

/** Lower case, brackets and trailing dot removed. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/**
 * Parses a host that is an IP address in any spelling the URL parser or `inet_aton` accepts:
 * dotted decimal, a single decimal/hex/octal number (2130706433, 0x7f000001), octal or hex parts
 * (0177.0.0.1), short forms (127.1), and bracketed IPv6. Returns null for a DNS name.
 */
export function parseIpLiteral(host: string): Address | null {
  const h = normaliseHost(host);
  if (ipaddr.IPv6.isValid(h)) return ipaddr.IPv6.parse(h);
  // ipaddr's IPv4 parser accepts the inet_aton forms (long value, hex, octal, 2 and 3 parts).
  if (ipaddr.IPv4.isValid(h)) return ipaddr.IPv4.parse(h);
  return null;
}

/** Why an address is refused, or null when it may be reached. */
export function forbiddenReason(address: Address): string | null {
  if (address.kind() === 'ipv4') {
    const range = (address as ipaddr.IPv4).range();
    return range === 'unicast' ? null : range;
  }
  const v6 = address as ipaddr.IPv6;
  // ::ffff:a.b.c.d reaches a.b.c.d: judge the IPv4 address.
  if (v6.isIPv4MappedAddress()) {
    const inner = forbiddenReason(v6.toIPv4Address());
    return inner === null ? null : `ipv4Mapped ${inner}`;
  }
  const parts = v6.parts;
  // ::a.b.c.d (IPv4-compatible, deprecated) and ::/96 generally: ipaddr calls some of it unicast.
  if (parts.slice(0, 6).every((p) => p === 0)) return parts[6] === 0 && parts[7] === 1 ? 'loopback' : parts[6] === 0 && parts[7] === 0 ? 'unspecified' : 'ipv4Compatible';
  const range = v6.range();
  if (range === 'unicast') {
    // 2001:db8::/32 documentation (ipaddr calls it reserved in some versions, unicast in others).
    if (parts[0] === 0x2001 && parts[1] === 0x0db8) return 'documentation';
    return null;
  }
  return range;
}

/**
 * Whether `address` may be reached when connecting to `hostname`. An allow-listed host name
 * (exact match) or an allow-listed CIDR covering the address wins over the forbidden ranges.
 */
export function checkAddress(address: string, hostname: string | undefined, allow: AllowList): { ok: true } | { ok: false; reason: string } {
  let parsed: Address;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return { ok: false, reason: 'unparseable address' };
  }
  if (hostname && allow.hosts.has(normaliseHost(hostname))) return { ok: true };
  const candidates: Address[] = [parsed];
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) candidates.push((parsed as ipaddr.IPv6).toIPv4Address());
  for (const [range, bits] of allow.cidrs) {
    for (const c of candidates) if (c.kind() === range.kind() && c.match(range, bits)) return { ok: true };
  }
  const reason = forbiddenReason(parsed);
  return reason === null ? { ok: true } : { ok: false, reason };
}
