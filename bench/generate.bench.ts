/**
 * Generation benchmark: decoding tokens/s with the key/value cache against without it (the whole
 * window recomputed every step), on both backends, for one model shape: 4 layers, d_model 128,
 * 4 heads, context 256, vocabulary 512 (random init: speed does not depend on the weights).
 * Greedy, 16 prompt tokens, 100 new tokens (end-of-text ignored), batch 1; medians of 3 runs after
 * a warm-up. tfjs: wasm, one thread, in-process. torch: Debian's python3-torch on the CPU, one
 * thread (skipped without it): measured on this 2-core machine under load, 2 OpenMP threads made
 * the uncached forward 3.7× slower in CPU time than one (spinning barriers), an artefact, not a
 * cache effect. SLUICE_BENCH_GEN_TOKENS sets the number of new tokens.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeModelCheckpoint, type NamedArray } from '../trainer/checkpoint.ts';
import { openGenerator, type TextGenerator } from '../trainer/generate/open.ts';
import { trainerModelConfig } from '../trainer/options.ts';
import { initialValues, parameterShapes } from '../trainer/tfjs/model.ts';
import { Rng } from '../trainer/tfjs/rng.ts';
import { findPython } from '../trainer/torch/runner.ts';
import { paramCounts } from '../formats/model.ts';
import { ratio, type Bench, type BenchRow } from './harness.ts';

/** CPU seconds (user + system) of a child process so far, from /proc (Linux; 0 elsewhere). */
function childCpu(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Median CPU seconds (this process plus `pid`) and wall seconds of `fn` over 3 runs after a warm-up. */
async function medianCost(fn: () => Promise<unknown>, pid: number | undefined): Promise<{ cpu: number; wall: number }> {
  await fn();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    const k0 = childCpu(pid);
    const t0 = performance.now();
    await fn();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6 + childCpu(pid) - k0);
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
  return { cpu: med(cpu), wall: med(wall) };
}

const bench: Bench = {
  id: 'generate',
  async run() {
    const load = loadavg()[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'sluice-generate-bench-'));
    const model = { vocabSize: 512, contextLength: 256, layers: 4, dModel: 128, heads: 4 };
    const cfg = trainerModelConfig(model);
    const values = initialValues(cfg, new Rng(1));
    const tensors = new Map<string, NamedArray>();
    for (const [name, shape] of parameterShapes(cfg)) tensors.set(name, { shape, data: values.get(name)! });
    await writeModelCheckpoint(dir, { format: 'sluice.gpt/1', model: cfg, backend: 'tfjs', step: 0, tokens: 0, finalLoss: null, valLoss: null, eotToken: null, tokenizer: null }, tensors);
    const newTokens = Number(process.env.SLUICE_BENCH_GEN_TOKENS ?? 100);
    const tokenizer = { encode: (t: string) => Array.from(Buffer.from(t)), tokenBytes: (id: number) => Uint8Array.of(id & 255) };
    const prompt = Array.from({ length: 16 }, (_, i) => (i * 37) % 512);
    const rows: BenchRow[] = [];
    const measure = async (g: TextGenerator, label: string) => {
      const pid = (g.model as { pid?: number }).pid;
      const run = (cache: boolean) => g.generate(prompt, { temperature: 0, maxTokens: newTokens, ignoreEos: true, cache });
      const c = await medianCost(() => run(true), pid);
      const u = await medianCost(() => run(false), pid);
      rows.push({ name: `${label}, KV cache`, value: newTokens / c.cpu, unit: 'tokens/CPU-s', ratio: ratio(u.cpu, c.cpu, 'uncached'), note: `wall ${(newTokens / c.wall).toFixed(0)} tokens/s` });
      rows.push({ name: `${label}, no cache (window recomputed)`, value: newTokens / u.cpu, unit: 'tokens/CPU-s', note: `wall ${(newTokens / u.wall).toFixed(1)} tokens/s` });
    };
    try {
      const tf = await openGenerator(dir, { backend: 'tfjs', tokenizer });
      try {
        await measure(tf, 'tfjs wasm, 1 thread');
      } finally {
        await tf.close();
      }
      if (findPython()) {
        process.env.OMP_NUM_THREADS = '1';
        const pt = await openGenerator(dir, { backend: 'torch', tokenizer, torch: { device: 'cpu' } });
        try {
          await measure(pt, 'torch CPU, 1 thread');
        } finally {
          await pt.close();
        }
      }
      return {
        title: 'Generation: tokens per CPU second with and without the KV cache',
        rows,
        notes: `Model: ${(paramCounts(model).total / 1e6).toFixed(2)}M parameters (4 layers, d_model 128, context 256, vocabulary 512), random init; greedy, batch 1, 16 prompt tokens, ${newTokens} new tokens, so the uncached runs recompute windows of 17 to ${16 + newTokens} tokens. Figures are tokens per CPU second (this process plus the torch subprocess, from /proc), medians of 3 runs after a warm-up: on this shared 2-core machine wall time measures the other jobs' load (wall figures in the notes column). Ratios are uncached CPU time over cached CPU time for the same backend. The uncached path is each backend's training forward over the window (logits of every position). The torch figures include one JSON request and one raw float32 logits row over a pipe per token. Load average when the bench started: ${load.toFixed(2)} (2 cores, shared).`,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
