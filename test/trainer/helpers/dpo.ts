/**
 * Fixtures of the DPO tests: a tiny GPT checkpoint straight from its seeded initialisation (no
 * training needed), and synthetic preference pairs whose chosen response continues the prompt
 * with consecutive token ids and whose rejected response is seeded noise, so a policy can learn
 * the preference within a few steps.
 */
import { writeModelCheckpoint, type NamedArray } from '../../../trainer/checkpoint.ts';
import { fullModelConfig, paramCounts, type ModelConfig } from '../../../formats/model.ts';
import { initialValues, parameterShapes } from '../../../trainer/tfjs/model.ts';
import { Rng } from '../../../trainer/tfjs/rng.ts';
import type { TokenizedPair } from '../../../trainer/dpo/data.ts';

export const tinyDpoModel: ModelConfig = { vocabSize: 64, contextLength: 24, layers: 2, dModel: 32, heads: 2 };

/** Writes the seeded initial weights of `model` as a `sluice.gpt/1` checkpoint in `dir`. */
export async function writeInitCheckpoint(dir: string, seed: number, model: ModelConfig = tinyDpoModel): Promise<void> {
  const cfg = fullModelConfig(model);
  const values = initialValues(cfg, new Rng(seed));
  const tensors = new Map<string, NamedArray>();
  for (const [name, shape] of parameterShapes(cfg)) tensors.set(name, { shape, data: values.get(name)! });
  await writeModelCheckpoint(dir, { format: 'sluice.gpt/1', model: cfg, backend: 'tfjs', step: 0, tokens: 0, finalLoss: null, valLoss: null, eotToken: 0, tokenizer: null, params: { ...paramCounts(cfg) } }, tensors);
}

/** `n` synthetic pairs: prompt (mask 0) then a response (mask 1) of 3–6 tokens. */
export function syntheticPairs(n: number, seed = 7): TokenizedPair[] {
  const rng = new Rng(seed);
  const int = (k: number) => Math.floor(rng.uniform() * k);
  const out: TokenizedPair[] = [];
  for (let i = 0; i < n; i++) {
    const prompt = Array.from({ length: 3 + int(6) }, () => 1 + int(60));
    const len = 3 + int(4);
    const start = prompt.at(-1)!;
    const good = Array.from({ length: len }, (_, j) => ((start + j + 1) % 63) + 1);
    const bad = Array.from({ length: 3 + int(4) }, () => 1 + int(62));
    const seq = (resp: number[]) => ({ tokens: [...prompt, ...resp], mask: [...prompt.map(() => 0), ...resp.map(() => 1)] });
    out.push({ id: `pair-${i}`, chosen: seq(good), rejected: seq(bad) });
  }
  return out;
}
