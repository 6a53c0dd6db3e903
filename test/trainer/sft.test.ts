import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, tempProject, SLUICE } from '../helpers/cli.ts';
import type { RunSummary } from '../../engine/runner.ts';
import type { Manifest } from '../../engine/types.ts';
import { encodeBin } from '../../formats/bin.ts';
import { trainModel, type MetricsRecord, type TrainModelOptions } from '../../trainer/api.ts';
import { findPython } from '../../trainer/torch/runner.ts';
import { train } from '../../trainer/index.ts';
import { corpusBytes } from './helpers/corpus.ts';
import { killMidRun } from './helpers/kill.ts';

const python = findPython();
const dir = mkdtempSync(join(tmpdir(), 'sluice-sft-'));
const tiny = { vocabSize: 256, contextLength: 32, layers: 1, dModel: 32, heads: 2 };

/**
 * Byte-level chat-like docs packed one per row (pack 'none'): "Q: … A: …", the answer half at
 * mask 1, the question and the pads at 0, with a .docs index; train and val shards.
 */
function sftShards(): { train: string; val: string } {
  const text = Buffer.from(corpusBytes(20_000, 5)).toString().split('\n').filter((l) => l.length > 4 && l.length < 28);
  const write = (name: string, lines: string[]) => {
    const tokens: number[] = [];
    const mask: number[] = [];
    const starts: number[] = [];
    for (const l of lines) {
      starts.push(tokens.length);
      const q = Buffer.from(`Q:${l.slice(0, 6)}`);
      const a = Buffer.from(`A:${l}\n`.slice(0, 32 - q.length));
      for (const b of q) (tokens.push(b), mask.push(0));
      for (const b of a) (tokens.push(b), mask.push(1));
      while (tokens.length % 32) (tokens.push(10), mask.push(0));
    }
    const p = join(dir, `${name}.bin`);
    writeFileSync(p, encodeBin(tokens));
    writeFileSync(join(dir, `${name}.mask`), Uint8Array.from(mask));
    writeFileSync(join(dir, `${name}.docs`), new Uint8Array(Uint32Array.from(starts).buffer));
    return p;
  };
  return { train: write('sft-train', text.slice(0, 300)), val: write('sft-val', text.slice(300, 340)) };
}

const readMetrics = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord);
const curve = (rs: MetricsRecord[]) => rs.map((r) => (r.kind === 'train' ? ['t', r.step, r.loss] : ['v', r.step, r.valLoss]));

/** A pretrained base checkpoint on the plain corpus (shared by the tests below). */
const base = (async () => {
  const corpus = join(dir, 'corpus.bin');
  writeFileSync(corpus, encodeBin(Array.from(corpusBytes(30_000, 2))));
  return (await trainModel({ model: tiny, steps: 20, batchSize: 4, evalEvery: 20, evalBatches: 1, optimizer: { lr: 1e-2 }, data: { train: [corpus], eotToken: 10 }, outDir: join(dir, 'base') })).checkpoint;
})();
const shards = sftShards();

for (const backend of ['tfjs', 'torch'] as const) {
  test(`${backend}: fine-tuning from a checkpoint with masked loss and document attention; SIGKILL and resume give identical losses`, { skip: backend === 'torch' && !python ? 'skipped: no python3 with torch' : false }, async () => {
    const opts = (out: string): TrainModelOptions => ({
      backend,
      model: tiny,
      steps: 8,
      batchSize: 4,
      evalEvery: 4,
      evalBatches: 2,
      checkpointEvery: 2,
      attention: 'document',
      optimizer: { lr: 5e-3 },
      torch: { device: 'cpu', threads: 1 },
      data: { train: [shards.train], val: [shards.val], eotToken: 10 },
      init: join(dir, 'base'),
      evalAtStart: true,
      outDir: join(dir, `${backend}-${out}`),
    });
    await base;
    const ref = await trainModel(opts('ref'));
    const rm = readMetrics(ref.metricsPath);
    const v0 = rm.find((r) => r.kind === 'val' && r.step === 0);
    assert.ok(v0 && v0.kind === 'val', 'a validation record before the first step');
    // Started from the base weights: far below a random model's ln(256) = 5.55 on the first batch.
    const first = rm.find((r) => r.kind === 'train')!;
    assert.ok(first.kind === 'train' && first.loss < 4, `initial loss ${first.kind === 'train' && first.loss}`);
    assert.ok(ref.valLoss! < v0.valLoss - 0.1, `held-out loss ${v0.valLoss} → ${ref.valLoss}`);

    const o = opts('killed');
    const state = join(o.outDir, '_state', backend === 'tfjs' ? 'state.json' : 'torch-state.pt');
    const killed = await killMidRun('train-child.ts', join(dir, `${backend}-killed.json`), o, () => existsSync(state));
    assert.ok(killed, 'the child wrote a checkpoint');
    assert.ok(!existsSync(join(o.outDir, 'metrics.jsonl')), 'no final outputs from the killed run');
    const r = await trainModel(o);
    assert.ok(r.resumedFromStep >= 2 && r.resumedFromStep < 8, `resumed from ${r.resumedFromStep}`);
    assert.deepEqual(curve(readMetrics(r.metricsPath)), curve(rm), 'identical losses, step for step, the step-0 validation included');
    // Another base checkpoint on the same state directory is refused (the fingerprint is the
    // backends' shared fingerprintParts; checked once, on tfjs, to spare a Python start).
    if (backend === 'tfjs') {
      const other = join(dir, `${backend}-other-base`);
      cpSync(join(dir, 'base'), other, { recursive: true });
      await assert.rejects(trainModel({ ...o, init: other }), /different run configuration/);
    }
  });
}

test('pipeline: train → train.sft (from the stage) and train.sft (from a checkpoint path): the run --json summary reports heldout_loss_before/after and initial_loss under the stage names', async () => {
  const proj = tempProject('sluice-sft-pipe-');
  mkdirSync(join(proj, 'data'));
  const lines = Buffer.from(corpusBytes(12_000, 7)).toString().split('\n').filter((l) => l.length > 3);
  writeFileSync(join(proj, 'data', 'text.jsonl'), lines.map((t, i) => JSON.stringify({ id: `l${i}`, text: t })).join('\n') + '\n');
  const common = `import { pipeline, read, tokenize, shard, train, defineMap } from ${JSON.stringify(SLUICE)};
// The second half of each line's tokens is the "answer" (mask 1), the first half the "prompt".
const halfMask = defineMap({ type: 'test.halfMask', version: '1', config: {}, apply: (d) => ({ ...d, lossMask: Uint8Array.from(d.tokens!, (_, i) => (i >= d.tokens!.length / 2 ? 1 : 0)) }) });
`;
  writeFileSync(
    join(proj, 'pipeline.ts'),
    `${common}
export default pipeline({ name: 'sft', workdir: 'runs' }, (p) => {
  const docs = p.stage('load', read.jsonl('data/*.jsonl'));
  const bpe = p.stage('bpe', tokenize.trainBpe(docs, { vocabSize: 300 }));
  const enc = p.stage('encoded', docs, [tokenize.encode({ tokenizer: bpe })]);
  const pre = p.stage('pre', enc, shard.tokens({ tokenizer: bpe, seqLen: 32, valFraction: 0.1 }));
  const base = p.stage('base', train(pre, { tokenizer: bpe, model: { contextLength: 32, layers: 1, dModel: 32, heads: 2 }, steps: 20, batchSize: 8, evalEvery: 20, evalBatches: 1, optimizer: { lr: 1e-2 } }));
  const chat = p.stage('chat', enc, [halfMask]);
  const sftShards = p.stage('sftShards', chat, shard.tokens({ tokenizer: bpe, seqLen: 32, pack: 'bfd', attention: 'document', valFraction: 0.1 }));
  p.stage('sft', train.sft(sftShards, { from: base, steps: 8, batchSize: 4, evalEvery: 4, evalBatches: 2, optimizer: { lr: 5e-3 } }));
});
`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '1'], { cwd: proj });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const sft = summary.stages.find((s) => s.stage === 'sft')!;
  const info = sft.info!;
  for (const k of ['heldout_loss_before', 'heldout_loss_after', 'initial_loss']) assert.equal(typeof info[k], 'number', `${k} in the summary: ${JSON.stringify(info)}`);
  assert.ok((info.heldout_loss_after as number) < (info.heldout_loss_before as number), JSON.stringify(info));
  assert.ok((info.heldout_loss_before as number) < Math.log(300) - 0.5, `the base model's weights, not a random init: ${info.heldout_loss_before}`);
  assert.equal(info.attention, 'document', "the shards' attention");
  const manifest = JSON.parse(readFileSync(join(sft.dir, 'manifest.json'), 'utf8')) as Manifest;
  const files = manifest.files.map((f) => f.path).sort();
  assert.deepEqual(files, ['config.json', 'metrics.jsonl', 'model.safetensors', 'report.html', 'sluice-tokenizer.json', 'tokenizer.json', 'tokenizer.tiktoken']);

  // from: a checkpoint path.
  const baseDir = summary.stages.find((s) => s.stage === 'base')!.dir;
  writeFileSync(
    join(proj, 'path.ts'),
    `${common}
export default pipeline({ name: 'sft', workdir: 'runs' }, (p) => {
  const docs = p.stage('load', read.jsonl('data/*.jsonl'));
  const bpe = p.stage('bpe', tokenize.trainBpe(docs, { vocabSize: 300 }));
  const enc = p.stage('encoded', docs, [tokenize.encode({ tokenizer: bpe })]);
  const chat = p.stage('chat', enc, [halfMask]);
  const sftShards = p.stage('sftShards', chat, shard.tokens({ tokenizer: bpe, seqLen: 32, pack: 'bfd', attention: 'document', valFraction: 0.1 }));
  p.stage('sftPath', train.sft(sftShards, { from: ${JSON.stringify(baseDir)}, steps: 4, batchSize: 4, evalEvery: 4, evalBatches: 2, optimizer: { lr: 5e-3 } }));
});
`,
  );
  const r2 = await runCli(['run', 'path.ts', '--json', '--workers', '1'], { cwd: proj });
  assert.equal(r2.code, 0, r2.stderr);
  const s2 = JSON.parse(r2.stdout) as RunSummary;
  const st = s2.stages.find((s) => s.stage === 'sftPath')!;
  const t = st.info!;
  const tm = JSON.parse(readFileSync(join(st.dir, 'manifest.json'), 'utf8')) as Manifest;
  assert.equal(t.from, baseDir);
  assert.ok(tm.files.some((f) => f.path === 'tokenizer.json'), "the base checkpoint's tokenizer is copied");
  // The same base weights and held-out batches as the 'sft' stage: the same loss before training.
  assert.equal(t.heldout_loss_before, info.heldout_loss_before);
  assert.ok((t.heldout_loss_after as number) < (t.heldout_loss_before as number));
});

test('train.sft: bad options name the option', () => {
  const ref = { kind: 'stage', name: 'shards', pipeline: 'p' } as const;
  assert.throws(() => train.sft(ref as never, {} as never), /option 'from' is required/);
  assert.throws(() => train.sft(ref as never, { from: 'ck', model: tiny, steps: 1 } as never), /option 'model' is not accepted/);
  assert.throws(() => train.sft(ref as never, { from: 'ck' }), /give steps or tokens/);
  assert.throws(() => train.sft('x' as never, { from: 'ck', steps: 1 }), /first argument must be a shard.tokens stage/);
});
