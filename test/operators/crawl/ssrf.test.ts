/**
 * The SSRF guard's address classification, property-tested with fast-check: the byte parser
 * against Node's own IPv6 canonicaliser and isIP, the range tables against node:net's BlockList,
 * and every way of carrying a private IPv4 address inside an IPv6 address (IPv4-mapped,
 * IPv4-compatible, NAT64 64:ff9b::/96, local-use NAT64 64:ff9b:1::/48 at each RFC 6052 prefix
 * length, 6to4, Teredo server and XOR-obfuscated client), written every way RFC 4291 allows.
 */
import assert from 'node:assert/strict';
import { BlockList, isIP } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { SPECIAL_IPV4, SPECIAL_IPV6, formatIpv4, ipv4Range, parseIp } from '../../../operators/crawl/address.ts';
import { addressPolicy, isBlockedAddress } from '../../../operators/crawl/ssrf.ts';

const words = (b: Uint8Array) => Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);

/** How to spell an IPv6 address: any RFC 4291 text form. */
interface Spelling {
  pad: boolean;
  upper: boolean;
  /** Which run of zero groups becomes `::` (any run, not only the longest), if any. */
  compress: number | null;
  dotted: boolean;
}
const spelling = fc.record({ pad: fc.boolean(), upper: fc.boolean(), compress: fc.option(fc.nat(), { nil: null }), dotted: fc.boolean() });

function spell(b: Uint8Array, s: Spelling): string {
  const w = words(b);
  const groups = w.map((x) => (s.pad ? x.toString(16).padStart(4, '0') : x.toString(16)));
  const n = s.dotted ? 6 : 8; // the last two groups as a dotted quad
  const tail = s.dotted ? [formatIpv4(b.slice(12))] : [];
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j <= n && w[j - 1] === 0; j++) runs.push([i, j]);
  let text: string;
  if (s.compress === null || runs.length === 0) text = [...groups.slice(0, n), ...tail].join(':');
  else {
    const [i, j] = runs[s.compress % runs.length]!;
    const left = groups.slice(0, i).join(':');
    const right = [...groups.slice(j, n), ...tail].join(':');
    text = `${left}::${right}`;
  }
  return s.upper ? text.toUpperCase() : text;
}

/** Node's canonical text of an IPv6 address (what URL parsing hands the crawler). */
const canonical = (text: string) => new URL(`http://[${text}]/`).hostname.slice(1, -1);

const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const bytes4 = fc.uint8Array({ minLength: 4, maxLength: 4 });

/** An address inside `[net, bits]`: the network's bits, then random host bits. */
function inside(net: Uint8Array, bits: number, random: Uint8Array): Uint8Array {
  return net.map((x, i) => {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    const mask = (0xff << (8 - keep)) & 0xff;
    return (x & mask) | (random[i]! & ~mask & 0xff);
  });
}
const privateIpv4 = fc.tuple(fc.constantFrom(...SPECIAL_IPV4), bytes4).map(([[net, bits], r]) => inside(parseIp(net)!, bits, r));
const publicIpv4 = bytes4.filter((b) => ipv4Range(b) === undefined);

const concat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
const zeros = (n: number) => new Array<number>(n).fill(0);
const invert = (v: Uint8Array) => v.map((x) => ~x & 255);

/** RFC 6052 §2.2: where an IPv4 address sits behind a prefix of `len` bits (byte 8, "u", is zero). */
function rfc6052(prefix: Uint8Array, len: 32 | 40 | 48 | 56 | 64 | 96, v: Uint8Array, suffix: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(prefix.slice(0, len / 8));
  const at = len === 96 ? [12, 13, 14, 15] : [len / 8, len / 8 + 1, len / 8 + 2, len / 8 + 3].map((i) => (i >= 8 ? i + 1 : i));
  at.forEach((p, k) => (out[p] = v[k]!));
  for (let i = 0; i < 16; i++) if (i !== 8 && i >= len / 8 && !at.includes(i)) out[i] = suffix[i]!;
  return out;
}

/** Every embedding of `v`; `r` supplies the free bits. */
function embeddings(v: Uint8Array, r: Uint8Array): Array<[string, Uint8Array]> {
  const local = parseIp('64:ff9b:1::')!;
  return [
    ['IPv4-mapped', concat(zeros(10), [0xff, 0xff], v)],
    ['IPv4-compatible', concat(zeros(12), v)],
    ['NAT64 /96', concat([0, 0x64, 0xff, 0x9b], zeros(8), v)],
    ...([48, 56, 64, 96] as const).map((len): [string, Uint8Array] => [`local-use NAT64 /${len}`, rfc6052(inside(local, 48, r), len, v, r)]),
    ['6to4', concat([0x20, 0x02], v, r.slice(6))],
    ['Teredo server', concat([0x20, 0x01, 0, 0], v, r.slice(8))],
    ['Teredo client', concat([0x20, 0x01, 0, 0], r.slice(4, 12), invert(v))],
  ];
}

test('parseIp: every RFC 4291 spelling of an address parses to its bytes, as Node canonicalises it', () => {
  fc.assert(
    fc.property(bytes16, spelling, (b, s) => {
      const text = spell(b, s);
      assert.equal(isIP(text), 6, text);
      assert.deepEqual(parseIp(text), b, text);
      assert.deepEqual(parseIp(canonical(text)), b, canonical(text));
    }),
    { numRuns: 2000 },
  );
  fc.assert(fc.property(bytes4, (b) => assert.deepEqual(parseIp(formatIpv4(b)), b)));
  // never more permissive than node:net
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%x '.split('')), maxLength: 45 }), (t) => void (parseIp(t) && assert.notEqual(isIP(t), 0, t))), { numRuns: 20_000 });
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '010.0.0.1', '1.2.3.04', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1.2.3', '1.2.3.4::', 'fe80::1%', 'fe80::1% ', 'g::1', '12345::']) {
    assert.equal(parseIp(bad), undefined, bad);
    assert.equal(isBlockedAddress(bad), true, `unparsable ${JSON.stringify(bad)} is refused`);
  }
  assert.deepEqual(parseIp('fe80::1%eth0'), parseIp('fe80::1'));
});

test('range tables agree with node:net BlockList on plain IPv4 and IPv6 addresses', () => {
  const v4 = new BlockList();
  for (const [net, bits] of SPECIAL_IPV4) v4.addSubnet(net, bits, 'ipv4');
  const v6 = new BlockList();
  for (const [net, bits] of SPECIAL_IPV6) v6.addSubnet(net, bits, 'ipv6');
  // near the edges of each range as well as anywhere
  const nearV4 = fc.tuple(fc.constantFrom(...SPECIAL_IPV4), fc.integer({ min: -2, max: 2 }), fc.boolean()).map(([[net, bits], d, end]) => {
    const base = parseIp(net)!.reduce((a, x) => a * 256 + x, 0);
    const n = (base + (end ? 2 ** (32 - bits) - 1 : 0) + d + 2 ** 32) % 2 ** 32;
    return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  });
  fc.assert(
    fc.property(fc.oneof(bytes4, nearV4), (b) => {
      const ip = formatIpv4(b);
      assert.equal(isBlockedAddress(ip), v4.check(ip, 'ipv4'), ip);
    }),
    { numRuns: 5000 },
  );
  const carrying = ['::ffff:0:0/96', '64:ff9b::/96', '2002::/16', '2001::/32'].map((c) => c.split('/')).map(([n, l]) => [parseIp(n!)!, Number(l)] as const);
  const nearV6 = fc.tuple(fc.constantFrom(...SPECIAL_IPV6, ['2000::', 3, ''] as const), bytes16, fc.integer({ min: 0, max: 3 })).map(([[net, bits], r, widen]) => inside(parseIp(net)!, Math.max(0, bits - widen), r));
  fc.assert(
    fc.property(fc.oneof(bytes16, nearV6), (b) => {
      fc.pre(!carrying.some(([p, l]) => inside(p, l, b).every((x, i) => x === b[i])));
      const ip = canonical(spell(b, { pad: false, upper: false, compress: 0, dotted: false }));
      const globalUnicast = (b[0]! & 0xe0) === 0x20;
      assert.equal(isBlockedAddress(ip), v6.check(ip, 'ipv6') || !globalUnicast, ip);
    }),
    { numRuns: 5000 },
  );
});

test('every encoding of a private IPv4 address in every IPv6 embedding is refused', () => {
  const policy = addressPolicy(false);
  fc.assert(
    fc.property(privateIpv4, bytes16, spelling, (v, r, s) => {
      for (const [form, b] of embeddings(v, r)) {
        for (const text of [spell(b, s), canonical(spell(b, s))]) {
          assert.equal(isBlockedAddress(text), true, `${formatIpv4(v)} as ${form}: ${text}`);
          assert.ok(policy(text), `${formatIpv4(v)} as ${form}: ${text}`);
        }
      }
    }),
    { numRuns: 3000 },
  );
});

test('public IPv4 addresses stay reachable through IPv4-mapped, NAT64, 6to4 and Teredo; the deprecated and local-use forms do not', () => {
  fc.assert(
    fc.property(publicIpv4, publicIpv4, bytes16, spelling, (v, server, r, s) => {
      const open = [
        concat(zeros(10), [0xff, 0xff], v),
        concat([0, 0x64, 0xff, 0x9b], zeros(8), v),
        concat([0x20, 0x02], v, r.slice(6)),
        concat([0x20, 0x01, 0, 0], server, r.slice(8, 12), invert(v)),
      ];
      for (const b of open) assert.equal(isBlockedAddress(spell(b, s)), false, spell(b, s));
      assert.equal(isBlockedAddress(spell(concat(zeros(12), v), s)), true);
      assert.equal(isBlockedAddress(spell(rfc6052(parseIp('64:ff9b:1::')!, 96, v, r), s)), true);
    }),
    { numRuns: 2000 },
  );
});

test('the refusal names the range, the IPv4 address and the form that carried it', () => {
  const why = addressPolicy(false);
  assert.equal(why('64:ff9b::a9fe:a9fe'), 'link-local (cloud metadata services) 169.254.0.0/16: 169.254.169.254 via NAT64 64:ff9b::/96');
  assert.equal(why('2001:0:4136:e378:8000:63bf:f5ff:fffe'), 'private 10.0.0.0/8: 10.0.0.1 via Teredo 2001::/32');
  assert.equal(why('fd00:ec2::254'), 'unique local fc00::/7');
  assert.equal(why('64:ff9b:1::808:808'), 'local-use NAT64 64:ff9b:1::/48');
  assert.equal(why('::808:808'), 'IPv4-compatible (deprecated) ::/96');
  assert.equal(why('4000::1'), 'reserved by the IETF (outside global unicast 2000::/3)');
  assert.equal(why('255.255.255.255'), 'broadcast 255.255.255.255/32: 255.255.255.255');
  for (const ok of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '64:ff9b::808:808', '::ffff:8.8.8.8', '2002:808:808::1']) assert.equal(why(ok), undefined, ok);
});

test('allowPrivateNetworks: a listed range admits its addresses and the IPv6 forms that carry them, nothing more', () => {
  const p = addressPolicy(['10.20.0.0/16', 'fd12::/16', '127.0.0.1']);
  for (const ok of ['10.20.0.5', '::ffff:10.20.0.5', '64:ff9b::a14:5', '2002:a14:5::1', 'fd12::1', '127.0.0.1', '::ffff:7f00:1']) assert.equal(p(ok), undefined, ok);
  for (const no of ['10.21.0.5', '169.254.169.254', '64:ff9b::a9fe:a9fe', '127.0.0.2', 'fd13::1', '::1', '64:ff9b:1::a14:5', '::a14:5']) assert.ok(p(no), no);
  // a Teredo address is admitted only when both IPv4 addresses it carries are
  assert.equal(p('2001:0:a14:5::f5eb:fffa'), undefined, 'server and client 10.20.0.5');
  assert.equal(p('2001:0:a14:5::f5ff:fffe'), 'private 10.0.0.0/8: 10.0.0.1 via Teredo 2001::/32', 'server 10.20.0.5, client 10.0.0.1');
  assert.equal(addressPolicy(true)('169.254.169.254'), undefined);
  assert.throws(() => addressPolicy(['10.0.0.0/33']), /allowPrivateNetworks: "10.0.0.0\/33" has a prefix length that is not 0–32/);
  assert.throws(() => addressPolicy(['10.0.0.0/x']), /prefix length/);
  assert.throws(() => addressPolicy(['intranet']), /allowPrivateNetworks: "intranet" is not an IP address or CIDR range/);
});
