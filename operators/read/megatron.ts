/**
 * `read.megatron(prefix)`: the documents of Megatron-LM indexed datasets (`<prefix>.bin` +
 * `<prefix>.idx`, format in formats/megatron.ts), local or `s3://`, so existing Megatron/NeMo
 * corpora can be inspected, mixed and decontaminated like any other source.
 *
 * One doc per Megatron document: `tokens` holds its token ids (a document of several sequences,
 * e.g. BERT-style sentence splits, yields their concatenation and `meta.sequenceLengths`), `id`
 * and `meta.source` are `<prefix>#<document>`. `text` is the decoded tokens when a `tokenizer` is
 * given, else empty: filters and decontamination read text, so give the tokenizer the corpus was
 * encoded with.
 *
 * Planning reads only each index's 34-byte header and a few entries; a dataset is split into
 * parts of about `splitBytes` of `.bin` (and at most 1M documents), one task each. A task reads
 * its documents' index entries with ranged reads and streams its `.bin` range once.
 */
import { z } from 'zod';
import type { Doc, DocMeta, Source, SourcePart, StageRef, TaskContext } from '../../engine/types.ts';
import { parseConfig } from '../../engine/operator.ts';
import { toJson } from '../../engine/json.ts';
import { megatronTokens, parseMegatronHeader, readInt64s, readLengths, readRange, MEGATRON_HEADER_BYTES, type MegatronDtype, type MegatronIndexHeader } from '../../formats/megatron.ts';
import { loadTokenizer } from '../tokenize/load.ts';
import type { BpeTokenizer } from '../tokenize/bpe/tokenizer.ts';
import { expandInputs, inputLabel } from './files.ts';

const refSchema = z.object({ kind: z.literal('stage'), name: z.string(), pipeline: z.string() });
const Config = z.strictObject({
  prefixes: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Tokenizer to decode `text` with (default none: `text` is empty). */
  tokenizer: z.union([z.string().min(1), refSchema]).optional(),
  /** Bytes of `.bin` per task (default 64 MiB). */
  splitBytes: z.number().int().positive().default(64 * 1024 * 1024),
  /** Documents per task at most (default 1,000,000: bounds a task's index reads to ~20 MB). */
  maxDocsPerPart: z.number().int().positive().default(1_000_000),
  /** Docs per batch (default 512). */
  batchSize: z.number().int().positive().default(512),
});

/** Options of `read.megatron`. */
export interface MegatronOptions {
  /** Tokenizer the corpus was encoded with (a trained-tokenizer stage, an encoding name or tokenizer files): `text` becomes the decoded tokens. Default none (`text` empty). */
  tokenizer?: StageRef | string;
  /** Bytes of `.bin` per task (default 64 MiB). */
  splitBytes?: number;
  /** Documents per task at most (default 1,000,000). */
  maxDocsPerPart?: number;
  /** Docs per batch (default 512). */
  batchSize?: number;
}

/** `x/y`, `x/y.bin` and `x/y.idx` all name the dataset `x/y`. */
const stripExt = (p: string) => p.replace(/\.(bin|idx)$/, '');

/** Index entries read per window while streaming a part (12 bytes each: 3 MiB). */
const SEQ_WINDOW = 1 << 18;

/**
 * Reads Megatron-LM indexed datasets. `prefixes`: one or more dataset prefixes (`dir/name`, or
 * `dir/name.idx`), globs allowed (`data/*.idx`). A malformed index (bad magic, version or dtype
 * code, truncated, or a `.bin` of the wrong size) fails planning with an error naming the file;
 * a document whose token ids are negative or outside the tokenizer's vocabulary is skipped and
 * recorded in the audit. Defaults: 64 MiB of `.bin` per task, batches of 512 docs, no text.
 */
export function megatron(prefixes: string | string[], options: MegatronOptions = {}): Source {
  const cfg = parseConfig('read.megatron', Config, { ...options, prefixes });
  const ref = cfg.tokenizer === undefined || typeof cfg.tokenizer === 'string' ? undefined : (cfg.tokenizer as StageRef);
  let tok: Promise<BpeTokenizer> | undefined;
  return {
    kind: 'source',
    type: 'read.megatron',
    name: 'read.megatron',
    version: '1',
    config: toJson({ ...cfg, tokenizer: ref ? { stage: ref.name } : ((cfg.tokenizer as string | undefined) ?? null) }),
    ...(ref ? { refs: [ref] } : {}),
    async plan(ctx) {
      const list = Array.isArray(cfg.prefixes) ? cfg.prefixes : [cfg.prefixes];
      const idxFiles = await expandInputs(list.map((p) => `${stripExt(p)}.idx`), ctx);
      const parts: SourcePart[] = [];
      for (const idx of idxFiles) {
        const prefix = stripExt(idx.uri);
        const binUri = `${prefix}.bin`;
        const bin = await ctx.storage.stat(binUri);
        if (!bin) throw new Error(`${binUri}: missing (its index ${idx.uri} has no .bin beside it)`);
        const h = parseMegatronHeader(await readRange(ctx.storage, idx.uri, 0, Math.min(idx.size, MEGATRON_HEADER_BYTES)), idx.uri, idx.size);
        if (h.dtype === 'float32' || h.dtype === 'float64') throw new Error(`${idx.uri}: dtype ${h.dtype} holds no token ids`);
        const [first, last] = [await readInt64s(ctx.storage, idx.uri, h.docIndicesAt, 1, 'document index'), await readInt64s(ctx.storage, idx.uri, h.docIndicesAt + 8 * (h.docIndexEntries - 1), 1, 'document index')];
        if (first[0] !== 0 || last[0] !== h.sequences) throw new Error(`${idx.uri}: the document index runs from ${first[0]} to ${last[0]}, not from 0 to the ${h.sequences} sequences`);
        let binBytes = 0;
        if (h.sequences > 0) {
          const len = (await readLengths(ctx.storage, idx.uri, h, h.sequences - 1, 1))[0]!;
          const ptr = (await readInt64s(ctx.storage, idx.uri, h.pointersAt + 8 * (h.sequences - 1), 1, 'sequence pointer'))[0]!;
          binBytes = ptr + len * h.itemSize;
        }
        if (bin.size !== binBytes) throw new Error(`${binUri}: ${bin.size} bytes, but its index ${idx.uri} ends the last sequence at byte ${binBytes}`);
        const docs = h.docIndexEntries - 1;
        const n = Math.max(1, Math.ceil(bin.size / cfg.splitBytes), Math.ceil(docs / cfg.maxDocsPerPart));
        const per = Math.ceil(docs / n) || 1;
        for (let a = 0; a < Math.max(docs, 1); a += per) {
          const b = Math.min(docs, a + per);
          parts.push({
            key: `${prefix}|${idx.size}|${idx.version}|${bin.size}|${bin.version}|${a}-${b}`,
            uri: prefix,
            size: docs ? Math.round((bin.size * (b - a)) / docs) : 0,
            docFrom: a,
            docTo: b,
            idxSize: idx.size,
          });
        }
      }
      return parts;
    },
    async *read(part, ctx: TaskContext) {
      const prefix = part.uri;
      const idxUri = `${prefix}.idx`;
      const binUri = `${prefix}.bin`;
      const label = inputLabel(prefix, ctx.baseDir);
      const a = part.docFrom as number;
      const b = part.docTo as number;
      if (b <= a) return;
      if (cfg.tokenizer !== undefined) tok ??= loadTokenizer(ref ? (await ctx.dataset(ref)).dir : (cfg.tokenizer as string), ctx.storage);
      const t = tok ? await tok : undefined;
      const h = parseMegatronHeader(await readRange(ctx.storage, idxUri, 0, MEGATRON_HEADER_BYTES), idxUri, part.idxSize as number);
      const di = await readInt64s(ctx.storage, idxUri, h.docIndicesAt + 8 * a, b - a + 1, 'document index');
      for (let i = 1; i < di.length; i++) if (di[i]! < di[i - 1]! || di[i]! > h.sequences) throw new Error(`${idxUri}: document index ${a + i} (${di[i]}) is out of order`);
      const seqFrom = di[0]!;
      const seqTo = di[di.length - 1]!;
      yield* readDocuments(ctx, { idxUri, binUri, label, h, di, docFrom: a, seqFrom, seqTo, batchSize: cfg.batchSize, tokenizer: t });
    },
  };
}

interface PartRead {
  idxUri: string;
  binUri: string;
  label: string;
  h: MegatronIndexHeader;
  /** Document indices of the part's documents (one more than documents). */
  di: Float64Array;
  docFrom: number;
  seqFrom: number;
  seqTo: number;
  batchSize: number;
  tokenizer: BpeTokenizer | undefined;
}

/** Streams the `.bin` range of a part and cuts it into documents (sequence metadata read in windows). */
async function* readDocuments(ctx: TaskContext, r: PartRead): AsyncIterable<Doc[]> {
  const { h, idxUri, binUri } = r;
  const size = h.itemSize;
  // Sequence metadata, one window at a time.
  let wFrom = r.seqFrom;
  let lens: Int32Array = new Int32Array(0);
  let ptrs: Float64Array = new Float64Array(0);
  const meta = async (s: number): Promise<[number, number]> => {
    if (s < wFrom || s >= wFrom + lens.length) {
      wFrom = s;
      const count = Math.min(SEQ_WINDOW, r.seqTo - s);
      lens = await readLengths(ctx.storage, idxUri, h, s, count);
      ptrs = await readInt64s(ctx.storage, idxUri, h.pointersAt + 8 * s, count, 'sequence pointer');
    }
    return [lens[s - wFrom]!, ptrs[s - wFrom]!];
  };
  if (r.seqTo <= r.seqFrom) {
    // Only empty documents.
    const docs: Doc[] = [];
    for (let d = 0; d < r.di.length - 1; d++) docs.push(makeDoc(r, d, new Uint8Array(0), []) as Doc);
    yield docs;
    return;
  }
  const [, start] = await meta(r.seqFrom);
  const [lastLen, lastPtr] = await meta(r.seqTo - 1);
  const end = lastPtr + lastLen * size;
  if (end < start) throw new Error(`${idxUri}: sequences ${r.seqFrom}–${r.seqTo - 1} end before they start (pointers not in order)`);
  const stream = await ctx.storage.readStream(binUri, start, end);
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let chunk: Uint8Array = new Uint8Array(0);
  let off = 0;
  let pos = start;
  /** Fills `dst` from the stream. */
  const fill = async (dst: Uint8Array) => {
    let got = 0;
    while (got < dst.byteLength) {
      if (off === chunk.byteLength) {
        const n = await chunks.next();
        if (n.done) throw new Error(`${binUri}: truncated: ended at byte ${pos}, the index needs ${end}`);
        chunk = n.value;
        off = 0;
      }
      const take = Math.min(dst.byteLength - got, chunk.byteLength - off);
      dst.set(chunk.subarray(off, off + take), got);
      off += take;
      got += take;
      pos += take;
    }
  };
  let batch: Doc[] = [];
  try {
    let expect = start;
    for (let d = 0; d < r.di.length - 1; d++) {
      const s0 = r.di[d]!;
      const s1 = r.di[d + 1]!;
      const seqLens: number[] = [];
      let bytes = 0;
      for (let s = s0; s < s1; s++) {
        const [len, ptr] = await meta(s);
        if (ptr !== expect) throw new Error(`${idxUri}: sequence ${s} starts at byte ${ptr} of the .bin, not ${expect} (sequences are not stored contiguously)`);
        seqLens.push(len);
        bytes += len * size;
        expect += len * size;
      }
      const raw = new Uint8Array(bytes);
      await fill(raw);
      const doc = makeDoc(r, d, raw, seqLens);
      if (typeof doc === 'string') {
        ctx.audit.skip(`${r.label}#${r.docFrom + d}`, 'invalid token ids', { error: doc });
      } else batch.push(doc);
      if (batch.length >= r.batchSize) {
        yield batch;
        batch = [];
      }
    }
  } finally {
    stream.destroy();
  }
  if (batch.length) yield batch;
}

/** One document from its bytes, or why it is not one. */
function makeDoc(r: PartRead, d: number, raw: Uint8Array, seqLens: number[]): Doc | string {
  const tokens = megatronTokens(raw, r.h.dtype as MegatronDtype);
  if (typeof tokens === 'string') return tokens;
  const id = `${r.label}#${r.docFrom + d}`;
  const meta: DocMeta = { source: id };
  if (seqLens.length > 1) meta.sequenceLengths = seqLens;
  let text = '';
  if (r.tokenizer) {
    const v = r.tokenizer.vocabSize;
    for (let i = 0; i < tokens.length; i++) if (tokens[i]! >= v) return `token id ${tokens[i]} at position ${i} is outside the vocabulary of '${r.tokenizer.name}' (${v})`;
    text = r.tokenizer.decode(tokens);
  }
  return { id, text, meta, tokens };
}
