import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { gunzipMembers, segments, type Segment } from '../../../../operators/read/warc/gzip.ts';

async function* chunks(buf: Buffer, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function collect(it: AsyncIterable<Segment>) {
  const data: Array<{ member: number; text: string; start: boolean }> = [];
  const gaps: Array<{ reason: string; offset: number }> = [];
  for await (const s of it) {
    if (s.kind === 'data') data.push({ member: s.member, text: s.data.toString('latin1'), start: s.memberStart });
    else gaps.push({ reason: s.reason, offset: s.offset });
  }
  return { data, gaps };
}

/** Joins the data of each member. */
function byMember(data: Array<{ member: number; text: string }>): Map<number, string> {
  const m = new Map<number, string>();
  for (const d of data) m.set(d.member, (m.get(d.member) ?? '') + d.text);
  return m;
}

const A = zlib.gzipSync('first member\n');
const B = zlib.gzipSync('second member, a little longer\n'.repeat(50));
const C = zlib.gzipSync('third\n');
const ABC = Buffer.concat([A, B, C]);

test('multi-member gzip yields each member with its compressed offset, whatever the chunking', async () => {
  for (const size of [1, 3, 7, 64, 1 << 20]) {
    const { data, gaps } = await collect(gunzipMembers(chunks(ABC, size)));
    assert.deepEqual(gaps, []);
    const m = byMember(data);
    assert.deepEqual([...m.keys()], [0, A.length, A.length + B.length]);
    assert.equal(m.get(0), 'first member\n');
    assert.equal(m.get(A.length), 'second member, a little longer\n'.repeat(50));
    assert.equal(m.get(A.length + B.length), 'third\n');
  }
});

test('headers with FEXTRA, FNAME, FCOMMENT and FHCRC are parsed', async () => {
  const body = zlib.deflateRawSync('named member');
  const crc = Buffer.alloc(8);
  crc.writeUInt32LE(zlib.crc32('named member'), 0);
  crc.writeUInt32LE(12, 4);
  const hdr = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3, 3, 0]), Buffer.from('abc'), Buffer.from('name\0comment\0'), Buffer.from([0, 0])]);
  const member = Buffer.concat([hdr, body, crc]);
  const { data, gaps } = await collect(gunzipMembers(chunks(Buffer.concat([member, A]), 5)));
  assert.deepEqual(gaps, []);
  assert.deepEqual([...byMember(data).entries()], [
    [0, 'named member'],
    [member.length, 'first member\n'],
  ]);
});

test('a truncated last member keeps every complete member and its own decompressed prefix', async () => {
  const big = zlib.gzipSync(Buffer.from('0123456789'.repeat(20000)));
  const file = Buffer.concat([A, B, big.subarray(0, Math.floor(big.length / 2))]);
  const { data, gaps } = await collect(gunzipMembers(chunks(file, 4096)));
  const m = byMember(data);
  assert.equal(m.get(0), 'first member\n');
  assert.equal(m.get(A.length), 'second member, a little longer\n'.repeat(50));
  const partial = m.get(A.length + B.length) ?? '';
  assert.ok(partial.length > 0 && '0123456789'.repeat(20000).startsWith(partial), 'prefix of the truncated member is delivered');
  assert.deepEqual(gaps, [{ reason: 'gzip: truncated member', offset: A.length + B.length }]);
});

test('a member cut inside its header or trailer is reported as truncated', async () => {
  let r = await collect(gunzipMembers(chunks(Buffer.concat([A, B.subarray(0, 5)]))));
  assert.deepEqual(r.gaps, [{ reason: 'gzip: truncated member header', offset: A.length }]);
  r = await collect(gunzipMembers(chunks(Buffer.concat([A, B.subarray(0, B.length - 3)]))));
  assert.equal(byMember(r.data).get(0), 'first member\n');
  assert.deepEqual(r.gaps, [{ reason: 'gzip: truncated member', offset: A.length }]);
});

test('a corrupt member is skipped and decoding resumes at the next member', async () => {
  const bad = Buffer.from(B);
  for (let i = 12; i < 30; i++) bad[i] = 0xff; // wreck the deflate data
  const { data, gaps } = await collect(gunzipMembers(chunks(Buffer.concat([A, bad, C]), 11)));
  const m = byMember(data);
  assert.equal(m.get(0), 'first member\n');
  assert.equal(m.get(A.length + bad.length), 'third\n');
  assert.equal(gaps.length, 1);
  assert.match(gaps[0]!.reason, /^gzip: (corrupt member|CRC mismatch)/);
  assert.equal(gaps[0]!.offset, A.length);
});

test('a CRC mismatch skips the member without delivering its bytes', async () => {
  const bad = Buffer.from(C);
  bad[bad.length - 8] ^= 0xff;
  const { data, gaps } = await collect(gunzipMembers(chunks(Buffer.concat([A, bad, A]))));
  assert.deepEqual([...byMember(data).keys()], [0, A.length + bad.length]);
  assert.deepEqual(gaps, [{ reason: 'gzip: CRC mismatch', offset: A.length }]);
});

test('garbage between and after members is reported with its size', async () => {
  const junk = Buffer.from('this is not gzip at all');
  const { data, gaps } = await collect(gunzipMembers(chunks(Buffer.concat([A, junk, C, junk]), 5)));
  assert.deepEqual([...byMember(data).values()], ['first member\n', 'third\n']);
  assert.deepEqual(gaps, [
    { reason: 'gzip: non-gzip bytes between members', offset: A.length },
    { reason: 'gzip: trailing bytes after the last member', offset: A.length + junk.length + C.length },
  ]);
});

test('members larger than the sync window are streamed with bounded pieces', async () => {
  const text = randomBytes(300_000).toString('hex'); // 600 kB, compresses ~2x
  const big = zlib.gzipSync(text);
  const file = Buffer.concat([A, big, C]);
  const { data, gaps } = await collect(gunzipMembers(chunks(file, 65536), { syncWindowMax: 64 << 10 }));
  assert.deepEqual(gaps, []);
  const pieces = data.filter((d) => d.member === A.length);
  assert.ok(pieces.length > 1, 'the large member arrives in several pieces');
  assert.equal(pieces[0]!.start, true);
  assert.ok(pieces.slice(1).every((p) => !p.start));
  assert.equal(byMember(data).get(A.length), text);
  assert.equal(byMember(data).get(A.length + big.length), 'third\n');
});

test('plain input passes through; gzip is sniffed from the magic bytes', async () => {
  const plain = await collect(segments(chunks(Buffer.from('WARC/1.1\r\nhello'), 4)));
  assert.equal(plain.data.map((d) => d.text).join(''), 'WARC/1.1\r\nhello');
  assert.ok(plain.data.every((d) => d.member === -1));
  const gz = await collect(segments(chunks(ABC, 100)));
  assert.equal(byMember(gz.data).size, 3);
});

test('a small member that decompresses past the output cap is streamed, not inflated at once', async () => {
  const text = 'the same line again and again\n'.repeat(100_000); // 3 MB from ~10 kB
  const member = zlib.gzipSync(text);
  assert.ok(member.length < 20_000);
  const { data, gaps } = await collect(gunzipMembers(chunks(Buffer.concat([member, C]), 1 << 20), { syncOutputMax: 1 << 20 }));
  assert.deepEqual(gaps, []);
  const pieces = data.filter((d) => d.member === 0);
  assert.ok(pieces.length > 1 && pieces.every((p) => p.text.length <= 1 << 20), 'delivered in bounded pieces');
  assert.equal(byMember(data).get(0), text);
  assert.equal(byMember(data).get(member.length), 'third\n');
});
