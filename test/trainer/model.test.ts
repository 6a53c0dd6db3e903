import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { flopsPerToken, fullModelConfig, paramCounts } from '../../formats/model.ts';
import { fullSchedule, learningRate } from '../../trainer/optim/schedule.ts';
import { resolveRun } from '../../trainer/options.ts';
import { initTfjs } from '../../trainer/tfjs/backend.ts';
import { parameterShapes } from '../../trainer/tfjs/model.ts';
import { bmm, crossEntropy, embed, gelu, layerNorm, linearBias, matmul } from '../../trainer/tfjs/ops.ts';

test('parameter counts: GPT-2 small is 124,439,808; counts agree with the tensors the model creates', () => {
  const gpt2 = { vocabSize: 50257, contextLength: 1024, layers: 12, dModel: 768, heads: 12 };
  const c = paramCounts(gpt2);
  assert.equal(c.total, 124_439_808);
  assert.equal(c.nonEmbedding, 124_439_808 - 50257 * 768 - 1024 * 768);
  assert.equal(flopsPerToken(gpt2).total, 6 * c.matmul + 12 * 12 * 1024 * 768);
  for (const spec of [
    { vocabSize: 300, contextLength: 32, layers: 3, dModel: 48, heads: 4, tiedHead: false, positions: 'rotary' as const, bias: false, mlpRatio: 2 },
    { vocabSize: 300, contextLength: 32, layers: 1, dModel: 48, heads: 2 },
  ]) {
    const shapes = parameterShapes(fullModelConfig(spec));
    const n = shapes.reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
    assert.equal(paramCounts(spec).total, n, JSON.stringify(spec));
  }
});

test('config and options validation name the key', () => {
  assert.throws(() => fullModelConfig({ vocabSize: 10, contextLength: 8, layers: 1, dModel: 10, heads: 3 }), /dModel 10 is not divisible by model.heads 3/);
  assert.throws(() => fullModelConfig({ vocabSize: 10, contextLength: 0, layers: 1, dModel: 8, heads: 2 }), /model.contextLength must be a positive integer, got 0/);
  assert.throws(() => fullModelConfig({ vocabSize: 10, contextLength: 8, layers: 1, dModel: 6, heads: 2, positions: 'rotary' }), /even head size/);
  const model = { contextLength: 8, layers: 1, dModel: 8, heads: 2 };
  assert.throws(() => resolveRun({ model, steps: 1 }), /vocabSize is not set/);
  // The planner rounds a fractional ratio; both trainer backends need an integer one.
  assert.equal(fullModelConfig({ ...model, vocabSize: 9, mlpRatio: 2.5 }).mlpRatio, 2.5);
  assert.throws(() => resolveRun({ model: { ...model, vocabSize: 9, mlpRatio: 2.5 }, steps: 1 }), /trainer: model.mlpRatio must be a positive integer, got 2.5/);
  assert.equal(resolveRun({ model, steps: 1 }, { vocabSize: 99 }).model.vocabSize, 99);
  assert.throws(() => resolveRun({ model: { ...model, vocabSize: 9 } }), /give steps or tokens/);
  assert.equal(resolveRun({ model: { ...model, vocabSize: 9 }, tokens: 1000, batchSize: 4, gradAccum: 2 }).steps, Math.ceil(1000 / 64));
  assert.throws(() => resolveRun({ model: { ...model, vocabSize: 9 }, steps: 1, optimizer: { beta2: 1 } }), /optimizer.beta2 must be in \[0, 1\)/);
  assert.throws(() => resolveRun({ model: { ...model, vocabSize: 9 }, steps: 1, backend: 'jax' as 'tfjs' }), /backend must be 'tfjs' or 'torch'/);
});

test('schedule: linear warmup, cosine to minLrRatio·lr, constant', () => {
  const s = fullSchedule({ warmupSteps: 10, minLrRatio: 0.1 }, 110);
  assert.equal(learningRate(0, 1, s, 110), 0.1);
  assert.equal(learningRate(9, 1, s, 110), 1);
  assert.equal(learningRate(10, 1, s, 110), 1);
  assert.ok(Math.abs(learningRate(60, 1, s, 110) - 0.55) < 1e-12, 'half way down the cosine');
  assert.ok(Math.abs(learningRate(110, 1, s, 110) - 0.1) < 1e-12);
  const values = Array.from({ length: 100 }, (_, i) => learningRate(10 + i, 1, s, 110));
  assert.ok(values.every((v, i) => i === 0 || v <= values[i - 1]!), 'monotone decay');
  assert.equal(learningRate(50, 2, fullSchedule({ warmupSteps: 5, decay: 'constant' }, 100), 100), 2);
  assert.equal(fullSchedule(undefined, 50).warmupSteps, 5);
  assert.throws(() => fullSchedule({ minLrRatio: 2 }, 10), /minLrRatio must be in \[0, 1\]/);
});

/** Gradient of sum(f(x)·w) w.r.t. the inputs, w a fixed random weighting. */
function grads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): { value: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const probe = f(...xs);
    const w = tf.randomUniform(probe.shape, -1, 1, 'float32', 7);
    const g = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), w)))(xs);
    return { value: probe.dataSync() as Float32Array, grads: g.map((t) => t.dataSync() as Float32Array) };
  });
}

function close(a: Float32Array, b: Float32Array, tol: number, what: string) {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('custom ops match stock tfjs values and gradients (cpu reference), and run on wasm', async () => {
  const cases = () => {
    const ids = tf.tensor1d([3, 1, 3, 0, 3], 'int32');
    const table = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
    const a = tf.randomNormal([6, 5], 0, 1, 'float32', 2);
    const b = tf.randomNormal([5, 3], 0, 1, 'float32', 3);
    const a3 = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 4);
    const b3 = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 5);
    const x = tf.randomNormal([4, 6], 0, 2, 'float32', 6);
    const targets = tf.tensor1d([1, 5, 0, 2], 'int32');
    const bias = tf.randomNormal([3], 0, 1, 'float32', 8);
    const gain = tf.randomNormal([6], 1, 0.2, 'float32', 9);
    const shift = tf.randomNormal([6], 0, 0.2, 'float32', 10);
    return { ids, table, a, b, a3, b3, x, targets, bias, gain, shift };
  };
  const custom = (c: ReturnType<typeof cases>) => ({
    embed: grads((t) => embed(tf, t as tf.Tensor2D, c.ids as tf.Tensor1D), [c.table]),
    matmul: grads((p, q) => matmul(tf, p as tf.Tensor2D, q as tf.Tensor2D), [c.a, c.b]),
    bmm: grads((p, q) => bmm(tf, p as tf.Tensor3D, q as tf.Tensor3D), [c.a3, c.b3]),
    gelu: grads((p) => gelu(tf, p), [c.x]),
    ce: grads((p) => crossEntropy(tf, p as tf.Tensor2D, c.targets as tf.Tensor1D), [c.x]),
    linearBias: grads((p, q, r) => linearBias(tf, p as tf.Tensor2D, q as tf.Tensor2D, r as tf.Tensor1D), [c.a, c.b, c.bias]),
    layerNorm: grads((p, g, b) => layerNorm(tf, p as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), [c.x, c.gain, c.shift]),
    layerNormNoBias: grads((p, g) => layerNorm(tf, p as tf.Tensor2D, g as tf.Tensor1D, null, 1e-5), [c.x, c.gain]),
  });
  const stockLn = (p: tf.Tensor, g: tf.Tensor) => {
    const { mean, variance } = tf.moments(p, -1, true);
    return tf.mul(tf.mul(tf.sub(p, mean), tf.rsqrt(tf.add(variance, 1e-5))), g);
  };
  await initTfjs({ backend: 'cpu' });
  const c = cases();
  const mine = custom(c);
  const stock = {
    embed: grads((t) => tf.gather(t, c.ids), [c.table]),
    matmul: grads((p, q) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), [c.a, c.b]),
    bmm: grads((p, q) => tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D), [c.a3, c.b3]),
    gelu: grads((p) => tf.mul(tf.mul(p, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(p, tf.mul(tf.pow(p, 3), 0.044715)), Math.sqrt(2 / Math.PI))))), [c.x]),
    ce: grads((p) => tf.losses.softmaxCrossEntropy(tf.oneHot(c.targets as tf.Tensor1D, 6), p), [c.x]),
    linearBias: grads((p, q, r) => tf.add(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), r), [c.a, c.b, c.bias]),
    layerNorm: grads((p, g, b) => tf.add(stockLn(p, g), b), [c.x, c.gain, c.shift]),
    layerNormNoBias: grads((p, g) => stockLn(p, g), [c.x, c.gain]),
  };
  for (const k of Object.keys(stock) as (keyof typeof stock)[]) {
    close(mine[k].value, stock[k].value, 1e-5, `${k} value`);
    mine[k].grads.forEach((g, i) => close(g, stock[k].grads[i]!, 1e-4, `${k} grad ${i}`));
  }
  // Repeated ids accumulate in the embedding gradient.
  assert.ok(Math.abs(mine.embed.grads[0]![3 * 4]!) > 0);
  // On wasm the stock gather gradient is missing (UnsortedSegmentSum); ours works and agrees.
  await initTfjs({ backend: 'wasm' });
  const cw = cases();
  assert.throws(() => grads((t) => tf.gather(t, cw.ids), [cw.table]), /UnsortedSegmentSum/);
  const onWasm = custom(cw);
  for (const k of Object.keys(mine) as (keyof typeof mine)[]) {
    close(onWasm[k].value, mine[k].value, 1e-5, `wasm ${k} value`);
    onWasm[k].grads.forEach((g, i) => close(g, mine[k].grads[i]!, 1e-4, `wasm ${k} grad ${i}`));
  }
});

test('a tfjs backend that does not start is an error, not a silent fallback', async () => {
  await assert.rejects(initTfjs({ backend: 'tensorflow' }), /needs @tensorflow\/tfjs-node or @tensorflow\/tfjs-node-gpu installed/);
  await assert.rejects(initTfjs({ threads: 0 }), /threads must be a positive integer/);
});
