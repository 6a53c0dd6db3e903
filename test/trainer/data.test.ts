import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readShardHeader } from '../../trainer/data/bin.ts';
import { BIN_HEADER_BYTES, encodeBin, parseBinHeader } from '../../formats/bin.ts';
import { BatchIterator, TokenStream, describeShards, splitStreams } from '../../trainer/data/loader.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-trainer-data-'));
const shard = (name: string, tokens: number[], width?: 2 | 4) => {
  const p = join(dir, name);
  writeFileSync(p, encodeBin(tokens, width));
  return p;
};
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test('.bin header: magic, version, count; uint16 when ids fit, uint32 otherwise', async () => {
  const a = encodeBin([1, 2, 65535]);
  assert.deepEqual(parseBinHeader(a, 'a'), { magic: 20240520, version: 1, tokens: 3, bytesPerToken: 2 });
  assert.equal(a.byteLength, BIN_HEADER_BYTES + 6);
  const b = encodeBin([1, 70000]);
  assert.deepEqual(parseBinHeader(b, 'b'), { magic: 20240520, version: 2, tokens: 2, bytesPerToken: 4 });
  assert.throws(() => encodeBin([70000], 2), /does not fit uint16/);
  assert.throws(() => encodeBin([1.5]), /not a uint32/);
  const bad = new Uint8Array(1024);
  assert.throws(() => parseBinHeader(bad, 'x.bin'), /x\.bin: not a token shard \(magic 0, version 0/);
  assert.throws(() => parseBinHeader(new Uint8Array(10), 'y.bin'), /y\.bin: 10 bytes, shorter than the 1024-byte shard header/);
  // truncated body
  const p = join(dir, 'trunc.bin');
  writeFileSync(p, encodeBin(range(0, 100)).subarray(0, BIN_HEADER_BYTES + 50));
  await assert.rejects(readShardHeader(p), /trunc\.bin: header says 100 tokens \(1224 bytes\) but the file has 1074 bytes/);
});

test('TokenStream reads across shard boundaries (mixed widths) with small windows', async () => {
  const s1 = shard('s1.bin', range(0, 10));
  const s2 = shard('s2.bin', range(10, 13), 4);
  const s3 = shard('s3.bin', range(13, 40));
  const st = new TokenStream(await describeShards([s1, s2, s3]), 0, undefined, undefined, 4);
  assert.equal(st.length, 40);
  assert.deepEqual([...(await st.read(7, 10))], range(7, 17));
  assert.deepEqual([...(await st.read(0, 40))], range(0, 40));
  const sub = new TokenStream(await describeShards([s1, s2, s3]), 5, 20);
  assert.deepEqual([...(await sub.read(0, 15))], range(5, 20));
  await assert.rejects(sub.read(10, 6), /outside a stream of 15 tokens/);
});

test('BatchIterator: B·T+1 contiguous tokens, targets shifted by one, wraps to a new epoch, resumes from its position', async () => {
  const s = shard('b.bin', range(0, 50));
  const st = new TokenStream(await describeShards([s]));
  const it = new BatchIterator(st, 2, 4);
  const b1 = await it.next();
  assert.deepEqual([...b1.x], range(0, 8));
  assert.deepEqual([...b1.y], range(1, 9));
  const seen = [b1];
  for (let i = 0; i < 6; i++) seen.push(await it.next());
  // 50 tokens hold 6 batches (pos 0..40 step 8, each needing 9); the 7th wraps.
  assert.deepEqual([...seen[5]!.x], range(40, 48));
  assert.deepEqual([...seen[6]!.x], range(0, 8));
  assert.deepEqual(it.position, { pos: 8, epoch: 1 });
  const resumed = new BatchIterator(st, 2, 4, { pos: 40, epoch: 0 });
  assert.deepEqual([...(await resumed.next()).x], range(40, 48));
  assert.throws(() => new BatchIterator(new TokenStream(st.shards, 0, 8), 2, 4), /8 tokens is less than one batch \(2×4\+1\)/);
});

test('splitStreams: validation shards, or the tail held out', async () => {
  const t = shard('t.bin', range(0, 1000));
  const v = shard('v.bin', range(0, 100));
  const a = await splitStreams([t], [v], undefined, 33);
  assert.equal(a.train.length, 1000);
  assert.equal(a.val.length, 100);
  const b = await splitStreams([t], undefined, undefined, 33);
  // 5% = 50 tokens held out
  assert.equal(b.train.length, 950);
  assert.deepEqual([...(await b.val.read(0, 3))], [950, 951, 952]);
  const c = await splitStreams([t], undefined, 10, 33);
  assert.equal(c.val.length, 33, 'at least one batch is held out');
  await assert.rejects(splitStreams([t], undefined, 990, 33), /1000 tokens cannot hold a validation split of 990/);
  await assert.rejects(describeShards([]), /no token shards/);
});

test('trainer/torch/gpu_data.ts (the GPU bench data step) writes GPT-2-token train/val shards split 90/10', async () => {
  const input = join(dir, 'gpu-input.txt');
  writeFileSync(input, 'First Citizen:\nBefore we proceed any further, hear me speak.\n'.repeat(40));
  const out = join(dir, 'gpu-data');
  const r = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'trainer/torch/gpu_data.ts', input, out], { encoding: 'utf8' }));
  const train = await readShardHeader(join(out, 'train.bin'));
  const val = await readShardHeader(join(out, 'val.bin'));
  assert.equal(train.tokens + val.tokens, r.tokens);
  assert.equal(train.tokens, Math.floor(r.tokens * 0.9));
  // GPT-2 BPE: "First" is token 5962, " Citizen" 22307.
  const b = readFileSync(join(out, 'train.bin'));
  assert.deepEqual([b.readUInt16LE(BIN_HEADER_BYTES), b.readUInt16LE(BIN_HEADER_BYTES + 2)], [5962, 22307]);
});
