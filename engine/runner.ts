/**
 * The incremental runner. For each stage in declaration order: compute its fingerprint; skip it
 * when `<workdir>/<stage>/<fingerprint>/manifest.json` exists; otherwise write its task plan,
 * run the tasks without a completion marker through the executor, and write the manifest last
 * from the markers. A rerun after a crash therefore resumes task by task, and a config change
 * re-runs only the stages whose fingerprint it changed (that stage and everything downstream).
 */
import { resolve } from 'node:path';
import type { Json, Manifest, OperatorStats, SkipExample } from './types.ts';
import { SKIP_EXAMPLES_PER_REASON } from './audit.ts';
import { loadPipeline } from './load.ts';
import { Runtime, taskId } from './runtime.ts';
import { readMarker, type TaskMarker } from './task.ts';
import { storage, isRemote } from './storage/index.ts';
import { Progress } from './progress.ts';
import { LocalExecutor } from './executor/local.ts';
import type { Executor } from './executor/types.ts';
import type { Pipeline } from './pipeline.ts';
import { stageTaskStates, type SlurmTaskStates } from './executor/slurm-jobs.ts';

/** Options of `run()` (the CLI's `sluice run`). */
export interface RunOptions {
  /** Overrides the pipeline's workdir. */
  workdir?: string;
  /** Local worker processes (default: cores). */
  workers?: number;
  /** Run only these stages (their inputs must be complete). */
  only?: string[];
  /** Discard these stages' current outputs and run them again (`*` for all). */
  force?: string[];
  /** The executor (default: local with `workers`). */
  executor?: Executor;
  /** Progress display mode (default: bars on a TTY, lines otherwise). */
  progress?: 'tty' | 'lines' | 'none';
  /** Attempts per task, unless a stage sets `retries` (default 3). */
  retries?: number;
}

/** What happened to one stage in a run. */
export interface StageSummary {
  stage: string;
  fingerprint: string;
  dir: string;
  /** `submitted`: queued on a cluster by a detached or dry run, not waited for. */
  status: 'ran' | 'skipped' | 'resumed' | 'submitted';
  tasks: number;
  tasksRun: number;
  tasksSkipped: number;
  docsIn: number;
  docsOut: number;
  /** Input records the stage's source could not read, per reason (a truncated file is `read.truncated`). */
  skipped: Record<string, number>;
  /** The first few of each reason: the input and the details (file, error, how far reading got). */
  skipExamples: Record<string, SkipExample[]>;
  seconds: number;
  /**
   * The scalar entries (numbers, strings, booleans, null) of the stage's manifest `info`: what a
   * stage reports about itself (e.g. `train.sft`'s `heldout_loss_before`/`heldout_loss_after`/
   * `initial_loss`), without its nested objects and lists (shard lists, model configs). Absent
   * when the manifest has no info.
   */
  info?: Record<string, string | number | boolean | null>;
}

/** The scalar entries of a manifest's info, as a stage summary carries them (see {@link StageSummary.info}). */
export function infoOf(m: Manifest | null | undefined): Pick<StageSummary, 'info'> {
  if (!m?.info) return {};
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(m.info)) if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
  return { info: out };
}

/** The skip counts and examples of a manifest, as a stage summary carries them. */
export function skipsOf(m: Manifest | null | undefined): Pick<StageSummary, 'skipped' | 'skipExamples'> {
  return { skipped: { ...(m?.stats.skipped ?? {}) }, skipExamples: { ...(m?.stats.skipExamples ?? {}) } };
}

/** `run --json`'s summary. */
export interface RunSummary {
  pipeline: string;
  workdir: string;
  stages: StageSummary[];
  seconds: number;
}

/** What the runner hands an executor that takes over a whole run (`PipelineExecutor`). */
export interface PipelineRun {
  rt: Runtime;
  /** Absolute path of the pipeline file. */
  file: string;
  /** The stages to run, in declaration order (`--only`, else all). */
  stages: string[];
  /** `--only` as given (planner jobs pass it on). */
  only?: string[];
  /** Attempts per task unless a stage sets `retries`. */
  retries: number;
  progress: Progress;
  /** Writes a stage's manifest from its markers (all tasks must be complete). */
  finalize(stage: string): Promise<Manifest>;
}

/**
 * An executor that runs a whole pipeline itself rather than stage by stage: the Slurm executor
 * queues the stage chain at once with job dependencies. It returns one summary per stage.
 */
export interface PipelineExecutor extends Executor {
  runPipeline(run: PipelineRun): Promise<StageSummary[]>;
}

function isPipelineExecutor(e: Executor): e is PipelineExecutor {
  return typeof (e as Partial<PipelineExecutor>).runPipeline === 'function';
}

/**
 * Removes what interrupted writes left under a stage's directory: local `.tmp-` files, S3
 * unfinished multipart uploads (invisible, but their parts stay stored until aborted). Safe only
 * while none of the stage's tasks runs: before its tasks start, and once they have all finished
 * (a worker that died mid-upload and whose task was retried leaves one behind). Returns how many.
 * A failure to clean (e.g. S3 credentials without `s3:ListBucketMultipartUploads`) is a warning
 * on stderr, not an error: leftovers are invisible to readers, so the output is still correct.
 */
export async function removeLeftovers(stageDir: string, stage: string, progress?: Progress): Promise<number> {
  let removed: number;
  try {
    removed = await storage.removeTemps(stageDir);
  } catch (e) {
    // Leftovers are invisible to readers, so output stays correct: warn (e.g. credentials without
    // s3:ListBucketMultipartUploads / s3:AbortMultipartUpload) rather than fail the run.
    // Straight to stderr: a warning is not progress, so `--progress none` must not hide it.
    process.stderr.write(`${stage}: warning: could not remove what interrupted writes left under ${stageDir}: ${(e as Error).message}\n`);
    return 0;
  }
  if (removed) progress?.log(`${stage}: removed ${removed} temporary file(s) or unfinished upload(s) left by an interrupted write`);
  return removed;
}

/** Writes a stage's manifest from its task markers; an error naming the first missing task. */
export async function finalizeStage(rt: Runtime, stage: string): Promise<Manifest> {
  const plan = await rt.plan(stage);
  const markers: TaskMarker[] = [];
  for (let i = 0; i < plan.tasks; i++) {
    const m = await readMarker(rt, stage, i);
    if (!m) throw new Error(`stage '${stage}': task ${i} reported success but its marker ${taskId(i)}.json is missing`);
    markers.push(m);
  }
  const dir = await rt.stageDir(stage);
  // Every task is complete, so no writer of this stage is live: what is left is orphaned.
  await removeLeftovers(dir, stage);
  const manifest = buildManifest(rt, stage, plan.fingerprint, markers);
  await storage.write(storage.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return manifest;
}

/** Resolves the workdir: the CLI value, else the pipeline's; local paths become absolute. */
export function resolveWorkdir(p: Pipeline, override?: string): string {
  const w = override ?? p.options.workdir;
  return isRemote(w) || w.startsWith('file://') ? w : resolve(w);
}

/** Opens a pipeline file bound to its workdir. */
export async function openRuntime(file: string, workdir?: string): Promise<Runtime> {
  const p = await loadPipeline(file);
  return new Runtime(p, resolveWorkdir(p, workdir), process.cwd());
}

function mergeStats(into: Record<string, OperatorStats>, from: Record<string, OperatorStats>): void {
  for (const [op, s] of Object.entries(from)) {
    const t = (into[op] ??= { docsIn: 0, docsOut: 0, bytesIn: 0, bytesOut: 0, drops: {} });
    t.docsIn += s.docsIn;
    t.docsOut += s.docsOut;
    t.bytesIn += s.bytesIn;
    t.bytesOut += s.bytesOut;
    for (const [r, n] of Object.entries(s.drops)) t.drops[r] = (t.drops[r] ?? 0) + n;
    if (s.dropBytes) {
      t.dropBytes ??= {};
      for (const [r, n] of Object.entries(s.dropBytes)) t.dropBytes[r] = (t.dropBytes[r] ?? 0) + n;
    }
  }
}

/** Builds a stage's manifest from its task markers (in task order). */
export function buildManifest(rt: Runtime, stage: string, fingerprint: string, markers: TaskMarker[]): Manifest {
  const def = rt.pipeline.stage(stage);
  const operators: Record<string, OperatorStats> = {};
  const skipped: Record<string, number> = {};
  const skipExamples: Record<string, SkipExample[]> = {};
  const info: Record<string, Json> = {};
  let docsIn = 0;
  let docsOut = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  for (const m of markers) {
    mergeStats(operators, m.stats.operators);
    for (const [r, n] of Object.entries(m.stats.skipped)) skipped[r] = (skipped[r] ?? 0) + n;
    for (const [r, ex] of Object.entries(m.stats.skipExamples ?? {})) {
      const into = (skipExamples[r] ??= []);
      for (const e of ex) if (into.length < SKIP_EXAMPLES_PER_REASON) into.push(e);
    }
    docsIn += m.stats.docsIn;
    docsOut += m.stats.docsOut;
    bytesIn += m.stats.bytesIn;
    bytesOut += m.stats.bytesOut;
    if (m.info) Object.assign(info, m.info);
  }
  const files = markers.flatMap((m) => m.files);
  return {
    format: 'sluice.dataset/1',
    pipeline: rt.pipeline.name,
    stage,
    fingerprint,
    output: def.input.kind === 'custom' ? def.input.custom.output : 'docs',
    tasks: markers.length,
    files,
    rows: files.reduce((a, f) => a + f.rows, 0),
    bytes: files.reduce((a, f) => a + f.bytes, 0),
    stats: { operators, skipped, ...(Object.keys(skipExamples).length ? { skipExamples } : {}), docsIn, docsOut, bytesIn, bytesOut, audit: markers.flatMap((m) => m.audit) },
    ...(Object.keys(info).length ? { info } : {}),
  };
}

/** Runs a pipeline file incrementally; resolves to the run summary, rejects on the first failed stage. */
export async function run(file: string, opts: RunOptions = {}): Promise<RunSummary> {
  const t0 = performance.now();
  const rt = await openRuntime(file, opts.workdir);
  const p = rt.pipeline;
  for (const s of [...(opts.only ?? []), ...(opts.force ?? []).filter((f) => f !== '*')]) p.stage(s);
  const executor = opts.executor ?? new LocalExecutor(opts.workers);
  const progress = new Progress(process.stderr, opts.progress);
  const summaries: StageSummary[] = [];
  const forced = new Set(opts.force ?? []);
  try {
    if (isPipelineExecutor(executor)) {
      const selected = p.stages.filter((s) => !opts.only || opts.only.includes(s.name)).map((s) => s.name);
      for (const s of selected) {
        if (forced.has(s) || forced.has('*')) {
          await storage.deletePrefix(await rt.stageDir(s));
          progress.log(`${s}: --force: discarded ${await rt.stageDir(s)}`);
        }
      }
      summaries.push(
        ...(await executor.runPipeline({ rt, file: resolve(file), stages: selected, only: opts.only, retries: opts.retries ?? 3, progress, finalize: (s) => finalizeStage(rt, s) })),
      );
    } else for (const stage of p.stages) {
      if (opts.only && !opts.only.includes(stage.name)) continue;
      const st0 = performance.now();
      const fingerprint = await rt.fingerprint(stage.name);
      const dir = await rt.stageDir(stage.name);
      for (const u of stage.upstream) {
        if (!(await rt.manifest(u))) throw new Error(`stage '${stage.name}' needs stage '${u}', which is not complete; run it first`);
      }
      if (forced.has(stage.name) || forced.has('*')) {
        await storage.deletePrefix(dir);
        progress.log(`${stage.name}: --force: discarded ${dir}`);
      }
      const existing = await rt.manifest(stage.name);
      if (existing) {
        summaries.push({ stage: stage.name, fingerprint, dir, status: 'skipped', tasks: existing.tasks, tasksRun: 0, tasksSkipped: existing.tasks, docsIn: Number(existing.stats.docsIn ?? 0), docsOut: Number(existing.stats.docsOut ?? 0), ...skipsOf(existing), seconds: 0, ...infoOf(existing) });
        progress.log(`${stage.name}: up to date (${fingerprint}), skipped`);
        continue;
      }
      const plan = await rt.plan(stage.name);
      // Before any task of this stage starts: a killed run's temp files and unfinished uploads.
      await removeLeftovers(dir, stage.name, progress);
      const pending: number[] = [];
      for (let i = 0; i < plan.tasks; i++) if (!(await readMarker(rt, stage.name, i))) pending.push(i);
      progress.stageStart(stage.name, plan.tasks, plan.tasks - pending.length);
      if (pending.length) {
        const fingerprints: Record<string, string> = { [stage.name]: fingerprint };
        for (const s of p.stages) fingerprints[s.name] = await rt.fingerprint(s.name);
        await executor.runStage(
          { file: resolve(file), workdir: rt.workdir, baseDir: rt.baseDir, stage: stage.name, stageDir: dir, tasks: pending, taskCount: plan.tasks, retries: stage.options.retries ?? opts.retries ?? 3, fingerprints },
          progress,
        );
      }
      const markers: TaskMarker[] = [];
      for (let i = 0; i < plan.tasks; i++) {
        const m = await readMarker(rt, stage.name, i);
        if (!m) throw new Error(`stage '${stage.name}': task ${i} reported success but its marker ${taskId(i)}.json is missing`);
        markers.push(m);
      }
      // All tasks finished: what a worker that died mid-write (and was retried) left is orphaned.
      await removeLeftovers(dir, stage.name, progress);
      const manifest = buildManifest(rt, stage.name, fingerprint, markers);
      await storage.write(storage.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
      const seconds = (performance.now() - st0) / 1000;
      const summary: StageSummary = {
        stage: stage.name,
        fingerprint,
        dir,
        status: pending.length === plan.tasks ? 'ran' : 'resumed',
        tasks: plan.tasks,
        tasksRun: pending.length,
        tasksSkipped: plan.tasks - pending.length,
        docsIn: Number(manifest.stats.docsIn),
        docsOut: Number(manifest.stats.docsOut),
        ...skipsOf(manifest),
        seconds,
        ...infoOf(manifest),
      };
      summaries.push(summary);
      const skips = Object.values(summary.skipped).reduce((a, b) => a + b, 0);
      progress.stageEnd(stage.name, `${stage.name}: ${summary.status} ${summary.tasksRun}/${summary.tasks} task(s), ${summary.docsIn.toLocaleString('en-US')} docs in, ${summary.docsOut.toLocaleString('en-US')} out${skips ? `, ${skips.toLocaleString('en-US')} input record(s) skipped (${Object.keys(summary.skipped).join(', ')})` : ''}, ${seconds.toFixed(1)} s → ${dir}`);
    }
  } finally {
    progress.stop();
    await executor.close();
  }
  return { pipeline: p.name, workdir: rt.workdir, stages: summaries, seconds: (performance.now() - t0) / 1000 };
}

/** A stage's state in `sluice status`. */
export interface StageStatus {
  stage: string;
  status: 'done' | 'stale' | 'partial' | 'pending';
  fingerprint: string;
  dir: string;
  tasks: number | null;
  tasksDone: number;
  rows: number | null;
  upstream: string[];
  /** Queued / running / failed tasks from Slurm, when the stage was submitted there and Slurm answers. */
  slurm?: SlurmTaskStates;
  /** Done stages: input records the source could not read, per reason, and the first of each. */
  skipped?: Record<string, number>;
  skipExamples?: Record<string, SkipExample[]>;
  /** Done `mix()` stages: the mixture as recorded in the manifest (`info.mix`). */
  mix?: Json;
}

/**
 * Each stage's state: `done` (manifest at the current fingerprint), `partial` (some tasks
 * complete), `stale` (an output exists only for an older fingerprint), `pending` (nothing yet).
 */
export async function status(file: string, opts: { workdir?: string } = {}): Promise<{ pipeline: string; workdir: string; stages: StageStatus[] }> {
  const rt = await openRuntime(file, opts.workdir);
  const out: StageStatus[] = [];
  for (const s of rt.pipeline.stages) out.push(await stageStatus(rt, s.name));
  return { pipeline: rt.pipeline.name, workdir: rt.workdir, stages: out };
}

/** The status of one stage of an opened runtime. */
export async function stageStatus(rt: Runtime, name: string): Promise<StageStatus> {
  const fingerprint = await rt.fingerprint(name);
  const dir = await rt.stageDir(name);
  const upstream = rt.pipeline.stage(name).upstream;
  const manifest = await rt.manifest(name);
  if (manifest) return { stage: name, status: 'done', fingerprint, dir, tasks: manifest.tasks, tasksDone: manifest.tasks, rows: manifest.rows, upstream, ...skipsOf(manifest), ...(manifest.info?.mix ? { mix: manifest.info.mix } : {}) };
  const planUri = storage.join(dir, '_plan.json');
  let tasks: number | null = null;
  let tasksDone = 0;
  const done = new Set<number>();
  if (await storage.exists(planUri)) {
    tasks = (await storage.readJson<{ tasks: number }>(planUri)).tasks;
    for (let i = 0; i < tasks; i++) if (await readMarker(rt, name, i)) done.add(i);
    tasksDone = done.size;
  }
  // Stages submitted to Slurm left job records; their queue state is added when Slurm answers.
  const slurm = await stageTaskStates(dir, done).catch(() => null);
  const extra = slurm ? { slurm } : {};
  if (tasksDone > 0) return { stage: name, status: 'partial', fingerprint, dir, tasks, tasksDone, rows: null, upstream, ...extra };
  const others = (await storage.list(rt.stageRoot(name))).some((e) => e.uri.endsWith('/manifest.json') && !e.uri.startsWith(dir + '/'));
  return { stage: name, status: others ? 'stale' : 'pending', fingerprint, dir, tasks, tasksDone, rows: null, upstream, ...extra };
}
