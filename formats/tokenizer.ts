/**
 * Tokenizer files: what `tokenize.trainBpe` and `sluice tokenizer train` write, what
 * `tokenize.encode`, `shard.tokens`, the trainer (which copies them into its checkpoint) and the
 * scorer read. A saved tokenizer is three files in one directory:
 *
 * - `tokenizer.json`: the Hugging Face `tokenizers` format (BPE model, byte-level pre-tokenizer),
 *   loadable by `tokenizers`/`transformers` as is;
 * - `tokenizer.tiktoken`: tiktoken's rank file (base64 token, rank), loadable by `tiktoken`;
 * - `sluice-tokenizer.json` ({@link TokenizerMeta}): what the two do not say — the
 *   pre-tokenisation pattern (tiktoken dialect), specials, end-of-text, vocabulary size and
 *   fingerprint (checked on load against `tokenizer.json`).
 *
 * The parsers and writers of the first two are the BPE implementation's
 * (operators/tokenize/bpe/hf-format.ts, tiktoken-format.ts); loading by name or path is
 * operators/tokenize/load.ts.
 */
import type { Json } from '../engine/types.ts';

/** File names of a saved tokenizer. */
export const TOKENIZER_FILES = { meta: 'sluice-tokenizer.json', hf: 'tokenizer.json', tiktoken: 'tokenizer.tiktoken' } as const;

/** `sluice-tokenizer.json`: what the two vocabulary files do not say. */
export type TokenizerMeta = {
  format: 'sluice.tokenizer/1';
  name: string;
  /** Pre-tokenisation pattern, tiktoken dialect. */
  pattern: string;
  specials: Record<string, number>;
  /** End-of-text special. */
  eot: string | null;
  vocabSize: number;
  /** `BpeTokenizer.fingerprint` of the saved tokenizer. */
  fingerprint: string;
  files: { hf: string; tiktoken: string };
  /** Free-form training facts (sizes, pruning, time). */
  training?: { [key: string]: Json };
};

/** Parses `sluice-tokenizer.json`; an error naming `uri` and the missing or wrong key. */
export function parseTokenizerMeta(text: string, uri: string): TokenizerMeta {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${uri}: not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${uri}: not a JSON object`);
  const o = v as Record<string, unknown>;
  if (o.format !== 'sluice.tokenizer/1') throw new Error(`${uri}: format is ${JSON.stringify(o.format)}, expected "sluice.tokenizer/1"`);
  const need = (k: string, ok: boolean) => {
    if (!ok) throw new Error(`${uri}: key '${k}' is missing or malformed (got ${JSON.stringify(o[k])})`);
  };
  need('name', typeof o.name === 'string');
  need('pattern', typeof o.pattern === 'string');
  need('specials', typeof o.specials === 'object' && o.specials !== null && Object.values(o.specials).every((x) => Number.isInteger(x)));
  need('eot', o.eot === null || typeof o.eot === 'string');
  need('vocabSize', Number.isInteger(o.vocabSize) && (o.vocabSize as number) > 0);
  need('fingerprint', typeof o.fingerprint === 'string');
  const files = o.files as Record<string, unknown> | undefined;
  need('files', typeof files === 'object' && files !== null && typeof files.hf === 'string' && typeof files.tiktoken === 'string');
  return {
    format: 'sluice.tokenizer/1',
    name: o.name as string,
    pattern: o.pattern as string,
    specials: o.specials as Record<string, number>,
    eot: o.eot as string | null,
    vocabSize: o.vocabSize as number,
    fingerprint: o.fingerprint as string,
    files: { hf: files!.hf as string, tiktoken: files!.tiktoken as string },
    ...(typeof o.training === 'object' && o.training !== null ? { training: o.training as { [key: string]: Json } } : {}),
  };
}

/** The manifest `info` of a `tokenize.trainBpe` stage. */
export type TokenizerInfo = {
  vocabSize: number;
  fingerprint: string;
  /** Id of the end-of-text token (the first special), null without specials. */
  eotToken: number | null;
  pattern: string;
  specials: Record<string, number>;
  merges: number;
  docs: number;
  bytes: number;
  distinctWords: number;
  prunedWords: number;
  summary: string;
};
