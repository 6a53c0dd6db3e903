/**
 * Row groups are what bound a Parquet writer's memory: parquet-wasm's encoder (docs) and the
 * flat encoder (the audit) hold the row group in progress until it is cut. These tests check the
 * cuts, on the doc writer and on the audit writer: the property behind "a task's memory does not
 * grow with its output".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openAsBlob, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWasm, readDocsParquet, ROW_GROUP_BYTES, ROW_GROUP_ROWS, writeDocsParquet } from '../../engine/parquet.ts';
import { TaskAudit } from '../../engine/audit.ts';
import type { Doc } from '../../engine/types.ts';

/** The rows of each row group of a Parquet file. */
async function rowGroups(path: string): Promise<number[]> {
  const md = (await parquetWasm().ParquetFile.fromFile((await openAsBlob(path)) as Blob)).metadata();
  return Array.from({ length: md.numRowGroups() }, (_, i) => md.rowGroup(i).numRows());
}

test('the doc writer cuts a row group every ROW_GROUP_ROWS rows, across batches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rg-'));
  try {
    const path = join(dir, 'part-00000.parquet');
    const n = 3 * ROW_GROUP_ROWS + 10;
    // Batches of 1,000 docs: the cuts do not follow the batches the writer is handed.
    const w = await writeDocsParquet(
      path,
      (async function* () {
        for (let i = 0; i < n; i += 1000) yield Array.from({ length: Math.min(1000, n - i) }, (_, j): Doc => ({ id: `d${i + j}`, text: `text of doc ${i + j}`, meta: {} }));
      })(),
    );
    assert.equal(w.rows, n);
    assert.deepEqual(await rowGroups(path), [ROW_GROUP_ROWS, ROW_GROUP_ROWS, ROW_GROUP_ROWS, 10]);
    const ids: string[] = [];
    for await (const b of readDocsParquet(path, { batchSize: 5000 })) for (const d of b) ids.push(d.id);
    assert.equal(ids.length, n);
    assert.deepEqual([ids[0], ids[ROW_GROUP_ROWS], ids[n - 1]], ['d0', `d${ROW_GROUP_ROWS}`, `d${n - 1}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the doc writer also cuts row groups by size, so a few huge docs are not one row group', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rg-'));
  try {
    const path = join(dir, 'part-00000.parquet');
    // 48 docs of 1 MiB of base64 (incompressible past ~3/4): about 36 MiB encoded, over the cap.
    const docs: Doc[] = Array.from({ length: 48 }, (_, i) => ({ id: `big${i}`, text: randomBytes(786432).toString('base64'), meta: {} }));
    await writeDocsParquet(
      path,
      (async function* () {
        for (let i = 0; i < docs.length; i += 4) yield docs.slice(i, i + 4);
      })(),
    );
    const groups = await rowGroups(path);
    assert.ok(groups.length >= 2, `36 MiB of encoded text should make ≥ 2 row groups of ≤ ${ROW_GROUP_BYTES} bytes, got ${groups.join(', ')}`);
    assert.equal(groups.reduce((a, b) => a + b, 0), docs.length);
    let i = 0;
    for await (const b of readDocsParquet(path, { batchSize: 7 })) for (const d of b) assert.equal(d.text, docs[i++]!.text);
    assert.equal(i, docs.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the audit writer writes its drops as row groups of 8,192 rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rg-'));
  try {
    const audit = new TaskAudit(join(dir, '_audit'), 0);
    const n = 2 * 8192 + 3;
    for (let i = 0; i < n; i++) audit.drop('dedup.paragraphs', { id: `d${i}`, text: `span ${i}`, meta: {} }, 'dedup.duplicateLine', undefined, { keptId: 'k', start: i, end: i + 6 });
    const files = await audit.close();
    const drops = files.find((f) => f.endsWith('drops-00000.parquet'));
    assert.ok(drops, `drops file in ${files.join(', ')}`);
    assert.deepEqual(await rowGroups(drops), [8192, 8192, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
