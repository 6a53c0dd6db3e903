import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layoutPairs, epochOrder, type PairSet } from '../../trainer/dpo/data.ts';
import { dpoReference, trainDpo } from '../../trainer/dpo/api.ts';
import { readModelCheckpoint, decodeSafetensors } from '../../trainer/checkpoint.ts';
import { pairLosses, type DpoLossConfig } from '../../trainer/dpo/loss.ts';
import { parseDpoRecord, type DpoMetricsRecord } from '../../trainer/dpo/metrics.ts';
import { tfjsModel } from '../../trainer/dpo/tfjs.ts';
import { pairBatch } from '../../trainer/dpo/data.ts';
import { preferenceLoss, sequenceLogprobs } from '../../trainer/dpo/tfjs-ops.ts';
import { runDpoPy, writePairSet } from '../../trainer/dpo/torch.ts';
import { findPython } from '../../trainer/torch/runner.ts';
import { syntheticPairs, tinyDpoModel, writeInitCheckpoint } from './helpers/dpo.ts';
import { killMidRun } from './helpers/kill.ts';
import type { Scalar } from '@tensorflow/tfjs';

const python = findPython();
const noTorch = python ? false : 'skipped: no python3 with torch and numpy';
const dir = mkdtempSync(join(tmpdir(), 'sluice-dpo-'));
const tfjs = { backend: 'wasm' as const, threads: 1 };
const base = join(dir, 'base');
const other = join(dir, 'other');
await writeInitCheckpoint(base, 1);
await writeInitCheckpoint(other, 2);
const layout = () => layoutPairs(syntheticPairs(40), { maxTokens: tinyDpoModel.contextLength! + 1, batchSize: 4, heldout: 0.2, seed: 3 });
const loadCk = async (d: string) => ({ dir: d, ...(await readModelCheckpoint(d)) });
const readMetrics = (p: string): DpoMetricsRecord[] =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l, i) => parseDpoRecord(JSON.parse(l), `${p}:${i + 1}`));

test('dpo losses: the formulas of TRL (sigmoid, ipo on averaged log-probabilities) and SimPO, with their gradients', () => {
  const lp = { policyChosen: [-3, -10], policyRejected: [-5, -4], refChosen: [-4, -9], refRejected: [-4, -6], lenChosen: [2, 5], lenRejected: [3, 2] };
  const beta = 0.1;
  const sig = pairLosses(lp, { loss: 'sigmoid', beta, gamma: 0.5 });
  const z0 = beta * (-3 - -5 - (-4 - -4));
  assert.equal(sig.loss[0], Math.log1p(Math.exp(-z0)));
  assert.equal(sig.chosenReward[1], beta * (-10 - -9));
  const ipo = pairLosses(lp, { loss: 'ipo', beta, gamma: 0.5 });
  const h = -3 / 2 - -5 / 3 - (-4 / 2 - -4 / 3);
  assert.ok(Math.abs(ipo.loss[0]! - (h - 1 / (2 * beta)) ** 2) < 1e-12);
  const sim = pairLosses(lp, { loss: 'simpo', beta: 2, gamma: 1 });
  const zs = (2 * -3) / 2 - (2 * -5) / 3 - 1;
  assert.ok(Math.abs(sim.loss[0]! - Math.log1p(Math.exp(-zs))) < 1e-12);
  assert.equal(sim.chosenReward[0], (2 * -3) / 2, 'SimPO reward: β × average log-probability, no reference');
  // Gradients against central differences.
  for (const cfg of [{ loss: 'sigmoid', beta, gamma: 0 }, { loss: 'ipo', beta, gamma: 0 }, { loss: 'simpo', beta: 2, gamma: 1 }] as DpoLossConfig[]) {
    const g = pairLosses(lp, cfg);
    const eps = 1e-6;
    const bump = (k: 'policyChosen' | 'policyRejected', d: number) => pairLosses({ ...lp, [k]: lp[k].map((v, i) => (i === 0 ? v + d : v)) }, cfg).loss[0]!;
    assert.ok(Math.abs((bump('policyChosen', eps) - bump('policyChosen', -eps)) / (2 * eps) - g.dChosen[0]!) < 1e-6, `${cfg.loss} dChosen`);
    assert.ok(Math.abs((bump('policyRejected', eps) - bump('policyRejected', -eps)) / (2 * eps) - g.dRejected[0]!) < 1e-6, `${cfg.loss} dRejected`);
  }
});

test('dpo (tfjs): with policy = reference the first loss is exactly ln 2 and the held-out reward accuracy 0.5; training raises the accuracy', async () => {
  const set = await dpoReference(layout(), await loadCk(base), { backend: 'tfjs', tfjs, torch: {}, tmpDir: dir });
  const r = await trainDpo({ set, from: base, outDir: join(dir, 'tfjs-learn'), steps: 24, beta: 0.5, optimizer: { lr: 3e-3 }, evalEvery: 12, tfjs });
  const m = readMetrics(r.metricsPath);
  const first = m.find((x) => x.kind === 'dpo')!;
  assert.equal(first.loss, Math.LN2, 'exactly ln 2 at step 1 (policy = reference)');
  assert.equal(first.rewardMargin, 0);
  assert.equal(first.rewardAccuracy, 0.5);
  assert.deepEqual(r.before, { loss: Math.LN2, chosenReward: 0, rejectedReward: 0, rewardMargin: 0, rewardAccuracy: 0.5 });
  assert.ok(r.after!.rewardAccuracy > 0.75, `held-out reward accuracy after: ${r.after!.rewardAccuracy}`);
  assert.ok(r.after!.rewardMargin > 0 && r.after!.loss < Math.LN2);
  assert.deepEqual(m.filter((x) => x.kind === 'dpo-eval').map((x) => x.step), [0, 12, 24]);
  const html = readFileSync(r.reportPath, 'utf8');
  assert.match(html, /aria-label="loss"/);
  assert.match(html, /aria-label="reward margin"/);
  const ck = await readModelCheckpoint(r.checkpoint);
  assert.equal(ck.meta.step, 24);
});

test('epoch order: the same permutation in TypeScript and in dpo.py', { skip: noTorch }, async () => {
  const code = `import sys; sys.path.insert(0, 'trainer/torch'); from dpo import epoch_order; import json; print(json.dumps([epoch_order(13, s, e) for s in (1337, -5, 0) for e in (0, 1, 7)]))`;
  const { spawnSync } = await import('node:child_process');
  const out = spawnSync(python!, ['-c', code], { encoding: 'utf8', cwd: join(import.meta.dirname, '..', '..') });
  assert.equal(out.status, 0, out.stderr);
  const ts = [1337, -5, 0].flatMap((s) => [0, 1, 7].map((e) => epochOrder(13, s, e)));
  assert.deepEqual(JSON.parse(out.stdout), ts);
});

/** Loss and canonical gradients of `batches` as one step, on tfjs. */
async function tfjsLossAndGrads(set: PairSet, from: string, batches: number[][], cfg: DpoLossConfig) {
  const { tf, model } = await tfjsModel(await loadCk(from), tfjs);
  const n = batches.reduce((s, b) => s + b.length, 0);
  const vars = [...model.params.values()];
  const canonical = new Map([...model.params].map(([name, v]) => [v.name, name]));
  const grads = new Map<string, Float32Array>();
  let loss = 0;
  for (const batch of batches) {
    const b = pairBatch(set, batch);
    const S = 2 * b.pairs;
    const sink = { last: null };
    const r = tf.variableGrads(() => preferenceLoss(tf, sequenceLogprobs(tf, model.logits(b.x, S, b.width), b.y, b.weight, S, b.width), b, cfg, 1 / n, sink) as Scalar, vars);
    loss += r.value.dataSync()[0]!;
    for (const [vn, g] of Object.entries(r.grads)) {
      const name = canonical.get(vn)!;
      const d = g.dataSync() as Float32Array;
      const prev = grads.get(name);
      grads.set(name, prev ? prev.map((x, i) => x + d[i]!) : Float32Array.from(d));
      g.dispose();
    }
    r.value.dispose();
  }
  model.dispose();
  return { loss, grads };
}

test('dpo: tfjs and torch give the same loss and gradients on the same weights (sigmoid, ipo, simpo), to 1e-4', { skip: noTorch }, async () => {
  // Reference = another model, so the loss and its gradient are not trivial.
  const set = await dpoReference(layout(), await loadCk(other), { backend: 'tfjs', tfjs, torch: {}, tmpDir: dir });
  const pairsDir = join(dir, 'check-pairs');
  writePairSet(pairsDir, set);
  const batches = set.header.train.slice(0, 2);
  const cases = ([{ loss: 'sigmoid', beta: 0.1, gamma: 0 }, { loss: 'ipo', beta: 0.1, gamma: 0 }, { loss: 'simpo', beta: 2, gamma: 1 }] as DpoLossConfig[]).map((cfg) => ({ loss: cfg, gradsOut: join(dir, `grads-${cfg.loss}.safetensors`) }));
  const runJson = join(dir, 'check.json');
  writeFileSync(runJson, JSON.stringify({ from: base, pairsDir, batches, cases, torch: { device: 'cpu', threads: 1 } }));
  const torchLosses = new Map<string, number>();
  await runDpoPy(python!, 'check', runJson, (r) => torchLosses.set(r.case as string, r.loss as number), () => {});
  for (const { loss: cfg, gradsOut } of cases) {
    const t = await tfjsLossAndGrads(set, base, batches, cfg);
    const torchLoss = torchLosses.get(cfg.loss)!;
    assert.ok(Math.abs(torchLoss - t.loss) < 1e-4, `${cfg.loss}: loss torch ${torchLoss} vs tfjs ${t.loss}`);
    assert.ok(Math.abs(t.loss - Math.LN2) > 1e-3, `${cfg.loss}: a loss away from ln 2 (${t.loss})`);
    const tg = decodeSafetensors(readFileSync(gradsOut)).tensors;
    assert.equal(tg.size, t.grads.size);
    let worst = 0;
    let norm = 0;
    for (const [name, g] of t.grads) {
      const o = tg.get(name)!.data;
      assert.equal(o.length, g.length, name);
      for (let i = 0; i < g.length; i++) {
        worst = Math.max(worst, Math.abs(o[i]! - g[i]!));
        norm = Math.max(norm, Math.abs(g[i]!));
      }
    }
    assert.ok(norm > 1e-3, `${cfg.loss}: a non-trivial gradient (max |g| ${norm})`);
    assert.ok(worst < 1e-4, `${cfg.loss}: gradients differ by up to ${worst}`);
  }
});

const trainLosses = (rs: DpoMetricsRecord[]) => rs.flatMap((r) => (r.kind === 'dpo' ? [[r.step, r.loss, r.rewardMargin]] : r.kind === 'dpo-eval' ? [[r.step, r.loss, r.rewardAccuracy]] : []));

/** Starts the DPO child on `opts`, SIGKILLs its process group once `ready()` holds, waits for it to end. */
const killDpoMidRun = (name: string, opts: object, ready: () => boolean) => killMidRun('dpo-child.ts', join(dir, `${name}.json`), opts, ready);

for (const backend of ['tfjs', 'torch'] as const) {
  test(`dpo (${backend}): killed with SIGKILL mid-run and started again, it resumes with identical losses`, { skip: backend === 'torch' ? noTorch : false }, async () => {
    const torch = { device: 'cpu' as const, threads: 1 };
    const set = await dpoReference(layout(), await loadCk(base), { backend, tfjs, torch, tmpDir: dir });
    const setDir = join(dir, `kill-set-${backend}`);
    writePairSet(setDir, set);
    const common = { from: base, steps: 12, beta: 0.5, optimizer: { lr: 1e-2 }, evalEvery: 6, checkpointEvery: 2, backend, tfjs, torch };
    const ref = await trainDpo({ ...common, set, outDir: join(dir, `kill-ref-${backend}`) });
    const refMetrics = readMetrics(ref.metricsPath);
    const first = refMetrics.find((x) => x.kind === 'dpo')!;
    assert.equal(first.loss, Math.LN2, 'ln 2 at the first step on this backend too');
    assert.equal(ref.before!.rewardAccuracy, 0.5);
    const outDir = join(dir, `killed-${backend}`);
    const state = backend === 'tfjs' ? join(outDir, '_state', 'state.json') : join(outDir, '_state', 'dpo-state.pt');
    const killed = await killDpoMidRun(`kill-${backend}`, { ...common, setDir, outDir }, () => {
      if (!existsSync(state)) return false;
      return backend === 'torch' || (JSON.parse(readFileSync(state, 'utf8')) as { step: number }).step >= 4;
    });
    assert.ok(killed, 'the child wrote a checkpoint before it was killed');
    assert.ok(!existsSync(join(outDir, 'metrics.jsonl')), 'no final outputs from the killed run');
    const r = await trainDpo({ ...common, set, outDir });
    assert.ok(r.resumedFromStep >= 2 && r.resumedFromStep < 12, `resumed from ${r.resumedFromStep}`);
    assert.deepEqual(trainLosses(readMetrics(r.metricsPath)), trainLosses(refMetrics), 'identical losses, margins and accuracies, step for step');
    const a = await readModelCheckpoint(ref.checkpoint);
    const b = await readModelCheckpoint(r.checkpoint);
    assert.deepEqual(b.tensors.get('h.1.mlp.c_fc.weight')!.data, a.tensors.get('h.1.mlp.c_fc.weight')!.data, 'bit-identical final weights');
    // Another β on the same state directory is refused, not silently continued (checked on tfjs:
    // dpo.py checks the same fingerprint, and a Python start costs a second of test CPU).
    if (backend === 'tfjs') await assert.rejects(trainDpo({ ...common, beta: 0.2, set, outDir }), /different run configuration/);
  });
}
