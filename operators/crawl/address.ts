/**
 * IP addresses as bytes, and the special-purpose ranges the crawler must not reach.
 *
 * Classification works on the parsed 4 or 16 bytes, never on the text: the same address has many
 * spellings (`64:ff9b::169.254.169.254` is what a page writes, `64:ff9b::a9fe:a9fe` is what
 * WHATWG URL parsing and DNS64 resolvers hand over), and a pattern over one spelling misses the
 * others. IPv6 addresses that carry an IPv4 address the packet ends up at — IPv4-mapped, NAT64,
 * 6to4, Teredo — are judged by that IPv4 address as well.
 *
 * Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries (every range whose
 * "Globally Reachable" is False), RFC 6052 (NAT64), RFC 8215 (local-use NAT64), RFC 3056 (6to4),
 * RFC 4380 (Teredo), RFC 9637 (3fff::/20).
 */

/** One special-purpose range: the first bytes of its prefix, its length in bits, and its name. */
interface Range {
  bytes: Uint8Array;
  bits: number;
  name: string;
}

/**
 * Parses an IPv4 address (dotted decimal, four parts 0–255, no leading zeros: `010.0.0.1` is
 * ambiguous between octal and decimal and is refused) or an IPv6 address (RFC 4291 text: `::`
 * once, a dotted IPv4 tail, an optional `%zone`, any case). Returns 4 or 16 bytes, or undefined
 * for anything else.
 */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const addr = zone >= 0 ? text.slice(0, zone) : text;
  // a zone id (`fe80::1%eth0`) names an interface, not part of the address; node:net's characters
  if (zone >= 0 && !/^[0-9a-zA-Z.:-]+$/.test(text.slice(zone + 1))) return undefined;
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // a dotted IPv4 part may only end the address
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const n = head.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined; // `::` stands for at least one group
  const words = [...head, ...new Array<number>(8 - n).fill(0), ...tail];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 255;
  });
  return out;
}

/** Dotted decimal of 4 bytes. */
export function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** Does `addr` lie in the `bits`-long prefix `prefix` (same family)? */
export function inPrefix(addr: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  if (addr.length !== prefix.length) return false;
  const full = bits >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== prefix[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full]! & mask) === (prefix[full]! & mask);
}

function ranges(list: ReadonlyArray<readonly [string, number, string]>): Range[] {
  return list.map(([net, bits, name]) => ({ bytes: parseIp(net)!, bits, name: `${name} ${net}/${bits}` }));
}

/** IPv4 ranges that are not globally reachable (IANA), plus multicast and the reserved 240/4: `[network, bits, name]`. */
export const SPECIAL_IPV4: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata services)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V4 = ranges(SPECIAL_IPV4);

/** IPv6 ranges refused whatever they contain (checked after the IPv4-carrying forms): `[network, bits, name]`. */
export const SPECIAL_IPV6: ReadonlyArray<readonly [string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001:2::', 48, 'benchmarking'],
  ['2001:10::', 28, 'ORCHID'],
  ['2001:20::', 28, 'ORCHIDv2'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'segment routing SIDs'],
  ['fc00::', 7, 'unique local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];
const V6 = ranges(SPECIAL_IPV6);
/** The only IPv6 space assigned for global unicast; everything else is reserved by the IETF. */
const GLOBAL_UNICAST = ranges([['2000::', 3, 'global unicast']])[0]!;

const MAPPED = ranges([['::ffff:0:0', 96, 'IPv4-mapped']])[0]!;
const NAT64 = ranges([['64:ff9b::', 96, 'NAT64']])[0]!;
const SIX_TO_FOUR = ranges([['2002::', 16, '6to4']])[0]!;
const TEREDO = ranges([['2001::', 32, 'Teredo']])[0]!;

/** Why an address must not be reached, and which IPv4 addresses decided it (when one did). */
export interface Refusal {
  /** e.g. `link-local (cloud metadata services) 169.254.0.0/16: 169.254.169.254 via NAT64 64:ff9b::/96`. */
  why: string;
  /**
   * Present when the address is refused only for the IPv4 addresses it carries (IPv4-mapped,
   * NAT64, 6to4, Teredo): those addresses. An allow-list that admits all of them admits it.
   */
  carried?: Carried;
}

/** The IPv4 addresses an IPv6 address carries, and the name of the form that carries them. */
export interface Carried {
  form: string;
  ipv4: Uint8Array[];
}

/** The special IPv4 range `b` lies in, if any. */
export function ipv4Range(b: Uint8Array): string | undefined {
  return V4.find((r) => inPrefix(b, r.bytes, r.bits))?.name;
}

/** The IPv4 addresses an IPv6 address carries and where the packet is delivered, with the form's name. */
export function carriedIpv4(b: Uint8Array): Carried | undefined {
  if (b.length !== 16) return undefined;
  if (inPrefix(b, MAPPED.bytes, MAPPED.bits)) return { form: MAPPED.name, ipv4: [b.slice(12)] };
  if (inPrefix(b, NAT64.bytes, NAT64.bits)) return { form: NAT64.name, ipv4: [b.slice(12)] };
  if (inPrefix(b, SIX_TO_FOUR.bytes, SIX_TO_FOUR.bits)) return { form: SIX_TO_FOUR.name, ipv4: [b.slice(2, 6)] };
  if (inPrefix(b, TEREDO.bytes, TEREDO.bits)) {
    // bits 32–63: the Teredo server; bits 96–127: the client's public IPv4, every bit inverted
    return { form: TEREDO.name, ipv4: [b.slice(4, 8), b.slice(12).map((x) => ~x & 255)] };
  }
  return undefined;
}

/**
 * Why the crawler must not connect to the address given as `bytes` (4 or 16), or undefined when
 * it is globally reachable. IPv6 outside 2000::/3 is refused unless it is an IPv4-mapped or NAT64
 * form of a public IPv4 address (the rest of that space is reserved by the IETF).
 */
export function refusalOf(bytes: Uint8Array): Refusal | undefined {
  if (bytes.length === 4) {
    const r = ipv4Range(bytes);
    return r ? { why: `${r}: ${formatIpv4(bytes)}` } : undefined;
  }
  const carried = carriedIpv4(bytes);
  if (carried) {
    for (const v4 of carried.ipv4) {
      const r = ipv4Range(v4);
      if (r) return { why: `${r}: ${formatIpv4(v4)} via ${carried.form}`, carried };
    }
    return undefined;
  }
  const r = V6.find((x) => inPrefix(bytes, x.bytes, x.bits));
  if (r) return { why: r.name };
  if (!inPrefix(bytes, GLOBAL_UNICAST.bytes, GLOBAL_UNICAST.bits)) return { why: 'reserved by the IETF (outside global unicast 2000::/3)' };
  return undefined;
}
