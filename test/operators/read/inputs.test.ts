/**
 * Inputs that used to fail silently (issue 15 §4), through read.jsonl: compression by magic
 * bytes, UTF-16/32 by byte-order mark, Latin-1 recorded or decoded, truncated gzip recorded as a
 * read error, unreadable files failing the task, `maxLineBytes`, and line splitting linear in
 * line length. Fixtures are written here, small.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { read } from '../../../index.ts';
import { readSource } from '../../../engine/testing.ts';
import { tempProject } from '../../helpers/cli.ts';

const DOCS = [
  { id: 'a', text: 'héllo wörld' },
  { id: 'b', text: 'music 𝄞 and Ċ (U+010A, whose UTF-16LE low byte is a newline)' },
  { id: 'c', text: 'plain ascii' },
];
const JSONL = DOCS.map((d) => JSON.stringify(d)).join('\n') + '\n';

function zstd(input: string | Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c'], { input });
}

const texts = async (dir: string, file: string, opts = {}) => (await readSource(read.jsonl(file, opts), { baseDir: dir })).out.map((d) => d.text);

test('compression is read from the first bytes, not the name', async () => {
  const dir = tempProject();
  writeFileSync(join(dir, 'zstd-named.data'), zstd(JSONL));
  writeFileSync(join(dir, 'gzip-named.jsonl'), gzipSync(JSONL));
  writeFileSync(join(dir, 'plain-named.jsonl.gz'), JSONL);
  // Two zstd frames, one after the other, are one stream.
  writeFileSync(join(dir, 'frames.jsonl.zst'), Buffer.concat([zstd(JSONL), zstd(JSONL)]));
  const want = DOCS.map((d) => d.text);
  assert.deepEqual(await texts(dir, 'zstd-named.data'), want);
  assert.deepEqual(await texts(dir, 'gzip-named.jsonl'), want);
  assert.deepEqual(await texts(dir, 'plain-named.jsonl.gz'), want);
  assert.deepEqual(await texts(dir, 'frames.jsonl.zst'), [...want, ...want]);
});

test('UTF-16LE/BE and UTF-32LE/BE with a byte-order mark are decoded; a UTF-8 mark is removed', async () => {
  const dir = tempProject();
  const le16 = Buffer.from(JSONL, 'utf16le');
  const utf32 = (be: boolean) => {
    const cps = [0xfeff, ...[...JSONL].map((c) => c.codePointAt(0)!)];
    const b = Buffer.alloc(cps.length * 4);
    cps.forEach((c, i) => (be ? b.writeUInt32BE(c, i * 4) : b.writeUInt32LE(c, i * 4)));
    return b;
  };
  writeFileSync(join(dir, 'u16le.jsonl'), Buffer.concat([Buffer.from([0xff, 0xfe]), le16]));
  writeFileSync(join(dir, 'u16be.jsonl'), Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le16).swap16()]));
  writeFileSync(join(dir, 'u32le.jsonl'), utf32(false));
  writeFileSync(join(dir, 'u32be.jsonl'), utf32(true));
  writeFileSync(join(dir, 'bom8.jsonl'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSONL)]));
  // Compressed UTF-16: the mark is read after decompression.
  writeFileSync(join(dir, 'u16le.jsonl.gz'), gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), le16])));
  const want = DOCS.map((d) => d.text);
  for (const f of ['u16le.jsonl', 'u16be.jsonl', 'u32le.jsonl', 'u32be.jsonl', 'bom8.jsonl', 'u16le.jsonl.gz']) {
    const { out, audit } = await readSource(read.jsonl(f), { baseDir: dir });
    assert.deepEqual(out.map((d) => d.text), want, f);
    assert.equal(audit.skips.length, 0, f);
  }
  // A UTF-16 file is never cut into byte ranges (a cut could fall inside a character).
  const big = read.jsonl('u16le.jsonl', { splitBytes: 16 });
  assert.equal((await big.plan({ baseDir: dir, workdir: dir, storage: (await import('../../../engine/storage/index.ts')).storage })).length, 1);
  assert.deepEqual((await readSource(big, { baseDir: dir })).out.map((d) => d.text), want);
});

test('UTF-16 without a byte-order mark fails the task, naming the file and the likely cause', async () => {
  const dir = tempProject();
  writeFileSync(join(dir, 'nobom.jsonl'), Buffer.from(JSONL, 'utf16le'));
  await assert.rejects(readSource(read.jsonl('nobom.jsonl'), { baseDir: dir }), /read\.jsonl nobom\.jsonl: no record could be read: .*NUL bytes: UTF-16 or UTF-32 without a byte-order mark/);
  assert.deepEqual(await texts(dir, 'nobom.jsonl', { encoding: 'utf-16le' }), DOCS.map((d) => d.text));
});

test('Latin-1 lines are recorded as read.invalidUtf8, and decoded with encoding latin1', async () => {
  const dir = tempProject();
  const latin = Buffer.from(JSON.stringify({ id: 'l', text: 'café crème' }) + '\n', 'latin1');
  writeFileSync(join(dir, 'mixed.jsonl'), Buffer.concat([Buffer.from(JSONL), latin]));
  const { out, audit } = await readSource(read.jsonl('mixed.jsonl'), { baseDir: dir });
  assert.deepEqual(out.map((d) => d.id), ['a', 'b', 'c'], 'the garbled line is not kept');
  assert.equal(audit.skips.length, 1);
  assert.equal(audit.skips[0]!.reason, 'read.invalidUtf8');
  assert.equal(audit.skips[0]!.input, `mixed.jsonl#${Buffer.byteLength(JSONL)}`);
  assert.match(String(audit.skips[0]!.details!.error), /not valid UTF-8 at byte 21 .*encoding 'latin1'/);
  writeFileSync(join(dir, 'latin.jsonl'), latin);
  assert.deepEqual(await texts(dir, 'latin.jsonl', { encoding: 'latin1' }), ['café crème']);
  // Windows-1252: 0x93/0x94 are curly quotes (in Latin-1 they are C1 controls).
  writeFileSync(join(dir, 'cp1252.jsonl'), Buffer.from([...Buffer.from('{"text":"'), 0x93, 0x68, 0x69, 0x94, ...Buffer.from('"}\n')]));
  assert.deepEqual(await texts(dir, 'cp1252.jsonl', { encoding: 'windows-1252' }), ['\u201chi\u201d']);
  // A file that is all Latin-1 fails the task instead of producing an empty dataset.
  await assert.rejects(readSource(read.jsonl('latin.jsonl'), { baseDir: dir }), /latin\.jsonl: no record could be read: 1 record\(s\) skipped \(read\.invalidUtf8 ×1\)/);
});

test('a truncated gzip keeps the records before the damage and records a read.truncated skip: the file and how far it got', async () => {
  const dir = tempProject();
  const rows: string[] = [];
  for (let i = 0; i < 200; i++) rows.push(JSON.stringify({ id: `d${i}`, text: `doc ${i} ${'lorem ipsum '.repeat(i % 17)}` }));
  const gz = gzipSync(rows.join('\n') + '\n');
  writeFileSync(join(dir, 'trunc.jsonl.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  const { out, audit } = await readSource(read.jsonl('trunc.jsonl.gz'), { baseDir: dir });
  assert.ok(out.length > 20 && out.length < 200, `${out.length} docs before the damage`);
  assert.deepEqual(out.map((d) => d.id), rows.slice(0, out.length).map((r) => (JSON.parse(r) as { id: string }).id));
  assert.equal(audit.skips.length, 1);
  const s = audit.skips[0]!;
  assert.equal(s.reason, 'read.truncated');
  assert.equal(s.input, 'trunc.jsonl.gz');
  assert.equal(s.details!.linesRead, out.length);
  assert.equal(s.details!.compressedBytes, Math.floor(gz.length / 2));
  assert.match(String(s.details!.error), /trunc\.jsonl\.gz: truncated gzip stream \(unexpected end of file\) after [\d,]+ compressed bytes/);
  // Truncated before the first line ends: nothing could be read, so the task fails.
  writeFileSync(join(dir, 'stub.jsonl.gz'), gz.subarray(0, 30));
  await assert.rejects(readSource(read.jsonl('stub.jsonl.gz'), { baseDir: dir }), /stub\.jsonl\.gz: no record could be read: 1 record\(s\) skipped \(read\.truncated ×1\)/);
  // A truncated zstd file, likewise (over 128 KiB: several blocks, the last one lost).
  const many = Array.from({ length: 20 }, () => rows.join('\n')).join('\n') + '\n';
  const zs = zstd(many);
  writeFileSync(join(dir, 'trunc.jsonl.zst'), zs.subarray(0, zs.length - 10));
  const z = await readSource(read.jsonl('trunc.jsonl.zst'), { baseDir: dir });
  assert.ok(z.out.length > 0 && z.out.length < 4000, `${z.out.length} docs before the damage`);
  assert.equal(z.audit.skips.at(-1)!.reason, 'read.truncated');
  assert.match(String(z.audit.skips.at(-1)!.details!.error), /trunc\.jsonl\.zst: truncated zstd stream/);
});

test('a garbage .zst fails the task with an error naming the file, not an empty success', async () => {
  const dir = tempProject();
  const garbage = Buffer.alloc(3000);
  for (let i = 0, x = 7; i < garbage.length; i++) garbage[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  writeFileSync(join(dir, 'garbage.jsonl.zst'), garbage);
  await assert.rejects(readSource(read.jsonl('garbage.jsonl.zst'), { baseDir: dir }), /read\.jsonl garbage\.jsonl\.zst: no record could be read: .*does not start with a gzip or zstd header/);
  // With the zstd magic but corrupt data: a read.corrupt error, and nothing read, so it fails.
  writeFileSync(join(dir, 'corrupt.jsonl.zst'), Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), garbage]));
  await assert.rejects(readSource(read.jsonl('corrupt.jsonl.zst'), { baseDir: dir }), /corrupt\.jsonl\.zst: no record could be read: 1 record\(s\) skipped \(read\.(corrupt|truncated) ×1\)/);
});

test('maxLineBytes: a longer line is skipped as read.lineTooLong, the rest is read', async () => {
  const dir = tempProject();
  const long = JSON.stringify({ id: 'long', text: 'x'.repeat(5000) });
  writeFileSync(join(dir, 'a.jsonl'), [JSON.stringify(DOCS[0]), long, JSON.stringify(DOCS[2])].join('\n') + '\n');
  const { out, audit } = await readSource(read.jsonl('a.jsonl', { maxLineBytes: 1000 }), { baseDir: dir });
  assert.deepEqual(out.map((d) => d.id), ['a', 'c']);
  assert.deepEqual(audit.skips.map((s) => [s.input, s.reason, s.details!.bytes]), [[`a.jsonl#${Buffer.byteLength(JSON.stringify(DOCS[0])) + 1}`, 'read.lineTooLong', long.length]]);
  assert.equal((await readSource(read.jsonl('a.jsonl'), { baseDir: dir })).out.length, 3, 'the default (256 MiB) keeps it');
});

test('reading a long line is linear: its pieces are joined once, not once per chunk', async () => {
  const dir = tempProject();
  // A 2 MB line, gzipped: gunzip delivers it in ~128 chunks of 16 KiB.
  const line = JSON.stringify({ id: 'big', text: 'abcdefgh'.repeat(250_000) });
  writeFileSync(join(dir, 'big.jsonl.gz'), gzipSync(line + '\n' + JSON.stringify(DOCS[0]) + '\n'));
  const concat = Buffer.concat;
  let copied = 0;
  Buffer.concat = function (list: readonly Uint8Array[], total?: number) {
    const b = concat(list, total);
    copied += b.length;
    return b;
  } as typeof Buffer.concat;
  let out;
  try {
    out = (await readSource(read.jsonl('big.jsonl.gz'), { baseDir: dir })).out;
  } finally {
    Buffer.concat = concat;
  }
  assert.equal(out.length, 2);
  assert.equal(out[0]!.text.length, 2_000_000);
  // The old splitter copied the growing partial line per chunk: ~64× the line here.
  assert.ok(copied <= 2 * line.length, `bytes copied joining lines: ${copied} for a ${line.length}-byte line`);
});

test('lines(): one copy per line whatever the chunking; a line over the limit is never held', async () => {
  const { lines } = await import('../../../operators/read/lines.ts');
  const line = Buffer.alloc(100_000, 0x61);
  const chunks = (buf: Buffer, size: number) => (async function* () {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  })();
  const input = Buffer.concat([Buffer.from('x\n'), line, Buffer.from('\ny')]);
  let copied = 0;
  const got = [];
  for await (const l of lines(chunks(input, 100), { onCopy: (n) => (copied += n) })) got.push([l.offset, l.length, l.data?.length ?? null]);
  assert.deepEqual(got, [[0, 1, 1], [2, 100_000, 100_000], [100_003, 1, 1]]);
  assert.equal(copied, 100_000, 'the long line is joined once');
  copied = 0;
  const limited = [];
  for await (const l of lines(chunks(input, 100), { maxLineBytes: 1000, onCopy: (n) => (copied += n) })) limited.push([l.offset, l.length, l.data === null]);
  assert.deepEqual(limited, [[0, 1, false], [2, 100_000, true], [100_003, 1, false]]);
  assert.equal(copied, 0);
});

test('UTF-16 surrogate pairs split across decompressed chunks are decoded whole', async () => {
  const dir = tempProject();
  // ~100 KB of UTF-16: gunzip's 16 KiB chunks cut it at many points, some inside a pair.
  const doc = { id: 's', text: 'a' + '𝄞b'.repeat(15_000) };
  const u16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(doc) + '\n', 'utf16le')]);
  writeFileSync(join(dir, 'pairs.jsonl.gz'), gzipSync(u16));
  writeFileSync(join(dir, 'pairs-be.jsonl.gz'), gzipSync(Buffer.from(u16).swap16()));
  assert.deepEqual(await texts(dir, 'pairs.jsonl.gz'), [doc.text]);
  assert.deepEqual(await texts(dir, 'pairs-be.jsonl.gz'), [doc.text]);
  // An unpaired surrogate is recorded, not turned into U+FFFD silently.
  const lone = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"text":"x', 'utf16le'), Buffer.from([0x00, 0xd8]), Buffer.from('"}\n{"text":"ok"}\n', 'utf16le')]);
  writeFileSync(join(dir, 'lone.jsonl'), lone);
  const r = await readSource(read.jsonl('lone.jsonl'), { baseDir: dir });
  assert.deepEqual(r.out.map((d) => d.text), ['ok']);
  assert.equal(r.audit.skips[0]!.reason, 'read.invalidEncoding');
});

test('parseJsonLine: the long-line fast path returns what JSON.parse returns, and its errors', async () => {
  const { parseJsonLine, LARGE_LINE_BYTES } = await import('../../../operators/read/json-line.ts');
  const pad = 'p'.repeat(LARGE_LINE_BYTES);
  const cases = [
    `{"id":"x","text":"${pad}"}`,
    ` { "text" : "${pad}\\n\\"quoted\\" \\\\ \\u00e9 \\ud834\\udd1e" , "n": -1.5e3, "ok": true, "nil": null, "meta": {"a": [1, {"b": "}]\\""}], "c": "{"}, "arr": [] } `,
    `{"__proto__": {"polluted": 1}, "text": "${pad}", "text": "last wins ${pad}"}`,
    `{"10": 1, "2": 2, "text": "é𝄞${pad}"}`,
    `{}`,
  ];
  for (const c of cases) {
    const got = parseJsonLine(Buffer.from(c));
    assert.deepEqual(got, JSON.parse(c));
    assert.deepEqual(Object.keys(got as object), Object.keys(JSON.parse(c) as object));
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  // Invalid lines fail with JSON.parse's own error (a raw control character, trailing text, a bad value).
  for (const bad of [`{"text":"${pad}\t"}`, `{"text":"${pad}"} x`, `{"text":"${pad}", "n": 01}`, `{"text":"${pad}"`, `["${pad}"]`]) {
    let want = '';
    try {
      JSON.parse(bad);
    } catch (e) {
      want = (e as Error).message;
    }
    if (want) assert.throws(() => parseJsonLine(Buffer.from(bad)), { message: want });
    else assert.deepEqual(parseJsonLine(Buffer.from(bad)), JSON.parse(bad));
  }
});
