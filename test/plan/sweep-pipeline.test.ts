import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../engine/runner.ts';
import type { Manifest } from '../../engine/types.ts';
import type { SweepAnalysis } from '../../plan/analysis.ts';
import { REPO } from '../helpers/data.ts';

/**
 * A pipeline whose first stage writes a token shard (`.bin`, nanoGPT layout) and whose second is
 * `scaling.sweep` over it. `deps` is source text defining `train` (passed as the sweep's third
 * argument), or empty for the real trainer.
 */
function writeProject(dir: string, sweepOptions: object, deps = ''): string {
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const file = join(dir, 'pipeline.ts');
  writeFileSync(
    file,
    `import { pipeline, scaling } from ${JSON.stringify(join(REPO, 'index.ts'))};
import { encodeBin } from ${JSON.stringify(join(REPO, 'formats/bin.ts'))};

// A learnable token stream: a fixed random walk over 64 ids, so next-token loss can fall.
const shards = {
  kind: 'custom', type: 'test.shards', name: 'test.shards', version: '1', config: {}, inputs: [], output: 'artifact',
  async run(ctx) {
    let s = 7;
    const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    const next = Array.from({ length: 64 }, () => [Math.floor(rand() * 64), Math.floor(rand() * 64)]);
    const tokens = (n) => { const t = new Array(n); let c = 0; for (let i = 0; i < n; i++) { t[i] = c; c = next[c][rand() < 0.8 ? 0 : 1]; } return t; };
    await ctx.writeFile('train-00000.bin', encodeBin(tokens(40000)));
    await ctx.writeFile('val-00000.bin', encodeBin(tokens(4000)));
    ctx.setInfo({ vocabSize: 64, eotToken: 0 });
  },
};
${deps}
export default pipeline({ name: 'sweeptest', workdir: ${JSON.stringify(join(dir, 'work'))} }, (p) => {
  const s = p.stage('shards', shards);
  p.stage('sweep', scaling.sweep(s, ${JSON.stringify(sweepOptions)}${deps ? ', { train }' : ''}));
});
`,
  );
  return file;
}

test('scaling.sweep runs as a pipeline stage: sweep.json, report.html, manifest info, and plan --fit input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sweep-e2e-'));
  try {
    // The engine path with a stand-in trainer whose losses follow a known law exactly.
    const fake = `
const train = async (o) => {
  const model = { ...o.model, vocabSize: o.model.vocabSize ?? o.data.vocabSize };
  const c = scaling.countParams(model);
  const loss = 1.5 + 40 / c.total ** 0.3 + 300 / o.tokens ** 0.35;
  return { backend: 'tfjs', model, params: { total: c.total, nonEmbedding: c.nonEmbedding, matmul: c.matmul }, steps: 1, tokensSeen: o.tokens,
    finalLoss: loss, valLoss: loss, checkpoint: '', metricsPath: '', reportPath: '', flopsPerToken: 6 * c.matmul, totalFlops: 6 * c.matmul * o.tokens,
    tokensPerSecond: 1, mfu: 0, peakFlops: 1, resumedFromStep: 0, seconds: 0 };
};`;
    const models = [16, 32, 64].map((d) => ({ layers: 1, dModel: d, heads: 2, contextLength: 32 }));
    const file = writeProject(dir, { models, tokens: [1e5, 3e5, 1e6, 3e6], resamples: 30, target: { flops: 1e15 } }, fake);
    const summary = await run(file, { workers: 1, progress: 'none' });
    assert.deepEqual(summary.stages.map((s) => [s.stage, s.status]), [['shards', 'ran'], ['sweep', 'ran']]);
    const out = summary.stages[1]!.dir;
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(manifest.files.map((f) => f.path).sort(), ['report.html', 'runs.jsonl', 'sweep.json']);
    assert.equal(manifest.info!.runs, 12);
    const a = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepAnalysis;
    assert.equal(a.runs.length, 12);
    const p = a.parametricLaw as Exclude<SweepAnalysis['parametricLaw'], { error: string }>;
    assert.ok(Math.abs(p.E - 1.5) < 1e-3 && Math.abs(p.alpha - 0.3) < 1e-3 && Math.abs(p.beta - 0.35) < 1e-3, JSON.stringify(p));
    // A budget-only target is allocated on the fitted law's frontier.
    assert.ok(Math.abs(6 * a.target!.params * a.target!.tokens / 1e15 - 1) < 1e-9);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<svg/);
    // The second run is up to date and trains nothing.
    const again = await run(file, { workers: 1, progress: 'none' });
    assert.deepEqual(again.stages.map((s) => s.status), ['skipped', 'skipped']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scaling.sweep with the real trainer: tiny GPTs on a token shard, losses fall with size and tokens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sweep-real-'));
  try {
    // 2 sizes × 3 budgets, 16 sequences of 16 tokens per step: 16, 32 and 64 steps per size.
    const models = [8, 32].map((d) => ({ layers: 1, dModel: d, heads: 2, contextLength: 16 }));
    const tokens = [4096, 8192, 16384];
    const file = writeProject(dir, { models, tokens, train: { batchSize: 16, evalEvery: 1000, evalBatches: 4, optimizer: { lr: 1e-2 } }, resamples: 20 });
    const summary = await run(file, { workers: 1, progress: 'none' });
    const out = summary.stages[1]!.dir;
    const a = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepAnalysis;
    assert.equal(a.runs.length, 6);
    for (const r of a.runs) {
      assert.equal(r.tokens, r.steps * 256, r.name);
      assert.ok(r.valLoss !== null && r.loss === r.valLoss, `${r.name}: validation loss is the fitted loss`);
      // Untrained, the loss is about ln(64) = 4.16 nats; every run must have learned something.
      assert.ok(Number.isFinite(r.loss) && r.loss < Math.log(64), `${r.name}: loss ${r.loss}`);
      assert.equal(r.paramsTotal, r.params);
    }
    for (const d of [8, 32]) {
      const losses = a.runs.filter((r) => r.model.dModel === d).sort((x, y) => x.tokens - y.tokens).map((r) => r.loss);
      assert.ok(losses[0]! > losses[1]! && losses[1]! > losses[2]!, `d${d}: loss falls with tokens: ${losses}`);
    }
    const last = a.runs.filter((r) => r.tokens === 16384).sort((x, y) => x.params - y.params);
    assert.ok(last[1]!.loss < last[0]!.loss, `bigger model is better at 16k tokens: ${last.map((r) => r.loss)}`);
    assert.ok(!('error' in a.parametricLaw), JSON.stringify(a.parametricLaw));
    assert.ok(a.parametricLaw.E >= 0);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<svg[\s\S]*<circle/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
