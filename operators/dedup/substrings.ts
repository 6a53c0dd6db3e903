/**
 * `dedup.substrings`: exact substring deduplication by suffix array (Lee et al. 2021,
 * "Deduplicating Training Data Makes Language Models Better"). Every span of ≥ `minTokens`
 * tokens that occurs more than once in the corpus keeps its first occurrence (input order: file,
 * row, position) and loses the repeats. Stages:
 *
 * 1. `<name>.tokens`: one task per input file; BPE-encodes each document (no specials) and
 *    writes its tokens (u32) and per-document token counts.
 * 2. `<name>.sa`: one task per input file; cuts the file's token text (documents ended by a
 *    separator id = vocabulary size) every `shardTokens` tokens (anywhere, documents too) and
 *    writes each shard's suffix array (SA-IS over the shard plus `minTokens` tokens past its end,
 *    Int32, file-local positions; see sa-shards.ts). Time linear in the file (bounded shards keep
 *    SA-IS's cost per token flat); memory: the file's text (2 bytes/token for vocabularies up to
 *    65,535, else 4) plus ≈ 14 bytes per shard token (SA-IS ≈ 10 measured, 4 for the result).
 * 3. `<name>.repeats`: one task; holds the whole token text (2 or 4 bytes/token as above) and
 *    one flag byte per token, merges the shards' suffix arrays k-way streamed from storage (the
 *    disk-based merge: one read buffer and a 16K-suffix key window per shard; O(n log k)) and
 *    writes the removed token ranges per file; the manifest's `info` reports the share removed.
 * 4. `<name>`: one task per input file; cuts the removed ranges out of the original text at the
 *    tokens' UTF-8 byte offsets (shrunk to whole characters), so nothing is decoded or re-encoded.
 *
 * Output is a function of the input files and the config only (the sharded merge yields the
 * same groups as one suffix array of the whole corpus), never of worker or task counts.
 */
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import { toJson } from '../../engine/json.ts';
import { storage } from '../../engine/storage/index.ts';
import type { CustomTaskContext, Doc, Json, StageExpansion, StageRef } from '../../engine/types.ts';
import type { BpeTokenizer } from '../tokenize/bpe/tokenizer.ts';
import { loadTokenizer } from '../tokenize/load.ts';
import { fileTasks, resourceOptions, stageMaker } from '../expansion.ts';
import { fileNamed, filesMatching, pad, streamFiles } from './parts.ts';
import { findRepeats, type SaSource, type TokenText } from './repeats.ts';
import { DEFAULT_SHARD_TOKENS, shardCuts, shardSuffixArray } from './sa-shards.ts';
import { applyCuts, auditFlow, type Cut } from './spans.ts';

export const SUBSTRINGS_VERSION = '2';

const refSchema = z.object({ kind: z.literal('stage'), name: z.string(), pipeline: z.string() });
const schema = z
  .object({
    /** A trained-tokenizer stage, an encoding name (`cl100k_base`, …) or a path/URI of tokenizer files. */
    tokenizer: z.union([z.string().min(1), refSchema]),
    /** Shortest repeated span removed, in tokens (Lee et al. use 50). */
    minTokens: z.number().int().min(1).default(50),
    /** Tokens per suffix-array shard (1M: SA-IS's cost per token is flat up to there, measured; bounds the SA tasks' memory). Never changes the output. */
    shardTokens: z.number().int().min(1).max(0x7ffffffe).default(DEFAULT_SHARD_TOKENS),
    name: z.string().min(1).optional(),
  })
  .strict();

/** Options of {@link substrings}. */
export interface SubstringsOptions {
  tokenizer: StageRef | string;
  minTokens?: number;
  shardTokens?: number;
  name?: string;
}
type Config = z.output<typeof schema>;

/** A JSON config (`sluice apply`) names its tokenizer by encoding name or path: there is no stage to refer to. */
const jsonSchema = schema.extend({ tokenizer: z.string().min(1) });

/**
 * {@link substrings} from a JSON config (as `sluice apply` and the operator registry pass it):
 * validated first, so a bad config fails naming `dedup.substrings` and the key. Same defaults.
 */
export function substringsFromJson(config: Json): StageExpansion {
  return substrings(parseConfig('dedup.substrings', jsonSchema, config));
}

export const SUBSTRING_REASONS = { span: 'dedup.repeatedSubstring', emptied: 'dedup.substringsEmptied' } as const;

interface TokensMeta {
  file: number;
  docs: number;
  tokens: number;
  vocab: number;
}

async function tokenizerOf(ctx: CustomTaskContext, cfg: Config): Promise<BpeTokenizer> {
  const spec = typeof cfg.tokenizer === 'string' ? cfg.tokenizer : ctx.inputs[ctx.inputs.length - 1]!.dir;
  return loadTokenizer(spec, ctx.storage);
}

function u32le(a: Uint32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function readU32(uri: string): Promise<Uint32Array> {
  const b = await storage.read(uri);
  if (b.byteLength % 4) throw new Error(`${uri}: ${b.byteLength} bytes is not a whole number of u32 words`);
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Uint32Array(copy.buffer);
}

async function tokensTask(ctx: CustomTaskContext, cfg: Config): Promise<void> {
  const input = ctx.inputs[0]!;
  const uri = input.files()[ctx.index];
  const tok = await tokenizerOf(ctx, cfg);
  const lengths: number[] = [];
  const chunks: Uint32Array[] = [];
  let total = 0;
  if (uri !== undefined) {
    for await (const batch of input.readDocs([uri])) {
      for (const doc of batch) {
        const ids = tok.encodeOrdinary(typeof doc.text === 'string' ? doc.text : '');
        lengths.push(ids.length);
        chunks.push(ids);
        total += ids.length;
      }
      ctx.progress.add(batch.length, 0);
    }
  }
  const all = new Uint32Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  const f = pad(ctx.index);
  await ctx.writeFile(`tokens-f${f}.bin`, u32le(all), lengths.length);
  await ctx.writeFile(`docs-f${f}.bin`, u32le(Uint32Array.from(lengths)), lengths.length);
  const meta: TokensMeta = { file: ctx.index, docs: lengths.length, tokens: total, vocab: tok.vocabSize };
  await ctx.writeFile(`tokens-f${f}.json`, JSON.stringify(meta));
}

/** A token text of `n` tokens whose largest id is `sep`: 16-bit when it fits (half the memory and cache traffic). */
function textArray(n: number, sep: number): TokenText {
  return sep <= 0xffff ? new Uint16Array(n) : new Int32Array(n);
}

/** The token text of one file: each document's tokens followed by the separator `vocab`. */
function fileText(tokens: Uint32Array, lengths: Uint32Array, sep: number, into?: TokenText, at = 0): TokenText {
  const T = into ?? textArray(tokens.length + lengths.length, sep);
  let src = 0;
  let o = at;
  for (let d = 0; d < lengths.length; d++) {
    const len = lengths[d]!;
    T.set(tokens.subarray(src, src + len), o);
    src += len;
    o += len;
    T[o++] = sep;
  }
  return T;
}

async function fileInputs(ds: CustomTaskContext['inputs'][number], file: number): Promise<{ meta: TokensMeta; tokens: Uint32Array; lengths: Uint32Array }> {
  const f = pad(file);
  const meta = JSON.parse(await storage.readText(fileNamed(ds, `tokens-f${f}.json`))) as TokensMeta;
  return { meta, tokens: await readU32(fileNamed(ds, `tokens-f${f}.bin`)), lengths: await readU32(fileNamed(ds, `docs-f${f}.bin`)) };
}

async function saTask(ctx: CustomTaskContext, cfg: Config): Promise<void> {
  const { meta, tokens, lengths } = await fileInputs(ctx.inputs[0]!, ctx.index);
  const sep = meta.vocab;
  const T = fileText(tokens, lengths, sep);
  const cuts = shardCuts(T.length, cfg.shardTokens);
  for (let s = 0; s < cuts.length; s++) {
    const [start, end] = cuts[s]!;
    const sa = shardSuffixArray(T, start, end, cfg.minTokens, sep + 1);
    await ctx.writeFile(`sa-f${pad(ctx.index)}-s${pad(s)}.bin`, u32le(sa), sa.length);
  }
  ctx.setInfo({ [`file${ctx.index}`]: { tokens: T.length, shards: cuts.length } });
}

async function* saChunks(uri: string, offset: number): AsyncGenerator<Int32Array> {
  let carry = new Uint8Array(0);
  for await (const chunk of streamFiles([uri])) {
    let buf = chunk;
    if (carry.length) {
      buf = new Uint8Array(carry.length + chunk.length);
      buf.set(carry);
      buf.set(chunk, carry.length);
    }
    const whole = buf.length - (buf.length % 4);
    const words = new Int32Array(whole / 4);
    new Uint8Array(words.buffer).set(buf.subarray(0, whole));
    if (offset) for (let i = 0; i < words.length; i++) words[i]! += offset;
    carry = buf.slice(whole);
    yield words;
  }
  if (carry.length) throw new Error(`${uri}: truncated suffix array (${carry.length} trailing bytes)`);
}

async function repeatsTask(ctx: CustomTaskContext, cfg: Config): Promise<void> {
  const [tokDs, saDs] = ctx.inputs;
  const files = filesMatching(tokDs!, /^tokens-f\d+\.json$/).length;
  const metas: TokensMeta[] = [];
  for (let f = 0; f < files; f++) metas.push(JSON.parse(await storage.readText(fileNamed(tokDs!, `tokens-f${pad(f)}.json`))) as TokensMeta);
  const vocab = metas.reduce((m, x) => Math.max(m, x.vocab), 0);
  const size = metas.reduce((s, x) => s + x.tokens + x.docs, 0);
  if (size >= 0x7fffffff) throw new Error(`${ctx.stage}: ${size} tokens exceed the Int32 position range of one merge`);
  const T = textArray(size, vocab);
  const offsets: number[] = [];
  const lengthsOf: Uint32Array[] = [];
  let at = 0;
  for (let f = 0; f < files; f++) {
    const { tokens, lengths } = await fileInputs(tokDs!, f);
    offsets.push(at);
    lengthsOf.push(lengths);
    fileText(tokens, lengths, vocab, T, at);
    at += tokens.length + lengths.length;
  }
  const sources: SaSource[] = [];
  for (let f = 0; f < files; f++) for (const uri of filesMatching(saDs!, new RegExp(`^sa-f${pad(f)}-s\\d+\\.bin$`))) sources.push(saChunks(uri, offsets[f]!));
  const r = await findRepeats(T, sources, cfg.minTokens, vocab);
  // Per file: [doc, start, end] triples, document-local token offsets.
  let ri = 0;
  let removedTokens = 0;
  for (let f = 0; f < files; f++) {
    const out: number[] = [];
    const lengths = lengthsOf[f]!;
    let docStart = offsets[f]!;
    const fileEnd = f + 1 < files ? offsets[f + 1]! : size;
    for (let d = 0; d < lengths.length && ri < r.ranges.length; d++) {
      const docEnd = docStart + lengths[d]!;
      while (ri < r.ranges.length && r.ranges[ri]!.start < docEnd) {
        const g = r.ranges[ri++]!;
        if (g.start < docStart || g.end > docEnd) throw new Error(`${ctx.stage}: removed range [${g.start}, ${g.end}) crosses a document boundary`);
        out.push(d, g.start - docStart, g.end - docStart);
        removedTokens += g.end - g.start;
      }
      docStart = docEnd + 1;
    }
    if (ri < r.ranges.length && r.ranges[ri]!.start < fileEnd) throw new Error(`${ctx.stage}: removed range at ${r.ranges[ri]!.start} lies on a separator`);
    await ctx.writeFile(`cuts-f${pad(f)}.bin`, u32le(Uint32Array.from(out)), out.length / 3);
  }
  const corpusTokens = size - metas.reduce((s, x) => s + x.docs, 0);
  const share = corpusTokens ? removedTokens / corpusTokens : 0;
  ctx.log(`${removedTokens} of ${corpusTokens} tokens removed (${(share * 100).toFixed(3)}%) in ${r.ranges.length} spans, ${r.groups} repeated windows, ${sources.length} suffix-array shards`);
  ctx.setInfo({ tokens: corpusTokens, removedTokens, removedShare: share, spans: r.ranges.length, repeatedWindows: r.groups, shards: sources.length, minTokens: cfg.minTokens });
}

/**
 * UTF-16 offsets of UTF-8 byte offsets into `text`, shrunk to whole characters: a range's start
 * moves forward and its end backward to the nearest character boundary.
 */
function byteRangesToUtf16(text: string, ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let ci = 0;
  let b = 0;
  // Walk characters once; ranges are sorted and disjoint.
  const boundaryAtOrAfter = (t: number): number => {
    while (b < t && ci < text.length) step();
    return ci;
  };
  const step = () => {
    const c = text.codePointAt(ci)!;
    b += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    ci += c >= 0x10000 ? 2 : 1;
  };
  for (const [s, e] of ranges) {
    const cs = boundaryAtOrAfter(s);
    // Largest boundary ≤ e: advance while the next character ends by e.
    while (ci < text.length) {
      const c = text.codePointAt(ci)!;
      const w = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (b + w > e) break;
      step();
    }
    if (ci > cs) out.push([cs, ci]);
  }
  return out;
}

async function filterTask(ctx: CustomTaskContext, cfg: Config, op: string): Promise<void> {
  const [input, tokDs, rep] = ctx.inputs;
  const uri = input!.files()[ctx.index];
  const tok = await tokenizerOf(ctx, cfg);
  const { tokens, lengths } = await fileInputs(tokDs!, ctx.index);
  const cuts = await readU32(fileNamed(rep!, `cuts-f${pad(ctx.index)}.bin`));
  let removedTokens = 0;
  async function* kept(): AsyncGenerator<Doc[]> {
    let row = 0;
    let ci = 0;
    let tokStart = 0;
    if (uri === undefined) return;
    for await (const batch of input!.readDocs([uri])) {
      const out: Doc[] = [];
      for (const doc of batch) {
        if (row >= lengths.length) throw new Error(`${ctx.stage}: input file has more rows than were tokenized (${lengths.length})`);
        const len = lengths[row]!;
        const ranges: Array<[number, number]> = [];
        const counts: number[] = [];
        if (ci < cuts.length && cuts[ci] === row) {
          // Byte offset of every token boundary of this doc.
          const bo = new Float64Array(len + 1);
          for (let i = 0; i < len; i++) bo[i + 1] = bo[i]! + tok.tokenBytes(tokens[tokStart + i]!).length;
          if (bo[len] !== Buffer.byteLength(doc.text, 'utf8')) throw new Error(`${ctx.stage}: document ${doc.id} no longer matches its tokens (input changed since tokenizing?)`);
          while (ci < cuts.length && cuts[ci] === row) {
            const s = cuts[ci + 1]!;
            const e = cuts[ci + 2]!;
            ranges.push([bo[s]!, bo[e]!]);
            counts.push(e - s);
            removedTokens += e - s;
            ci += 3;
          }
        }
        tokStart += len;
        if (ranges.length) {
          const u16 = byteRangesToUtf16(doc.text, ranges);
          const cutList: Cut[] = u16.map(([s, e], i) => ({ start: s, end: e, details: { tokens: counts[i] ?? 0, minTokens: cfg.minTokens } }));
          const d = applyCuts(ctx.audit, op, doc, cutList, SUBSTRING_REASONS);
          if (d) out.push(d);
        } else out.push(doc);
        row++;
      }
      ctx.progress.add(batch.length, 0);
      auditFlow(ctx.audit, op, batch, out);
      if (out.length) yield out;
    }
    if (row !== lengths.length) throw new Error(`${ctx.stage}: input file has ${row} rows but ${lengths.length} were tokenized`);
  }
  await ctx.writeDocs(`part-${pad(ctx.index)}.parquet`, kept());
  ctx.setInfo({ [`file${ctx.index}`]: { tokens: tokens.length, removedTokens } });
}

/**
 * Removes every repeated span of at least `minTokens` tokens (default 50), keeping its first
 * occurrence in input order; `tokenizer` (required) as for `tokenize.encode`; `shardTokens`
 * (default 1M, 2^20) sets each suffix-array shard's size (never the output). Removed spans are audit drops
 * `dedup.repeatedSubstring` (`{ tokens, start, end }`); a document left empty is dropped as
 * `dedup.substringsEmptied`. The `<name>.repeats` manifest reports `removedShare` (of tokens).
 */
export function substrings(options: SubstringsOptions): StageExpansion {
  const cfg = parseConfig('dedup.substrings', schema, options);
  const ref = typeof cfg.tokenizer === 'string' ? undefined : (cfg.tokenizer as StageRef);
  const op = cfg.name ?? 'dedup.substrings';
  const config = toJson({ ...cfg, tokenizer: ref ? { stage: ref.name } : cfg.tokenizer });
  const custom = stageMaker(SUBSTRINGS_VERSION, config);
  return {
    kind: 'expansion',
    type: 'dedup.substrings',
    name: op,
    version: SUBSTRINGS_VERSION,
    config,
    expand(p, name, inputs, options) {
      if (inputs.length !== 1) throw new Error(`dedup.substrings: stage '${name}' needs exactly one input stage, got ${inputs.length}`);
      const src = inputs[0]!;
      const res = resourceOptions(options);
      const withTok = (xs: StageRef[]) => (ref ? [...xs, ref] : xs);
      const toks = p.stage(`${name}.tokens`, custom('dedup.substrings.tokens', `${name}.tokens`, withTok([src]), 'artifact', fileTasks, (ctx) => tokensTask(ctx, cfg)), undefined, res);
      const sas = p.stage(`${name}.sa`, custom('dedup.substrings.sa', `${name}.sa`, [toks], 'artifact', (_c, ins) => Math.max(1, filesMatching(ins[0]!, /^tokens-f\d+\.json$/).length), (ctx) => saTask(ctx, cfg)), undefined, res);
      const reps = p.stage(`${name}.repeats`, custom('dedup.substrings.repeats', `${name}.repeats`, [toks, sas], 'artifact', () => 1, (ctx) => repeatsTask(ctx, cfg)), undefined, res);
      return p.stage(name, custom('dedup.substrings.filter', name, withTok([src, toks, reps]), 'docs', fileTasks, (ctx) => filterTask(ctx, cfg, op)), undefined, res);
    },
  };
}
