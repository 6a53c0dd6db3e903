import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDocsParquet, writeDocsParquet } from '../../engine/parquet.ts';
import type { Doc } from '../../engine/types.ts';
import { docsToTable } from '../../formats/doc.ts';

test('loss_mask column: round-trips through Parquet, absent reads as unmasked, projects alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mask-'));
  try {
    const docs: Doc[] = [
      { id: 'a', text: 'x', meta: {}, tokens: Uint32Array.of(5, 6, 7), lossMask: Uint8Array.of(0, 1, 1) },
      { id: 'b', text: 'y', meta: {}, tokens: Uint32Array.of(8) },
    ];
    const uri = join(dir, 'part.parquet');
    await writeDocsParquet(uri, (async function* () { yield docs; })());
    const back: Doc[] = [];
    for await (const b of readDocsParquet(uri)) back.push(...b);
    assert.deepEqual([...back[0]!.lossMask!], [0, 1, 1]);
    assert.equal(back[1]!.lossMask, undefined);
    const proj: Doc[] = [];
    for await (const b of readDocsParquet(uri, { columns: ['tokens', 'loss_mask'] })) proj.push(...b);
    assert.deepEqual([...proj[0]!.lossMask!], [0, 1, 1]);
    assert.deepEqual([...proj[0]!.tokens!], [5, 6, 7]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loss_mask column: a mask whose length differs from the tokens is rejected, naming the doc', () => {
  assert.throws(() => docsToTable([{ id: 'bad', text: '', meta: {}, tokens: Uint32Array.of(1, 2), lossMask: Uint8Array.of(1) }]), /doc bad: loss mask has 1 entries for 2 tokens/);
});
