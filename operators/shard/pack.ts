/**
 * The `<name>.pack` stage of `shard.tokens`: turns the input docs, in input order, into rows of
 * exactly `seqLen` tokens, written as raw uint32 chunks with a document-start index and a
 * per-token loss mask (layout in formats/shards.ts). Three ways to fill the rows (`pack`):
 * - `greedy`: concatenate every doc and cut the stream every `seqLen` tokens (docs straddle rows;
 *   the tail shorter than a row is dropped). Streams: memory is one chunk.
 * - `bfd`: best-fit decreasing (bfd.ts) over windows of one chunk's worth of tokens: no doc is
 *   split, each row is padded to `seqLen` with the tokenizer's end-of-text id at mask 0.
 * - `none`: one doc per row, padded the same way.
 * With `bfd` and `none` a doc longer than `seqLen` cannot be placed whole: it is dropped and
 * recorded in the audit (`shard.docTooLong`); truncate upstream (`chat.tokenize`'s `maxTokens`).
 * The loss mask is the doc's `loss_mask` (1 = trained, every token when the doc has none), 0 on
 * pads; with `bfd`/`none` a doc's first token is 0 too, since what precedes it in its row is
 * another document or padding, never its own context.
 *
 * It reads only the `id`, `url`, `tokens` and `loss_mask` columns of its input.
 */
import type { CustomStage, CustomTaskContext, Doc, StageRef } from '../../engine/types.ts';
import { packedChunkName, packedMaskName, packedStartsName, type PackInfo, type PackMode } from '../../formats/shards.ts';
import { loadTokenizer } from '../tokenize/load.ts';
import { bestFitDecreasing } from './bfd.ts';

/** What the pack stage needs (validated by `shard.tokens`). */
export interface PackOptions {
  seqLen: number;
  chunkSequences: number;
  pack: PackMode;
  /** The tokenizer whose end-of-text id pads rows (`bfd`, `none`). */
  tokenizer: StageRef | string;
}

/** Rows of `seqLen` tokens accumulated into chunks of `chunkSequences` rows, flushed as files. */
class ChunkWriter {
  readonly cap: number;
  tokens: Uint32Array;
  mask: Uint8Array;
  starts: number[] = [];
  fill = 0;
  chunks = 0;
  sequences = 0;
  padTokens = 0;
  maskedTokens = 0;
  maxToken = -1;
  constructor(
    private readonly ctx: Pick<CustomTaskContext, 'writeFile'>,
    readonly seqLen: number,
    chunkSequences: number,
  ) {
    this.cap = chunkSequences * seqLen;
    this.tokens = new Uint32Array(this.cap);
    this.mask = new Uint8Array(this.cap);
  }

  /** Appends tokens (and their mask bytes); flushes whenever the chunk is full. */
  async append(t: Uint32Array, m: Uint8Array | null, docStart: boolean, firstMasked = false): Promise<void> {
    if (docStart) this.starts.push(this.fill);
    let off = 0;
    while (off < t.length) {
      const take = Math.min(this.cap - this.fill, t.length - off);
      for (let i = 0; i < take; i++) {
        const v = t[off + i]!;
        if (v > this.maxToken) this.maxToken = v;
        this.tokens[this.fill + i] = v;
        const bit = m ? (m[off + i]! ? 1 : 0) : 1;
        this.mask[this.fill + i] = bit;
      }
      if (firstMasked && off === 0 && take > 0) this.mask[this.fill] = 0;
      this.fill += take;
      off += take;
      if (this.fill === this.cap) await this.flush(this.cap);
    }
  }

  /** Pads the current row to `seqLen` with `pad` at mask 0. */
  async padRow(pad: number): Promise<void> {
    const rem = (this.seqLen - (this.fill % this.seqLen)) % this.seqLen;
    if (!rem) return;
    this.tokens.fill(pad, this.fill, this.fill + rem);
    this.mask.fill(0, this.fill, this.fill + rem);
    this.padTokens += rem;
    this.fill += rem;
    if (this.fill === this.cap) await this.flush(this.cap);
  }

  /** Writes the first `n` tokens (whole rows) as chunk files. */
  async flush(n: number): Promise<void> {
    for (let i = 0; i < n; i++) if (!this.mask[i]) this.maskedTokens++;
    await this.ctx.writeFile(packedChunkName(this.chunks), new Uint8Array(this.tokens.buffer, 0, n * 4), n / this.seqLen);
    await this.ctx.writeFile(packedStartsName(this.chunks), new Uint8Array(Uint32Array.from(this.starts).buffer));
    await this.ctx.writeFile(packedMaskName(this.chunks), this.mask.slice(0, n));
    this.chunks++;
    this.sequences += n / this.seqLen;
    this.starts = [];
    this.fill = 0;
  }
}

/** Builds the pack stage over `inputs`. */
export function packStage(inputs: StageRef[], o: PackOptions, version: string): CustomStage<PackInfo> {
  const { seqLen, chunkSequences, pack } = o;
  const tokRef = typeof o.tokenizer === 'string' ? undefined : o.tokenizer;
  // Greedy packing keeps the config (and so the fingerprint) it had before `pack` existed.
  const padded = pack !== 'greedy';
  return {
    kind: 'custom',
    type: 'shard.tokens.pack',
    name: 'shard.tokens.pack',
    version,
    config: padded ? { seqLen, chunkSequences, pack, tokenizer: tokRef ? { stage: tokRef.name } : (o.tokenizer as string) } : { seqLen, chunkSequences },
    inputs,
    ...(padded && tokRef ? { refs: [tokRef] } : {}),
    output: 'artifact',
    async run(ctx) {
      let padToken: number | null = null;
      if (padded) {
        const tok = await loadTokenizer(tokRef ? (await ctx.dataset(tokRef)).dir : (o.tokenizer as string), ctx.storage);
        padToken = tok.eotId ?? 0;
      }
      const w = new ChunkWriter(ctx, seqLen, chunkSequences);
      let docs = 0;
      let inputTokens = 0;
      let droppedDocs = 0;
      let droppedDocTokens = 0;
      let splitDocs = 0;
      let streamPos = 0;
      // bfd: docs buffered until one chunk's worth of tokens, then packed as one window.
      let window: Doc[] = [];
      let windowTokens = 0;
      const packWindow = async () => {
        const rows = bestFitDecreasing(window.map((d) => d.tokens!.length), seqLen);
        for (const row of rows) {
          for (const i of row) await w.append(window[i]!.tokens!, window[i]!.lossMask ?? null, true, true);
          await w.padRow(padToken!);
        }
        window = [];
        windowTokens = 0;
      };
      for (const ds of ctx.inputs) {
        for await (const batch of ds.readDocs(undefined, { columns: ['id', 'url', 'tokens', 'loss_mask'] })) {
          for (const doc of batch) {
            const t = doc.tokens;
            if (!t) {
              ctx.audit.drop('shard.tokens', doc, 'shard.noTokens');
              continue;
            }
            if (t.length === 0) continue;
            if (doc.lossMask && doc.lossMask.length !== t.length) throw new Error(`shard.tokens: doc ${doc.id}: loss_mask has ${doc.lossMask.length} entries for ${t.length} tokens`);
            inputTokens += t.length;
            ctx.progress.add(1, t.length * t.BYTES_PER_ELEMENT);
            if (padded && t.length > seqLen) {
              droppedDocs++;
              droppedDocTokens += t.length;
              ctx.audit.drop('shard.tokens', doc, 'shard.docTooLong', t.length, { tokens: t.length, seqLen });
              continue;
            }
            docs++;
            switch (pack) {
              case 'greedy':
                if (Math.floor(streamPos / seqLen) !== Math.floor((streamPos + t.length - 1) / seqLen)) splitDocs++;
                streamPos += t.length;
                await w.append(t, doc.lossMask ?? null, true);
                break;
              case 'none':
                await w.append(t, doc.lossMask ?? null, true, true);
                await w.padRow(padToken!);
                break;
              case 'bfd':
                window.push({ id: doc.id, text: '', meta: {}, tokens: t, ...(doc.lossMask ? { lossMask: doc.lossMask } : {}) });
                windowTokens += t.length;
                if (windowTokens >= w.cap) await packWindow();
                break;
              default: {
                const never: never = pack;
                throw new Error(`shard.tokens: unknown pack mode ${String(never)}`);
              }
            }
          }
        }
      }
      if (window.length) await packWindow();
      // Greedy: the tail shorter than a row is dropped; starts at or past the cut go with it.
      const tail = w.fill % seqLen;
      if (tail) {
        w.starts = w.starts.filter((s) => s < w.fill - tail);
        if (w.fill - tail === 0 && w.starts.length === 0) w.fill = 0;
      }
      if (w.fill - tail > 0) await w.flush(w.fill - tail);
      const packed = w.sequences * seqLen;
      const info: PackInfo = {
        sequences: w.sequences,
        seqLen,
        chunkSequences,
        chunks: w.chunks,
        docs,
        inputTokens,
        droppedTokens: padded ? droppedDocTokens : inputTokens - packed,
        maxToken: w.maxToken,
        pack,
        padToken,
        padTokens: w.padTokens,
        maskedTokens: w.maskedTokens,
        droppedDocs,
        splitDocs,
        masks: true,
      };
      ctx.setInfo(info);
      const eff = packed ? ((packed - w.padTokens) / packed).toFixed(4) : '1';
      ctx.log(`packed ${docs} docs, ${inputTokens} tokens into ${w.sequences} sequences of ${seqLen} (${pack}: ${info.droppedTokens} tokens dropped, ${w.padTokens} pad tokens, non-pad share ${eff}, ${splitDocs} docs split across rows)`);
    },
  };
}
