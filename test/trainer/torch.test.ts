import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainModel, type MetricsRecord, type TrainModelOptions } from '../../trainer/api.ts';
import { readModelCheckpoint } from '../../trainer/checkpoint.ts';
import { openScorer } from '../../trainer/scorer.ts';
import { encodeBin } from '../../formats/bin.ts';
import { findPython } from '../../trainer/torch/runner.ts';
import { corpusBytes, writeCorpusShard } from './helpers/corpus.ts';
import { killMidRun } from './helpers/kill.ts';
import { startProcess } from '../helpers/cli.ts';
import { REPO } from '../helpers/data.ts';

const python = findPython();
const skip = python ? false : 'skipped: no python3 with torch and numpy (Debian: apt-get install python3-torch; or set SLUICE_PYTHON)';
const dir = mkdtempSync(join(tmpdir(), 'sluice-torch-'));
const shardPath = join(dir, 'corpus.bin');
writeCorpusShard(shardPath, 40_000);
const tiny = { vocabSize: 256, contextLength: 32, layers: 2, dModel: 32, heads: 2 };
const base = (out: string, extra: Partial<TrainModelOptions> = {}): TrainModelOptions => ({
  backend: 'torch',
  model: tiny,
  steps: 16,
  batchSize: 4,
  evalEvery: 8,
  evalBatches: 2,
  checkpointEvery: 2,
  optimizer: { lr: 1e-2 },
  schedule: { warmupSteps: 3 },
  torch: { device: 'cpu', threads: 1 },
  data: { train: [shardPath], eotToken: 10 },
  outDir: join(dir, out),
  ...extra,
});
const metrics = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord);
const losses = (rs: MetricsRecord[]) => rs.flatMap((r) => (r.kind === 'train' ? [[r.step, r.loss]] : r.kind === 'val' ? [[r.step, r.valLoss]] : []));

test('torch (CPU): trains the same model, checkpoint/metrics/report; SIGKILL and restart resumes with the identical curve', { skip }, async () => {
  const ref = await trainModel(base('ref'));
  const rm = metrics(ref.metricsPath);
  assert.equal(ref.backend, 'torch');
  assert.equal(ref.steps, 16);
  assert.equal(rm.filter((m) => m.kind === 'train').length, 16);
  const first = rm.find((m) => m.kind === 'train')!;
  assert.ok(first.kind === 'train' && ref.finalLoss < first.loss - 1, `loss ${first.kind === 'train' && first.loss} → ${ref.finalLoss}`);
  assert.ok(ref.valLoss !== null && ref.mfu > 0);
  assert.match(readFileSync(ref.reportPath, 'utf8'), /<svg/);
  const ck = await readModelCheckpoint(ref.checkpoint);
  assert.equal(ck.meta.backend, 'torch');
  assert.deepEqual(ck.tensors.get('h.0.attn.c_attn.weight')!.shape, [32, 96], 'matrices stored [in, out]');

  // Kill the whole process group (node + python) once a checkpoint exists, then resume.
  const opts = base('killed');
  const state = join(opts.outDir, '_state', 'torch-state.pt');
  const killed = await killMidRun('train-child.ts', join(dir, 'killed.json'), opts, () => existsSync(state));
  assert.ok(killed, 'the child wrote a checkpoint');
  const r = await trainModel(opts);
  assert.ok(r.resumedFromStep >= 2 && r.resumedFromStep < 16, `resumed from ${r.resumedFromStep}`);
  assert.deepEqual(losses(metrics(r.metricsPath)), losses(rm));
});

test('scorer: tfjs and torch give the same log-probabilities for a checkpoint of either backend (learned and rotary)', { skip }, async () => {
  const tok = { encode: (t: string) => Array.from(Buffer.from(t)), eotId: 10 };
  const text = Buffer.from(corpusBytes(400, 9)).toString();
  const seqs = [tok.encode(text.slice(0, 33)), tok.encode(text.slice(50, 70)), [10], tok.encode(text.slice(100, 120))];
  for (const [name, extra] of [
    ['torch-learned', { steps: 4 }],
    ['tfjs-rotary', { backend: 'tfjs' as const, steps: 4, model: { ...tiny, positions: 'rotary' as const, tiedHead: false } }],
  ] as const) {
    const run = await trainModel(base(name, { ...extra, checkpointEvery: 100 }));
    const results: Float64Array[][] = [];
    const argmaxes: Int32Array[][] = [];
    for (const backend of ['tfjs', 'torch'] as const) {
      const s = await openScorer(run.checkpoint, { backend, tokenizer: tok, torch: { device: 'cpu' } });
      try {
        assert.equal(s.maxContext, 32);
        assert.equal(s.eotToken, 10);
        results.push(await s.logprobs(seqs));
        // One forward gives both; the argmax token is at least as likely as the actual next one.
        const both = await s.logprobsWithArgmax!(seqs);
        assert.deepEqual(both.logprobs, results.at(-1), `${name}/${backend}: same logprobs with the argmax`);
        assert.deepEqual(both.argmax.map((a) => a.length), [32, 19, 0, 19]);
        const seq = seqs[0]!;
        const alt = await s.logprobs(seq.slice(0, -1).map((_, j) => [...seq.slice(0, j + 1), both.argmax[0]![j]!]));
        alt.forEach((a, j) => assert.ok(a.at(-1)! >= both.logprobs[0]![j]! - 1e-6, `${name}/${backend} position ${j}: argmax ${both.argmax[0]![j]} less likely than token ${seq[j + 1]}`));
        argmaxes.push(both.argmax);
        // With a tail, only the last k positions are scored: the same values as the full answer's end.
        const tails = [5, 19, 0, 1];
        const part = await s.logprobsWithArgmax!(seqs, tails);
        part.logprobs.forEach((p, i) => {
          const full = both.logprobs[i]!;
          assert.equal(p.length, tails[i], `${name}/${backend} seq ${i}: tail length`);
          p.forEach((v, j) => assert.ok(Math.abs(v - full[full.length - tails[i]! + j]!) < 1e-5, `${name}/${backend} seq ${i} tail ${j}: ${v} vs ${full[full.length - tails[i]! + j]}`));
          assert.deepEqual(part.argmax[i], both.argmax[i]!.slice(both.argmax[i]!.length - tails[i]!), `${name}/${backend} seq ${i}: tail argmax`);
        });
        await assert.rejects(s.logprobs(seqs, [33, 1, 0, 1]), /tail 33 of sequence 0 is outside \[0, 32\]/);
        await assert.rejects(s.logprobs([new Array(34).fill(1)]), /at most maxContext \+ 1 = 33/);
      } finally {
        await s.close();
      }
    }
    const [a, b] = results as [Float64Array[], Float64Array[]];
    assert.deepEqual(a.map((x) => x.length), [32, 19, 0, 19]);
    for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i]!.length; j++) assert.ok(Math.abs(a[i]![j]! - b[i]![j]!) < 1e-4, `${name} seq ${i} token ${j}: ${a[i]![j]} vs ${b[i]![j]}`);
    assert.ok(a[0]!.every((v) => v < 0 && v > -20));
    const [ta, tb] = argmaxes as [Int32Array[], Int32Array[]];
    const agree = ta.flatMap((x, i) => Array.from(x, (v, j) => v === tb[i]![j])).filter(Boolean).length;
    assert.ok(agree >= 0.95 * ta.reduce((n, x) => n + x.length, 0), `${name}: tfjs and torch argmax agree at ${agree} positions`);
  }
});

test('trainer/torch/gpu_bench.sh (the GPU measurement script) runs end to end in its tiny CPU mode and writes its summary', { skip }, async () => {
  const data = join(dir, 'gpu-data');
  const out = join(dir, 'gpu-out');
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'train.bin'), encodeBin(Array.from(corpusBytes(6000, 3))));
  writeFileSync(join(data, 'val.bin'), encodeBin(Array.from(corpusBytes(1000, 4))));
  const r = await startProcess('bash', ['trainer/torch/gpu_bench.sh', data, out], { cwd: REPO, env: { GPU_BENCH_TINY: '1', GPU_BENCH_STEPS: '6', SLUICE_PYTHON: python! } }).done;
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const s = JSON.parse(readFileSync(join(out, 'gpu-summary.json'), 'utf8'));
  assert.equal(s.steps, 6);
  assert.equal(s.tokens, 6 * 4 * 64);
  assert.ok(s.tokensPerSecond > 0 && s.mfuVsMeasuredPeak > 0 && s.flopsPerToken > 0, JSON.stringify(s));
  assert.ok(s.finalLoss < s.firstLoss, `loss ${s.firstLoss} → ${s.finalLoss}`);
  assert.ok(s.valLoss.length >= 1, 'validation ran');
  assert.match(readFileSync(join(out, 'gpu-env.txt'), 'utf8'), /torch \S+ python \S+/);
});
