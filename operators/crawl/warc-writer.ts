/**
 * WARC 1.1 writer: `warcinfo`, `request` and `response` records, each its own gzip member (the
 * Common Crawl layout, so any record can be read again from its offset), with
 * `WARC-Block-Digest` and `WARC-Payload-Digest` (SHA-1, base32, as Heritrix and warcio write
 * them). Records go into segment files that become visible atomically when committed; a crawl
 * commits a segment every N pages and persists its state right after, so what the state calls
 * fetched is always on storage.
 */
import { createHash, randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import type { StorageLike } from '../../engine/types.ts';

/** RFC 4648 base32 (no padding needed for 20-byte SHA-1 digests). */
export function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8) out += '=';
  return out;
}

/** `sha1:<base32>` of the bytes. */
export function sha1Digest(...parts: Uint8Array[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return 'sha1:' + base32(h.digest());
}

/** A new `<urn:uuid:…>` record id. */
export function newRecordId(): string {
  return `<urn:uuid:${randomUUID()}>`;
}

/** Serialises one record (header fields in order, Content-Length added) as a gzip member. */
export function recordMember(fields: Array<[string, string]>, block: Buffer): Buffer {
  const head = 'WARC/1.1\r\n' + fields.map(([k, v]) => `${k}: ${v.replace(/[\r\n]+/g, ' ')}\r\n`).join('') + `Content-Length: ${block.length}\r\n\r\n`;
  return zlib.gzipSync(Buffer.concat([Buffer.from(head, 'utf8'), block, Buffer.from('\r\n\r\n')]));
}

/** A streaming atomic writer, when the storage offers one (the engine's facade does). */
interface AtomicWriter {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}
type WriterStorage = StorageLike & { writer?(uri: string): Promise<AtomicWriter> };

/** Where a written record landed. */
export interface Placement {
  uri: string;
  offset: number;
}

export interface WarcWriterOptions {
  /** Directory URI of the segments. */
  dir: string;
  /** File name prefix, e.g. `crawl-00000`. */
  prefix: string;
  /** First segment number to use. */
  firstSegment: number;
  /** The `warcinfo` fields (software, operator, robots policy…). */
  info: Record<string, string>;
}

/** Writes segments `<prefix>-<n 5 digits>.warc.gz` under `dir`. */
export class WarcWriter {
  private seq: number;
  private current: { uri: string; offset: number; writer?: AtomicWriter; chunks?: Buffer[]; infoId: string } | undefined;
  private readonly storage: WriterStorage;

  constructor(
    storage: StorageLike,
    private readonly opts: WarcWriterOptions,
  ) {
    this.storage = storage as WriterStorage;
    this.seq = opts.firstSegment;
  }

  /** The segment number the next new segment gets. */
  get nextSegment(): number {
    return this.seq;
  }
  /** Bytes in the open segment (0 when none is open). */
  get openBytes(): number {
    return this.current?.offset ?? 0;
  }

  private async open(): Promise<NonNullable<WarcWriter['current']>> {
    if (this.current) return this.current;
    const uri = this.storage.join(this.opts.dir, `${this.opts.prefix}-${String(this.seq).padStart(5, '0')}.warc.gz`);
    this.seq++;
    const infoId = newRecordId();
    const seg: NonNullable<WarcWriter['current']> = { uri, offset: 0, infoId };
    if (typeof this.storage.writer === 'function') seg.writer = await this.storage.writer(uri);
    else seg.chunks = [];
    this.current = seg;
    const block = Buffer.from(Object.entries(this.opts.info).map(([k, v]) => `${k}: ${v}\r\n`).join(''), 'utf8');
    await this.append([
      ['WARC-Type', 'warcinfo'],
      ['WARC-Date', new Date().toISOString()],
      ['WARC-Filename', uri.slice(uri.lastIndexOf('/') + 1)],
      ['WARC-Record-ID', infoId],
      ['Content-Type', 'application/warc-fields'],
      ['WARC-Block-Digest', sha1Digest(block)],
    ], block);
    return seg;
  }

  private async append(fields: Array<[string, string]>, block: Buffer): Promise<Placement> {
    const seg = this.current!;
    const member = recordMember(fields, block);
    const at = { uri: seg.uri, offset: seg.offset };
    if (seg.writer) await seg.writer.write(member);
    else seg.chunks!.push(member);
    seg.offset += member.length;
    return at;
  }

  /**
   * Writes a `request` then a `response` record for one exchange; returns where the response record
   * is, its record id and the fields/block it was written with.
   */
  async writeExchange(x: { url: string; date: Date; ip?: string; requestHead: Buffer; responseHead: Buffer; body: Buffer }): Promise<{ at: Placement; recordId: string; fields: Array<[string, string]>; block: Buffer }> {
    const seg = await this.open();
    const date = x.date.toISOString();
    const responseId = newRecordId();
    const requestId = newRecordId();
    const respBlock = Buffer.concat([x.responseHead, x.body]);
    const respFields: Array<[string, string]> = [
      ['WARC-Type', 'response'],
      ['WARC-Record-ID', responseId],
      ['WARC-Warcinfo-ID', seg.infoId],
      ['WARC-Date', date],
      ['WARC-Target-URI', x.url],
      ...(x.ip ? ([['WARC-IP-Address', x.ip]] as Array<[string, string]>) : []),
      ['Content-Type', 'application/http; msgtype=response'],
      ['WARC-Block-Digest', sha1Digest(respBlock)],
      ['WARC-Payload-Digest', sha1Digest(x.body)],
    ];
    await this.append(
      [
        ['WARC-Type', 'request'],
        ['WARC-Record-ID', requestId],
        ['WARC-Warcinfo-ID', seg.infoId],
        ['WARC-Date', date],
        ['WARC-Target-URI', x.url],
        ['WARC-Concurrent-To', responseId],
        ...(x.ip ? ([['WARC-IP-Address', x.ip]] as Array<[string, string]>) : []),
        ['Content-Type', 'application/http; msgtype=request'],
        ['WARC-Block-Digest', sha1Digest(x.requestHead)],
      ],
      x.requestHead,
    );
    const at = await this.append(respFields, respBlock);
    return { at, recordId: responseId, fields: [...respFields, ['Content-Length', String(respBlock.length)]], block: respBlock };
  }

  /** Makes the open segment visible (atomically); returns its URI, or undefined when none was open. */
  async commit(): Promise<string | undefined> {
    const seg = this.current;
    if (!seg) return undefined;
    this.current = undefined;
    if (seg.writer) await seg.writer.commit();
    else await this.storage.write(seg.uri, Buffer.concat(seg.chunks!));
    return seg.uri;
  }

  /** Drops the open segment (nothing becomes visible). */
  async abort(): Promise<void> {
    const seg = this.current;
    this.current = undefined;
    if (seg?.writer) await seg.writer.abort();
  }
}
