import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDocsParquet } from '../../engine/parquet.ts';
import { openDataset } from '../../engine/runtime.ts';
import type { Doc, Manifest } from '../../engine/types.ts';
import { narrowTokens, tokenDtype } from '../../formats/tokens.ts';

async function dataset(docs: Doc[]) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-doc-'));
  const w = await writeDocsParquet(join(dir, 'part-00000.parquet'), (async function* () {
    yield docs;
  })());
  const manifest: Manifest = {
    format: 'sluice.dataset/1', pipeline: 'p', stage: 's', fingerprint: 'f', output: 'docs', tasks: 1,
    files: [{ path: 'part-00000.parquet', task: 0, ...w }], rows: w.rows, bytes: w.bytes, stats: { operators: {}, skipped: {} },
  };
  return { dir, ds: openDataset('s', dir, manifest) };
}

const docs: Doc[] = [
  { id: 'a', text: 'alpha text', meta: { url: 'http://a/', lang: 'en' }, tokens: Uint32Array.of(1, 70_000, 2) },
  { id: 'b', text: 'beta', meta: {} },
];

test('doc datasets round-trip token ids as uint32, whatever their values', async () => {
  const { dir, ds } = await dataset(docs);
  try {
    const out: Doc[] = [];
    for await (const b of ds.readDocs()) out.push(...b);
    assert.deepEqual(out, docs);
    assert.ok(out[0]!.tokens instanceof Uint32Array);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readDocs({ columns }) reads only the projected columns', async () => {
  const { dir, ds } = await dataset(docs);
  try {
    const out: Doc[] = [];
    for await (const b of ds.readDocs(undefined, { columns: ['id', 'url', 'tokens'] })) out.push(...b);
    assert.deepEqual(out, [
      { id: 'a', text: '', meta: { url: 'http://a/' }, tokens: Uint32Array.of(1, 70_000, 2) },
      { id: 'b', text: '', meta: {} },
    ], 'text and meta are not read');
    await assert.rejects(async () => {
      for await (const _ of ds.readDocs(undefined, { columns: ['id', 'txt' as 'text'] }));
    }, /unknown doc column 'txt'; columns are id, text, url, meta, tokens/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('token width: one rule, uint16 exactly when the vocabulary fits', () => {
  assert.equal(tokenDtype(50257), 'uint16');
  assert.equal(tokenDtype(65536), 'uint16');
  assert.equal(tokenDtype(65537), 'uint32');
  assert.throws(() => tokenDtype(0), /vocabulary size must be a positive integer/);
  const t = Uint32Array.of(0, 65535);
  assert.deepEqual(narrowTokens(t, 'uint16'), Uint16Array.of(0, 65535));
  assert.equal(narrowTokens(t, 'uint32'), t);
  assert.throws(() => narrowTokens(Uint32Array.of(3, 65536), 'uint16'), /token id 65536 at position 1 does not fit uint16/);
});
