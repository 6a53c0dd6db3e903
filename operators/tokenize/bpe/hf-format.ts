/**
 * Hugging Face formats for byte-level BPE: `tokenizer.json` (the `tokenizers` library's file;
 * model `BPE`, tokens and merges spelled with GPT-2's byte-to-character map) and the older
 * `vocab.json` + `merges.txt` pair of GPT-2. Loading rejects, with the reason, what is not plain
 * byte-level BPE (normalizers, dropout, word-piece prefixes, byte fallback), rather than encode
 * differently from `tokenizers`.
 */
import { bytesToGpt2, gpt2ToBytes } from './bytes.ts';
import { PATTERNS } from './pattern.ts';
import type { BpeDefinition } from './tokenizer.ts';

type J = Record<string, unknown>;

function fail(source: string, what: string): never {
  throw new Error(`${source}: ${what}`);
}

/** The pre-tokenisation pattern an HF `pre_tokenizer` amounts to, or an error naming it. */
function patternOf(pre: unknown, source: string): string {
  const p = pre as J | null;
  if (!p) fail(source, 'no pre_tokenizer: not a byte-level BPE tokenizer');
  const byteLevel = (b: J, regexAllowed: boolean) => {
    if (b.add_prefix_space) fail(source, 'ByteLevel add_prefix_space=true is not supported');
    if (b.use_regex && !regexAllowed) fail(source, 'ByteLevel with use_regex after a Split is not supported');
  };
  if (p.type === 'ByteLevel') {
    byteLevel(p, true);
    if (p.use_regex === false) fail(source, 'ByteLevel without a regex splits nothing: not supported');
    return PATTERNS.gpt2;
  }
  if (p.type === 'Sequence') {
    const list = (p.pretokenizers ?? []) as J[];
    const split = list[0];
    const bl = list[1];
    if (list.length !== 2 || split?.type !== 'Split' || bl?.type !== 'ByteLevel') fail(source, `pre_tokenizer Sequence of ${list.map((x) => x?.type).join(', ')} is not supported (expected Split, ByteLevel)`);
    byteLevel(bl, false);
    if (split.behavior !== 'Isolated' || split.invert) fail(source, `Split behavior ${String(split.behavior)}${split.invert ? ' inverted' : ''} is not supported (expected Isolated)`);
    const pat = split.pattern as J;
    if (typeof pat?.Regex === 'string') return pat.Regex;
    if (typeof pat?.String === 'string') return pat.String.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    fail(source, 'Split has no pattern');
  }
  fail(source, `pre_tokenizer ${String(p.type)} is not supported`);
}

/** Parses an HF `tokenizer.json` holding a byte-level BPE model. */
export function parseHfTokenizer(text: string, source = 'tokenizer.json'): BpeDefinition {
  let j: J;
  try {
    j = JSON.parse(text) as J;
  } catch (e) {
    fail(source, `invalid JSON: ${(e as Error).message}`);
  }
  const model = j.model as J | undefined;
  if (!model || (model.type !== undefined && model.type !== 'BPE')) fail(source, `model type ${String(model?.type)} is not BPE`);
  if (j.normalizer) fail(source, `normalizer ${String((j.normalizer as J).type)} is not supported`);
  if (model.dropout) fail(source, 'BPE dropout is not supported');
  if (model.byte_fallback) fail(source, 'byte_fallback is not supported (not byte-level BPE)');
  if (model.continuing_subword_prefix || model.end_of_word_suffix) fail(source, 'continuing_subword_prefix/end_of_word_suffix are not supported');
  const pattern = patternOf(j.pre_tokenizer, source);
  const vocab = model.vocab as Record<string, number>;
  if (!vocab || typeof vocab !== 'object') fail(source, 'model.vocab is missing');
  const added = ((j.added_tokens ?? []) as J[]).map((t) => ({ id: t.id as number, content: t.content as string }));
  const rawMerges = (model.merges ?? []) as Array<string | [string, string]>;
  const def = build(vocab, rawMerges, added, pattern, source);
  def.wholeTokenFirst = model.ignore_merges === true;
  return def;
}

/** Parses GPT-2's `vocab.json` and `merges.txt` (first line `#version…` optional). */
export function parseVocabMerges(vocabJson: string, mergesTxt: string, source = 'vocab.json'): BpeDefinition {
  let vocab: Record<string, number>;
  try {
    vocab = JSON.parse(vocabJson) as Record<string, number>;
  } catch (e) {
    fail(source, `invalid JSON: ${(e as Error).message}`);
  }
  const merges = mergesTxt.split('\n').filter((l) => l.length > 0 && !l.startsWith('#version'));
  // GPT-2's one special is an ordinary-looking entry of vocab.json.
  const added = '<|endoftext|>' in vocab ? [{ id: vocab['<|endoftext|>']!, content: '<|endoftext|>' }] : [];
  const def = build(vocab, merges, added, PATTERNS.gpt2, source);
  def.wholeTokenFirst = false;
  return def;
}

function build(vocab: Record<string, number>, rawMerges: Array<string | [string, string]>, added: Array<{ id: number; content: string }>, pattern: string, source: string): BpeDefinition {
  const specials: Record<string, number> = {};
  const specialIds = new Set<number>();
  for (const a of added) {
    if (!Number.isInteger(a.id) || typeof a.content !== 'string') fail(source, `bad added token ${JSON.stringify(a)}`);
    specials[a.content] = a.id;
    specialIds.add(a.id);
  }
  const tokens: Array<Uint8Array | undefined> = [];
  for (const [s, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || id < 0) fail(source, `token ${JSON.stringify(s)} has id ${id}`);
    if (specialIds.has(id)) continue;
    tokens[id] = gpt2ToBytes(s);
  }
  const idOf = (s: string, m: number) => {
    const id = vocab[s];
    if (id === undefined) fail(source, `merge ${m} names ${JSON.stringify(s)}, which is not in the vocabulary`);
    return id;
  };
  const merges: Array<[number, number]> = rawMerges.map((m, i) => {
    let a: string, b: string;
    if (Array.isArray(m)) [a, b] = m;
    else {
      const sp = m.indexOf(' ');
      if (sp <= 0) fail(source, `merge ${i} ${JSON.stringify(m)} is not 'left right'`);
      a = m.slice(0, sp);
      b = m.slice(sp + 1);
    }
    return [idOf(a, i), idOf(b, i)];
  });
  return { name: source, tokens, merges, specials, pattern };
}

/**
 * Serialises a merge-list definition as an HF `tokenizer.json`: added tokens (special), a
 * `Split` (Isolated) + `ByteLevel` pre-tokenizer, the BPE model with `ignore_merges: true` (the
 * whole-token-first rule Sluice encodes with), and a ByteLevel decoder. The `tokenizers`
 * library loads it and encodes identically (tested).
 */
export function toHfTokenizer(def: BpeDefinition): string {
  if (!def.merges) throw new Error(`${def.name}: only merge-list tokenizers can be saved as tokenizer.json`);
  const vocab: Record<string, number> = {};
  def.tokens.forEach((b, id) => {
    if (b) vocab[bytesToGpt2(b)] = id;
  });
  // HF resolves an added token's id through the model vocabulary: specials must be in it too.
  for (const [content, id] of Object.entries(def.specials)) vocab[content] = id;
  const spell = (id: number) => bytesToGpt2(def.tokens[id]!);
  const pattern = def.pattern in PATTERNS ? PATTERNS[def.pattern as keyof typeof PATTERNS] : def.pattern;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.entries(def.specials)
      .sort((a, b) => a[1] - b[1])
      .map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: def.wholeTokenFirst ?? true,
      vocab,
      merges: def.merges.map(([a, b]) => [spell(a), spell(b)]),
    },
  };
  return JSON.stringify(json);
}
