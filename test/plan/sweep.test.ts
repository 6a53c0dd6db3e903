import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storage } from '../../engine/storage/index.ts';
import { localTaskContext } from '../../engine/testing.ts';
import type { CustomTaskContext, Dataset, Json, Manifest } from '../../engine/types.ts';
import type { TrainModelOptions, TrainResult } from '../../trainer/api.ts';
import { sweep, shardSetOf } from '../../plan/sweep.ts';
import { readSweep, type SweepAnalysis } from '../../plan/analysis.ts';
import { countParams, flopsPerToken } from '../../formats/model.ts';
import { mulberry32 } from '../../plan/fit.ts';

/** A known law the fake trainer's losses follow (small-model scale). */
const LAW = { E: 2.0, A: 60, B: 250, alpha: 0.35, beta: 0.3 };

/** Stands in for trainModel: loss from LAW at the run's (N, D) with 0.1% noise; records its calls. */
function fakeTrainer(calls: TrainModelOptions[]) {
  const rand = mulberry32(9);
  return async (o: TrainModelOptions): Promise<TrainResult> => {
    calls.push(o);
    const model = { ...o.model, vocabSize: o.model.vocabSize ?? o.data.vocabSize! };
    const counts = countParams(model);
    const tokens = o.tokens!;
    const loss = (LAW.E + LAW.A / counts.total ** LAW.alpha + LAW.B / tokens ** LAW.beta) * (1 + 0.001 * (rand() * 2 - 1));
    return {
      backend: 'tfjs', model, params: { total: counts.total, nonEmbedding: counts.nonEmbedding, matmul: counts.matmul },
      steps: 10, tokensSeen: tokens, finalLoss: loss + 0.01, valLoss: loss, checkpoint: join(o.outDir, 'checkpoint'),
      metricsPath: join(o.outDir, 'metrics.jsonl'), reportPath: join(o.outDir, 'report.html'), flopsPerToken: flopsPerToken(model).total,
      totalFlops: flopsPerToken(model).total * tokens, tokensPerSecond: 1000, mfu: 0.1, peakFlops: 1e10, resumedFromStep: 0, seconds: 1,
    };
  };
}

/** A shard dataset over `dir` holding train/val .bin files (contents unused by the fake trainer). */
function shardDataset(dir: string): Dataset {
  mkdirSync(dir, { recursive: true });
  for (const f of ['shard-00000.bin', 'shard-00001.bin', 'val-00000.bin']) writeFileSync(join(dir, f), new Uint8Array(1024));
  const manifest = {
    format: 'sluice.dataset/1', pipeline: 't', stage: 'shards', fingerprint: 'f', output: 'artifact', tasks: 1,
    files: ['shard-00000.bin', 'shard-00001.bin', 'val-00000.bin', 'index.json'].map((path) => ({ path, task: 0, rows: 0, bytes: 0, sha256: '' })),
    rows: 0, bytes: 0, stats: { operators: {}, skipped: {} }, info: { vocabSize: 256, eotToken: 0 },
  } as Manifest;
  return { stage: 'shards', dir, manifest, files: () => manifest.files.map((f) => join(dir, f.path)), readDocs: () => { throw new Error('not a doc dataset'); } };
}

function customContext(dir: string, inputs: Dataset[]): CustomTaskContext & { written: Map<string, string>; info: Record<string, Json>; dispose(): void } {
  const base = localTaskContext({ dir, stage: 'sweep' });
  const written = new Map<string, string>();
  const info: Record<string, Json> = {};
  return Object.assign(base, {
    inputs,
    written,
    info,
    async writeFile(name: string, data: Uint8Array | string) {
      const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
      written.set(name, text);
      await storage.write(join(dir, name), text);
    },
    async writeDocs(): Promise<{ rows: number }> {
      throw new Error('artifact stage');
    },
    setInfo(i: Record<string, Json>) {
      Object.assign(info, i);
    },
  });
}

const MODELS = [
  { layers: 1, dModel: 32, heads: 2, contextLength: 64 },
  { layers: 2, dModel: 48, heads: 4, contextLength: 64 },
  { layers: 2, dModel: 64, heads: 4, contextLength: 64 },
  { layers: 4, dModel: 96, heads: 4, contextLength: 64 },
];
const TOKENS = [2e5, 5e5, 1e6, 2e6, 4e6];

test('scaling.sweep trains the grid, fits both laws, writes sweep.json + report.html and resumes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sweep-'));
  try {
    const calls: TrainModelOptions[] = [];
    const stage = sweep({ kind: 'stage', name: 'shards', pipeline: 't' }, { models: MODELS, tokens: TOKENS, train: { batchSize: 4 }, target: { params: 5e6, tokens: 1e8 }, resamples: 40 }, { train: fakeTrainer(calls) });
    assert.equal(stage.output, 'artifact');
    assert.equal(stage.inputs[0]!.name, 'shards');
    const ctx = customContext(join(dir, 'out'), [shardDataset(join(dir, 'shards'))]);
    await stage.run(ctx);
    assert.equal(calls.length, MODELS.length * TOKENS.length);
    assert.deepEqual(calls[0]!.data.train.map((f) => f.split('/').pop()), ['shard-00000.bin', 'shard-00001.bin']);
    assert.deepEqual(calls[0]!.data.val!.map((f) => f.split('/').pop()), ['val-00000.bin']);
    assert.equal(calls[0]!.data.vocabSize, 256);
    assert.equal(calls[0]!.batchSize, 4);
    assert.equal(calls[0]!.tokens, 2e5);

    const a = JSON.parse(ctx.written.get('sweep.json')!) as SweepAnalysis;
    assert.equal(a.runs.length, 20);
    assert.ok(!('error' in a.parametricLaw), JSON.stringify(a.parametricLaw));
    const p = a.parametricLaw as Exclude<SweepAnalysis['parametricLaw'], { error: string }>;
    // The fake losses follow LAW with 0.1% noise: E and the exponents come back closely.
    assert.ok(Math.abs(p.E / LAW.E - 1) < 0.05, `E ${p.E}`);
    assert.ok(Math.abs(p.alpha / LAW.alpha - 1) < 0.15, `alpha ${p.alpha}`);
    assert.ok(Math.abs(p.beta / LAW.beta - 1) < 0.15, `beta ${p.beta}`);
    assert.ok(p.ci.E && p.ci.E.lo <= p.E && p.E <= p.ci.E.hi);
    assert.ok(!('error' in a.computeLaw), JSON.stringify(a.computeLaw));
    const truthAtTarget = LAW.E + LAW.A / 5e6 ** LAW.alpha + LAW.B / 1e8 ** LAW.beta;
    assert.ok(Math.abs(a.target!.lossParametric! / truthAtTarget - 1) < 0.02, `target ${a.target!.lossParametric} vs ${truthAtTarget}`);
    assert.ok(a.target!.lossParametricCi!.lo < a.target!.lossParametricCi!.hi);
    assert.ok(a.frontier.length >= 3);
    assert.equal((ctx.info.parametricLaw as Record<string, number>).E, p.E);
    assert.equal(ctx.info.runs, 20);

    const html = ctx.written.get('report.html')!;
    assert.match(html, /<svg[^>]*>[\s\S]*<circle[\s\S]*<path d="M[\s\S]*<\/svg>/);
    assert.equal((html.match(/<circle /g) ?? []).length, 20 + MODELS.length, 'one dot per run plus one legend dot per size');
    assert.match(html, /L\(N, D\) = E \+ A\/N\^α \+ B\/D\^β/);
    assert.equal(ctx.written.get('runs.jsonl')!.trim().split('\n').length, 20);

    // A second attempt with another target and bootstrap finds every run cached and trains nothing.
    const calls2: TrainModelOptions[] = [];
    const again = sweep({ kind: 'stage', name: 'shards', pipeline: 't' }, { models: MODELS, tokens: TOKENS, train: { batchSize: 4 }, target: { flops: 1e15 }, resamples: 30 }, { train: fakeTrainer(calls2) });
    const ctx2 = customContext(join(dir, 'out'), [shardDataset(join(dir, 'shards'))]);
    await again.run(ctx2);
    assert.equal(calls2.length, 0);
    assert.equal(JSON.parse(ctx2.written.get('sweep.json')!).runs.length, 20);
    // Other training options are other runs: everything is trained again.
    const calls3: TrainModelOptions[] = [];
    const ctx3 = customContext(join(dir, 'out'), [shardDataset(join(dir, 'shards'))]);
    await sweep({ kind: 'stage', name: 'shards', pipeline: 't' }, { models: MODELS, tokens: TOKENS, train: { batchSize: 8 }, resamples: 0 }, { train: fakeTrainer(calls3) }).run(ctx3);
    assert.equal(calls3.length, 20);
    ctx3.dispose();

    // `sluice plan --fit` reads it back.
    const { laws } = await readSweep(join(dir, 'out'), storage);
    assert.equal(laws.parametric!.E, p.E);
    assert.ok(laws.compute!.alpha > 0);
    ctx.dispose();
    ctx2.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scaling.sweep rejects a grid too small to fit, and shards without .bin files', async () => {
  const ref = { kind: 'stage' as const, name: 'shards', pipeline: 't' };
  assert.throws(() => sweep(ref, { models: MODELS.slice(0, 1), tokens: TOKENS }), /scaling\.sweep: config key 'models': give at least 2 model sizes/);
  assert.throws(() => sweep(ref, { models: MODELS.slice(0, 2), tokens: TOKENS.slice(0, 2) }), /at least 6 runs/);
  assert.throws(() => sweep(ref, { models: MODELS, tokens: TOKENS, train: { steps: 5 } } as never), /scaling\.sweep: config key 'train'/);
  assert.throws(() => sweep(ref, { models: MODELS, tokens: TOKENS, target: { params: 1e6 } }), /scaling\.sweep: config key 'target': give params and tokens, or flops/);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sweep-'));
  try {
    const ds = shardDataset(dir);
    ds.manifest.files = [{ path: 'part-00000.parquet', task: 0, rows: 1, bytes: 1, sha256: '' }];
    assert.throws(() => shardSetOf(ds), /input stage 'shards' is not a shard\.tokens stage and has no \.bin token shards/);
    // A shard.tokens stage: its manifest lists the shards (in another stage's directory).
    ds.manifest.info = {
      format: 'sluice.tokens/1', layout: 'bin', dtype: 'uint16', seqLen: 64, vocabSize: 1000, eotToken: 999, tokenizer: { name: 'bpe', fingerprint: 'abc' },
      shuffle: true, seed: 1, valFraction: 0.1, docs: 1, inputTokens: 1, droppedTokens: 0, sequences: { train: 1, val: 1 }, tokens: { train: 64, val: 64 },
      train: [{ uri: '/w/shards.write/x/train-00000.bin', path: 'train-00000.bin', sequences: 1, tokens: 64, bytes: 1152, sha256: '' }],
      val: [{ uri: '/w/shards.write/x/val-00000.bin', path: 'val-00000.bin', sequences: 1, tokens: 64, bytes: 1152, sha256: '' }],
    };
    assert.deepEqual(shardSetOf(ds), { attention: 'causal', train: ['/w/shards.write/x/train-00000.bin'], val: ['/w/shards.write/x/val-00000.bin'], vocabSize: 1000, eotToken: 999, tokenizer: 'bpe (abc)' });
    assert.ok(existsSync(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readSweep names a missing or foreign file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sweep-'));
  try {
    await assert.rejects(readSweep(dir, storage), /no sweep output at .*sweep\.json/);
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ format: 'other' }));
    await assert.rejects(readSweep(dir, storage), /is not a scaling sweep output \(format 'other'/);
    assert.equal(readFileSync(join(dir, 'sweep.json'), 'utf8').length > 0, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
