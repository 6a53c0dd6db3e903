/**
 * A trained checkpoint as a text generator: `openGenerator(model)` loads a `sluice.gpt/1`
 * checkpoint (a directory, or the train stage's dataset) on the tfjs backend in-process or the
 * torch backend in a subprocess, with the tokenizer recorded in the checkpoint (or one passed in).
 */
import { storage as defaultStorage, type Storage } from '../../engine/storage/index.ts';
import type { Dataset } from '../../engine/types.ts';
import { loadTokenizer } from '../../operators/tokenize/load.ts';
import type { TfjsOptions } from '../api.ts';
import { readModelCheckpoint, type CheckpointMeta } from '../checkpoint.ts';
import { trainerModelConfig } from '../options.ts';
import { initTfjs } from '../tfjs/backend.ts';
import { tfjsDecodeModel } from '../tfjs/decode.ts';
import { TfjsGPT } from '../tfjs/model.ts';
import { torchDecodeModel } from '../torch/decoder.ts';
import { findPython } from '../torch/runner.ts';
import { generateStream, generateTokens, type GenerateOptions, type GenerationChunk, type Generation, type GenTokenizer } from './generate.ts';
import type { DecodeModel } from './lm.ts';

/** Options of {@link openGenerator}. */
export interface OpenGeneratorOptions {
  /** `tfjs` (in-process) or `torch` (subprocess). Default: the backend that trained it, torch only where a Python with torch is found. */
  backend?: 'tfjs' | 'torch';
  /** Overrides the checkpoint's tokenizer (and, when it names one, its end-of-text token). */
  tokenizer?: GenTokenizer;
  tfjs?: TfjsOptions;
  /** Python with torch (default as the trainer finds it) and device (default `auto`). */
  torch?: { python?: string; device?: 'auto' | 'cpu' | 'cuda' };
  signal?: AbortSignal;
  storage?: Storage;
}

/** A loaded model that generates text. Call `close()` when done. */
export interface TextGenerator {
  readonly backend: 'tfjs' | 'torch';
  readonly contextLength: number;
  readonly vocabSize: number;
  /** The checkpoint's `config.json`. */
  readonly meta: CheckpointMeta;
  /** The end-of-text token, when the checkpoint or its tokenizer names one. */
  readonly eotToken: number | undefined;
  /** The tokenizer (checkpoint's or the one passed in). */
  readonly tokenizer: GenTokenizer;
  /** The underlying decoder (for benchmarks and tests of the cache). */
  readonly model: DecodeModel;
  encode(text: string): number[];
  /** Token ids of a rendered chat prompt: special-token strings (`<|im_start|>`, …) become the specials. */
  encodeChat(text: string): number[];
  /** Generates from a text or token-id prompt. */
  generate(prompt: string | ArrayLike<number>, opts?: GenerateOptions): Promise<Generation>;
  /** The same, streaming chunks; the generator's return value is the {@link Generation}. */
  stream(prompt: string | ArrayLike<number>, opts?: GenerateOptions): AsyncGenerator<GenerationChunk, Generation>;
  close(): Promise<void>;
}

/** Opens a checkpoint (directory or train-stage dataset) for generation. */
export async function openGenerator(model: Dataset | string, opts: OpenGeneratorOptions = {}): Promise<TextGenerator> {
  const store = opts.storage ?? defaultStorage;
  const dir = typeof model === 'string' ? model : model.dir;
  const { meta, tensors } = await readModelCheckpoint(dir, store);
  const tokenizer: GenTokenizer | undefined = opts.tokenizer ?? (meta.tokenizer ? await loadTokenizer(meta.tokenizer === '.' ? dir : meta.tokenizer, store) : undefined);
  if (!tokenizer) throw new Error(`${dir}: the checkpoint records no tokenizer; pass { tokenizer } to openGenerator (or train with { tokenizer })`);
  // A tokenizer passed in names its own end-of-text; otherwise the checkpoint's record wins.
  const eot = (opts.tokenizer ? (opts.tokenizer.eotId ?? meta.eotToken) : (meta.eotToken ?? tokenizer.eotId)) ?? undefined;
  const tok: GenTokenizer = { encode: (t, o) => tokenizer.encode(t, o), tokenBytes: (id) => tokenizer.tokenBytes(id), ...(eot !== undefined ? { eotId: eot } : {}) };
  let backend = opts.backend;
  if (!backend) backend = meta.backend === 'torch' && findPython(opts.torch?.python) ? 'torch' : 'tfjs';
  let dm: DecodeModel;
  switch (backend) {
    case 'tfjs': {
      const tf = await initTfjs(opts.tfjs);
      const values = new Map<string, Float32Array>();
      for (const [name, t] of tensors) values.set(name, t.data);
      dm = tfjsDecodeModel(new TfjsGPT(tf, trainerModelConfig(meta.model), values));
      break;
    }
    case 'torch':
      if (!(dir.startsWith('/') || dir.startsWith('file://'))) throw new Error(`openGenerator: the torch backend reads local checkpoints; ${dir} is not local (use backend 'tfjs')`);
      dm = await torchDecodeModel(dir.replace(/^file:\/\//, ''), meta.model.vocabSize, meta.model.contextLength, { ...opts.torch, signal: opts.signal });
      break;
    default: {
      const never: never = backend;
      throw new Error(`openGenerator: unknown backend ${String(never)}`);
    }
  }
  const ids = (p: string | ArrayLike<number>) => (typeof p === 'string' ? tok.encode(p) : p);
  return {
    backend,
    contextLength: meta.model.contextLength,
    vocabSize: meta.model.vocabSize,
    meta,
    eotToken: eot,
    tokenizer: tok,
    model: dm,
    encode: (t) => Array.from(tok.encode(t)),
    encodeChat: (t) => Array.from(tok.encode(t, { allowedSpecial: 'all' })),
    generate: (p, o) => generateTokens(dm, tok, ids(p), o),
    stream: (p, o) => generateStream(dm, tok, ids(p), o),
    close: () => dm.close(),
  };
}
