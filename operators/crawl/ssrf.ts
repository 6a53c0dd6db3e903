/**
 * The SSRF guard: the crawler refuses to connect to loopback, private, carrier-grade NAT,
 * link-local (incl. the 169.254.169.254 / fd00:ec2::254 metadata services), multicast, reserved
 * and documentation addresses, and to IPv6 addresses that carry such an IPv4 address (see
 * address.ts; classification is on bytes).
 *
 * Where it runs: in the connector of the fetcher's HTTP agent, that is on every connection, hence
 * on every redirect hop and every retry. A host name is resolved once per connection, inside the
 * socket's `lookup`; every address returned is checked and the socket connects only to those
 * addresses, so a second, different answer (DNS rebinding) can never reach a socket that was
 * vetted with the first. An IP-literal host is checked before the socket is created. After the
 * connection is made, the address actually connected to (`socket.remoteAddress`) is checked again
 * and recorded for WARC-IP-Address.
 */
import dns from 'node:dns';
import type { LookupFunction, Socket } from 'node:net';
import type { buildConnector } from 'undici';
import { lazyPackage } from '../../engine/modules/lazy.ts';

const undici = lazyPackage<typeof import('undici')>('undici');
import { inPrefix, parseIp, refusalOf } from './address.ts';

/** The audit reason of a URL refused by the guard (docs/web-data.md lists it). */
export const SSRF_BLOCKED = 'ssrf: blocked address';

/** An error for a refused address; `code` is `ERR_SSRF_BLOCKED`. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly why: string,
  ) {
    super(`refusing to connect to ${host === address ? host : `${host} (${address})`}: ${why} (allowPrivateNetworks can allow it)`);
  }
}

/** True when `ip` is an address the crawler must not reach by default (unparsable text included). */
export function isBlockedAddress(ip: string): boolean {
  const b = parseIp(ip);
  return !b || refusalOf(b) !== undefined;
}

/**
 * Which otherwise-blocked addresses are allowed: `true` all, `false` none, or a list of CIDR
 * ranges / addresses (e.g. `['10.20.0.0/16']` for an intranet, still refusing the metadata
 * service).
 */
export type PrivatePolicy = boolean | string[];

/** Why the policy refuses `ip`, or undefined when the crawler may connect to it. */
export type AddressPolicy = (ip: string) => string | undefined;

/**
 * Compiles a policy. With a list, an address is allowed when it lies in a listed range, or when
 * it is refused only for the IPv4 addresses it carries (IPv4-mapped, NAT64, 6to4, Teredo) and
 * each of those is public or in a listed IPv4 range: allowing `10.20.0.0/16` also allows
 * `64:ff9b::a14:5`, which a DNS64 resolver returns for 10.20.0.5. Throws on a malformed entry.
 */
export function addressPolicy(policy: PrivatePolicy): AddressPolicy {
  if (policy === true) return (ip) => (parseIp(ip) ? undefined : 'not an IP address');
  const allowed = (policy === false ? [] : policy).map(parseCidr);
  const listed = (b: Uint8Array) => allowed.some((r) => inPrefix(b, r.bytes, r.bits));
  return (ip) => {
    const b = parseIp(ip);
    if (!b) return 'not an IP address';
    const refusal = refusalOf(b);
    if (!refusal || listed(b)) return undefined;
    if (!refusal.carried) return refusal.why;
    const { form, ipv4 } = refusal.carried;
    const bad = ipv4.find((v4) => refusalOf(v4) && !listed(v4));
    return bad && `${refusalOf(bad)!.why} via ${form}`;
  };
}

function parseCidr(entry: string): { bytes: Uint8Array; bits: number } {
  const slash = entry.indexOf('/');
  const bytes = parseIp(slash < 0 ? entry : entry.slice(0, slash));
  if (!bytes) throw new Error(`allowPrivateNetworks: ${JSON.stringify(entry)} is not an IP address or CIDR range`);
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, bits: max };
  const len = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) throw new Error(`allowPrivateNetworks: ${JSON.stringify(entry)} has a prefix length that is not 0–${max}`);
  return { bytes, bits: Number(len) };
}

/**
 * A socket `lookup` that resolves with `resolve` (default: the system resolver, `dns.lookup`)
 * and fails with BlockedAddressError when any returned address is refused: one refused answer
 * refuses the host, so the outcome does not depend on which answer the socket would try first.
 */
export function guardedLookup(refuse: AddressPolicy, resolve: typeof dns.lookup = dns.lookup): LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const why = refuse(a.address);
        if (why) return callback(new BlockedAddressError(hostname, a.address, why), '', 0);
      }
      if (options.all) callback(null, list);
      else callback(null, list[0]?.address ?? '', list[0]?.family ?? 4);
    });
  }) as LookupFunction;
}

/**
 * An undici connector with the guard: IP-literal hosts are checked before connecting, names are
 * resolved and checked by guardedLookup inside the socket, and the connected peer address is
 * checked once more and passed to `onConnect` (for WARC-IP-Address).
 */
export function guardedConnector(refuse: AddressPolicy, options: buildConnector.BuildOptions, onConnect: (hostname: string, ip: string) => void): buildConnector.connector {
  const connect = undici().buildConnector({ ...options, lookup: guardedLookup(refuse) });
  return (opts, callback) => {
    // undici hands IPv6 literals over without brackets
    const literal = parseIp(opts.hostname) ? opts.hostname : undefined;
    const early = literal && refuse(literal);
    if (early) return callback(new BlockedAddressError(opts.hostname, opts.hostname, early), null);
    connect(opts, (err, socket) => {
      if (err) return callback(err, null);
      const ip = (socket as Socket).remoteAddress ?? '';
      const why = refuse(ip);
      if (why) {
        socket!.destroy();
        return callback(new BlockedAddressError(opts.hostname, ip || 'unknown address', why), null);
      }
      onConnect(opts.hostname, ip);
      callback(null, socket!);
    });
  };
}

