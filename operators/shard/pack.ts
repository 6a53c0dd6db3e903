/**
 * The `<name>.pack` stage of `shard.tokens`: concatenates the tokens of all input docs, in input
 * order, and cuts them into sequences of `seqLen` tokens, written as raw uint32 chunks with a
 * document-start index (layout in formats/shards.ts). It reads only the `id`, `url` and `tokens`
 * columns of its input: the text and metadata are neither read nor decoded. Memory: one chunk
 * (`chunkSequences × seqLen` tokens) and its start list. A document of any length streams
 * through: it never loops and never multiplies files — it just fills sequences.
 */
import type { CustomStage, StageRef } from '../../engine/types.ts';
import { packedChunkName, packedStartsName, type PackInfo } from '../../formats/shards.ts';

/** Builds the pack stage over `inputs`. */
export function packStage(inputs: StageRef[], seqLen: number, chunkSequences: number, version: string): CustomStage<PackInfo> {
  return {
    kind: 'custom',
    type: 'shard.tokens.pack',
    name: 'shard.tokens.pack',
    version,
    config: { seqLen, chunkSequences },
    inputs,
    output: 'artifact',
    async run(ctx) {
      const cap = chunkSequences * seqLen;
      let buf = new Uint32Array(cap);
      let fill = 0;
      let starts: number[] = [];
      let chunks = 0;
      let sequences = 0;
      let docs = 0;
      let inputTokens = 0;
      let maxToken = -1;
      const flush = async (tokens: number) => {
        const bytes = new Uint8Array(buf.buffer, 0, tokens * 4);
        await ctx.writeFile(packedChunkName(chunks), bytes, tokens / seqLen);
        await ctx.writeFile(packedStartsName(chunks), new Uint8Array(Uint32Array.from(starts).buffer));
        chunks++;
        sequences += tokens / seqLen;
        starts = [];
        fill = 0;
      };
      for (const ds of ctx.inputs) {
        for await (const batch of ds.readDocs(undefined, { columns: ['id', 'url', 'tokens'] })) {
          for (const doc of batch) {
            const t = doc.tokens;
            if (!t) {
              ctx.audit.drop('shard.tokens', doc, 'shard.noTokens');
              continue;
            }
            if (t.length === 0) continue;
            docs++;
            inputTokens += t.length;
            ctx.progress.add(1, t.length * t.BYTES_PER_ELEMENT);
            starts.push(fill);
            let off = 0;
            while (off < t.length) {
              const take = Math.min(cap - fill, t.length - off);
              const part = t.subarray(off, off + take);
              for (let i = 0; i < part.length; i++) if (part[i]! > maxToken) maxToken = part[i]!;
              buf.set(part, fill);
              fill += take;
              off += take;
              if (fill === cap) await flush(cap);
            }
          }
        }
      }
      const tail = fill % seqLen;
      if (fill - tail > 0) {
        // Starts at or past the cut belong to dropped tokens.
        starts = starts.filter((s) => s < fill - tail);
        await flush(fill - tail);
      }
      buf = new Uint32Array(0);
      const info: PackInfo = { sequences, seqLen, chunkSequences, chunks, docs, inputTokens, droppedTokens: inputTokens - sequences * seqLen, maxToken };
      ctx.setInfo(info);
      ctx.log(`packed ${docs} docs, ${inputTokens} tokens into ${sequences} sequences of ${seqLen} (${info.droppedTokens} tail tokens dropped)`);
    },
  };
}
