import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countParams, flopsPerToken, fullModelConfig, paramCounts, type ModelConfig } from '../../formats/model.ts';
import { parameterShapes } from '../../trainer/tfjs/model.ts';

test('GPT-2 small (tied head, learned positions, biases) has 124,439,808 parameters', () => {
  const c = countParams({ vocabSize: 50257, contextLength: 1024, layers: 12, dModel: 768, heads: 12 });
  assert.equal(c.total, 124_439_808);
  // nanoGPT reports 123.65M: the total without position embeddings.
  assert.equal(c.total - c.positionEmbedding, 123_653_376);
  assert.equal(c.tokenEmbedding, 50257 * 768);
  assert.equal(c.head, 0);
  assert.equal(c.total, c.tokenEmbedding + c.positionEmbedding + c.blockNorms + c.attention + c.mlp + c.finalNorm + c.head);
});

test("counts equal the tensors the trainer's model creates, across the config space", () => {
  const configs: ModelConfig[] = [];
  for (const tiedHead of [true, false])
    for (const positions of ['learned', 'rotary'] as const)
      for (const bias of [true, false])
        for (const [layers, dModel, heads, mlpRatio] of [[2, 64, 4, 4], [3, 96, 6, 2], [12, 768, 12, 4], [1, 32, 2, 3]] as const)
          configs.push({ vocabSize: 517, contextLength: 128, layers, dModel, heads, mlpRatio, tiedHead, positions, bias });
  for (const c of configs) {
    // Independent of the formulas: the parameter tensors the tfjs model allocates, by name.
    const size = (sh: number[]) => sh.reduce((a, b) => a * b, 1);
    const shapes = parameterShapes(fullModelConfig(c));
    const total = shapes.reduce((n, [, sh]) => n + size(sh), 0);
    const embeddings = shapes.filter(([name]) => name === 'wte' || name === 'wpe').reduce((n, [, sh]) => n + size(sh), 0);
    // Matmul weights: the block projections and the output head once (the tied head is wte).
    const matmul = shapes.filter(([name]) => /\.(c_attn|c_proj|c_fc)\.weight$/.test(name)).reduce((n, [, sh]) => n + size(sh), 0) + c.vocabSize * c.dModel;
    const mine = countParams(c);
    assert.deepEqual({ total: mine.total, nonEmbedding: mine.nonEmbedding, matmul: mine.matmul }, { total, nonEmbedding: total - embeddings, matmul }, JSON.stringify(c));
    assert.deepEqual(paramCounts(c), { total, nonEmbedding: total - embeddings, matmul }, 'the trainer reports the same counts');
    assert.equal(flopsPerToken(c).total, 6 * matmul + 12 * c.layers * c.contextLength * c.dModel, JSON.stringify(c));
  }
});

test('an untied head adds V·d; rotary removes T·d; no bias removes the biases', () => {
  const base = { vocabSize: 1000, contextLength: 256, layers: 4, dModel: 128, heads: 4 };
  const t = countParams(base).total;
  assert.equal(countParams({ ...base, tiedHead: false }).total - t, 1000 * 128);
  assert.equal(t - countParams({ ...base, positions: 'rotary' }).total, 256 * 128);
  // Biases: per block 3d (qkv) + d (proj) + 4d (fc) + d (mlp proj) + 2d (two LN shifts); final LN d.
  assert.equal(t - countParams({ ...base, bias: false }).total, 4 * (3 * 128 + 128 + 512 + 128 + 2 * 128) + 128);
});

test('invalid configs name the key', () => {
  assert.throws(() => countParams({ vocabSize: 100, contextLength: 16, layers: 2, dModel: 30, heads: 4 }), /model.dModel 30 is not divisible by model.heads 4/);
  assert.throws(() => countParams({ vocabSize: 0, contextLength: 16, layers: 2, dModel: 32, heads: 4 }), /model.vocabSize must be a positive integer, got 0/);
});
