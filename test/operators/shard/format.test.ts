import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binHeader, readBin, BIN_HEADER_BYTES } from '../../../formats/bin.ts';
import { encodeShard, sequenceOrder, shardOfTask, splitPlan } from '../../../operators/shard/write.ts';
import { parseBinHeader } from '../../../formats/bin.ts';

test('sequenceOrder is a seeded, deterministic permutation (identity without shuffle)', () => {
  const a = sequenceOrder(1000, true, 7);
  const b = sequenceOrder(1000, true, 7);
  const c = sequenceOrder(1000, true, 8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual([...sequenceOrder(5, false, 7)], [0, 1, 2, 3, 4]);
  // Not a near-identity: few fixed points.
  assert.ok([...a].filter((v, i) => v === i).length < 10);
});

test('splitPlan and shardOfTask cover every position exactly once', () => {
  const plan = splitPlan(1003, { valFraction: 0.1, shardSequences: 100 });
  assert.deepEqual(plan, { val: 100, train: 903, trainShards: 10, valShards: 1 });
  const covered: number[] = [];
  for (let t = 0; t < plan.trainShards + plan.valShards; t++) {
    const s = shardOfTask(t, plan, 100);
    for (let p = s.from; p < s.to; p++) covered.push(p);
    assert.equal(s.name, t < 10 ? `train-${String(t).padStart(5, '0')}` : 'val-00000');
  }
  assert.deepEqual(covered, Array.from({ length: 1003 }, (_, i) => i));
  assert.deepEqual(splitPlan(1, { valFraction: 0.1, shardSequences: 10 }), { val: 0, train: 1, trainShards: 1, valShards: 0 });
  assert.deepEqual(splitPlan(0, { valFraction: 0.1, shardSequences: 10 }), { val: 0, train: 0, trainShards: 0, valShards: 0 });
});

test('.bin shards: the nanoGPT/llm.c header, uint16 and uint32, read back by ours and by the trainer', () => {
  const t16 = Uint16Array.from([1, 2, 3, 65535, 0, 7]);
  const { data, docs } = encodeShard('bin', t16, Uint32Array.of(4, 9), [[0, 2], [1]], 3);
  assert.equal(data.byteLength, BIN_HEADER_BYTES + 12);
  const dv = new DataView(data.buffer);
  assert.deepEqual([dv.getInt32(0, true), dv.getInt32(4, true), dv.getInt32(8, true)], [20240520, 1, 6]);
  assert.deepEqual(parseBinHeader(data, 'x.bin'), { magic: 20240520, version: 1, tokens: 6, bytesPerToken: 2 });
  assert.deepEqual([...readBin(data).tokens], [...t16]);
  assert.deepEqual([...new Uint32Array(docs!.buffer)], [0, 2, 4], 'doc starts as positions in the shard stream');
  const t32 = Uint32Array.from([100000, 5]);
  const wide = encodeShard('bin', t32, Uint32Array.of(0), [[]], 2).data;
  assert.equal(parseBinHeader(wide, 'y.bin').bytesPerToken, 4);
  assert.deepEqual([...readBin(wide).tokens], [100000, 5]);
  assert.throws(() => readBin(data.subarray(0, 100), 'short.bin'), /short\.bin: 100 bytes/);
  assert.throws(() => readBin(data.subarray(0, data.length - 2), 'cut.bin'), /cut\.bin: header says 6 tokens/);
  assert.throws(() => binHeader(2 ** 31, 'uint16'), /at most 2\^31/);
});

test('arrow shards: one row per sequence with seq, tokens, doc_starts and loss_mask', () => {
  const { data } = encodeShard('arrow', Uint16Array.from([1, 2, 3, 4, 5, 6]), Uint32Array.of(10, 3), [[0], [1, 2]], 3);
  const t = arrow.tableFromIPC(data);
  assert.equal(t.numRows, 2);
  assert.deepEqual(t.schema.fields.map((f) => f.name), ['seq', 'tokens', 'doc_starts', 'loss_mask']);
  assert.deepEqual([...t.getChild('loss_mask')!.get(1)!], [1, 1, 1], 'no mask given: every token trained');
  assert.equal(t.getChild('seq')!.get(0), 10n);
  assert.deepEqual([...t.getChild('tokens')!.get(1)!], [4, 5, 6]);
  assert.deepEqual([...t.getChild('doc_starts')!.get(1)!], [1, 2]);
});

const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

test('.bin shards read with numpy exactly as nanoGPT/llm.c loaders do (header int32[256], memmap at offset 1024)', { skip: numpy ? false : 'skipped: python3 with numpy is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
  const tokens = Uint16Array.from({ length: 1000 }, (_, i) => (i * 7919) % 50257);
  const file = join(dir, 'train-00000.bin');
  writeFileSync(file, encodeShard('bin', tokens, Uint32Array.of(0), [[0]], 1000).data);
  const py = `
import json, sys, numpy as np
h = np.fromfile(sys.argv[1], dtype=np.int32, count=256)
assert h[0] == 20240520 and h[1] == 1
t = np.memmap(sys.argv[1], dtype=np.uint16, mode='r', offset=256 * 4)
assert len(t) == h[2]
print(json.dumps({"n": int(h[2]), "tokens": t.tolist()}))
`;
  const r = spawnSync('python3', ['-c', py, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { n: number; tokens: number[] };
  assert.equal(out.n, 1000);
  assert.deepEqual(out.tokens, [...tokens]);
});
