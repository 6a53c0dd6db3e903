import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalSorter, compareKeys, encodeRecord, mergeRunColumns, mergeRuns, readRun } from '../../../operators/dedup/extsort.ts';
import { storage } from '../../../engine/storage/index.ts';
import { rng } from '../../../bench/dedup-corpus.ts';

test('external sort with a tiny buffer spills many runs and merges them in several passes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'extsort-'));
  try {
    const rand = rng(3);
    const parts = 3;
    const runs: string[][] = [[], [], []];
    const sorter = new ExternalSorter({
      keyWords: 3,
      partitions: parts,
      bufferBytes: 2048,
      async spill(p, run, bytes) {
        const path = join(dir, `p${p}-r${run}.run`);
        await storage.write(path, bytes);
        runs[p]!.push(path);
      },
    });
    const expected: Array<Array<{ key: number[]; payload: string }>> = [[], [], []];
    for (let i = 0; i < 3000; i++) {
      // Small key ranges so equal keys happen and payloads must keep arrival order.
      const key = [Math.floor(rand() * 50), Math.floor(rand() * 4), Math.floor(rand() * 3)];
      // One payload past the columnar merge's first 64 KiB batch buffer, so it must grow.
      const payload = i === 1500 ? 'x'.repeat(70_000) : rand() < 0.3 ? '' : `payload-${i}`;
      const p = i % parts;
      await sorter.add(p, key, payload ? Buffer.from(payload) : undefined);
      expected[p]!.push({ key, payload });
    }
    await sorter.finish();
    assert.ok(sorter.runs > 20, `tiny buffer forced ${sorter.runs} spills`);
    const scratch = join(dir, 'scratch');
    for (let p = 0; p < parts; p++) {
      const want = expected[p]!.slice().sort((a, b) => compareKeys(Uint32Array.from(a.key), Uint32Array.from(b.key)));
      const got: Array<{ key: number[]; payload: string }> = [];
      for await (const r of mergeRuns(runs[p]!, { keyWords: 3, fanIn: 3, tmpDir: scratch })) got.push({ key: Array.from(r.key), payload: Buffer.from(r.payload).toString() });
      assert.deepEqual(got, want, `partition ${p}: sorted, stable for equal keys`);
      // The columnar merge (reused batch arrays, 7 records a batch here) gives the same records.
      const cols: Array<{ key: number[]; payload: string }> = [];
      for await (const b of mergeRunColumns(runs[p]!, { keyWords: 3, fanIn: 3, tmpDir: scratch, batch: 7 })) {
        for (let i = 0; i < b.count; i++) cols.push({ key: Array.from(b.keys.subarray(i * 3, i * 3 + 3)), payload: Buffer.from(b.payloads.subarray(b.payloadStart[i], b.payloadStart[i + 1])).toString() });
      }
      assert.deepEqual(cols, want, `partition ${p}: columnar merge`);
    }
    assert.deepEqual(readdirSync(scratch), [], 'intermediate runs are removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('more runs than the fan-in without a scratch directory is a clear error', async () => {
  const runs = [1, 2, 3].map((k) => encodeRecord([k]));
  await assert.rejects(async () => {
    for await (const _ of mergeRuns(runs, { keyWords: 1, fanIn: 2 })) void _;
  }, /exceed fanIn 2 and no tmpDir/);
  const merged: number[] = [];
  for await (const r of mergeRuns(runs, { keyWords: 1, fanIn: 8 })) merged.push(r.key[0]!);
  assert.deepEqual(merged, [1, 2, 3]);
});

test('a truncated run is an error, not silently short', async () => {
  const rec = encodeRecord([7, 8], Buffer.from('abc'));
  await assert.rejects(async () => {
    const short = (async function* () {
      yield rec.subarray(0, 5);
      yield rec.subarray(5, rec.length - 1);
    })();
    for await (const _ of readRun(short, 2)) void _;
  }, /truncated/);
});

test('a large in-memory run sorts like the stable comparison sort (radix path, big tie groups, high key bits)', async () => {
  const rand = rng(11);
  let bytes: Uint8Array = new Uint8Array(0);
  const sorter = new ExternalSorter({ keyWords: 3, bufferBytes: 64 << 20, spill: async (_p, _r, b) => void (bytes = b) });
  const recs: Array<{ key: number[]; payload: string }> = [];
  for (let i = 0; i < 5000; i++) {
    // First words: one shared value (a tie group big enough to radix-sort on the next word), a few
    // values with high bits set (groups of ~40), or full-range randoms.
    const u = rand();
    const w0 = u < 0.6 ? 0xdeadbeef : u < 0.8 ? (Math.floor(rand() * 50) * 0x01010101) >>> 0 : Math.floor(rand() * 2 ** 32);
    const key = [w0, (Math.floor(rand() * 2 ** 32) & 0xffff000f) >>> 0, Math.floor(rand() * 2)];
    recs.push({ key, payload: `p${i}` });
    await sorter.add(0, key, Buffer.from(`p${i}`));
  }
  await sorter.finish();
  const want = recs.slice().sort((a, b) => compareKeys(Uint32Array.from(a.key), Uint32Array.from(b.key)));
  const got: Array<{ key: number[]; payload: string }> = [];
  for await (const r of mergeRuns([bytes], { keyWords: 3 })) got.push({ key: Array.from(r.key), payload: Buffer.from(r.payload).toString() });
  assert.deepEqual(got, want);
});
