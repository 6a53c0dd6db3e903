/**
 * SFT benchmark, on the AlpacaEval set (../shared/data/alpaca-eval: 805 instructions with the
 * gpt4_1106_preview baseline's outputs; one SFT doc = instruction, a blank line, the output, EOS).
 * 1. Packing efficiency: the share of non-pad tokens in rows of 1,024 and 2,048 gpt2 tokens with
 *    `pack: 'bfd'` (operators/shard/bfd.ts, what shard.tokens' pack stage runs: its windows are
 *    16M tokens, so here one window holds every doc), `'none'` (one doc per row) and `'greedy'`
 *    (concatenate and cut: no pads, but docs straddle rows — the share of docs split is given).
 *    Docs longer than a row are dropped by bfd/none (counted).
 * 2. SFT throughput: `train` with the loss mask (prompt 0, answer 1) and document attention on
 *    bfd-packed rows, tfjs wasm (one thread, in-process) against PyTorch CPU (Debian
 *    python3-torch, two threads) on the same model, data and batch, alternating, 3 runs each;
 *    steady-state tokens/s (first steps excluded), and the same with causal attention to show
 *    what document attention costs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpeTrainer } from '../operators/tokenize/bpe/trainer.ts';
import { BpeTokenizer } from '../operators/tokenize/bpe/tokenizer.ts';
import { loadEncoding } from '../operators/tokenize/bpe/tiktoken-format.ts';
import { bestFitDecreasing, packingEfficiency } from '../operators/shard/bfd.ts';
import { dataPath } from '../test/helpers/data.ts';
import { trainModel, type TrainModelOptions } from '../trainer/api.ts';
import { encodeBin } from '../formats/bin.ts';
import { paramCounts } from '../formats/model.ts';
import { findPython } from '../trainer/torch/runner.ts';
import { ratio, type Bench, type BenchRow } from './harness.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface AlpacaOutput {
  instruction: string;
  output: string;
}

const bench: Bench = {
  id: 'sft',
  async run() {
    const load = loadavg()[0]!;
    const file = dataPath('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json');
    if (!existsSync(file)) throw new Error(`sft bench: ${file} is absent`);
    const records = JSON.parse(readFileSync(file, 'utf8')) as AlpacaOutput[];
    const rows: BenchRow[] = [];
    const notes: string[] = [];

    // 1. Packing efficiency (gpt2 tokens).
    const gpt2 = loadEncoding('gpt2');
    const lengths = records.map((r) => gpt2.encode(`${r.instruction}\n\n${r.output}`).length + 1);
    const total = lengths.reduce((a, b) => a + b, 0);
    for (const L of [1024, 2048]) {
      const fits = lengths.filter((n) => n <= L);
      const bfd = bestFitDecreasing(fits, L);
      const eff = packingEfficiency(fits, bfd, L);
      const none = fits.reduce((a, b) => a + b, 0) / (fits.length * L);
      let pos = 0;
      let split = 0;
      for (const n of lengths) {
        if (Math.floor(pos / L) !== Math.floor((pos + n - 1) / L)) split++;
        pos += n;
      }
      const greedyRows = Math.floor(total / L);
      rows.push({ name: `pack 'bfd', rows of ${L} gpt2 tokens: non-pad share`, value: eff, unit: '', ratio: ratio(eff, none, "'none'"), note: `${bfd.length} rows for ${fits.length} docs; ${lengths.length - fits.length} docs longer than a row dropped; goal ≥ 0.98: ${eff >= 0.98 ? 'met' : 'not met'}` });
      rows.push({ name: `pack 'none', rows of ${L}: non-pad share`, value: none, unit: '', note: `${fits.length} rows` });
      rows.push({ name: `pack 'greedy', rows of ${L}: non-pad share`, value: 1, unit: '', note: `${greedyRows} rows, no pads, ${total - greedyRows * L} tail tokens dropped; ${split} of ${lengths.length} docs (${((100 * split) / lengths.length).toFixed(0)}%) split across rows` });
    }
    notes.push(`Packing: ${lengths.length} AlpacaEval docs (instruction + output + EOS), ${total.toLocaleString('en')} gpt2 tokens, median ${median(lengths)} tokens, longest ${Math.max(...lengths)}.`);

    // 2. SFT throughput: our BPE (vocabulary 512), prompt at mask 0, answer at mask 1, rows of 128.
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sft-bench-'));
    try {
      const T = 128;
      const trainer = new BpeTrainer({ vocabSize: 512 });
      for (const r of records) trainer.add(`${r.instruction}\n\n${r.output}`);
      const tok = new BpeTokenizer(trainer.train().definition);
      const docs = records.map((r) => {
        const p = tok.encode(`${r.instruction}\n\n`);
        const a = [...tok.encode(r.output), tok.eotId!];
        const t = [...p, ...a].slice(0, T);
        return { tokens: t, mask: t.map((_, i) => (i > 0 && i >= p.length ? 1 : 0)) };
      });
      const packed = bestFitDecreasing(docs.map((d) => d.tokens.length), T);
      const tokens: number[] = [];
      const mask: number[] = [];
      const starts: number[] = [];
      for (const row of packed) {
        for (const i of row) {
          starts.push(tokens.length);
          tokens.push(...docs[i]!.tokens);
          mask.push(...docs[i]!.mask);
        }
        while (tokens.length % T) (tokens.push(tok.eotId!), mask.push(0));
      }
      writeFileSync(join(dir, 'train.bin'), encodeBin(tokens));
      writeFileSync(join(dir, 'train.mask'), Uint8Array.from(mask));
      writeFileSync(join(dir, 'train.docs'), new Uint8Array(Uint32Array.from(starts).buffer));
      const data = { train: [join(dir, 'train.bin')], eotToken: tok.eotId };
      const model = { vocabSize: 512, contextLength: T, layers: 4, dModel: 128, heads: 4 };
      const run = (o: Partial<TrainModelOptions> & { outDir: string }) =>
        trainModel({ model, batchSize: 8, steps: 12, evalEvery: 1000, evalBatches: 1, checkpointEvery: 1000, optimizer: { lr: 3e-3 }, valTokens: 8 * T, data, ...o });
      const python = findPython();
      const fig: Record<string, number[]> = { 'tfjs-document': [], 'torch-document': [], 'tfjs-causal': [], 'torch-causal': [] };
      for (let i = 0; i < 3; i++) {
        for (const attention of ['document', 'causal'] as const) {
          fig[`tfjs-${attention}`]!.push((await run({ attention, outDir: join(dir, `tfjs-${attention}-${i}`) })).tokensPerSecond);
          if (python) fig[`torch-${attention}`]!.push((await run({ attention, backend: 'torch', torch: { device: 'cpu', threads: 2 }, outDir: join(dir, `torch-${attention}-${i}`) })).tokensPerSecond);
        }
      }
      const m = (k: string) => (fig[k]!.length ? median(fig[k]!) : null);
      const tfDoc = m('tfjs-document')!;
      const ptDoc = m('torch-document');
      const params = paramCounts(model).total.toLocaleString('en');
      rows.push({ name: `SFT tfjs wasm, 1 thread, masked loss + document attention (${params} params, context ${T}, batch 8)`, value: Math.round(tfDoc), unit: 'tokens/s', ...(ptDoc ? { ratio: ratio(tfDoc, ptDoc, 'PyTorch CPU') } : {}) });
      if (ptDoc) rows.push({ name: 'SFT PyTorch CPU, 2 threads, same model and data (peer; Debian python3-torch)', value: Math.round(ptDoc), unit: 'tokens/s' });
      const tfCausal = m('tfjs-causal')!;
      rows.push({ name: 'same, tfjs with causal attention (no document mask)', value: Math.round(tfCausal), unit: 'tokens/s', note: `document attention costs ${((100 * (tfCausal - tfDoc)) / tfCausal).toFixed(0)}% on tfjs` });
      const ptCausal = m('torch-causal');
      if (ptCausal && ptDoc) rows.push({ name: 'same, PyTorch CPU with causal attention', value: Math.round(ptCausal), unit: 'tokens/s', note: `document attention costs ${((100 * (ptCausal - ptDoc)) / ptCausal).toFixed(0)}% on torch CPU (a boolean mask: SDPA on torch ≥ 2, the explicit masked softmax on Debian's 1.13)` });
      const goal = ptDoc ? (tfDoc / ptDoc >= 2 ? 'met' : 'not met') : 'not measured (no python3 with torch)';
      notes.push(
        `Throughput: medians of 3 alternating runs of 12 steps (first steps excluded): ${Object.entries(fig).map(([k, v]) => `${k} ${v.map((x) => x.toFixed(0)).join('/') || '—'}`).join('; ')} tokens/s. ${packed.length} bfd rows of ${T} from ${docs.length} docs (truncated to ${T} tokens), ${((100 * mask.filter((x) => x === 1).length) / tokens.length).toFixed(0)}% of their tokens at mask 1. Goal tfjs ≥ 2× PyTorch CPU: ${goal}. Load average when the bench started: ${load.toFixed(2)}; absolute figures move with the load.`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { title: 'SFT: packing efficiency and masked, document-attention training throughput', rows, notes: notes.join('\n\n') };
  },
};

export default bench;
