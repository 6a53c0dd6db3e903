/**
 * Runs trainer/torch/train.py as a subprocess: finds a Python with torch, makes the shards and
 * the state directory local (copies from `s3://` into the task's scratch directory), writes
 * `run.json`, relays the JSON-lines progress into the metrics log, uploads checkpoints when the
 * state directory is remote, and copies the final model checkpoint to the output directory.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseMetricsRecord } from '../metrics.ts';
import { siblingUri } from '../data/loader.ts';
import { DOC_INDEX_EXT, MASK_EXT } from '../../formats/shards.ts';
import type { BackendArgs, BackendResult } from '../tfjs/train.ts';
import { fingerprintParts } from '../tfjs/train.ts';
import { PACKAGE_ROOT } from '../../engine/modules/package-root.ts';
import { copyModelOut, isRemote, localPath, localState, runJsonLines } from './process.ts';

/** Folder of train.py and score.py: in the sources, which dist/ does not copy. */
export const TORCH_DIR = join(PACKAGE_ROOT, 'trainer', 'torch');

const pythonCache = new Map<string, string | null>();

/**
 * A Python interpreter that has torch and numpy installed: `explicit`, else `$SLUICE_PYTHON`, else the first of
 * `python3`, `/usr/bin/python3` (Debian's python3-torch installs for the system interpreter, which
 * a pyenv `python3` on PATH shadows). Null when none does.
 */
export function findPython(explicit?: string): string | null {
  const candidates = explicit ? [explicit] : process.env.SLUICE_PYTHON ? [process.env.SLUICE_PYTHON] : ['python3', '/usr/bin/python3'];
  for (const c of candidates) {
    if (pythonCache.has(c)) {
      const hit = pythonCache.get(c);
      if (hit) return hit;
      continue;
    }
    // Finds the packages without importing them: `import torch` costs ~1 s of CPU, this 0.01 s,
    // and every process that trains, scores or generates with torch asks. A torch that is found
    // but broken fails in the subprocess, whose stderr the caller reports.
    const r = spawnSync(c, ['-c', "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('torch', 'numpy')) else 1)"], { encoding: 'utf8', timeout: 60_000 });
    const ok = r.status === 0 ? c : null;
    pythonCache.set(c, ok);
    if (ok) return ok;
  }
  return null;
}

/** `findPython(explicit)`, or an error prefixed `who` saying what was tried and how to get one. */
export function requirePython(explicit: string | undefined, who: string): string {
  const python = findPython(explicit);
  if (!python) throw new Error(`${who}: backend 'torch' needs a Python with torch and numpy (tried ${explicit ?? process.env.SLUICE_PYTHON ?? 'python3, /usr/bin/python3'}); install Debian's python3-torch or set SLUICE_PYTHON`);
  return python;
}

/** Trains with the torch subprocess. */
export async function trainTorch(a: BackendArgs): Promise<BackendResult> {
  const { run, store } = a;
  const python = requirePython(run.torch.python, 'trainer');
  const work = join(a.tmpDir, 'torch');
  mkdirSync(join(work, 'shards'), { recursive: true });
  let n = 0;
  const localise = async (uri: string): Promise<string> => {
    if (!isRemote(uri)) return localPath(uri);
    const stem = join(work, 'shards', `${n++}`);
    await pipeline(await store.readStream(uri), createWriteStream(`${stem}.bin`));
    // The loss mask and document index travel with the shard (train.py finds them beside it).
    for (const ext of [MASK_EXT, DOC_INDEX_EXT.bin!]) {
      const side = siblingUri(uri, ext);
      if (await store.exists(side)) await pipeline(await store.readStream(side), createWriteStream(`${stem}.${ext}`));
    }
    return `${stem}.bin`;
  };
  const train = [];
  for (const u of a.data.train) train.push(await localise(u));
  const val = [];
  for (const u of a.data.val ?? []) val.push(await localise(u));

  // The initial weights (fine-tuning): a local directory for train.py.
  let init: string | null = null;
  if (a.init) {
    if (isRemote(a.init)) {
      init = join(work, 'init');
      mkdirSync(init, { recursive: true });
      for (const f of ['config.json', 'model.safetensors']) await pipeline(await store.readStream(store.join(a.init, f)), createWriteStream(join(init, f)));
    } else init = localPath(a.init);
  }
  const stateFile = 'torch-state.pt';
  const { dir: stateDir, remote: remoteState } = await localState(a.stateDir, work, stateFile, store);
  const outLocal = join(work, 'out');
  const runJson = {
    model: run.model,
    optimizer: run.optimizer,
    schedule: run.schedule,
    steps: run.steps,
    batchSize: run.batchSize,
    gradAccum: run.gradAccum,
    evalEvery: run.evalEvery,
    evalBatches: run.evalBatches,
    checkpointEvery: run.checkpointEvery,
    logEvery: run.logEvery,
    seed: run.seed,
    valTokens: run.valTokens,
    attention: run.attention,
    ...(init ? { init } : {}),
    ...(a.evalAtStart ? { evalAtStart: true } : {}),
    data: { train, val: val.length ? val : null, eotToken: a.data.eotToken ?? null, tokenizer: a.data.tokenizer ?? null },
    dataId: fingerprintParts(run, a.data, a.init, a.evalAtStart),
    outDir: outLocal,
    stateDir,
    torch: run.torch,
  };
  writeFileSync(join(work, 'run.json'), JSON.stringify(runJson, null, 1));

  let info: Record<string, unknown> | null = null;
  let done: Record<string, number> | null = null;
  const uploads: Promise<void>[] = [];
  const { code, stderr } = await runJsonLines(
    python,
    [join(TORCH_DIR, 'train.py'), join(work, 'run.json')],
    (r, line) => {
      switch (r.kind) {
        case 'train':
        case 'val':
          try {
            a.metrics.add(parseMetricsRecord(r, 'torch'));
          } catch (e) {
            a.log(`torch: malformed metrics line: ${(e as Error).message}`);
          }
          break;
        case 'info':
          info = r;
          a.log(`torch ${r.torch} on ${r.deviceName} (${r.dtype}, compile ${r.compile}, fused AdamW ${r.fusedAdamW}); matmul peak ${((r.peakFlops as number) / 1e9).toFixed(1)} GFLOP/s${(r.resumedFromStep as number) > 0 ? `; resumed from step ${r.resumedFromStep}` : ''}`);
          break;
        case 'checkpoint':
          if (remoteState) uploads.push(store.write(store.join(a.stateDir, stateFile), readFileSync(join(stateDir, stateFile))));
          break;
        case 'done':
          done = r as Record<string, number>;
          break;
        default:
          a.log(`torch: ${line.slice(0, 200)}`);
      }
    },
    (m) => a.log(m),
    a.signal,
  );
  await Promise.all(uploads);
  if (a.signal?.aborted) throw new Error('trainer: aborted');
  if (code !== 0 || !done) throw new Error(`trainer: torch/train.py exited with ${code}:\n${stderr.slice(-15).join('\n')}`);
  const d = done as Record<string, number>;
  await copyModelOut(outLocal, a.outDir, store, 'trainer: torch/train.py');
  if (!info) throw new Error('trainer: torch/train.py reported no info line');
  return {
    steps: d.step!,
    tokens: d.tokens!,
    finalLoss: d.finalLoss!,
    valLoss: (d.valLoss as number | null) ?? null,
    flopsPerToken: d.flopsPerToken!,
    peakFlops: d.peakFlops!,
    tokensPerSecond: d.tokensPerSecond!,
    resumedFromStep: d.resumedFromStep!,
    seconds: d.seconds!,
  };
}
