/**
 * Tiny trained checkpoints for generation and serving tests: a 1-layer GPT (d 16, context 24,
 * byte vocabulary 256, 12k parameters) trained for 80 tfjs steps (0.8 CPU s) on three repeated
 * sentences. Measured: at 40 steps greedy decoding still wrote only spaces (the unigram mode); at
 * 80 it writes "the the  athe …", letters and spaces without near-ties. A byte tokenizer with `\0`
 * as end-of-text.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBin } from '../../../formats/bin.ts';
import { BpeTokenizer } from '../../../operators/tokenize/bpe/tokenizer.ts';
import { BpeTrainer } from '../../../operators/tokenize/bpe/trainer.ts';
import { tokenizerFiles } from '../../../operators/tokenize/load.ts';
import { trainModel } from '../../../trainer/api.ts';
import type { GenTokenizer } from '../../../trainer/generate/generate.ts';

/** The training text, repeated. */
export const TINY_TEXT = 'the cat sat on the mat. the dog ran to the pond. a bird sang in the tree.\n';

/** Byte-level tokenizer: id = byte; id 0 (NUL) is end-of-text. */
export const byteTokenizer: GenTokenizer & { encode(t: string): Uint8Array } = {
  encode: (t: string) => Uint8Array.from(Buffer.from(t, 'utf8')),
  tokenBytes: (id: number) => Uint8Array.of(id),
  eotId: 0,
};

/** Trains a tiny checkpoint into `dir/<name>` and returns its path. */
export async function tinyCheckpoint(dir: string, name: string, positions: 'learned' | 'rotary' = 'learned', backend: 'tfjs' | 'torch' = 'tfjs'): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const shard = join(dir, `${name}-corpus.bin`);
  writeFileSync(shard, encodeBin(Array.from(Buffer.from(TINY_TEXT.repeat(100)))));
  const out = join(dir, name);
  await trainModel({
    backend,
    model: { vocabSize: 256, contextLength: 24, layers: 1, dModel: 16, heads: 2, positions },
    steps: 80,
    batchSize: 8,
    evalEvery: 80,
    evalBatches: 1,
    optimizer: { lr: 3e-2 },
    data: { train: [shard], eotToken: 0 },
    outDir: out,
    ...(backend === 'torch' ? { torch: { device: 'cpu' as const, threads: 1 } } : {}),
  });
  return out;
}

/**
 * A tiny checkpoint with its own tokenizer, as a train stage writes it: a byte-level BPE
 * (context 48, vocabulary 300: `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`, 256 bytes, 41 merges) trained on
 * {@link TINY_TEXT}, its files beside the model and `config.json` naming it (`tokenizer: "."`).
 */
export async function tinyBpeCheckpoint(dir: string, name: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const trainer = new BpeTrainer({ vocabSize: 300, specials: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] });
  trainer.add(TINY_TEXT);
  const def = trainer.train().definition;
  const tok = new BpeTokenizer(def);
  const shard = join(dir, `${name}-corpus.bin`);
  writeFileSync(shard, encodeBin(Array.from(tok.encode(TINY_TEXT.repeat(100)))));
  const out = join(dir, name);
  await trainModel({
    model: { vocabSize: 300, contextLength: 48, layers: 1, dModel: 16, heads: 2 },
    steps: 80,
    batchSize: 8,
    evalEvery: 80,
    evalBatches: 1,
    optimizer: { lr: 3e-2 },
    data: { train: [shard], eotToken: tok.eotId, tokenizer: '.' },
    outDir: out,
  });
  for (const [f, text] of Object.entries(tokenizerFiles(def))) writeFileSync(join(out, f), text);
  return out;
}
