/**
 * A Sluice byte-level BPE tokenizer as llama.cpp's `gpt2` tokenizer (`tokenizer.ggml.*`): token
 * strings in GPT-2's byte-to-character spelling (the spelling of HF `tokenizer.json`), a merge
 * list (`"left right"`), token types, and the pre-tokenizer name that selects llama.cpp's
 * built-in splitting regex. llama.cpp has no way to carry an arbitrary regex, so only the three
 * presets Sluice trains with map: `gpt2` → `gpt-2`, `cl100k` → `llama-bpe` (Llama 3's, the same
 * regex), `o200k` → `gpt-4o`.
 */
import { bytesToGpt2, latin1 } from '../../operators/tokenize/bpe/bytes.ts';
import { preTokenizer, type PresetName } from '../../operators/tokenize/bpe/pattern.ts';
import { BpeTokenizer, type BpeDefinition } from '../../operators/tokenize/bpe/tokenizer.ts';

/** llama.cpp's `llama_token_type` values written to `tokenizer.ggml.token_type`. */
export const LLAMA_TOKEN_TYPE = { normal: 1, control: 3, unused: 5 } as const;

/** The `tokenizer.ggml.pre` name of each pattern preset (llama.cpp `llama-vocab.cpp`). */
export const LLAMA_PRE: Record<PresetName, string> = { gpt2: 'gpt-2', cl100k: 'llama-bpe', o200k: 'gpt-4o' };

/**
 * Pre-tokenizer names under which llama.cpp looks a whole pre-token up in the vocabulary before
 * merging (its `ignore_merges`; Sluice's `wholeTokenFirst`). Of the three above, only Llama 3's.
 */
const LLAMA_WHOLE_TOKEN_FIRST = new Set(['llama-bpe']);

/** The tokenizer part of a GGUF file. */
export interface LlamaVocab {
  /** `tokenizer.ggml.pre`. */
  pre: string;
  /** One string per id, `vocabSize` of them (ids the tokenizer lacks become `[PAD<id>]`, type unused). */
  tokens: string[];
  types: number[];
  merges: string[];
  /**
   * Vocabulary tokens (as text) that llama.cpp's rule would encode differently from Sluice's:
   * 0 when the two tokenize identically token by token. Measured at export, reported, not fatal.
   */
  differentTokens: number;
  /** Up to 5 of those, for the message. */
  differentExamples: string[];
}

/**
 * The merge list of a definition: its own, or, for a tiktoken rank vocabulary, every split of
 * each token into two tokens, ordered by the merged token's rank then the parts' ranks — the
 * conversion `transformers` uses for tiktoken files, which encodes as tiktoken does.
 */
export function mergeList(def: BpeDefinition): Array<[number, number]> {
  if (def.merges) return def.merges;
  const idOf = new Map<string, number>();
  def.tokens.forEach((b, id) => {
    if (b) idOf.set(latin1(b), id);
  });
  const out: Array<[number, number]> = [];
  def.tokens.forEach((b) => {
    if (!b || b.length < 2) return;
    const local: Array<[number, number]> = [];
    for (let i = 1; i < b.length; i++) {
      const l = idOf.get(latin1(b, 0, i));
      const r = idOf.get(latin1(b, i));
      if (l !== undefined && r !== undefined) local.push([l, r]);
    }
    local.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    out.push(...local);
  });
  return out;
}

/**
 * Builds the GGUF vocabulary of `tok` for a model with `vocabSize` rows. Throws when the
 * tokenizer's pattern is not one of llama.cpp's, when it has more ids than the model, or when two
 * ids would spell the same string (llama.cpp maps strings to ids).
 */
export function llamaVocab(tok: BpeTokenizer, vocabSize: number): LlamaVocab {
  const def = tok.definition;
  const preset = preTokenizer(def.pattern).preset;
  if (!preset) {
    throw new Error(`export: the tokenizer's pre-tokenisation pattern ${JSON.stringify(def.pattern)} is not one llama.cpp has built in; GGUF export supports the presets ${Object.keys(LLAMA_PRE).join(', ')} (llama.cpp would split text differently)`);
  }
  if (tok.vocabSize > vocabSize) throw new Error(`export: the tokenizer has ${tok.vocabSize} ids but the model only ${vocabSize} embedding rows`);
  const pre = LLAMA_PRE[preset];
  const specialAt = new Map<number, string>();
  for (const [s, id] of tok.specials) specialAt.set(id, s);
  const tokens: string[] = [];
  const types: number[] = [];
  const seen = new Map<string, number>();
  for (let id = 0; id < vocabSize; id++) {
    const b = def.tokens[id];
    const special = specialAt.get(id);
    const [s, type] = b ? [bytesToGpt2(b), LLAMA_TOKEN_TYPE.normal] : special !== undefined ? [special, LLAMA_TOKEN_TYPE.control] : [`[PAD${id}]`, LLAMA_TOKEN_TYPE.unused];
    const prev = seen.get(s);
    if (prev !== undefined) throw new Error(`export: tokens ${prev} and ${id} are both spelled ${JSON.stringify(s)}; llama.cpp needs distinct token strings`);
    seen.set(s, id);
    tokens.push(s);
    types.push(type);
  }
  const pairs = mergeList(def);
  const spell = (id: number) => bytesToGpt2(def.tokens[id]!);
  const merges = pairs.map(([a, b]) => `${spell(a)} ${spell(b)}`);

  // llama.cpp encodes with the merge list, looking whole pre-tokens up first only for llama-bpe.
  // Encode every vocabulary token's text both ways: a difference means llama.cpp tokenizes that
  // word differently from Sluice (Sluice-trained merge lists measured: none).
  const theirs = new BpeTokenizer({ ...def, merges: pairs, wholeTokenFirst: LLAMA_WHOLE_TOKEN_FIRST.has(pre) });
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let differentTokens = 0;
  const differentExamples: string[] = [];
  for (const b of def.tokens) {
    if (!b || b.length < 2) continue;
    let text: string;
    try {
      text = utf8.decode(b);
    } catch {
      continue; // a token inside a multi-byte character is never a whole word
    }
    const a = tok.encodeOrdinary(text);
    const c = theirs.encodeOrdinary(text);
    if (a.length !== c.length || a.some((x, i) => x !== c[i])) {
      differentTokens++;
      if (differentExamples.length < 5) differentExamples.push(text);
    }
  }
  return { pre, tokens, types, merges, differentTokens, differentExamples };
}
