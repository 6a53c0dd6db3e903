/**
 * Finding a tokenizer by name or location, and the files a trained tokenizer is saved as.
 *
 * A spec is one of: an OpenAI encoding name (`cl100k_base`, `o200k_base`, `r50k_base`,
 * `p50k_base`, `p50k_edit`, `o200k_harmony`, `gpt2`), read from the tiktoken package's data;
 * a `.tiktoken` rank file (a known encoding's file name gives its pattern and specials, otherwise
 * a `sluice-tokenizer.json` beside it must); an HF `tokenizer.json`; GPT-2's `[prefix]vocab.json`
 * (with `[prefix]merges.txt` beside it); or a directory holding one of those — the output of
 * `tokenize.trainBpe` or `sluice tokenizer train`. Paths may be local or `s3://`.
 */
import { storage as defaultStorage } from '../../engine/storage/index.ts';
import type { StorageLike } from '../../engine/types.ts';
import { parseHfTokenizer, parseVocabMerges, toHfTokenizer } from './bpe/hf-format.ts';
import { encodingDefinition, isEncodingName, loadEncoding, parseTiktoken, serializeTiktoken } from './bpe/tiktoken-format.ts';
import { BpeTokenizer, type BpeDefinition } from './bpe/tokenizer.ts';
import { parseTokenizerMeta, TOKENIZER_FILES, type TokenizerMeta } from '../../formats/tokenizer.ts';

export { TOKENIZER_FILES, type TokenizerMeta } from '../../formats/tokenizer.ts';

/**
 * The files that save a merge-list tokenizer: `tokenizer.json` (HF), `tokenizer.tiktoken`
 * (rank file; tiktoken encodes with rank semantics, which can differ from the merge list on rare
 * pieces) and `sluice-tokenizer.json` (pattern, specials, fingerprint).
 */
export function tokenizerFiles(def: BpeDefinition, training?: TokenizerMeta['training']): Record<string, string> {
  const tok = new BpeTokenizer(def);
  const meta: TokenizerMeta = {
    format: 'sluice.tokenizer/1',
    name: def.name,
    pattern: tok.pattern,
    specials: def.specials,
    eot: def.eot ?? (tok.eotId !== undefined ? '<|endoftext|>' : null),
    vocabSize: tok.vocabSize,
    fingerprint: tok.fingerprint,
    files: { hf: TOKENIZER_FILES.hf, tiktoken: TOKENIZER_FILES.tiktoken },
    ...(training ? { training } : {}),
  };
  return {
    [TOKENIZER_FILES.hf]: toHfTokenizer(def),
    [TOKENIZER_FILES.tiktoken]: serializeTiktoken(def.tokens),
    [TOKENIZER_FILES.meta]: JSON.stringify(meta, null, 1) + '\n',
  };
}

const base = (uri: string) => uri.replace(/\/+$/, '').split('/').pop()!;
const dirOf = (uri: string) => uri.replace(/\/+$/, '').split('/').slice(0, -1).join('/') || '.';

/** Loads a tokenizer from a spec (see the module comment). Errors name the spec and what was tried. */
export async function loadTokenizer(spec: string, store: StorageLike = defaultStorage): Promise<BpeTokenizer> {
  if (isEncodingName(spec)) return loadEncoding(spec);
  const text = async (uri: string) => Buffer.from(await store.read(uri)).toString('utf8');
  const name = base(spec);
  if (name.endsWith('.tiktoken')) {
    const tokens = parseTiktoken(await text(spec), spec);
    const stem = name.slice(0, -'.tiktoken'.length);
    if (isEncodingName(stem)) return new BpeTokenizer({ ...encodingDefinition(stem), name: spec, tokens });
    const metaUri = store.join(dirOf(spec), TOKENIZER_FILES.meta);
    if (!(await store.exists(metaUri))) throw new Error(`${spec}: a .tiktoken file has no pattern or specials; name it after a known encoding or put ${TOKENIZER_FILES.meta} beside it`);
    const meta = parseTokenizerMeta(await text(metaUri), metaUri);
    return new BpeTokenizer({ name: spec, tokens, specials: meta.specials, pattern: meta.pattern, eot: meta.eot ?? undefined });
  }
  if (name.endsWith('vocab.json')) {
    // GPT-2's pair: vocab.json + merges.txt (also prefixed, e.g. gpt2_vocab.json + gpt2_merges.txt).
    const merges = store.join(dirOf(spec), name.slice(0, -'vocab.json'.length) + 'merges.txt');
    return new BpeTokenizer(parseVocabMerges(await text(spec), await text(merges), spec));
  }
  if (name.endsWith('.json')) return new BpeTokenizer(parseHfTokenizer(await text(spec), spec));
  // A directory.
  const meta = store.join(spec, TOKENIZER_FILES.meta);
  const hf = store.join(spec, TOKENIZER_FILES.hf);
  if (await store.exists(meta)) {
    const m = parseTokenizerMeta(await text(meta), meta);
    const def = parseHfTokenizer(await text(store.join(spec, m.files.hf)), hf);
    def.name = m.name;
    def.eot = m.eot ?? undefined;
    const tok = new BpeTokenizer(def);
    if (tok.fingerprint !== m.fingerprint) throw new Error(`${spec}: tokenizer.json does not match the fingerprint in ${TOKENIZER_FILES.meta} (${tok.fingerprint} vs ${m.fingerprint})`);
    return tok;
  }
  if (await store.exists(hf)) return new BpeTokenizer(parseHfTokenizer(await text(hf), hf));
  const vocab = store.join(spec, 'vocab.json');
  if (await store.exists(vocab)) return loadTokenizer(vocab, store);
  throw new Error(`tokenizer '${spec}': not an encoding name (${['cl100k_base', 'o200k_base', 'r50k_base', 'p50k_base', 'p50k_edit', 'o200k_harmony', 'gpt2'].join(', ')}), nor a .tiktoken/tokenizer.json/vocab.json file, nor a directory holding ${TOKENIZER_FILES.meta}, tokenizer.json or vocab.json`);
}
