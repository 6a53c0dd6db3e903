import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainModel } from '../../trainer/api.ts';
import type { MetricsRecord, TrainModelOptions } from '../../trainer/api.ts';
import { readModelCheckpoint } from '../../trainer/checkpoint.ts';
import { unigramEntropy, writeCorpusShard } from './helpers/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-trainer-'));
const shardPath = join(dir, 'corpus.bin');
const corpus = writeCorpusShard(shardPath, 60_000);
const tiny = { vocabSize: 256, contextLength: 32, layers: 2, dModel: 32, heads: 2 };
const base = (out: string, extra: Partial<TrainModelOptions> = {}): TrainModelOptions => ({
  model: tiny,
  steps: 20,
  batchSize: 4,
  evalEvery: 10,
  evalBatches: 2,
  checkpointEvery: 2,
  optimizer: { lr: 1e-2 },
  schedule: { warmupSteps: 3 },
  data: { train: [shardPath], eotToken: 10 },
  outDir: join(dir, out),
  ...extra,
});
const readMetrics = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord);
const trainLosses = (rs: MetricsRecord[]) => rs.flatMap((r) => (r.kind === 'train' ? [[r.step, r.loss] as const] : []));

test('tfjs: a tiny GPT learns (loss below the unigram entropy), writes checkpoint, metrics and report', async () => {
  const seen: MetricsRecord[] = [];
  const r = await trainModel({ ...base('learn', { steps: 60, batchSize: 8, evalEvery: 20, checkpointEvery: 30, schedule: { warmupSteps: 5 } }), onMetrics: (m) => seen.push(m) });
  const reference = readMetrics(r.metricsPath);
  assert.deepEqual(reference, seen);
  assert.equal(r.steps, 60);
  assert.equal(r.tokensSeen, 60 * 8 * 32);
  assert.equal(r.resumedFromStep, 0);
  const h = unigramEntropy(corpus);
  assert.ok(r.valLoss !== null && r.valLoss < h - 0.5, `val loss ${r.valLoss} vs unigram entropy ${h}`);
  assert.ok(r.finalLoss < trainLosses(reference)[0]![1] - 1, 'train loss fell');
  assert.equal(reference.filter((m) => m.kind === 'val').map((m) => m.step).join(), '20,40,60');
  const t = reference.find((m) => m.kind === 'train')!;
  assert.ok(t.kind === 'train' && t.flopsPerToken === r.flopsPerToken && t.tokensPerSecond > 0 && t.mfu > 0 && t.mfu < 1);
  assert.ok(r.peakFlops > 1e8, 'a measured matmul peak');
  const html = readFileSync(r.reportPath, 'utf8');
  assert.match(html, /<svg[^>]*aria-label="loss curve"/);
  assert.match(html, /<polyline fill="none" stroke="#1f77b4"[^>]*points="[\d., ]+"/);
  assert.equal((html.match(/<circle /g) ?? []).length, 3 + 1, 'three validation points plus the legend');
  const ck = await readModelCheckpoint(r.checkpoint);
  assert.equal(ck.meta.format, 'sluice.gpt/1');
  assert.equal(ck.meta.step, 60);
  assert.equal(ck.meta.eotToken, 10);
  assert.deepEqual(ck.tensors.get('wte')!.shape, [256, 32]);
  assert.equal([...ck.tensors.values()].reduce((s, t) => s + t.data.length, 0), r.params.total);
});

test('tfjs: killed with SIGKILL mid-run and started again, the run resumes and the loss curve is identical', async () => {
  const reference = readMetrics((await trainModel(base('ref'))).metricsPath);
  const opts = base('killed');
  const cfg = join(dir, 'killed.json');
  writeFileSync(cfg, JSON.stringify(opts));
  const stateJson = join(opts.outDir, '_state', 'state.json');
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'train-child.ts'), cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  let killedAt = -1;
  for (let i = 0; i < 3000 && killedAt < 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (existsSync(stateJson)) {
      const st = JSON.parse(readFileSync(stateJson, 'utf8')) as { step: number };
      if (st.step >= 4) {
        child.kill('SIGKILL');
        killedAt = st.step;
      }
    }
  }
  const code = await exited;
  assert.ok(killedAt >= 4, `the child reached a checkpoint (stderr: ${stderr.slice(-500)})`);
  assert.equal(code, null, 'killed, not finished');
  assert.ok(!existsSync(join(opts.outDir, 'metrics.jsonl')), 'no final outputs from the killed run');
  const r = await trainModel(opts);
  assert.ok(r.resumedFromStep >= killedAt && r.resumedFromStep < 20, `resumed from ${r.resumedFromStep}`);
  const resumed = readMetrics(r.metricsPath);
  assert.deepEqual(trainLosses(resumed), trainLosses(reference), 'identical train losses, step for step');
  assert.deepEqual(
    resumed.filter((m) => m.kind === 'val').map((m) => m.kind === 'val' && m.valLoss),
    reference.filter((m) => m.kind === 'val').map((m) => m.kind === 'val' && m.valLoss),
  );
  // The final weights are bit-identical too.
  const a = await readModelCheckpoint(join(dir, 'ref'));
  const b = await readModelCheckpoint(opts.outDir);
  assert.deepEqual(b.tensors.get('h.1.mlp.c_fc.weight')!.data, a.tensors.get('h.1.mlp.c_fc.weight')!.data);
  // Another configuration on the same state directory is refused.
  await assert.rejects(trainModel({ ...opts, optimizer: { lr: 5e-3 } }), /a checkpoint of a different run configuration/);
});

test('tfjs: gradient accumulation over 2×4 sequences equals one batch of 8; rotary, untied head, no bias train', async () => {
  const steps = 3;
  const one = await trainModel(base('acc1', { steps, batchSize: 8, checkpointEvery: 100 }));
  const two = await trainModel(base('acc2', { steps, batchSize: 4, gradAccum: 2, checkpointEvery: 100 }));
  const l1 = trainLosses(readMetrics(one.metricsPath));
  const l2 = trainLosses(readMetrics(two.metricsPath));
  for (let i = 0; i < steps; i++) assert.ok(Math.abs(l1[i]![1] - l2[i]![1]) < 1e-4, `step ${i + 1}: ${l1[i]![1]} vs ${l2[i]![1]}`);
  const rot = await trainModel(base('rot', { model: { ...tiny, positions: 'rotary', tiedHead: false, bias: false }, steps: 15, evalEvery: 15 }));
  const rl = trainLosses(readMetrics(rot.metricsPath));
  assert.ok(rl.at(-1)![1] < rl[0]![1] - 1, `rotary loss ${rl[0]![1]} → ${rl.at(-1)![1]}`);
  const ck = await readModelCheckpoint(rot.checkpoint);
  assert.ok(ck.tensors.has('lm_head.weight') && !ck.tensors.has('wpe') && !ck.tensors.has('ln_f.bias'));
});

test('bad input: out-of-vocabulary tokens, missing shards', async () => {
  await assert.rejects(trainModel(base('oov', { model: { ...tiny, vocabSize: 100 }, steps: 1 })), /token id \d+ in the shards is outside the vocabulary \(100\)/);
  await assert.rejects(trainModel(base('none', { data: { train: [] } })), /data.train must list at least one .bin shard/);
  await assert.rejects(trainModel(base('missing', { data: { train: [join(dir, 'nope.bin')] } })), /nope\.bin/);
});
