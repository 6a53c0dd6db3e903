/**
 * Generation on both backends: cached and uncached greedy decoding give the same tokens (learned
 * and rotary positions, past the context window), tfjs and torch agree, a seed fixes a sampled
 * generation, stop strings cut the text and its tokens, and the sampling filters do what they say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openGenerator, type TextGenerator } from '../../trainer/generate/open.ts';
import { sampleToken, topLogprobs, checkSampling } from '../../trainer/generate/sampling.ts';
import { findPython } from '../../trainer/torch/runner.ts';
import { byteTokenizer, tinyCheckpoint } from './helpers/tiny-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-generate-'));
const python = findPython();
const noTorch = python ? false : 'skipped: no python3 with torch and numpy (Debian: apt-get install python3-torch; or set SLUICE_PYTHON)';
const prompt = 'the dog ';
let learned: string;
let rotary: string;

test.before(async () => {
  learned = await tinyCheckpoint(dir, 'learned', 'learned');
  rotary = await tinyCheckpoint(dir, 'rotary', 'rotary');
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const ids = (g: { tokens: Array<{ token: number }> }) => g.tokens.map((t) => t.token);

async function cachedVsUncached(g: TextGenerator): Promise<number[]> {
  // 40 new tokens after an 8-token prompt: the window (24) slides after 16 of them.
  const a = await g.generate(prompt, { temperature: 0, maxTokens: 40, ignoreEos: true, cache: true });
  const b = await g.generate(prompt, { temperature: 0, maxTokens: 40, ignoreEos: true, cache: false });
  assert.equal(a.tokens.length, 40);
  assert.deepEqual(ids(a), ids(b));
  for (let i = 0; i < a.tokens.length; i++) assert.ok(Math.abs(a.tokens[i]!.logprob - b.tokens[i]!.logprob) < 1e-4, `token ${i}: ${a.tokens[i]!.logprob} vs ${b.tokens[i]!.logprob}`);
  // Inside the window the cache is used incrementally: a 3-token prompt plus 15 tokens.
  const c = await g.generate('a b', { temperature: 0, maxTokens: 15, ignoreEos: true, cache: true });
  const d = await g.generate('a b', { temperature: 0, maxTokens: 15, ignoreEos: true, cache: false });
  assert.deepEqual(ids(c), ids(d));
  assert.match(a.text, /[a-z]/, 'a trained model writes letters');
  return ids(a);
}

test('tfjs: cached and uncached greedy decoding give the same tokens (learned and rotary positions)', async () => {
  for (const ck of [learned, rotary]) {
    const g = await openGenerator(ck, { backend: 'tfjs', tokenizer: byteTokenizer });
    try {
      await cachedVsUncached(g);
    } finally {
      await g.close();
    }
  }
});

test('torch: cached and uncached greedy decoding give the same tokens, and the same as tfjs', { skip: noTorch }, async () => {
  for (const ck of [learned, rotary]) {
    const t = await openGenerator(ck, { backend: 'torch', tokenizer: byteTokenizer, torch: { device: 'cpu' } });
    const f = await openGenerator(ck, { backend: 'tfjs', tokenizer: byteTokenizer });
    try {
      const tt = await cachedVsUncached(t);
      const ft = await f.generate(prompt, { temperature: 0, maxTokens: 40, ignoreEos: true });
      assert.deepEqual(tt, ids(ft));
      // Sampling is done in TypeScript on either backend's logits: the same seed, the same tokens.
      const ts = await t.generate(prompt, { temperature: 0.8, topP: 0.9, seed: 5, maxTokens: 20, ignoreEos: true });
      const fs = await f.generate(prompt, { temperature: 0.8, topP: 0.9, seed: 5, maxTokens: 20, ignoreEos: true });
      assert.deepEqual(ids(ts), ids(fs));
      // Prompt scores (completions `echo`) agree across backends.
      const p = Array.from(Buffer.from('the dog ran to the pond.'));
      const [a, b] = [await t.model.scorePrompt(p, 2), await f.model.scorePrompt(p, 2)];
      assert.equal(a.length, p.length - 1);
      a.forEach((x, j) => {
        assert.ok(Math.abs(x.logprob - b[j]!.logprob) < 1e-4, `position ${j}`);
        assert.deepEqual(x.top.map((y) => y.token), b[j]!.top.map((y) => y.token));
      });
    } finally {
      await t.close();
      await f.close();
    }
  }
});

test('a seed fixes a sampled generation; stop strings cut text and tokens; max tokens; end-of-text', async () => {
  const g = await openGenerator(learned, { backend: 'tfjs', tokenizer: byteTokenizer });
  try {
    const o = { temperature: 1, topK: 20, maxTokens: 30, ignoreEos: true };
    const a = await g.generate(prompt, { ...o, seed: 7 });
    const b = await g.generate(prompt, { ...o, seed: 7 });
    const c = await g.generate(prompt, { ...o, seed: 8 });
    assert.equal(a.seed, 7);
    assert.deepEqual(ids(a), ids(b));
    assert.notDeepEqual(ids(a), ids(c));
    assert.equal(a.finishReason, 'length');
    assert.equal(a.completionTokens, 30);
    // Stop at the first space of the greedy text: the text ends before it, tokens too.
    const full = await g.generate(prompt, { temperature: 0, maxTokens: 30, ignoreEos: true, topLogprobs: 3 });
    const cut = full.text.indexOf(' ');
    assert.ok(cut > 0, `greedy text ${JSON.stringify(full.text)} has a space`);
    const stopped = await g.generate(prompt, { temperature: 0, maxTokens: 30, ignoreEos: true, stop: ['zzz', ' '] });
    assert.equal(stopped.finishReason, 'stop');
    assert.equal(stopped.stopSequence, ' ');
    assert.equal(stopped.text, full.text.slice(0, cut));
    assert.deepEqual(ids(stopped), ids(full).slice(0, cut));
    // A two-character stop string spanning tokens: the streamed text never shows its first half.
    const two = full.text.slice(cut - 1, cut + 1);
    const it = g.stream(prompt, { temperature: 0, maxTokens: 30, ignoreEos: true, stop: [two] });
    let streamed = '';
    let r = await it.next();
    for (; !r.done; r = await it.next()) streamed += r.value.text;
    assert.equal(streamed, full.text.slice(0, cut - 1));
    assert.equal(r.value.text, streamed);
    // Top log-probabilities: sorted, the chosen (greedy) token first, offsets match the text.
    const t0 = full.tokens[0]!;
    assert.equal(t0.top.length, 3);
    assert.equal(t0.top[0]!.token, t0.token);
    assert.ok(t0.top[0]!.logprob >= t0.top[1]!.logprob && t0.top[1]!.logprob >= t0.top[2]!.logprob);
    assert.deepEqual(full.tokens.map((t) => t.offset), full.tokens.map((_, i) => i));
    // End-of-text: a tokenizer whose end-of-text is the greedy 3rd token stops there.
    const eotG = await openGenerator(learned, { backend: 'tfjs', tokenizer: { ...byteTokenizer, eotId: full.tokens[2]!.token } });
    const e = await eotG.generate(prompt, { temperature: 0, maxTokens: 30 });
    await eotG.close();
    const k = ids(full).indexOf(full.tokens[2]!.token);
    assert.equal(e.finishReason, 'stop');
    assert.equal(e.text, full.text.slice(0, k));
    assert.equal(e.completionTokens, k + 1);
    await assert.rejects(g.generate('x'.repeat(30), { maxTokens: 1 }), /the prompt has 30 tokens; the model's context is 24/);
    const left = await g.generate('x'.repeat(30), { maxTokens: 1, truncate: 'left' });
    assert.equal(left.promptTokens, 24);
  } finally {
    await g.close();
  }
});

test('sampling: temperature 0 and top-k 1 are argmax; top-p keeps the nucleus; top-k keeps k', () => {
  const logits = Float32Array.from([0, 3, 1, 2.9, -5]);
  let calls = 0;
  const rand = () => (calls++, 0.999999);
  assert.equal(sampleToken(logits, checkSampling({ temperature: 0 }), rand), 1);
  assert.equal(sampleToken(logits, checkSampling({ topK: 1 }), rand), 1);
  assert.equal(calls, 0, 'greedy draws nothing');
  // p = softmax: [0.023, 0.466, 0.063, 0.421, 0.0003]; the top two hold 0.887.
  assert.equal(sampleToken(logits, checkSampling({ topP: 0.85 }), () => 0.999999), 3, 'the last of the nucleus {1, 3}');
  assert.equal(sampleToken(logits, checkSampling({ topP: 0.4 }), () => 0.999999), 1, 'a nucleus of one');
  assert.equal(sampleToken(logits, checkSampling({ topK: 3 }), () => 0.999999), 2, 'the third most likely');
  assert.equal(sampleToken(logits, checkSampling({}), () => 0.999999), 4, 'no filter: the last id can be drawn');
  assert.deepEqual(topLogprobs(logits, 2).map((t) => t.token), [1, 3]);
  // Top-p by partitioning equals top-p by a full sort (ties included: logits on a coarse grid).
  const reference = (l: Float32Array, topP: number, u: number) => {
    const ids = Array.from(l, (_, i) => i).sort((a, b) => l[b]! - l[a]! || a - b);
    const p = ids.map((i) => Math.exp(l[i]! - Math.max(...l)));
    const total = p.reduce((a, b) => a + b, 0);
    let keep = ids.length;
    for (let j = 0, c = 0; j < ids.length; j++) if ((c += p[j]!) >= topP * total) {
      keep = j + 1;
      break;
    }
    let r = u * p.slice(0, keep).reduce((a, b) => a + b, 0);
    for (let j = 0; j < keep; j++) if ((r -= p[j]!) < 0) return ids[j]!;
    return ids[keep - 1]!;
  };
  let seed = 3;
  const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let trial = 0; trial < 30; trial++) {
    const l = Float32Array.from({ length: 200 }, () => Math.round(next() * 12) / 2);
    const topP = 0.05 + 0.9 * next();
    for (const u of [0, 0.3, 0.77, 0.999999]) assert.equal(sampleToken(l, checkSampling({ topP }), () => u), reference(l, topP, u), `trial ${trial}, topP ${topP}, u ${u}`);
  }
  assert.throws(() => checkSampling({ topP: 0 }), /topP must be in \(0, 1\]/);
  assert.throws(() => checkSampling({ temperature: -1 }), /temperature must be a number ≥ 0/);
});
