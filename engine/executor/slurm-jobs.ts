/**
 * The Slurm side of the executor: calling `sbatch`/`squeue`/`scancel`/`scontrol`/`sacct`, and
 * the job records a submission leaves in `<stageDir>/_slurm/<run>/jobs/<kind>-<jobid>.json`.
 * Records make `sluice cancel` and `sluice status` work from any machine that sees the workdir,
 * and let the waiting submitter follow jobs that a planner job submitted on the cluster.
 */
import { execFile, spawn } from 'node:child_process';
import { storage } from '../storage/index.ts';

/** What a submission recorded about one Slurm job. */
export interface JobRecord {
  /** Run id shared by the submitter and the planner jobs it spawned. */
  run: string;
  pipeline: string;
  stage: string;
  kind: 'array' | 'finalize' | 'planner';
  /** Slurm job id (for arrays, the array's job id). */
  id: string;
  /** Array jobs: the task indices it runs (`offset + SLURM_ARRAY_TASK_ID`). */
  tasks?: number[];
  offset?: number;
  /** Job ids this one waits for (`afterok`). */
  dependency: string[];
  /** URI of the script as submitted. */
  script: string;
  /** sbatch's command-line options besides `--parsable` (working directory, output pattern). */
  sbatchArgs?: string[];
  /** The job's path variables added to the exported environment (`SLUICE_JOB_*`; never credentials). */
  env?: Record<string, string>;
  submitted: string;
}

/** A job or array element as `squeue` lists it. */
export interface QueuedJob {
  /** The job id (for arrays, the array's job id). */
  jobId: string;
  /** Array element index, or null for a plain job (or a still-unsplit pending array range). */
  element: number | null;
  /** Pending array range (e.g. `3-9%2`) when Slurm has not split it yet. */
  range: string | null;
  state: string;
  reason: string;
}

/** Runs a Slurm command (with `env` added to this process's environment); rejects with its stderr named. */
export function slurmCmd(cmd: string, args: string[], input?: string, timeoutMs = 60_000, env?: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found on PATH (is this a Slurm login node?)' : e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${err.trim() || out.trim()}`));
    });
    if (child.stdin) {
      // A command that exits without reading its input closes the pipe: its exit code tells.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/** True when `sbatch` and `squeue` are on PATH and the controller answers. */
export async function slurmAvailable(): Promise<boolean> {
  try {
    await new Promise<void>((res, rej) => execFile('sbatch', ['--version'], { timeout: 5000 }, (e) => (e ? rej(e) : res())));
    await slurmCmd('squeue', ['-h', '--me', '-o', '%i'], undefined, 10_000);
    return true;
  } catch {
    return false;
  }
}

/** `MaxArraySize` from `scontrol show config` (Slurm's default, 1001, when it cannot be read). */
export async function maxArraySize(): Promise<number> {
  try {
    const out = await slurmCmd('scontrol', ['show', 'config'], undefined, 20_000);
    const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(out);
    return m ? Number(m[1]) : 1001;
  } catch {
    return 1001;
  }
}

/**
 * Submits a script through stdin with extra sbatch options `args` (argv words, never parsed by a
 * shell) and `env` added to the environment sbatch exports to the job; resolves to the job id.
 */
export async function sbatch(script: string, args: string[] = [], env?: Record<string, string>): Promise<string> {
  const out = (await slurmCmd('sbatch', ['--parsable', ...args], script, 60_000, env)).trim();
  const id = out.split(';')[0]!.trim();
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id (got '${out}')`);
  return id;
}

/** This user's jobs, one line per array element (`squeue -r`). */
export async function squeue(): Promise<QueuedJob[]> {
  const out = await slurmCmd('squeue', ['-h', '--me', '-r', '-o', '%F|%K|%T|%r']);
  const jobs: QueuedJob[] = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const [jobId, idx, state, reason] = line.split('|') as [string, string, string, string];
    const element = /^\d+$/.test(idx) ? Number(idx) : null;
    jobs.push({ jobId, element, range: element === null && idx !== 'N/A' ? idx : null, state, reason });
  }
  return jobs;
}

/** Cancels jobs (whole arrays); ids not known to Slurm any more are ignored. */
export async function scancel(ids: string[]): Promise<void> {
  if (ids.length) await slurmCmd('scancel', ids).catch(() => {});
}

/**
 * Final states of array elements from `sacct` (needs accounting; null when it is disabled),
 * keyed `<jobid>_<element>`.
 */
export async function sacctStates(ids: string[]): Promise<Map<string, string> | null> {
  if (!ids.length) return new Map();
  try {
    const out = await slurmCmd('sacct', ['-n', '-P', '-X', '-o', 'JobID,State', '-j', ids.join(',')], undefined, 20_000);
    const m = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [id, state] = line.split('|');
      if (id && state) m.set(id.trim(), state.trim().split(' ')[0]!);
    }
    return m;
  } catch {
    return null;
  }
}

/** The job records of a stage directory (all runs), oldest first. */
export async function readJobRecords(stageDir: string): Promise<JobRecord[]> {
  const prefix = storage.join(stageDir, '_slurm');
  const entries = (await storage.list(prefix).catch(() => [])).filter((e) => /\/jobs\/[a-z]+-\d+\.json$/.test(e.uri));
  const records = await Promise.all(entries.map((e) => storage.readJson<JobRecord>(e.uri)));
  return records.sort((a, b) => Number(a.id) - Number(b.id));
}

/** Writes a job record next to the stage's scripts. */
export async function writeJobRecord(stageDir: string, r: JobRecord): Promise<void> {
  await storage.write(storage.join(stageDir, '_slurm', r.run, 'jobs', `${r.kind}-${r.id}.json`), JSON.stringify(r, null, 1));
}

/** True while a queued job can still run (a dependency that can never be met counts as dead). */
export function isLive(j: QueuedJob): boolean {
  return j.reason !== 'DependencyNeverSatisfied' && !ENDED.has(j.state);
}

// States squeue can still show for a moment after a job ended (or was scancelled).
const ENDED = new Set(['CANCELLED', 'COMPLETED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED']);

/** Task-level Slurm view of a stage, for `sluice status`. */
export interface SlurmTaskStates {
  /** Array elements waiting in the queue (including unsplit pending ranges). */
  queued: number;
  running: number;
  /** Submitted in the latest run, ended without a completion marker (failed, cancelled, timed out). */
  failed: number;
  /** Live job ids of the stage. */
  jobs: string[];
  /** Where the numbers come from. */
  source: 'squeue' | 'squeue+sacct';
}

function countRange(range: string): number {
  let n = 0;
  for (const part of range.split('%')[0]!.split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part);
    if (m) n += m[2] ? Math.floor((Number(m[2]) - Number(m[1])) / Number(m[3] ?? 1)) + 1 : 1;
  }
  return n;
}

/**
 * Queued / running / failed tasks of a stage from its latest run's records, `squeue` and (when
 * accounting is on) `sacct`; `done` is the set of tasks with markers. Null when the stage has no
 * records or Slurm cannot be queried.
 */
export async function stageTaskStates(stageDir: string, done: Set<number>, queue?: QueuedJob[]): Promise<SlurmTaskStates | null> {
  const records = await readJobRecords(stageDir);
  if (!records.length) return null;
  const latest = records[records.length - 1]!.run;
  const mine = records.filter((r) => r.run === latest);
  let q: QueuedJob[];
  try {
    q = queue ?? (await squeue());
  } catch {
    return null;
  }
  const ids = new Set(mine.map((r) => r.id));
  const live = q.filter((j) => ids.has(j.jobId));
  let queued = 0;
  let running = 0;
  const active = new Set<number>();
  for (const j of live) {
    const rec = mine.find((r) => r.id === j.jobId)!;
    if (rec.kind !== 'array') continue;
    if (j.element === null) {
      if (j.range) queued += countRange(j.range);
      for (const t of rec.tasks ?? []) active.add(t);
      continue;
    }
    active.add((rec.offset ?? 0) + j.element);
    if (j.state === 'RUNNING' || j.state === 'COMPLETING') running++;
    else if (j.state === 'PENDING' || j.state === 'CONFIGURING' || j.state === 'REQUEUED') queued++;
  }
  const arrays = mine.filter((r) => r.kind === 'array');
  const sacct = await sacctStates(arrays.map((r) => r.id));
  const failedSet = new Set<number>();
  // The latest submission of each task decides: it failed when it is not live and left no marker.
  const lastArrayOf = new Map<number, JobRecord>();
  for (const r of arrays) for (const t of r.tasks ?? []) lastArrayOf.set(t, r);
  const FAILED = new Set(['FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);
  for (const [t, r] of lastArrayOf) {
    if (done.has(t) || active.has(t)) continue;
    // With accounting, trust its final state; without, an ended element without a marker failed.
    const state = sacct?.get(`${r.id}_${t - (r.offset ?? 0)}`);
    if (!sacct || state === undefined || FAILED.has(state)) failedSet.add(t);
  }
  return { queued, running, failed: failedSet.size, jobs: [...new Set(live.map((j) => j.jobId))], source: sacct ? 'squeue+sacct' : 'squeue' };
}
