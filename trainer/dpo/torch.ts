/**
 * Runs trainer/torch/dpo.py: writes the pair set and `run.json` into the task's scratch
 * directory, makes the starting checkpoint and the state directory local (copies from `s3://`),
 * relays the JSON-lines progress into the DPO metrics log, uploads checkpoints when the state
 * directory is remote, and copies the final checkpoint to the output directory.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TorchOptions } from '../api.ts';
import { encodeSafetensors, runFingerprint } from '../checkpoint.ts';
import { TORCH_DIR, requirePython } from '../torch/runner.ts';
import { copyModelOut, isRemote, localPath, localState, runJsonLines } from '../torch/process.ts';
import { encodePairSet, PAIR_FILES, type PairSet } from './data.ts';
import { parseDpoRecord } from './metrics.ts';
import { dpoFingerprintParts, type DpoBackendArgs, type DpoBackendResult, type LoadedCheckpoint } from './tfjs.ts';

const python = (torch: TorchOptions): string => requirePython(torch.python, 'train.dpo');

/** Writes a pair set's three files into `dir`. */
export function writePairSet(dir: string, set: PairSet): void {
  mkdirSync(dir, { recursive: true });
  const f = encodePairSet(set);
  for (const k of Object.keys(PAIR_FILES) as Array<keyof typeof PAIR_FILES>) writeFileSync(join(dir, PAIR_FILES[k]), f[k]);
}

/** A checkpoint as a local directory dpo.py can read (written from memory when it is remote). */
function localCheckpoint(ck: LoadedCheckpoint, work: string): string {
  if (!isRemote(ck.dir)) return localPath(ck.dir);
  const dir = join(work, 'from');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(ck.tensors, { format: 'sluice.gpt/1' }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(ck.meta));
  return dir;
}

/** Runs `dpo.py <mode> run.json`; calls `onLine` with each JSON line; rejects with stderr's tail on failure. */
export async function runDpoPy(py: string, mode: 'ref' | 'train' | 'check', runJson: string, onLine: (r: Record<string, unknown>) => void, log: (m: string) => void, signal?: AbortSignal): Promise<void> {
  const { code, stderr } = await runJsonLines(py, [join(TORCH_DIR, 'dpo.py'), mode, runJson], onLine, log, signal);
  if (signal?.aborted) throw new Error('trainer: aborted');
  if (code !== 0) throw new Error(`train.dpo: torch/dpo.py ${mode} exited with ${code}:\n${stderr.slice(-15).join('\n')}`);
}

/** The reference pass on the torch backend. */
export async function torchPairLogps(set: PairSet, ref: LoadedCheckpoint, o: { torch: TorchOptions; tmpDir: string; log?(m: string): void }): Promise<{ chosen: Float64Array; rejected: Float64Array }> {
  const py = python(o.torch);
  const work = join(o.tmpDir, 'dpo-ref');
  writePairSet(join(work, 'pairs'), set);
  const refOut = join(work, 'ref.json');
  const runJson = join(work, 'run.json');
  writeFileSync(runJson, JSON.stringify({ from: localCheckpoint(ref, work), pairsDir: join(work, 'pairs'), refOut, torch: o.torch }));
  await runDpoPy(py, 'ref', runJson, () => {}, o.log ?? (() => {}));
  const r = JSON.parse(readFileSync(refOut, 'utf8')) as { chosen: Array<number | null>; rejected: Array<number | null> };
  const num = (a: Array<number | null>) => Float64Array.from(a, (v) => (v === null ? Number.NaN : v));
  return { chosen: num(r.chosen), rejected: num(r.rejected) };
}

/** Trains with the torch subprocess. */
export async function trainDpoTorch(a: DpoBackendArgs): Promise<DpoBackendResult> {
  const { run, store } = a;
  const py = python(run.torch);
  const work = join(a.tmpDir, 'dpo-torch');
  writePairSet(join(work, 'pairs'), a.set);
  const stateFile = 'dpo-state.pt';
  const { dir: stateDir, remote: remoteState } = await localState(a.stateDir, work, stateFile, store);
  const outLocal = join(work, 'out');
  const runJson = join(work, 'run.json');
  writeFileSync(
    runJson,
    JSON.stringify({ ...run, from: localCheckpoint(a.from, work), pairsDir: join(work, 'pairs'), outDir: outLocal, stateDir, fingerprintId: runFingerprint(dpoFingerprintParts(run, a.set, a.from.dir)) }, null, 1),
  );
  let done: Record<string, number> | null = null;
  const uploads: Promise<void>[] = [];
  await runDpoPy(
    py,
    'train',
    runJson,
    (r) => {
      switch (r.kind) {
        case 'dpo':
        case 'dpo-eval':
          a.metrics.add(parseDpoRecord(r, 'torch'));
          break;
        case 'info':
          a.log(`torch ${r.torch} on ${r.deviceName} (${r.dtype}, compile ${r.compile}, fused AdamW ${r.fusedAdamW})${(r.resumedFromStep as number) > 0 ? `; resumed from step ${r.resumedFromStep}` : ''}`);
          break;
        case 'checkpoint':
          if (remoteState) uploads.push(store.write(store.join(a.stateDir, stateFile), readFileSync(join(stateDir, stateFile))));
          break;
        case 'done':
          done = r as Record<string, number>;
          break;
        default:
          a.log(`torch: ${JSON.stringify(r).slice(0, 200)}`);
      }
    },
    a.log,
    a.signal,
  );
  await Promise.all(uploads);
  if (!done) throw new Error('train.dpo: torch/dpo.py ended without its done line');
  const d = done as Record<string, number>;
  await copyModelOut(outLocal, a.outDir, store, 'train.dpo: torch/dpo.py');
  const evals = a.metrics.evals;
  return {
    steps: d.step!,
    pairs: d.pairs!,
    tokens: d.tokens!,
    before: evals.find((e) => e.step === 0) ?? null,
    after: evals.at(-1) ?? null,
    finalLoss: d.finalLoss!,
    tokensPerSecond: d.tokensPerSecond!,
    resumedFromStep: d.resumedFromStep!,
    seconds: d.seconds!,
  };
}
