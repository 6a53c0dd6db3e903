/**
 * What the trainer stages (`train`, `train.sft`, `train.dpo`) share about running a training loop
 * inside a task and publishing what it wrote: the loop writes into a local directory under the
 * task's scratch space, then every file is copied into the stage output (atomic per file), and
 * the tokenizer's files travel with the checkpoint.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CustomTaskContext } from '../engine/types.ts';
import { TOKENIZER_FILES } from '../formats/tokenizer.ts';
import type { TrainResult } from './api.ts';

/** The part of a task's context these use. */
type Ctx = Pick<CustomTaskContext, 'stageDir' | 'stateDir' | 'tmpDir' | 'signal' | 'log' | 'storage' | 'writeFile'>;

/**
 * The options a trainer loop takes from its task: output into `out` (a local directory),
 * published as the stage directory, resumable state in the task's state directory, the task's
 * scratch directory, abort signal and log.
 */
export function loopArgs(ctx: Ctx, out: string) {
  return {
    outDir: out,
    publishDir: ctx.stageDir,
    stateDir: ctx.stateDir,
    tmpDir: ctx.tmpDir,
    signal: ctx.signal,
    log: (m: string) => ctx.log(m),
  };
}

/** Copies every file of the local directory `out` into the stage output, in name order. */
export async function publishDir(ctx: Ctx, out: string): Promise<void> {
  for (const f of readdirSync(out).sort()) await ctx.writeFile(f, readFileSync(join(out, f)));
}

/** Copies the tokenizer files present in directory `dir` (`TOKENIZER_FILES`) into the stage output; returns how many there were. */
export async function copyTokenizerFiles(ctx: Ctx, dir: string): Promise<number> {
  let copied = 0;
  for (const f of Object.values(TOKENIZER_FILES)) {
    const uri = ctx.storage.join(dir, f);
    if (await ctx.storage.exists(uri)) {
      await ctx.writeFile(f, await ctx.storage.read(uri));
      copied++;
    }
  }
  return copied;
}

/** The figures of a training run that `train` and `train.sft` record in their manifest info, in this key order. */
export function trainFigures(result: TrainResult) {
  return {
    model: { ...result.model },
    params: { ...result.params },
    steps: result.steps,
    tokens: result.tokensSeen,
    finalLoss: result.finalLoss,
    valLoss: result.valLoss,
    tokensPerSecond: result.tokensPerSecond,
    flopsPerToken: result.flopsPerToken,
    totalFlops: result.totalFlops,
    mfu: result.mfu,
    peakFlops: result.peakFlops,
  };
}
