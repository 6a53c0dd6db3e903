import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, SLUICE } from '../helpers/cli.ts';
import { dataPath, needData } from '../helpers/data.ts';
import type { RunSummary } from '../../engine/runner.ts';
import type { Manifest } from '../../engine/types.ts';
import type { MetricsRecord } from '../../trainer/api.ts';
import { openScorer } from '../../trainer/scorer.ts';
import { train } from '../../trainer/stage.ts';

test('pipeline: docs → trainBpe → encode → shard.tokens → train: checkpoint, metrics, report and tokenizer in the output; the scorer opens it; a rerun is up to date', { skip: needData('tinyshakespeare') }, async () => {
  const dir = tempProject('sluice-train-stage-');
  const paras = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').split('\n\n').slice(0, 600);
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'plays.jsonl'), paras.map((t, i) => JSON.stringify({ id: `p${i}`, text: t })).join('\n') + '\n');
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read, tokenize, shard, train } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'lm', workdir: 'runs' }, (p) => {
  const docs = p.stage('load', read.jsonl('data/*.jsonl'));
  const bpe = p.stage('bpe', tokenize.trainBpe(docs, { vocabSize: 300 }));
  const enc = p.stage('encoded', docs, [tokenize.encode({ tokenizer: bpe })]);
  const shards = p.stage('shards', enc, shard.tokens({ tokenizer: bpe, seqLen: 32, valFraction: 0.1, seed: 3 }));
  p.stage('model', train(shards, {
    tokenizer: bpe,
    model: { contextLength: 32, layers: 1, dModel: 32, heads: 2 },
    steps: 12, batchSize: 4, evalEvery: 6, evalBatches: 2, checkpointEvery: 4, optimizer: { lr: 1e-2 },
  }));
});
`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '1'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const model = summary.stages.find((s) => s.stage === 'model')!;
  const out = model.dir;
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
  assert.equal(manifest.output, 'artifact');
  assert.deepEqual(manifest.files.map((f) => f.path).sort(), ['config.json', 'metrics.jsonl', 'model.safetensors', 'report.html', 'sluice-tokenizer.json', 'tokenizer.json', 'tokenizer.tiktoken']);
  const info = manifest.info as Record<string, unknown>;
  assert.equal(info.steps, 12);
  assert.equal(info.tokens, 12 * 4 * 32);
  assert.equal((info.model as { vocabSize: number }).vocabSize, 300, 'vocabulary from the shard manifest');
  assert.equal(info.tokenizer, '.');
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricsRecord);
  assert.equal(metrics.filter((m) => m.kind === 'train').length, 12);
  assert.deepEqual(metrics.filter((m) => m.kind === 'val').map((m) => m.step), [6, 12]);
  const report = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(report, /<svg/);
  // The report names the committed checkpoint (the stage output), not the task's temporary dir.
  assert.ok(report.includes(`Checkpoint: <code>${out}</code>`), report.match(/Checkpoint: <code>[^<]*<\/code>/)?.[0]);

  // The eval stage's view: a TokenScorer with the trained tokenizer.
  const scorer = await openScorer(out);
  const ids = scorer.encode('ROMEO: What, shall this speech be spoke?');
  assert.ok(ids.length > 5 && ids.every((t) => t < 300));
  assert.equal(scorer.eotToken, 0);
  assert.equal(scorer.maxContext, 32);
  const [lp] = await scorer.logprobs([[scorer.eotToken, ...ids].slice(0, 33)]);
  assert.equal(lp!.length, Math.min(32, ids.length));
  assert.ok(lp!.every((v) => Number.isFinite(v) && v < 0));
  await scorer.close();

  // Nothing changed: the model stage is up to date.
  const again = await runCli(['run', 'pipeline.ts', '--json', '--workers', '1'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  const s2 = JSON.parse(again.stdout) as RunSummary;
  const m2 = s2.stages.find((s) => s.stage === 'model')!;
  assert.equal(m2.dir, out);
  assert.equal(m2.status, 'skipped');
});

test('train(): bad arguments are reported at declaration', () => {
  const ref = { kind: 'stage' as const, name: 'shards', pipeline: 'x' };
  assert.throws(() => train({} as typeof ref, { model: { contextLength: 8, layers: 1, dModel: 8, heads: 2 }, steps: 1 }), /first argument must be a shard.tokens stage/);
  assert.throws(() => train(ref, { model: { contextLength: 8, layers: 1, dModel: 8, heads: 3 }, steps: 1 }), /not divisible by model.heads 3/);
  assert.throws(() => train(ref, { model: { contextLength: 8, layers: 1, dModel: 8, heads: 2 } }), /give steps or tokens/);
  assert.throws(() => train(ref, { model: { contextLength: 8, layers: 1, dModel: 8, heads: 2 }, steps: 1, tokenizer: './tok' }), /not an encoding name/);
  const st = train(ref, { model: { contextLength: 8, layers: 1, dModel: 8, heads: 2 }, steps: 3, tokenizer: 'gpt2' });
  assert.equal(st.kind, 'custom');
  assert.equal(st.output, 'artifact');
  assert.deepEqual(st.inputs, [ref]);
});
