/**
 * `trainModel`'s implementation: resolves the options, runs the chosen backend, then writes
 * `metrics.jsonl` and `report.html` beside the model checkpoint in the output directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storage } from '../engine/storage/index.ts';
import type { TrainModelOptions, TrainResult } from './api.ts';
import { MetricsLog } from './metrics.ts';
import { paramCounts } from '../formats/model.ts';
import { resolveRun } from './options.ts';
import { renderReport } from './report.ts';
import { trainTfjs, type BackendArgs, type BackendResult } from './tfjs/train.ts';
import { trainTorch } from './torch/runner.ts';

/** Trains a GPT as `trainModel` documents (trainer/api.ts). */
export async function runTraining(opts: TrainModelOptions): Promise<TrainResult> {
  if (!opts.data || !Array.isArray(opts.data.train) || opts.data.train.length === 0) throw new Error('trainer: data.train must list at least one .bin shard');
  if (!opts.outDir) throw new Error('trainer: outDir is required');
  const run = resolveRun(opts, opts.data);
  const store = storage;
  const stateDir = opts.stateDir ?? store.join(opts.outDir, '_state');
  const ownTmp = opts.tmpDir ? null : mkdtempSync(join(tmpdir(), 'sluice-train-'));
  const tmpDir = opts.tmpDir ?? ownTmp!;
  const metrics = new MetricsLog(opts.onMetrics);
  const args: BackendArgs = { run, data: opts.data, ...(opts.init ? { init: opts.init } : {}), ...(opts.evalAtStart ? { evalAtStart: true } : {}), outDir: opts.outDir, stateDir, tmpDir, store, metrics, log: opts.log ?? (() => {}), signal: opts.signal };
  let r: BackendResult;
  try {
    switch (run.backend) {
      case 'tfjs':
        r = await trainTfjs(args);
        break;
      case 'torch':
        r = await trainTorch(args);
        break;
      default: {
        const never: never = run.backend;
        throw new Error(`trainer: unknown backend ${String(never)}`);
      }
    }
  } finally {
    if (ownTmp) rmSync(ownTmp, { recursive: true, force: true });
  }
  // Written into outDir; named where they will live (the report must not point at a temp dir).
  const published = opts.publishDir ?? opts.outDir;
  const metricsPath = store.join(published, 'metrics.jsonl');
  const reportPath = store.join(published, 'report.html');
  const result: TrainResult = {
    backend: run.backend,
    model: run.model,
    params: paramCounts(run.model),
    steps: r.steps,
    tokensSeen: r.tokens,
    finalLoss: r.finalLoss,
    valLoss: r.valLoss,
    checkpoint: published,
    metricsPath,
    reportPath,
    flopsPerToken: r.flopsPerToken,
    totalFlops: r.flopsPerToken * r.tokens,
    tokensPerSecond: r.tokensPerSecond,
    mfu: (r.tokensPerSecond * r.flopsPerToken) / r.peakFlops,
    peakFlops: r.peakFlops,
    resumedFromStep: r.resumedFromStep,
    seconds: r.seconds,
  };
  await store.write(store.join(opts.outDir, 'metrics.jsonl'), metrics.jsonl());
  await store.write(store.join(opts.outDir, 'report.html'), renderReport(result, metrics.records));
  return result;
}
