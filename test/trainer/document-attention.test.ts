import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor1D } from '@tensorflow/tfjs';
import { encodeBin } from '../../formats/bin.ts';
import { fullModelConfig, type ModelConfig } from '../../formats/model.ts';
import { bestFitDecreasing } from '../../operators/shard/bfd.ts';
import { encodeSafetensors, type NamedArray } from '../../trainer/checkpoint.ts';
import { BatchIterator, TokenStream, describeShards, type Batch } from '../../trainer/data/loader.ts';
import { initTfjs } from '../../trainer/tfjs/backend.ts';
import { TfjsGPT, initialValues, parameterShapes } from '../../trainer/tfjs/model.ts';
import { targetLogprobs } from '../../trainer/tfjs/ops.ts';
import { Rng } from '../../trainer/tfjs/rng.ts';
import { findPython, TORCH_DIR } from '../../trainer/torch/runner.ts';

const T = 16;
const V = 64;
const dir = mkdtempSync(join(tmpdir(), 'sluice-docattn-'));

/** Docs packed best-fit decreasing into rows of T (pads 0 at mask 0, first doc token at mask 0), plus one full last row. */
function packedShard(): { bin: string; docs: number[][]; at: number[]; rows: number } {
  let s = 11;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
  const lens = [5, 9, 3, 12, 7, 4, 6, 10, 2, 8];
  const docs = lens.map((n) => Array.from({ length: n }, () => 1 + Math.floor(rand() * (V - 1))));
  const rows = bestFitDecreasing(lens, T);
  const tokens: number[] = [];
  const mask: number[] = [];
  const starts: number[] = [];
  const at = new Array<number>(docs.length);
  for (const row of rows) {
    for (const i of row) {
      at[i] = tokens.length;
      starts.push(tokens.length);
      docs[i]!.forEach((t, k) => {
        tokens.push(t);
        // Even docs: a prompt (first half, untrained) and an answer; odd docs all trained.
        mask.push(k === 0 ? 0 : i % 2 === 0 && k < docs[i]!.length / 2 ? 0 : 1);
      });
    }
    while (tokens.length % T) {
      tokens.push(0);
      mask.push(0);
    }
  }
  starts.push(tokens.length);
  for (let k = 0; k < T; k++) {
    tokens.push(1 + k);
    mask.push(k ? 1 : 0);
  }
  const bin = join(dir, 'train-00000.bin');
  writeFileSync(bin, encodeBin(tokens));
  writeFileSync(join(dir, 'train-00000.docs'), new Uint8Array(Uint32Array.from(starts).buffer));
  writeFileSync(join(dir, 'train-00000.mask'), Uint8Array.from(mask));
  return { bin, docs, at, rows: rows.length };
}

const shard = packedShard();
const B = shard.rows; // every packed row; the extra last row supplies the +1 target token
const configs: Array<[string, ModelConfig]> = [
  ['learned', { vocabSize: V, contextLength: T, layers: 2, dModel: 32, heads: 4 }],
  ['rotary', { vocabSize: V, contextLength: T, layers: 2, dModel: 32, heads: 4, positions: 'rotary', tiedHead: false }],
];

/** Per-token −log p of a batch on the tfjs model, with or without the document layout. */
function nll(model: TfjsGPT, b: Batch, rows: number, layout: boolean): Float32Array {
  const tf = model.tf;
  return tf.tidy(() => {
    const logits = model.logits(b.x, rows, b.x.length / rows, layout ? { segments: b.segments!, positions: b.positions! } : undefined);
    return tf.neg(targetLogprobs(tf, logits, tf.tensor1d(b.y, 'int32') as Tensor1D)).dataSync() as Float32Array;
  });
}

test('tfjs document attention: a packed batch and the same documents one by one give the same per-token losses (1e-5), learned and rotary; the masked loss is the mean over trained targets', async () => {
  const tf = await initTfjs({ backend: 'wasm' });
  const stream = new TokenStream(await describeShards([shard.bin], undefined, { docs: true }));
  const b = await new BatchIterator(stream, B, T, undefined, 'document').next();
  // A target that starts a document is never trained; the shard's mask is carried over.
  for (const p of shard.at) if (p > 0) assert.equal(b.mask![p - 1], 0);
  assert.equal(b.positions![shard.at[0]!], 0);
  for (const [name, spec] of configs) {
    const model = new TfjsGPT(tf, fullModelConfig(spec), initialValues(fullModelConfig(spec), new Rng(5)));
    try {
      const packed = nll(model, b, B, true);
      let worst = 0;
      shard.docs.forEach((doc, i) => {
        const alone = nll(model, { x: Int32Array.from(doc.slice(0, -1)), y: Int32Array.from(doc.slice(1)) }, 1, false);
        for (let k = 0; k < doc.length - 1; k++) worst = Math.max(worst, Math.abs(packed[shard.at[i]! + k]! - alone[k]!));
      });
      assert.ok(worst < 1e-5, `${name}: packed vs one-by-one differ by ${worst}`);
      // Without the layout (causal over the row) the documents packed after others see other losses.
      const causal = nll(model, b, B, false);
      const later = shard.at.filter((p) => p % T > 0);
      assert.ok(later.some((p) => Math.abs(causal[p]! - packed[p]!) > 1e-3), `${name}: causal attention should differ`);
      // The masked loss: Σ mask·nll / Σ mask (one mean over the batch's trained tokens).
      let sum = 0;
      let n = 0;
      b.mask!.forEach((m, i) => {
        sum += m * packed[i]!;
        n += m;
      });
      const loss = tf.tidy(() => model.loss(b.x, b.y, B, T, { mask: b.mask!, layout: { segments: b.segments!, positions: b.positions! } }).dataSync()[0]!);
      assert.ok(Math.abs(loss - sum / n) < 1e-5, `${name}: masked loss ${loss} vs ${sum / n}`);
    } finally {
      model.dispose();
    }
  }
});

const python = findPython();

test('torch document attention: packed == one by one (1e-5), the same batch mask and segments as the TS loader, the same per-token losses as tfjs (1e-4)', { skip: python ? false : 'skipped: no python3 with torch' }, async () => {
  const tf = await initTfjs({ backend: 'wasm' });
  const stream = new TokenStream(await describeShards([shard.bin], undefined, { docs: true }));
  const b = await new BatchIterator(stream, B, T, undefined, 'document').next();
  for (const [name, spec] of configs) {
    const cfg = fullModelConfig(spec);
    const values = initialValues(cfg, new Rng(9));
    const tensors = new Map<string, NamedArray>(parameterShapes(cfg).map(([n, shape]) => [n, { shape, data: values.get(n)! }]));
    const weights = join(dir, `${name}.safetensors`);
    writeFileSync(weights, encodeSafetensors(tensors));
    const py = `
import json, sys
sys.path.insert(0, ${JSON.stringify(TORCH_DIR)})
import torch
from gpt import GPT, Batches, TokenStream, load_canonical, read_safetensors
cfg = json.loads(sys.argv[1]); B, T = int(sys.argv[3]), int(sys.argv[4])
m = GPT(cfg); load_canonical(m, read_safetensors(sys.argv[2])); m.eval()
x, y, e = Batches(TokenStream([sys.argv[5]], docs=True), B, T, attention='document').next()
with torch.no_grad():
    lp = torch.log_softmax(m(x, segments=e['segments'], positions=e['positions']).float(), -1)
    packed = -lp.gather(-1, y[..., None]).reshape(-1)
    docs, at = json.loads(sys.argv[6]), json.loads(sys.argv[7])
    worst = 0.0
    for d, p in zip(docs, at):
        a = torch.log_softmax(m(torch.tensor([d[:-1]])).float(), -1)
        alone = -a.gather(-1, torch.tensor([d[1:]])[..., None]).reshape(-1)
        worst = max(worst, float((packed[p:p + len(d) - 1] - alone).abs().max()))
    loss = float(m(x, y, mask=e['mask'], segments=e['segments'], positions=e['positions']))
print(json.dumps({'worst': worst, 'packed': packed.tolist(), 'mask': e['mask'].reshape(-1).tolist(), 'segments': e['segments'].reshape(-1).tolist(), 'positions': e['positions'].reshape(-1).tolist(), 'loss': loss}))
`;
    const r = spawnSync(python!, ['-c', py, JSON.stringify(cfg), weights, String(B), String(T), shard.bin, JSON.stringify(shard.docs), JSON.stringify(shard.at)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { worst: number; packed: number[]; mask: number[]; segments: number[]; positions: number[]; loss: number };
    assert.ok(out.worst < 1e-5, `${name}: torch packed vs one-by-one differ by ${out.worst}`);
    assert.deepEqual(out.mask, [...b.mask!], 'the same mask as the TS loader');
    assert.deepEqual(out.segments, [...b.segments!], 'the same segments');
    assert.deepEqual(out.positions, [...b.positions!], 'the same positions');
    const model = new TfjsGPT(tf, cfg, values);
    try {
      const packed = nll(model, b, B, true);
      const diff = Math.max(...out.packed.map((v, i) => Math.abs(v - packed[i]!)));
      assert.ok(diff < 1e-4, `${name}: tfjs vs torch per-token losses differ by ${diff}`);
      const loss = tf.tidy(() => model.loss(b.x, b.y, B, T, { mask: b.mask!, layout: { segments: b.segments!, positions: b.positions! } }).dataSync()[0]!);
      assert.ok(Math.abs(loss - out.loss) < 1e-4, `${name}: masked loss tfjs ${loss} vs torch ${out.loss}`);
    } finally {
      model.dispose();
    }
  }
});
