import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { read } from '../../../index.ts';
import { readSource } from '../../../engine/testing.ts';
import { writeDocsParquet, writeTableParquet } from '../../../engine/parquet.ts';
import { tempProject } from '../../helpers/cli.ts';

async function* batches<T>(xs: T[]) {
  yield xs;
}

test('read.parquet round-trips Sluice doc datasets exactly, tokens included', async () => {
  const dir = tempProject();
  const docs = [
    { id: 'a', text: 'first', meta: { url: 'https://x/a', lang: 'en', quality: { gopher: { pass: true } } } },
    { id: 'b', text: 'second ü', meta: { n: 2 }, tokens: new Uint32Array([5, 70000, 1]) },
  ];
  await writeDocsParquet(join(dir, 'docs.parquet'), batches(docs));
  const { out, audit } = await readSource(read.parquet('*.parquet'), { baseDir: dir });
  assert.equal(audit.skips.length, 0);
  assert.deepEqual(out.map((d) => (d.tokens ? { ...d, tokens: [...d.tokens] } : d)), [
    { id: 'a', text: 'first', meta: { url: 'https://x/a', lang: 'en', quality: { gopher: { pass: true } } } },
    { id: 'b', text: 'second ü', meta: { n: 2 }, tokens: [5, 70000, 1] },
  ]);
});

test('read.parquet reads other Parquet files: a text column, other columns become meta, bad rows are skipped', async () => {
  const dir = tempProject();
  const t = new arrow.Table({
    content: arrow.vectorFromArray(['alpha', null, 'gamma'], new arrow.Utf8()),
    score: arrow.vectorFromArray([0.5, 0.1, 0.9], new arrow.Float64()),
    n: arrow.vectorFromArray([1n, 2n, 3n], new arrow.Int64()),
  });
  await writeTableParquet(join(dir, 'hf.parquet'), t);
  const { out, audit } = await readSource(read.parquet('hf.parquet', { textField: 'content' }), { baseDir: dir });
  assert.deepEqual(out.map((d) => [d.id, d.text, d.meta.score, d.meta.n]), [
    ['hf.parquet#0', 'alpha', 0.5, 1],
    ['hf.parquet#2', 'gamma', 0.9, 3],
  ]);
  assert.deepEqual(audit.skips.map((s) => [s.input, s.reason]), [['hf.parquet#1', 'not a document']]);
  await assert.rejects(readSource(read.parquet('hf.parquet'), { baseDir: dir }), /hf\.parquet: no column 'text' \(columns: content, score, n\)/);
});

test('read.parquet: a file of which no row is a document fails its task, naming the file', async () => {
  const dir = tempProject();
  const t = new arrow.Table({ text: arrow.vectorFromArray([null, null], new arrow.Utf8()), n: arrow.vectorFromArray([1, 2], new arrow.Float64()) });
  await writeTableParquet(join(dir, 'nulls.parquet'), t);
  await assert.rejects(readSource(read.parquet('nulls.parquet'), { baseDir: dir }), /read\.parquet nulls\.parquet: no record could be read: 2 record\(s\) skipped \(not a document ×2\)/);
});
