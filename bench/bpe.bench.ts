/**
 * BPE benchmark: encoding speed (cl100k_base, o200k_base) of Sluice's encoder against
 * `gpt-tokenizer` (pure JS) and `tiktoken` (WASM), and training speed against Hugging Face
 * `tokenizers` (native). All on the same real English text: tinyshakespeare + WikiText-2
 * test/valid (3.4 MB), read from ../shared/data. Single-threaded: HF's rayon pool is pinned to
 * one thread (RAYON_NUM_THREADS=1, set before the native module loads).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianSeconds, ratio, type Bench, type BenchRow } from './harness.ts';
import { dataPath } from '../test/helpers/data.ts';
import { loadEncoding } from '../operators/tokenize/bpe/tiktoken-format.ts';
import { BpeTrainer } from '../operators/tokenize/bpe/trainer.ts';

/** Training input size in MB (text repeated to size); `SLUICE_BPE_TRAIN_MB` overrides. */
const TRAIN_MB = Number(process.env.SLUICE_BPE_TRAIN_MB ?? 20);
const TRAIN_VOCAB = 30000; // the vocabulary HF's default BPE trainer (the only one its npm binding exposes) builds

function corpus(): string {
  return ['tinyshakespeare/input.txt', 'wikitext2-tokens/test.txt', 'wikitext2-tokens/valid.txt'].map((f) => readFileSync(dataPath(f), 'utf8')).join('\n');
}

async function encodeRows(text: string, rows: BenchRow[], notes: string[]): Promise<void> {
  const mb = Buffer.byteLength(text) / 1e6;
  const { get_encoding } = await import('tiktoken');
  for (const name of ['cl100k_base', 'o200k_base'] as const) {
    const ours = loadEncoding(name);
    const gpt = (await import(`gpt-tokenizer/encoding/${name}`)) as { encode(t: string): number[] };
    const wasm = get_encoding(name);
    const a = ours.encode(text);
    const b = gpt.encode(text);
    const c = wasm.encode_ordinary(text);
    const same = (x: ArrayLike<number>) => x.length === a.length && Array.prototype.every.call(x, (v: number, i: number) => v === a[i]);
    notes.push(`${name}: ${a.length} tokens; identical to tiktoken: ${same(c)}; to gpt-tokenizer: ${same(b)}.`);
    // Interleave the three so load changes on the shared machine hit all of them alike.
    const t: Record<string, number[]> = { ours: [], gpt: [], wasm: [] };
    for (let r = 0; r < 5; r++) {
      t.ours!.push(await medianSeconds(() => ours.encode(text), 1, r === 0));
      t.gpt!.push(await medianSeconds(() => gpt.encode(text), 1, r === 0));
      t.wasm!.push(await medianSeconds(() => wasm.encode_ordinary(text), 1, r === 0));
    }
    const med = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const so = mb / med(t.ours!);
    const sg = mb / med(t.gpt!);
    const sw = mb / med(t.wasm!);
    rows.push({ name: `sluice encode ${name}`, value: +so.toFixed(1), unit: 'MB/s', ratio: `${ratio(so, sg, 'gpt-tokenizer')}, ${ratio(so, sw, 'tiktoken')}` });
    rows.push({ name: `gpt-tokenizer encode ${name} (peer)`, value: +sg.toFixed(1), unit: 'MB/s' });
    rows.push({ name: `tiktoken WASM encode ${name} (peer)`, value: +sw.toFixed(1), unit: 'MB/s' });
    wasm.free();
  }
}

async function trainRows(text: string, rows: BenchRow[], notes: string[]): Promise<void> {
  process.env.RAYON_NUM_THREADS = '1';
  process.env.TOKENIZERS_PARALLELISM = 'false';
  const { Tokenizer } = await import('tokenizers');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bpe-bench-'));
  const file = join(dir, 'train.txt');
  const target = TRAIN_MB * 1e6;
  const reps = Math.max(1, Math.round(target / Buffer.byteLength(text)));
  writeFileSync(file, Array(reps).fill(text).join('\n'));
  const bytes = Buffer.byteLength(readFileSync(file));
  try {
    let ourMerges = 0;
    const ours = await medianSeconds(
      () => {
        const t = new BpeTrainer({ vocabSize: TRAIN_VOCAB, specials: [] });
        const all = readFileSync(file, 'utf8');
        // Fed in 1 MiB pieces cut after "\n" + non-space, as `sluice tokenizer train` does.
        let pos = 0;
        while (pos < all.length) {
          let end = Math.min(all.length, pos + (1 << 20));
          while (end < all.length && !(all[end - 1] === '\n' && !/\s/.test(all[end]!))) end++;
          t.add(all.slice(pos, end));
          pos = end;
        }
        ourMerges = t.train().stats.merges;
      },
      3,
      false,
    );
    const hfJson = JSON.stringify({
      version: '1.0',
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: {}, merges: [] },
    });
    let hfVocab = 0;
    const hf = await medianSeconds(
      () => {
        const t = Tokenizer.fromString(hfJson);
        t.train([file]);
        hfVocab = t.getVocabSize();
      },
      3,
      false,
    );
    const mb = bytes / 1e6;
    rows.push({ name: `sluice trainBpe (vocab ${TRAIN_VOCAB})`, value: +ours.toFixed(2), unit: 's', ratio: ratio(hf, ours, 'HF tokenizers speed'), note: `${(mb / ours).toFixed(1)} MB/s` });
    rows.push({ name: 'HF tokenizers train, default BPE trainer, 1 thread (peer)', value: +hf.toFixed(2), unit: 's', note: `${(mb / hf).toFixed(1)} MB/s` });
    notes.push(`Training: ${mb.toFixed(1)} MB (the 3.4 MB corpus repeated ${reps}×, kept modest because other work shares the 2 cores); Sluice ${ourMerges} merges, HF vocabulary ${hfVocab} (its default trainer targets 30,000 and stops when no pair repeats). Ratio > 1 means Sluice is faster.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Bench = {
  id: 'bpe',
  async run() {
    const text = corpus();
    const rows: BenchRow[] = [];
    const notes: string[] = [`Encoding input: ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB of real English text (tinyshakespeare + WikiText-2 test/valid), one core, medians of 5 interleaved runs. Goal: cl100k ≥ 28 MB/s, ≥ 1.5× gpt-tokenizer, ≥ 4× tiktoken WASM.`];
    await encodeRows(text, rows, notes);
    if (TRAIN_MB > 0) await trainRows(text, rows, notes);
    return { title: 'BPE tokenizer: encode and train', rows, notes: notes.join('\n\n') };
  },
};
export default bench;
