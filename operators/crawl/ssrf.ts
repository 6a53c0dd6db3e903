/**
 * The SSRF guard: the crawler refuses to connect to loopback, private, carrier-grade NAT,
 * link-local (incl. the 169.254.169.254 / fd00:ec2::254 metadata services), multicast and
 * reserved addresses. The check runs on the addresses DNS actually returned, inside the socket's
 * `lookup`, so the address checked is the address connected to (no DNS-rebinding window), and it
 * runs on every connection, hence on every redirect hop. IP-literal hosts skip DNS and are checked
 * before the request.
 */
import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** An error for a refused address; `code` is `ERR_SSRF_BLOCKED`. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`refusing to connect to ${host} (${address}): loopback, private, link-local or reserved address (set allowPrivateNetworks to allow)`);
  }
}

/** True when `ip` is an address the crawler must not reach by default. */
export function isBlockedAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return blocked.check(ip, 'ipv4');
  if (v === 6) {
    const lower = ip.toLowerCase();
    // IPv4-mapped and NAT64 forms carry an IPv4 address that decides
    const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
    if (hex) {
      const a = parseInt(hex[1]!, 16);
      const b = parseInt(hex[2]!, 16);
      return blocked.check(`${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`, 'ipv4');
    }
    return blocked.check(ip, 'ipv6');
  }
  return true;
}

/**
 * Which otherwise-blocked addresses are allowed: `true` all, `false` none, or a list of CIDR
 * ranges / addresses (e.g. `['10.20.0.0/16']` for an intranet, still refusing the metadata
 * service).
 */
export type PrivatePolicy = boolean | string[];

/** Compiles a policy into a predicate: may the crawler connect to `ip`? */
export function addressPolicy(policy: PrivatePolicy): (ip: string) => boolean {
  if (policy === true) return () => true;
  if (policy === false || policy.length === 0) return (ip) => !isBlockedAddress(ip);
  const allowed = new BlockList();
  for (const entry of policy) {
    const [net, bits] = entry.split('/');
    const v = isIP(net!);
    if (!v) throw new Error(`allowPrivateNetworks: ${JSON.stringify(entry)} is not an IP address or CIDR range`);
    const type = v === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) allowed.addAddress(net!, type);
    else allowed.addSubnet(net!, Number(bits), type);
  }
  return (ip) => !isBlockedAddress(ip) || allowed.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * A `lookup` for sockets that resolves with the system resolver and fails with
 * BlockedAddressError when any returned address is not permitted. `seen` records the address
 * used per host (for WARC-IP-Address).
 */
export function guardedLookup(permitted: (ip: string) => boolean, seen: Map<string, string>): LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const bad = list.find((a) => !permitted(a.address));
      if (bad) return callback(new BlockedAddressError(hostname, bad.address), '', 0);
      if (list[0]) seen.set(hostname, list[0].address);
      if (options.all) callback(null, list);
      else callback(null, list[0]?.address ?? '', list[0]?.family ?? 4);
    });
  }) as LookupFunction;
}

/** Throws BlockedAddressError for an IP-literal host that is blocked (DNS hosts are checked at connect). */
export function checkLiteralHost(hostname: string, permitted: (ip: string) => boolean): void {
  const h = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(h) && !permitted(h)) throw new BlockedAddressError(hostname, h);
}
