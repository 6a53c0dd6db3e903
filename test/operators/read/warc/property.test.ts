/**
 * Property tests over real WARC records (cc-whirlwind and warcio's example.warc): random
 * truncations, byte flips and appended garbage never crash or hang the reader, and every record
 * that lies wholly before the damage comes out intact.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { readSource } from '../../../../engine/testing.ts';
import { gunzipMembers } from '../../../../operators/read/warc/gzip.ts';
import { warc } from '../../../../operators/read/warc/source.ts';
import { dataPath, needData } from '../../../helpers/data.ts';

const ALL = { recordTypes: ['warcinfo', 'request', 'response', 'metadata', 'revisit', 'resource'], mimeTypes: '*' as const };
const skip = needData('cc-whirlwind') || needData('warcio-testdata');

interface Fixture {
  bytes: Buffer;
  /** Record ids in file order with the offset where each record (incl. its separator) ends. */
  records: Array<{ id: string; end: number; text: string }>;
}
let dir: string;
let plain: Fixture;
let gz: Fixture;

/** The decompressed members (one record each) of a Common-Crawl-layout file. */
async function members(path: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const s of gunzipMembers(createReadStream(path))) {
    assert.equal(s.kind, 'data');
    if (s.kind === 'data') {
      if (s.memberStart) out.push(s.data);
      else out[out.length - 1] = Buffer.concat([out[out.length - 1]!, s.data]);
    }
  }
  return out;
}

async function expected(bytes: Buffer, ends: number[]): Promise<Fixture> {
  const path = join(dir, 'expect.warc' + (bytes[0] === 0x1f ? '.gz' : ''));
  writeFileSync(path, bytes);
  const { out, audit } = await readSource(warc(path, ALL));
  assert.deepEqual(audit.skips, []);
  assert.equal(out.length, ends.length);
  return { bytes, records: out.map((d, i) => ({ id: d.id, end: ends[i]!, text: d.text })) };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'warc-prop-'));
  const recs = [...(await members(dataPath('cc-whirlwind', 'whirlwind.warc.gz'))), ...(await members(dataPath('warcio-testdata', 'example.warc.gz')))];
  let end = 0;
  const plainEnds = recs.map((r) => (end += r.length));
  plain = await expected(Buffer.concat(recs), plainEnds);
  const gzMembers = recs.map((r) => zlib.gzipSync(r));
  end = 0;
  const gzEnds = gzMembers.map((m) => (end += m.length));
  gz = await expected(Buffer.concat(gzMembers), gzEnds);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** Reads damaged bytes; returns the docs, or the error when the reader refused the file. */
async function readDamaged(bytes: Buffer, ext: string) {
  const path = join(dir, `case-${n++}${ext}`);
  writeFileSync(path, bytes);
  try {
    const { out, audit } = await readSource(warc(path, ALL));
    return { out, skips: audit.skips, error: undefined as Error | undefined };
  } catch (e) {
    return { out: [], skips: [], error: e as Error };
  } finally {
    rmSync(path, { force: true });
  }
}

/** Every record ending at or before `damage` is present with its original text. */
function assertIntactBefore(f: Fixture, damage: number, r: Awaited<ReturnType<typeof readDamaged>>, path: string) {
  const intact = f.records.filter((x) => x.end <= damage);
  if (r.error) {
    // the only acceptable refusal: nothing readable at all, reported naming the file
    assert.match(r.error.message, /is not a WARC file/);
    assert.ok(r.error.message.includes('case-'), 'the error names the file');
    assert.equal(intact.length, 0, `refused a file with ${intact.length} intact records (${path})`);
    return;
  }
  const byId = new Map(r.out.map((d) => [d.id, d.text]));
  for (const x of intact) {
    assert.ok(byId.has(x.id), `record ${x.id} (ends at ${x.end}, damage at ${damage}) is missing`);
    assert.equal(byId.get(x.id), x.text);
  }
}

for (const kind of ['plain', 'gzip'] as const) {
  const ext = kind === 'plain' ? '.warc' : '.warc.gz';
  const fx = () => (kind === 'plain' ? plain : gz);

  test(`${kind}: random truncation keeps every complete record before the cut`, { skip, timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1_000_000 }), async (seed) => {
        const f = fx();
        const cut = seed % (f.bytes.length + 1);
        const r = await readDamaged(f.bytes.subarray(0, cut), ext);
        assertIntactBefore(f, cut, r, ext);
        // No silent loss: a record that began before the cut and did not come out was reported.
        // Records that begin at or after the cut are not in the file at all; a cut inside a
        // record's closing CRLFCRLF (e.g. 4 bytes before its end) leaves its content whole, so it
        // comes out and nothing is lost (a fixed check against all records failed there, seen
        // at cut 76721 of 82788, where the third record ends at 76725).
        const begun = f.records.filter((x, i) => (i === 0 ? 0 : f.records[i - 1]!.end) < cut).length;
        if (!r.error && cut > 0 && r.out.length < begun) assert.ok(r.skips.length > 0, 'a truncation is reported as a skip');
      }),
      // Always also try a cut 2 bytes before the end of the third record (inside its separator).
      { numRuns: 60, examples: [[fx().records[2]!.end - 2]] },
    );
  });

  test(`${kind}: random byte flips never crash and keep the records before the flip`, { skip, timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (flips) => {
        const f = fx();
        const bytes = Buffer.from(f.bytes);
        let first = bytes.length;
        for (const [pos, x] of flips) {
          const p = pos % bytes.length;
          bytes[p]! ^= x;
          first = Math.min(first, p);
        }
        const r = await readDamaged(bytes, ext);
        // a record whose last byte (or separator) was flipped is damaged: intact means ending before
        assertIntactBefore(f, first, r, ext);
      }),
      { numRuns: 60 },
    );
  });

  test(`${kind}: garbage appended keeps every record and is reported`, { skip, timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 4000 }), async (junk) => {
        const f = fx();
        const r = await readDamaged(Buffer.concat([f.bytes, junk]), ext);
        assertIntactBefore(f, f.bytes.length, r, ext);
        assert.equal(r.out.length >= f.records.length, true);
        const allWhitespace = junk.every((c) => c === 10 || c === 13 || c === 32 || c === 9);
        if (!allWhitespace) assert.ok(r.skips.length > 0, 'the garbage is reported');
      }),
      { numRuns: 60 },
    );
  });
}
