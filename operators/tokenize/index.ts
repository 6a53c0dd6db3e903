/** The `tokenize.*` factories: BPE training as a stage, encoding as an operator, and the library. */
import { encode } from './encode.ts';
import { trainBpe } from './train-stage.ts';
import { loadTokenizer, tokenizerFiles } from './load.ts';
import { BpeTrainer } from './bpe/trainer.ts';
import { BpeTokenizer } from './bpe/tokenizer.ts';
import { loadEncoding } from './bpe/tiktoken-format.ts';
import { PATTERNS } from './bpe/pattern.ts';

/** Tokenization: `tokenize.trainBpe(input, opts)` (stage), `tokenize.encode({ tokenizer })` (operator), `tokenize.load(spec)`. */
export const tokenize = {
  trainBpe,
  encode,
  /** Loads a tokenizer by encoding name, file or directory (see operators/tokenize/load.ts). */
  load: loadTokenizer,
  /** Loads a named OpenAI encoding (cl100k_base, o200k_base, …) from the tiktoken package's data. */
  encoding: loadEncoding,
  /** The tokenizer files of a definition (tokenizer.json, tokenizer.tiktoken, sluice-tokenizer.json). */
  files: tokenizerFiles,
  BpeTokenizer,
  BpeTrainer,
  PATTERNS,
};
export type { BpeDefinition, EncodeOptions } from './bpe/tokenizer.ts';
export type { BpeTrainOptions, BpeTrainStats } from './bpe/trainer.ts';
export type { EncodeConfig } from './encode.ts';
export type { TrainBpeOptions } from './train-stage.ts';
