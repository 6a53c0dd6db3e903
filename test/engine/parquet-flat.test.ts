/**
 * The flat Parquet encoder behind the audit files (engine/parquet-flat.ts), read back by both
 * readers the project relies on: parquet-wasm (what `sluice audit` and the reports read with) and
 * DuckDB (what users query `_audit/*.parquet` with). Values cover every column type, nulls in
 * runs and alone, non-ASCII and long strings, both string encodings and the fallback from runs
 * to PLAIN, several row groups, and an empty file. And the audit's span records through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { FlatParquetEncoder, FlatParquetWriter, type FlatCodec, type FlatColumn, type FlatValue } from '../../engine/parquet-flat.ts';
import { parquetWasm, readParquetTables } from '../../engine/parquet.ts';
import type { AtomicWriter } from '../../engine/storage/index.ts';
import { TaskAudit } from '../../engine/audit.ts';

const COLUMNS: FlatColumn[] = [
  { name: 'op', type: 'utf8', nullable: false },
  { name: 'id', type: 'utf8', nullable: false },
  { name: 'url', type: 'utf8', nullable: true },
  { name: 'score', type: 'float64', nullable: true },
  { name: 'details', type: 'utf8', nullable: true, encoding: 'plain' },
  { name: 'bytes', type: 'int32', nullable: false },
  { name: 'kept', type: 'bool', nullable: false },
  { name: 'note', type: 'utf8', nullable: true },
];

/** Rows with runs (op, id), rare values (url), nulls alone and in runs, unicode and a long string. */
function rows(n: number): FlatValue[][] {
  const out: FlatValue[][] = [];
  for (let i = 0; i < n; i++) {
    const id = `doc-${Math.floor(i / 7)}${i % 700 === 3 ? ' «ü»' : ''}`;
    out.push([
      i < n / 2 ? 'dedup.paragraphs' : 'filter.quality',
      id,
      i % 97 === 0 ? `https://example.org/${i}/ü—日本` : null,
      i % 5 === 0 ? null : i / 3 - 1000,
      i % 11 === 4 ? null : i === 17 ? 'x'.repeat(70_000) + '\u{1F600}' : `{"start":${i},"end":${i + 9},"text":"line ${i} é"}`,
      i % 2 ? -i : i * 1000,
      i % 3 === 0,
      // Unique values: more runs than half the values, so written PLAIN though encoded as runs.
      i % 13 === 0 ? null : `note ${i}`,
    ]);
  }
  return out;
}

/** An AtomicWriter into memory. */
function memoryOut(): AtomicWriter & { bytes(): Buffer; committed: boolean } {
  const chunks: Uint8Array[] = [];
  return {
    committed: false,
    async write(c) {
      chunks.push(c.slice());
    },
    async commit() {
      this.committed = true;
    },
    async abort() {},
    bytes: () => Buffer.concat(chunks),
  };
}

async function writeFile(path: string, data: FlatValue[][], groupRows: number, codec?: FlatCodec): Promise<{ rows: number; bytes: number }> {
  const out = memoryOut();
  const w = new FlatParquetWriter(out, COLUMNS, codec ? { codec } : {});
  for (const r of data) if (w.add(r) === groupRows) await w.flush();
  const res = await w.close();
  assert.ok(out.committed);
  writeFileSync(path, out.bytes());
  assert.equal(res.bytes, out.bytes().length);
  return res;
}

for (const codec of ['brotli', 'none'] as const) {
  test(`flat Parquet (${codec}): parquet-wasm reads back every value, type and nullability, over several row groups`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-flat-'));
    try {
      const path = join(dir, 'flat.parquet');
      const data = rows(2500);
      const res = await writeFile(path, data, 1000, codec);
      assert.equal(res.rows, 2500);
      const md = (await parquetWasm().ParquetFile.fromFile(new Blob([readFileSync(path)]))).metadata();
      assert.deepEqual(
        Array.from({ length: md.numRowGroups() }, (_, i) => md.rowGroup(i).numRows()),
        [1000, 1000, 500],
      );
      // Runs are dictionary-encoded; 'note', unique values, falls back to PLAIN with no
      // dictionary; 'details' is PLAIN by its column's choice.
      const { RLE_DICTIONARY } = parquetWasm().Encoding;
      const encodings = (col: number) => [...md.rowGroup(0).column(col).encodings()].sort();
      assert.ok(encodings(0).includes(RLE_DICTIONARY) && encodings(1).includes(RLE_DICTIONARY), `op/id encodings ${encodings(0)} / ${encodings(1)}`);
      assert.ok(!encodings(7).includes(RLE_DICTIONARY) && !encodings(4).includes(RLE_DICTIONARY), `note/details encodings ${encodings(7)} / ${encodings(4)}`);
      assert.equal(md.rowGroup(0).column(4).compression(), codec === 'brotli' ? parquetWasm().Compression.BROTLI : parquetWasm().Compression.UNCOMPRESSED);
      let n = 0;
      for await (const t of readParquetTables(path, { batchSize: 777 })) {
        assert.deepEqual(
          t.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`),
          ['op:Utf8:false', 'id:Utf8:false', 'url:Utf8:true', 'score:Float64:true', 'details:Utf8:true', 'bytes:Int32:false', 'kept:Bool:false', 'note:Utf8:true'],
        );
        for (let i = 0; i < t.numRows; i++, n++) {
          const got = COLUMNS.map((c) => t.getChild(c.name)!.get(i) ?? null);
          assert.deepEqual(got, data[n], `row ${n}`);
        }
      }
      assert.equal(n, data.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('flat Parquet: DuckDB reads the same values (counts, sums, distinct strings, unicode, the 70,001-char value)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-flat-'));
  try {
    const path = join(dir, 'flat.parquet');
    const data = rows(3000);
    await writeFile(path, data, 1024);
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const r = await con.runAndReadAll(
      `select count(*) n, count(url) urls, count(score) scores, sum(score) score_sum, count(details) details, sum(bytes) bytes_sum,
              sum(case when kept then 1 else 0 end) kept, count(distinct op) ops, count(distinct id) ids, max(length(details)) longest,
              count(note) notes, sum(case when id like '%«ü»' then 1 else 0 end) unicode_ids, min(url) first_url
       from '${path}'`,
    );
    const got = r.getRowObjects()[0]!;
    const col = (c: number) => data.map((row) => row[c]);
    const nonNull = (c: number) => col(c).filter((v) => v !== null);
    assert.equal(Number(got.n), 3000);
    assert.equal(Number(got.urls), nonNull(2).length);
    assert.equal(Number(got.scores), nonNull(3).length);
    assert.ok(Math.abs(Number(got.score_sum) - (nonNull(3) as number[]).reduce((a, b) => a + b, 0)) < 1e-6);
    assert.equal(Number(got.details), nonNull(4).length);
    assert.equal(Number(got.bytes_sum), (col(5) as number[]).reduce((a, b) => a + b, 0));
    assert.equal(Number(got.kept), col(6).filter(Boolean).length);
    assert.equal(Number(got.ops), 2);
    assert.equal(Number(got.ids), new Set(col(1)).size);
    // DuckDB's length() counts code points: 70,000 x's and one emoji.
    assert.equal(Number(got.longest), 70_001);
    assert.equal(Number(got.notes), nonNull(7).length);
    assert.equal(Number(got.unicode_ids), col(1).filter((v) => String(v).endsWith('«ü»')).length);
    assert.equal(got.first_url, (nonNull(2) as string[]).sort()[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flat Parquet: utf8 cells given as UTF-8 bytes (Utf8Bytes) encode exactly as the strings do, in both string encodings', () => {
  const data = rows(2500);
  const asStrings = new FlatParquetEncoder(COLUMNS);
  const asBytes = new FlatParquetEncoder(COLUMNS);
  // One reused buffer, longer than most values: only `length` bytes may be read from it; every
  // other row brings a DataView of it (the word-at-a-time copy), as JsonBytes does.
  const scratch: { bytes: Uint8Array; length: number; view?: DataView } = { bytes: new Uint8Array(8), length: 0 };
  const a: Uint8Array[] = [];
  const b: Uint8Array[] = [];
  for (let r = 0; r < data.length; r++) {
    const row = data[r]!;
    asStrings.add(row);
    for (let c = 0; c < row.length; c++) {
      const v = row[c];
      if (COLUMNS[c]!.type !== 'utf8' || typeof v !== 'string') {
        asBytes.column(c).add(v);
        continue;
      }
      const utf8 = Buffer.from(v);
      if (utf8.length > scratch.bytes.length) scratch.bytes = new Uint8Array(2 * utf8.length);
      scratch.bytes.fill(0x41);
      scratch.bytes.set(utf8);
      scratch.length = utf8.length;
      scratch.view = r % 2 ? new DataView(scratch.bytes.buffer) : undefined;
      asBytes.column(c).add(scratch);
    }
    asBytes.endRow();
    if (r % 1000 === 999) {
      a.push(asStrings.rowGroup());
      b.push(asBytes.rowGroup());
    }
  }
  a.push(asStrings.rowGroup(), asStrings.footer());
  b.push(asBytes.rowGroup(), asBytes.footer());
  assert.ok(Buffer.concat(b).equals(Buffer.concat(a)));
});

test('flat Parquet: a file with no rows is readable and has the schema', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-flat-'));
  try {
    const path = join(dir, 'empty.parquet');
    await writeFile(path, [], 10);
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const r = await con.runAndReadAll(`select count(*) n from '${path}'`);
    assert.equal(Number(r.getRowObjects()[0]!.n), 0);
    const d = await con.runAndReadAll(`describe select * from '${path}'`);
    assert.deepEqual(
      d.getRowObjects().map((x) => `${x.column_name}:${x.column_type}`),
      ['op:VARCHAR', 'id:VARCHAR', 'url:VARCHAR', 'score:DOUBLE', 'details:VARCHAR', 'bytes:INTEGER', 'kept:BOOLEAN', 'note:VARCHAR'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flat Parquet: bad values are errors that name the column and the value', () => {
  const enc = new FlatParquetEncoder(COLUMNS);
  assert.throws(() => enc.add(['a', null, null, null, null, 1, true, null]), /column 'id' is not nullable but row 0/);
  const e2 = new FlatParquetEncoder(COLUMNS);
  assert.throws(() => e2.add(['a', 'b', null, null, null, 2 ** 31, true, null]), /column 'bytes' is int32 but got 2147483648/);
  const e3 = new FlatParquetEncoder(COLUMNS);
  assert.throws(() => e3.add(['a', 'b', null, 'high', null, 1, true, null]), /column 'score' is float64 but got "high"/);
  const e4 = new FlatParquetEncoder(COLUMNS);
  assert.throws(() => e4.add(['a', 'b']), /a row of 2 values for a table of 8 columns/);
  // A refused value leaves its column as it was: the row can be completed and written.
  const e6 = new FlatParquetEncoder([{ name: 'bytes', type: 'int32', nullable: false }, { name: 'kept', type: 'bool', nullable: true }]);
  assert.throws(() => e6.column(0).add(1.5), /column 'bytes' is int32 but got 1.5/);
  assert.throws(() => e6.column(1).add('yes'), /column 'kept' is bool but got "yes"/);
  e6.column(0).add(7);
  e6.column(1).add(null);
  e6.endRow();
  assert.ok(e6.rowGroup().length > 0);
  // A row left half-added is caught when the row group is cut.
  const e5 = new FlatParquetEncoder(COLUMNS);
  e5.column(0).add('a');
  e5.endRow();
  assert.throws(() => e5.rowGroup(), /column 'id' has 0 values, row group has 1 rows/);
});

test('flat Parquet: nothing is committed when a write fails; the writer aborts', async () => {
  let aborted = false;
  let committed = false;
  const out: AtomicWriter = {
    async write() {
      throw new Error('disk full');
    },
    async commit() {
      committed = true;
    },
    async abort() {
      aborted = true;
    },
  };
  const w = new FlatParquetWriter(out, COLUMNS);
  w.add(rows(1)[0]!);
  await assert.rejects(w.close(), /disk full/);
  assert.ok(aborted);
  assert.ok(!committed);
});

test('TaskAudit.dropSpan writes the record drop() writes: the same drops file, counts and samples, with details as a string or as UTF-8 bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-flat-'));
  try {
    const viaDrop = new TaskAudit(join(dir, 'drop'), 0);
    const viaSpan = new TaskAudit(join(dir, 'span'), 0);
    const viaBytes = new TaskAudit(join(dir, 'bytes'), 0);
    // One reused buffer, as the dedup hands its details over (bigger than any value here: the
    // audit must copy only `length` bytes of it).
    const scratch = { bytes: new Uint8Array(4096).fill(0x7b), length: 0 };
    // Enough spans for two row groups and a full sample reservoir; a url and non-ASCII text too.
    for (let i = 0; i < 9000; i++) {
      const doc = { id: `doc-${i >> 3}`, text: 'unused', meta: i % 5 === 0 ? { url: `https://example.org/${i}` } : {} };
      const text = `repeated line ${i % 40} — ü`;
      const details = { keptId: i % 3 ? (i % 7 ? `doc-${i % 17}` : `dé→😀-${i % 17}`) : null, group: '0123456789abcdef', unit: i % 40, start: 7 * i, end: 7 * i + text.length };
      viaDrop.drop('dedup.paragraphs', { id: doc.id, text, meta: doc.meta }, 'dedup.duplicateLine', undefined, details);
      viaSpan.dropSpan('dedup.paragraphs', doc, text, 'dedup.duplicateLine', JSON.stringify(details));
      const json = Buffer.from(JSON.stringify(details));
      scratch.bytes.set(json);
      scratch.length = json.length;
      viaBytes.dropSpan('dedup.paragraphs', doc, text, 'dedup.duplicateLine', scratch);
      scratch.bytes.fill(0x7b, 0, json.length);
    }
    const a = await viaDrop.close();
    const b = await viaSpan.close();
    const c = await viaBytes.close();
    assert.deepEqual(viaSpan.operators, viaDrop.operators);
    assert.deepEqual(viaBytes.operators, viaDrop.operators);
    assert.equal(a.length, b.length);
    assert.equal(a.length, c.length);
    for (let i = 0; i < a.length; i++) {
      assert.ok(readFileSync(a[i]!).equals(readFileSync(b[i]!)), `${b[i]} differs from ${a[i]}`);
      assert.ok(readFileSync(a[i]!).equals(readFileSync(c[i]!)), `${c[i]} differs from ${a[i]}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
