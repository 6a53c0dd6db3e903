/**
 * Trainer benchmark.
 * 1. Throughput on the tiny GPT (4 layers, d_model 128, 4 heads, context 64, our BPE with a
 *    512-token vocabulary: 0.86M parameters): tfjs wasm (one thread, in-process) against PyTorch
 *    CPU (Debian python3-torch, two threads) on the same model, data and batch, alternating, 3 runs
 *    each; steady-state tokens/s (the first steps excluded).
 * 2. Learning: the tfjs backend on tinyshakespeare (90/10 split, our BPE) for a few minutes;
 *    the validation-loss curve against the unigram entropy of the training tokens. The curve goes
 *    to bench/results/trainer-tinyshakespeare.json.
 * 3. The GPU figure (torch backend, GPT-2-small shape on an H200) is read from the committed log
 *    bench/results/trainer-gpu-h200-summary.json (trainer/torch/gpu_bench.sh; it needs a GPU).
 *
 * SLUICE_BENCH_TRAIN_STEPS sets the learning run's steps (default 200, batch 8×64).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpeTrainer } from '../operators/tokenize/bpe/trainer.ts';
import { BpeTokenizer } from '../operators/tokenize/bpe/tokenizer.ts';
import { dataPath, REPO } from '../test/helpers/data.ts';
import { trainModel, type TrainModelOptions } from '../trainer/api.ts';
import { encodeBin } from '../formats/bin.ts';
import { paramCounts } from '../formats/model.ts';
import { findPython } from '../trainer/torch/runner.ts';
import { ratio, type Bench, type BenchRow } from './harness.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function unigramEntropy(tokens: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < tokens.length; i++) counts.set(tokens[i]!, (counts.get(tokens[i]!) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / tokens.length) * Math.log(c / tokens.length);
  return h;
}

const bench: Bench = {
  id: 'trainer',
  async run() {
    const load = loadavg()[0]!;
    const input = dataPath('tinyshakespeare', 'input.txt');
    if (!existsSync(input)) throw new Error(`trainer bench: ${input} is absent`);
    const text = readFileSync(input, 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'sluice-trainer-bench-'));
    try {
      // Our byte-level BPE (operators/tokenize), vocabulary 512, trained on the training 90%.
      const cut = Math.floor(text.length * 0.9);
      const trainer = new BpeTrainer({ vocabSize: 512 });
      trainer.add(text.slice(0, cut));
      const tok = new BpeTokenizer(trainer.train().definition);
      const trainTokens = tok.encode(text.slice(0, cut));
      const valTokens = tok.encode(text.slice(cut));
      writeFileSync(join(dir, 'train.bin'), encodeBin(trainTokens));
      writeFileSync(join(dir, 'val.bin'), encodeBin(valTokens));
      const data = { train: [join(dir, 'train.bin')], val: [join(dir, 'val.bin')], eotToken: tok.eotId };
      const model = { vocabSize: 512, contextLength: 64, layers: 4, dModel: 128, heads: 4 };
      const params = paramCounts(model).total;
      const run = (o: Partial<TrainModelOptions> & { outDir: string }) =>
        trainModel({ model, batchSize: 8, steps: 12, evalEvery: 1000, evalBatches: 1, checkpointEvery: 1000, optimizer: { lr: 3e-3 }, data, ...o });

      // 1. Throughput, alternating so both see the same machine load.
      const python = findPython();
      const tfjs: number[] = [];
      const torch: number[] = [];
      for (let i = 0; i < 3; i++) {
        tfjs.push((await run({ outDir: join(dir, `tfjs-${i}`) })).tokensPerSecond);
        if (python) torch.push((await run({ backend: 'torch', torch: { device: 'cpu', threads: 2 }, outDir: join(dir, `torch-${i}`) })).tokensPerSecond);
      }
      const rows: BenchRow[] = [];
      const tf = median(tfjs);
      const pt = torch.length ? median(torch) : null;
      rows.push({ name: `sluice trainer tfjs wasm, 1 thread (tiny GPT, ${(params / 1e6).toFixed(2)}M params, batch 8×64)`, value: Math.round(tf), unit: 'tokens/s', ratio: pt ? ratio(tf, pt, 'PyTorch CPU') : undefined });
      if (pt) rows.push({ name: 'PyTorch CPU, 2 threads, same model (peer; Debian python3-torch)', value: Math.round(pt), unit: 'tokens/s' });

      // 2. Learning on tinyshakespeare.
      const steps = Number(process.env.SLUICE_BENCH_TRAIN_STEPS ?? 200);
      const learn = await trainModel({
        model,
        batchSize: 8,
        steps,
        evalEvery: Math.max(1, Math.floor(steps / 6)),
        evalBatches: 8,
        checkpointEvery: steps,
        logEvery: 10,
        optimizer: { lr: 3e-3 },
        data,
        outDir: join(dir, 'learn'),
      });
      const h = unigramEntropy(trainTokens);
      const curve = readFileSync(learn.metricsPath, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; step: number; loss?: number; valLoss?: number });
      const valCurve = curve.filter((r) => r.kind === 'val').map((r) => [r.step, Number(r.valLoss!.toFixed(4))]);
      writeFileSync(
        join(REPO, 'bench', 'results', 'trainer-tinyshakespeare.json'),
        JSON.stringify(
          {
            corpus: 'tinyshakespeare (90% train / 10% val by characters)',
            tokenizer: 'sluice BPE (operators/tokenize), vocabulary 512, trained on the train split',
            model,
            params,
            batch: [8, 64],
            steps,
            tokens: learn.tokensSeen,
            seconds: Number(learn.seconds.toFixed(1)),
            tokensPerSecond: Math.round(learn.tokensPerSecond),
            unigramEntropy: Number(h.toFixed(4)),
            valLoss: valCurve,
            trainLoss: curve.filter((r) => r.kind === 'train').map((r) => [r.step, Number(r.loss!.toFixed(4))]),
          },
          null,
          1,
        ) + '\n',
      );
      rows.push({ name: `tinyshakespeare val loss after ${steps} steps (${learn.tokensSeen.toLocaleString('en')} tokens, ${learn.seconds.toFixed(0)} s, tfjs)`, value: Number(learn.valLoss!.toFixed(3)), unit: 'nats/token', note: `unigram entropy ${h.toFixed(3)}` });
      rows.push({ name: 'unigram entropy of the training tokens (baseline)', value: Number(h.toFixed(3)), unit: 'nats/token' });

      // 3. GPU, from the committed log.
      const gpuFile = join(REPO, 'bench', 'results', 'trainer-gpu-h200-summary.json');
      let gpuNote = 'GPU: unmeasured (no bench/results/trainer-gpu-h200-summary.json).';
      if (existsSync(gpuFile)) {
        const g = JSON.parse(readFileSync(gpuFile, 'utf8')) as { device: string; tokensPerSecond: number; mfuVsSpecPeak: number; mfuVsMeasuredPeak: number; measuredPeakFlops: number; steps: number; batch: number[]; compile: boolean };
        rows.push({ name: `torch backend, GPT-2-small shape (124M), ${g.device}, bf16, compile ${g.compile}, batch ${g.batch.join('×')}, ${g.steps} steps (logged)`, value: Math.round(g.tokensPerSecond), unit: 'tokens/s', note: `MFU ${(100 * g.mfuVsSpecPeak).toFixed(1)}% of 989 TFLOP/s spec, ${(100 * g.mfuVsMeasuredPeak).toFixed(1)}% of measured ${(g.measuredPeakFlops / 1e12).toFixed(0)} TFLOP/s matmul` });
        gpuNote = `GPU figure from the committed log \`bench/results/trainer-gpu-h200-*.json[l]\` (\`trainer/torch/gpu_bench.sh\`, one run; not re-measured by \`npm run bench\`). `;
        const b32File = join(REPO, 'bench', 'results', 'trainer-gpu-h200-b32-summary.json');
        if (existsSync(b32File)) {
          const b = JSON.parse(readFileSync(b32File, 'utf8')) as typeof g;
          gpuNote += `The run before it (\`trainer-gpu-h200-b32-*\`: batch ${b.batch.join('×')}, ${b.steps} steps, batches copied from pageable memory, which synchronises the stream every step) gave ${Math.round(b.tokensPerSecond).toLocaleString('en')} tokens/s, ${(100 * b.mfuVsSpecPeak).toFixed(1)}% of spec; pinned batches and batch 64 gave the figure above.`;
        }
      }
      const goal = pt ? (tf / pt >= 2 ? 'met' : 'not met') : 'not measured (no python3 with torch)';
      return {
        title: 'Trainer: tiny GPT on 2 cores, tinyshakespeare, GPU',
        rows,
        notes: [
          `Throughput: medians of 3 alternating runs of 12 steps each (steady state, first steps excluded), tfjs ${tfjs.map((x) => x.toFixed(0)).join('/')} and PyTorch ${torch.map((x) => x.toFixed(0)).join('/') || '—'} tokens/s. Goal tfjs ≥ 2× PyTorch CPU: ${goal}. Load average when the bench started: ${load.toFixed(2)}. Absolute figures move with the load, and a 2-thread PyTorch loses more than a 1-thread tfjs on an oversubscribed machine, so under load the ratio is larger than on an idle machine (the issue measured 2,306 vs 1,240 tokens/s on an idle one).`,
          `Learning: validation loss ${valCurve.map(([s, v]) => `${s}: ${v}`).join(', ')} against a unigram entropy of ${h.toFixed(3)} nats/token (curve in \`bench/results/trainer-tinyshakespeare.json\`).`,
          gpuNote,
        ].join('\n\n'),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
