/**
 * `map.pii`: replaces e-mail addresses and public IP addresses (IPv4 and IPv6) with
 * placeholders. Private, loopback, link-local, shared (CGNAT), multicast, reserved and
 * documentation ranges are left alone: they identify nobody and often appear in technical text
 * (`192.168.0.1`, `127.0.0.1`, `2001:db8::1`). Version strings such as `1.2.3.4` are public-range
 * IPv4 syntactically and are replaced, as in datatrove's PII formatter.
 */
import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { defineMap, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Json, Operator } from '../../engine/types.ts';

const EMAIL = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+@(?:[\p{L}\p{N}-]+\.)+[\p{L}]{2,63}(?![\p{L}\p{N}-])/gu;
const IPV4 = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d]|\.\d)/g;
const IPV6_CANDIDATE = /(?<![\p{L}\p{N}:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\p{L}\p{N}:])/giu;

/** Whether a dotted IPv4 address is globally routable (not private, reserved, loopback…). */
export function isPublicIPv4(ip: string): boolean {
  const [a, b, c] = ip.split('.').map(Number) as [number, number, number, number];
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b <= 127) return false; // shared address space (CGNAT)
  if (a === 169 && b === 254) return false; // link-local
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF protocol, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  return true;
}

/** Whether an IPv6 address is global unicast (2000::/3, minus documentation 2001:db8::/32). */
export function isPublicIPv6(ip: string): boolean {
  if (!isIPv6(ip)) return false;
  const first = ip.toLowerCase().split(':')[0]!;
  if (!first) return false; // starts with '::' — unspecified, loopback, mapped
  const head = parseInt(first, 16);
  if ((head & 0xe000) !== 0x2000) return false;
  const second = ip.toLowerCase().split(':')[1] ?? '';
  return !(head === 0x2001 && parseInt(second || '0', 16) === 0xdb8);
}

const Options = z
  .object({
    /** Replacement for e-mail addresses; `null` leaves them. */
    email: z.string().nullable().default('<EMAIL>'),
    /** Replacement for public IP addresses; `null` leaves them. */
    ip: z.string().nullable().default('<IP_ADDRESS>'),
    name: z.string().min(1).optional(),
  })
  .strict();

/** Options of `map.pii`. */
export type PiiOptions = z.input<typeof Options>;

/** Replaces PII in `text`; returns the new text and the number of replacements of each kind. */
export function redactPii(text: string, options: PiiOptions = {}): { text: string; emails: number; ips: number } {
  const o = parseConfig('map.pii', Options, options);
  let emails = 0;
  let ips = 0;
  let out = text;
  if (o.email !== null) {
    const rep = o.email;
    out = out.replace(EMAIL, () => {
      emails++;
      return rep;
    });
  }
  if (o.ip !== null) {
    const rep = o.ip;
    out = out.replace(IPV4, (m) => (isPublicIPv4(m) ? (ips++, rep) : m));
    out = out.replace(IPV6_CANDIDATE, (m) => (isPublicIPv6(m) ? (ips++, rep) : m));
  }
  return { text: out, emails, ips };
}

/**
 * PII redaction map. Defaults: e-mail addresses → `<EMAIL>`, public IPv4/IPv6 addresses →
 * `<IP_ADDRESS>`. Docs with replacements get `meta.pii = { emails, ips }` (counts).
 */
export function pii(options: PiiOptions = {}): Operator {
  const o = parseConfig('map.pii', Options, options);
  const { name, ...config } = o;
  return defineMap({
    type: 'map.pii',
    name: name ?? 'pii',
    version: '1',
    config: config as Json,
    apply(doc) {
      const r = redactPii(doc.text, config);
      if (!r.emails && !r.ips) return doc;
      return { ...doc, text: r.text, meta: { ...doc.meta, pii: { emails: r.emails, ips: r.ips } } };
    },
  });
}

registerOperator('map.pii', 'replaces e-mail addresses and public IP addresses with placeholders', (c) => pii((c ?? {}) as PiiOptions));
