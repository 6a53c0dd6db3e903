/**
 * The `<name>.signatures` task body: one task per input file. Streams the file's documents,
 * computes each signature and its band keys, and spills band records through the external
 * sorter (memory: the sort buffer plus one part of each side file). See layout.ts for outputs.
 */
import type { CustomTaskContext } from '../../../engine/types.ts';
import { outputRunSorter, pad, PartWriter } from '../parts.ts';
import type { MinHashConfig } from './config.ts';
import { encodeRow, rowRecordSize, type SigTaskInfo } from './layout.ts';
import { scoreAt } from './select.ts';
import { ShingleBuffer, shingleHashes } from './shingle.ts';
import { MinHasher } from './signature.ts';

const enc = new TextEncoder();

/** Sorted distinct copy of a multiset of hashes. */
function distinctSorted(xs: Uint32Array): Uint32Array {
  const a = xs.slice().sort();
  let w = 0;
  for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[i - 1]) a[w++] = a[i]!;
  return a.slice(0, w);
}

export async function signatureTask(ctx: CustomTaskContext, cfg: MinHashConfig): Promise<void> {
  const input = ctx.inputs[0];
  if (!input) throw new Error(`${ctx.stage}: no input dataset`);
  const files = input.files();
  const file = ctx.index;
  const uri = files[file];
  const mh = new MinHasher({ ngram: cfg.ngram, bands: cfg.bands, rows: cfg.rows, seed: cfg.seed });
  const k = mh.k;
  const partBytes = Math.max(64 << 10, Math.floor((cfg.bufferMB * 1048576) / 4));
  const rowsPerPart = Math.floor(partBytes / rowRecordSize(k));
  const rowsOut = new PartWriter(ctx, `rows-t${pad(file)}`, '.bin', rowsPerPart * rowRecordSize(k));
  const idsOut = new PartWriter(ctx, `ids-t${pad(file)}`, '.jsonl', partBytes);
  const shOut = cfg.verify ? new PartWriter(ctx, `sh-t${pad(file)}`, '.bin', partBytes) : null;
  const sorter = outputRunSorter(ctx, { keyWords: 4, partitions: cfg.bands, bufferMB: cfg.bufferMB, tag: 'b' });
  const sig = new Uint32Array(k);
  const keys = new Uint32Array(2 * cfg.bands);
  const key = new Uint32Array(4);
  const buf = new ShingleBuffer();
  let row = 0;
  let bytes = 0;
  let empty = 0;
  if (uri !== undefined) {
    for await (const batch of input.readDocs([uri])) {
      const before = bytes;
      for (const doc of batch) {
        const text = typeof doc.text === 'string' ? doc.text : '';
        const docBytes = Buffer.byteLength(text, 'utf8');
        bytes += docBytes;
        const n = shingleHashes(text, cfg.ngram, buf);
        let shPart = 0;
        let shOffset = 0;
        let shingles = n;
        if (n > 0) {
          mh.signatureOf(buf.view(), sig);
          if (shOut) {
            const set = distinctSorted(buf.view());
            shingles = set.length;
            if (shOut.partOffset + set.byteLength > partBytes && shOut.partOffset > 0) await shOut.flush();
            shPart = shOut.part;
            shOffset = shOut.partOffset;
            await shOut.write(new Uint8Array(set.buffer, set.byteOffset, set.byteLength));
          }
          key[2] = file;
          key[3] = row;
          for (let b = 0; b < cfg.bands; b++) {
            mh.bandKey(sig, b, keys, 2 * b);
            key[0] = keys[2 * b]!;
            key[1] = keys[2 * b + 1]!;
            await sorter.add(b, key);
          }
        } else {
          sig.fill(0xffffffff);
          empty++;
        }
        const score = scoreAt(doc.meta as Record<string, unknown>, cfg.scoreKey);
        await rowsOut.write(encodeRow({ bytes: docBytes, shingles, shPart, shOffset, score, sig }, k));
        await idsOut.write(enc.encode(JSON.stringify([doc.id, doc.meta?.url ?? null]) + '\n'));
        row++;
      }
      ctx.progress.add(batch.length, bytes - before);
    }
  }
  await sorter.finish();
  await rowsOut.flush();
  await idsOut.flush();
  if (shOut) await shOut.flush();
  const info: SigTaskInfo = {
    file,
    input: uri ?? '',
    docs: row,
    bytes,
    empty,
    rowsPerPart,
    rowParts: rowsOut.names,
    idParts: idsOut.names,
    shParts: shOut?.names ?? [],
    runs: sorter.runs,
    k,
  };
  await ctx.writeFile(`sig-t${pad(file)}.json`, JSON.stringify(info), row);
}
