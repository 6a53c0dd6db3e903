/**
 * A tiny Sluice checkpoint for the export tests, written by the test itself: a byte-level BPE
 * tokenizer trained on a few lines of text, and a GPT whose weights are drawn (not trained) with
 * scales that make its next-token distribution peaked, so greedy decoding is decided by margins
 * far above float rounding. Also Sluice's own greedy continuation and log-probabilities (tfjs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fullModelConfig, type FullModelConfig, type ModelConfig } from '../../../formats/model.ts';
import { BpeTrainer } from '../../../operators/tokenize/bpe/trainer.ts';
import { BpeTokenizer } from '../../../operators/tokenize/bpe/tokenizer.ts';
import { tokenizerFiles } from '../../../operators/tokenize/load.ts';
import { writeModelCheckpoint, type NamedArray } from '../../../trainer/checkpoint.ts';
import { initTfjs } from '../../../trainer/tfjs/backend.ts';
import { parameterShapes, TfjsGPT } from '../../../trainer/tfjs/model.ts';
import { Rng } from '../../../trainer/tfjs/rng.ts';

export const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  "It's a truth universally acknowledged, that a single man in possession of a good fortune must be in want of a wife.",
  'To be, or not to be, that is the question: whether tis nobler in the mind to suffer.',
  'Numbers like 12345 and 3.14159 appear in text, as do e-mails: someone@example.com.',
  'Sluice builds training data: crawl, extract, filter, deduplicate, tokenize, train, evaluate.',
].join('\n');

/** Trains the fixture tokenizer (gpt2 pattern unless given). */
export function fixtureTokenizer(vocabSize = 320, pattern = 'gpt2'): BpeTokenizer {
  const t = new BpeTrainer({ vocabSize, pattern });
  t.add(CORPUS.repeat(3));
  return new BpeTokenizer(t.train().definition);
}

/** Weights with peaked outputs: embeddings and a separate head N(0,1), other matrices N(0, 1/fan_in), LayerNorm gains 1 ± 0.2, biases N(0, 0.1). */
export function fixtureWeights(c: FullModelConfig, seed: number): Map<string, NamedArray> {
  const rng = new Rng(seed);
  const out = new Map<string, NamedArray>();
  for (const [name, shape] of parameterShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const std = name === 'wte' || name === 'wpe' || name === 'lm_head.weight' ? 1 : name.endsWith('.bias') ? 0.1 : name.includes('ln_') ? 0.2 : 1 / Math.sqrt(shape[0]!);
    for (let i = 0; i < n; i++) a[i] = (name.includes('ln_') && name.endsWith('.weight') ? 1 : 0) + rng.normal() * std;
    out.set(name, { shape, data: a });
  }
  return out;
}

/**
 * Writes a checkpoint directory (model, config, tokenizer files) and returns its config. With
 * `encoding`, the checkpoint records that encoding name instead of carrying tokenizer files.
 */
export async function writeFixtureCheckpoint(dir: string, model: Omit<ModelConfig, 'vocabSize'> & { vocabSize?: number }, tok: BpeTokenizer | null, seed = 1, encoding?: string): Promise<FullModelConfig> {
  mkdirSync(dir, { recursive: true });
  const c = fullModelConfig({ vocabSize: tok?.vocabSize ?? 300, ...model });
  if (tok && !encoding) for (const [f, text] of Object.entries(tokenizerFiles(tok.definition))) writeFileSync(join(dir, f), text);
  const tokenizer = encoding ?? (tok ? '.' : null);
  await writeModelCheckpoint(dir, { format: 'sluice.gpt/1', model: c, backend: 'tfjs', step: 0, tokens: 0, finalLoss: null, valLoss: null, eotToken: tok?.eotId ?? null, tokenizer }, fixtureWeights(c, seed));
  return c;
}

/** Sluice's model, in tfjs, over the checkpoint's weights. */
export async function sluiceModel(c: FullModelConfig, weights: Map<string, NamedArray>) {
  const tf = await initTfjs({ backend: 'wasm' });
  const values = new Map([...weights].map(([k, v]) => [k, v.data]));
  const model = new TfjsGPT(tf, c, values);
  /** Log-softmax of the next-token logits after `ids`. */
  const nextLogprobs = (ids: number[]): Float32Array =>
    tf.tidy(() => {
      const logits = model.logits(Int32Array.from(ids), 1, ids.length);
      const last = tf.slice(logits, [ids.length - 1, 0], [1, c.vocabSize]);
      return tf.logSoftmax(last).dataSync() as Float32Array;
    });
  /** Greedy continuation of `ids` by `n` tokens, with the smallest top-1/top-2 logit margin seen. */
  const greedy = (ids: number[], n: number): { tokens: number[]; minMargin: number } => {
    const seq = [...ids];
    let minMargin = Infinity;
    for (let k = 0; k < n; k++) {
      const lp = nextLogprobs(seq);
      let best = 0;
      for (let i = 1; i < lp.length; i++) if (lp[i]! > lp[best]!) best = i;
      let second = -Infinity;
      for (let i = 0; i < lp.length; i++) if (i !== best && lp[i]! > second) second = lp[i]!;
      minMargin = Math.min(minMargin, lp[best]! - second);
      seq.push(best);
    }
    return { tokens: seq.slice(ids.length), minMargin };
  };
  return { nextLogprobs, greedy, dispose: () => model.dispose() };
}
