/**
 * The Slurm executor (`sluice run --executor slurm`). Each stage becomes `sbatch` job arrays
 * over its incomplete tasks (each element runs `sluice task`), followed by a one-CPU finalize
 * job that writes the manifest; stages chain with `--dependency=afterok`, so the whole chain is
 * queued at once and runs without the submitter. Where a stage's task count depends on its
 * inputs' contents (a custom stage with `taskCount`, or a doc stage over a custom stage's files)
 * a planner job runs after those inputs and submits the rest of the chain from the cluster.
 *
 * The submitter then waits (unless `detach`): it follows the jobs through `squeue` and the task
 * markers, and when a stage stops making progress with tasks unfinished (an element failed all
 * its in-place attempts, was `scancel`led, hit its time limit or lost its node) it cancels the
 * jobs downstream of it and resubmits the missing tasks and everything after them, up to
 * `retries` times per stage. Any later `sluice run` resumes the same way: complete tasks are
 * never resubmitted and jobs still queued from an earlier run are followed, not duplicated.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../modules/package-root.ts';
import type { Executor, ExecutorEvents, StageJob } from './types.ts';
import { infoOf, skipsOf, type PipelineExecutor, type PipelineRun, type StageSummary } from '../runner.ts';
import type { StageDef } from '../pipeline.ts';
import { Runtime, taskId } from '../runtime.ts';
import { storage, isRemote } from '../storage/index.ts';
import { loadPipeline } from '../load.ts';
import { arrayChunks, arrayScript, finalizeScript, jobEnv, plannerScript, resourceLines, sbatchArgs, shq, type ScriptContext, type ScriptKind, type SlurmScriptOptions } from './slurm-script.ts';
import { checkSbatchLine, checkSlurmValue, outputPatternDir } from './slurm-syntax.ts';
import { isLive, maxArraySize, readJobRecords, sbatch, scancel, squeue, writeJobRecord, type JobRecord, type QueuedJob } from './slurm-jobs.ts';

const BIN = join(PACKAGE_ROOT, 'cli', 'bin.js');

/** Options of the Slurm executor. */
export interface SlurmOptions extends SlurmScriptOptions {
  /** Submit and return without waiting (`--detach`); the finalize jobs write the manifests. */
  detach?: boolean;
  /** Print the scripts that would be submitted, submit nothing, write nothing (`--dry-run`). */
  dryRun?: boolean;
  /** Caps the cluster's `MaxArraySize` (for tests and sites that want smaller arrays). */
  maxArraySize?: number;
  /** Queue poll interval while waiting, in ms (default 1000). */
  pollMs?: number;
  /** Run id (planner jobs pass their submitter's so records group by run). */
  runId?: string;
  /** Where `--dry-run` prints (default stdout). */
  print?: (text: string) => void;
}

/** Stage view the chain walk keeps. */
interface Handle {
  /** Job ids that downstream arrays wait for (the stage's finalize job), or null when the stage is complete. */
  after: string[] | null;
  /** True when a planner (not this walk) will submit this stage. */
  deferred: boolean;
}

/** Upstream files of a doc stage when every input is a doc stage with a known task count. */
function predictTasks(stage: StageDef, rt: Runtime, counts: Map<string, number>): number | null {
  switch (stage.input.kind) {
    case 'source':
      return null;
    case 'stages': {
      let files = 0;
      for (const r of stage.input.refs) {
        const up = rt.pipeline.stage(r.name);
        // Doc stages write exactly one part file per task; a custom stage's files are its own business.
        if (up.input.kind === 'custom') return null;
        const n = counts.get(r.name);
        if (n === undefined) return null;
        files += n;
      }
      return stage.options.barrier ? 1 : Math.max(1, Math.min(stage.options.tasks ?? files, files));
    }
    case 'custom':
      return stage.input.custom.taskCount ? null : 1;
    default: {
      const never: never = stage.input;
      throw new Error(`unknown stage input ${JSON.stringify(never)}`);
    }
  }
}

/** Tasks of a stage with a completion marker (one listing instead of a read per task). */
async function doneTasks(stageDir: string): Promise<Set<number>> {
  const done = new Set<number>();
  for (const e of await storage.list(storage.join(stageDir, '_tasks')).catch(() => [])) {
    const m = /\/(\d{5,})\.json$/.exec(e.uri);
    if (m) done.add(Number(m[1]));
  }
  return done;
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The Slurm executor; see the module comment. */
export class SlurmExecutor implements Executor, PipelineExecutor {
  readonly runId: string;
  private readonly ownJob = process.env.SLURM_JOB_ID;
  private maxArray: number | undefined;
  private readonly pipelines = new Map<string, Runtime>();

  constructor(readonly opts: SlurmOptions = {}) {
    this.runId = opts.runId ?? `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
    if (!/^[A-Za-z0-9_.-]+$/.test(this.runId)) throw new Error(`Slurm run id '${this.runId}' may only hold letters, digits, '.', '_' and '-'`);
    if (opts.maxParallel !== undefined && (!Number.isInteger(opts.maxParallel) || opts.maxParallel < 1)) throw new Error(`--slurm-max-parallel must be a positive integer (got ${opts.maxParallel})`);
    if (opts.maxArraySize !== undefined && (!Number.isInteger(opts.maxArraySize) || opts.maxArraySize < 1)) throw new Error(`--slurm-max-array-size must be a positive integer (got ${opts.maxArraySize})`);
    // Values that become #SBATCH lines are checked here, before anything is planned or submitted.
    if (opts.partition !== undefined) checkSlurmValue('--slurm-partition', opts.partition, 'names');
    for (const l of opts.sbatch ?? []) checkSbatchLine('--slurm-sbatch line', l);
    if (opts.logDir !== undefined) {
      if (!opts.logDir) throw new Error('--slurm-log-dir must not be empty');
      outputPatternDir('--slurm-log-dir', opts.logDir);
    }
    if (opts.node !== undefined && !opts.node) throw new Error('--slurm-node must not be empty');
  }

  private async arrayLimit(): Promise<number> {
    this.maxArray ??= Math.min(this.opts.dryRun ? 1001 : await maxArraySize(), this.opts.maxArraySize ?? Infinity);
    return this.maxArray;
  }

  private print(text: string): void {
    (this.opts.print ?? ((t) => process.stdout.write(t)))(text);
  }

  /** The directory Slurm writes a stage's job output to (created, since Slurm does not). */
  logDir(rt: { workdir: string; baseDir: string; pipeline: { name: string } }, stage: string, stageDir: string): string {
    const dir = this.opts.logDir ? storage.join(this.opts.logDir, stage) : isRemote(rt.workdir) ? storage.join(rt.baseDir, '.sluice-slurm', rt.pipeline.name, stage) : storage.join(stageDir, '_slurm', 'logs');
    if (!this.opts.dryRun) mkdirSync(dir, { recursive: true });
    return dir;
  }

  private scriptContext(rt: Runtime, file: string, stage: string, stageDir: string): ScriptContext {
    return { pipeline: rt.pipeline.name, file, workdir: rt.workdir, baseDir: rt.baseDir, stage, logDir: this.logDir(rt, stage, stageDir), logDirOption: this.opts.logDir, bin: BIN, node: this.opts.node ?? process.execPath };
  }

  /**
   * Submits (or, dry, prints) one script and records it. Paths go to sbatch as argv words and
   * environment variables (`sbatchArgs`, `jobEnv`), which the record and the dry-run print show.
   */
  private async submit(ctx: ScriptContext, stageDir: string, base: Omit<JobRecord, 'id' | 'script' | 'submitted'> & { kind: ScriptKind }, script: string, placeholder: string): Promise<string> {
    const args = sbatchArgs(ctx, base.kind);
    const env = jobEnv(ctx);
    if (this.opts.dryRun) {
      const how = `# submitted as: ${Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`).join(' ')} sbatch --parsable ${args.map(shq).join(' ')} < script`;
      this.print(`# ---- ${base.stage}: ${base.kind}${base.tasks ? ` (${base.tasks.length} task(s))` : ''} → ${storage.join(stageDir, '_slurm', '<run>', `${base.kind}-<jobid>.sh`)}\n${how}\n${script}\n`);
      return placeholder;
    }
    const id = await sbatch(script, args, env);
    const uri = storage.join(stageDir, '_slurm', base.run, `${base.kind}-${id}.sh`);
    await storage.write(uri, script);
    await writeJobRecord(stageDir, { ...base, id, script: uri, sbatchArgs: args, env, submitted: new Date().toISOString() });
    return id;
  }

  /** Submits arrays over `tasks` of a stage; returns their job ids. */
  private async submitArrays(rt: Runtime, file: string, def: StageDef, stageDir: string, tasks: number[], attempts: number, dependency: string[]): Promise<string[]> {
    const ctx = this.scriptContext(rt, file, def.name, stageDir);
    const ids: string[] = [];
    for (const chunk of arrayChunks(tasks, await this.arrayLimit())) {
      const script = arrayScript(ctx, def.options, this.opts, chunk, attempts, dependency);
      ids.push(await this.submit(ctx, stageDir, { run: this.runId, pipeline: rt.pipeline.name, stage: def.name, kind: 'array', tasks: chunk.tasks, offset: chunk.offset, dependency }, script, `<${def.name}.array+${chunk.offset}>`));
    }
    return ids;
  }

  /** The arguments a planner job passes to `sluice run` to continue this run on the cluster. */
  private plannerArgs(only: string[] | undefined, retries: number): string[] {
    const o = this.opts;
    // `--flag=value` throughout: values such as `--account=lab` start with a dash.
    const args = [`--slurm-run-id=${this.runId}`, `--retries=${retries}`];
    for (const s of only ?? []) args.push(`--only=${s}`);
    if (o.maxParallel) args.push(`--slurm-max-parallel=${o.maxParallel}`);
    if (o.partition) args.push(`--slurm-partition=${o.partition}`);
    for (const l of o.sbatch ?? []) args.push(`--slurm-sbatch=${l}`);
    if (o.setup) args.push(`--slurm-setup=${o.setup}`);
    if (o.maxArraySize) args.push(`--slurm-max-array-size=${o.maxArraySize}`);
    // --slurm-node and --slurm-log-dir are paths: plannerScript passes them from the job's environment.
    return args;
  }

  /** Live queue entries of a stage's jobs (any run), this process's own job excluded. */
  private liveOf(records: JobRecord[], queue: QueuedJob[]): JobRecord[] {
    const live = new Set(queue.filter(isLive).map((j) => j.jobId));
    return records.filter((r) => live.has(r.id) && r.id !== this.ownJob);
  }

  /**
   * Walks the selected stages in order and queues every one not complete and not already in
   * flight: arrays over its incomplete tasks and a finalize job, each waiting (afterok) on the
   * finalize jobs of upstream stages queued before it. Stops submitting at a stage whose task
   * count cannot be known yet; a planner job continues from there.
   */
  private async walk(run: PipelineRun, queue: QueuedJob[]): Promise<void> {
    const { rt, file } = run;
    const handles = new Map<string, Handle>();
    const counts = new Map<string, number>();
    for (const name of run.stages) {
      const def = rt.pipeline.stage(name);
      const dir = await rt.stageDir(name);
      if (await rt.manifest(name)) {
        handles.set(name, { after: null, deferred: false });
        continue;
      }
      const attempts = def.options.retries ?? run.retries;
      const after: string[] = [];
      let deferred = false;
      for (const u of def.upstream) {
        const h = handles.get(u);
        if (!h) {
          if (!(await rt.manifest(u))) throw new Error(`stage '${name}' needs stage '${u}', which is not complete; run it first`);
          continue;
        }
        if (h.deferred) deferred = true;
        else if (h.after) after.push(...h.after);
      }
      if (deferred) {
        handles.set(name, { after: null, deferred: true });
        continue;
      }
      // In flight already (this run's earlier walk, another run, or a planner): follow it.
      const live = this.opts.dryRun ? [] : this.liveOf(await readJobRecords(dir), queue);
      if (live.length) {
        const fin = live.filter((r) => r.kind === 'finalize');
        const arrays = live.filter((r) => r.kind === 'array');
        if (live.some((r) => r.kind === 'planner') && !fin.length) handles.set(name, { after: null, deferred: true });
        else handles.set(name, { after: fin.length ? fin.map((r) => r.id) : arrays.map((r) => r.id), deferred: false });
        // Inputs complete: the count is known, so stages after it can be queued too.
        if (!after.length) counts.set(name, (await rt.plan(name)).tasks);
        continue;
      }
      let tasks: number | null;
      if (!after.length) tasks = (this.opts.dryRun ? await rt.computePlan(name) : await rt.plan(name)).tasks;
      else tasks = predictTasks(def, rt, counts);
      const ctx = this.scriptContext(rt, file, name, dir);
      if (tasks === null) {
        const script = plannerScript(ctx, def.options, this.opts, after, this.plannerArgs(run.only, run.retries));
        await this.submit(ctx, dir, { run: this.runId, pipeline: rt.pipeline.name, stage: name, kind: 'planner', dependency: after }, script, `<${name}.plan>`);
        run.progress.log(`${name}: task count depends on its inputs; a planner job submits it and the stages after it once they are complete`);
        handles.set(name, { after: null, deferred: true });
        continue;
      }
      counts.set(name, tasks);
      const done = this.opts.dryRun ? new Set<number>() : await doneTasks(dir);
      const pending: number[] = [];
      for (let i = 0; i < tasks; i++) if (!done.has(i)) pending.push(i);
      if (!pending.length && !after.length) {
        // Every task is complete (e.g. a finalize job was lost): write the manifest here.
        await run.finalize(name);
        handles.set(name, { after: null, deferred: false });
        continue;
      }
      const arrays = pending.length ? await this.submitArrays(rt, file, def, dir, pending, attempts, after) : [];
      const finDeps = arrays.length ? arrays : after;
      const fin = await this.submit(ctx, dir, { run: this.runId, pipeline: rt.pipeline.name, stage: name, kind: 'finalize', dependency: finDeps }, finalizeScript(ctx, def.options, this.opts, finDeps), `<${name}.finalize>`);
      if (!this.opts.dryRun) run.progress.log(`${name}: submitted ${pending.length} of ${tasks} task(s) as job(s) ${arrays.join(', ') || '-'}${after.length ? ` after ${after.join(', ')}` : ''}; finalize ${fin}`);
      handles.set(name, { after: [fin], deferred: false });
    }
  }

  /** Runs the selected stages of a pipeline on Slurm; see the module comment. */
  async runPipeline(run: PipelineRun): Promise<StageSummary[]> {
    const { rt } = run;
    const t0 = performance.now();
    // Every stage's #SBATCH values are checked before the first submission, so a bad value in a
    // late stage does not leave the early stages queued.
    for (const name of run.stages) resourceLines(rt.pipeline.stage(name).options, this.opts, name);
    const queue = this.opts.dryRun ? [] : await squeue();
    const initial = new Map<string, { tasks: number | null; done: number; status: StageSummary['status'] }>();
    for (const name of run.stages) {
      const m = await rt.manifest(name);
      initial.set(name, m ? { tasks: m.tasks, done: m.tasks, status: 'skipped' } : { tasks: null, done: (await doneTasks(await rt.stageDir(name))).size, status: 'ran' });
    }
    await this.walk(run, queue);
    const summaries: StageSummary[] = [];
    const summary = async (name: string, status: StageSummary['status'], seconds: number): Promise<StageSummary> => {
      const m = await rt.manifest(name);
      const first = initial.get(name)!;
      return {
        stage: name,
        fingerprint: await rt.fingerprint(name),
        dir: await rt.stageDir(name),
        status,
        tasks: m?.tasks ?? first.tasks ?? 0,
        tasksRun: m ? m.tasks - first.done : 0,
        tasksSkipped: first.done,
        docsIn: Number(m?.stats.docsIn ?? 0),
        docsOut: Number(m?.stats.docsOut ?? 0),
        ...skipsOf(m),
        seconds,
        ...infoOf(m),
      };
    };
    if (this.opts.dryRun || this.opts.detach) {
      for (const name of run.stages) summaries.push(await summary(name, initial.get(name)!.status === 'skipped' ? 'skipped' : 'submitted', 0));
      return summaries;
    }
    await this.follow(run, initial);
    for (const name of run.stages) {
      const first = initial.get(name)!;
      const s = await summary(name, first.status === 'skipped' ? 'skipped' : first.done ? 'resumed' : 'ran', first.status === 'skipped' ? 0 : (performance.now() - t0) / 1000);
      summaries.push(s);
    }
    return summaries;
  }

  /** Waits for the selected stages, repairing stages whose jobs ended with tasks missing. */
  private async follow(run: PipelineRun, initial: Map<string, { tasks: number | null; done: number; status: StageSummary['status'] }>): Promise<void> {
    const { rt } = run;
    const pollMs = this.opts.pollMs ?? 1000;
    const complete = new Set(run.stages.filter((s) => initial.get(s)!.status === 'skipped'));
    const started = new Map<string, { seen: Set<number>; t0: number }>();
    const rounds = new Map<string, number>();
    const suspect = new Set<string>();
    let squeueErrors = 0;
    const t0 = performance.now();
    while (complete.size < run.stages.length) {
      await new Promise((r) => setTimeout(r, pollMs));
      let queue: QueuedJob[];
      try {
        queue = await squeue();
        squeueErrors = 0;
      } catch (e) {
        // A busy controller times out now and then; give up only when it stays unreachable.
        if (++squeueErrors * pollMs > 300_000) throw e;
        if (squeueErrors === 1) run.progress.log(`squeue failed (${(e as Error).message}); retrying`);
        continue;
      }
      for (const name of run.stages) {
        if (complete.has(name)) continue;
        const dir = await rt.stageDir(name);
        const done = await doneTasks(dir);
        let st = started.get(name);
        if (!st && (done.size || (await storage.exists(storage.join(dir, '_plan.json'))))) {
          const plan = await rt.plan(name).catch(() => null);
          if (plan) {
            st = { seen: new Set(done), t0: performance.now() };
            started.set(name, st);
            run.progress.stageStart(name, plan.tasks, initial.get(name)!.done);
          }
        }
        if (st) {
          for (const t of done) {
            if (!st.seen.has(t)) {
              st.seen.add(t);
              run.progress.taskDone(name, t, false);
            }
          }
        }
        const m = await rt.manifest(name);
        if (m) {
          complete.add(name);
          suspect.delete(name);
          if (!st) run.progress.stageStart(name, m.tasks, m.tasks);
          const secs = (performance.now() - (st?.t0 ?? t0)) / 1000;
          run.progress.stageEnd(name, `${name}: ${initial.get(name)!.done ? 'resumed' : 'ran'} ${m.tasks - initial.get(name)!.done}/${m.tasks} task(s) on Slurm, ${Number(m.stats.docsIn).toLocaleString('en-US')} docs in, ${Number(m.stats.docsOut).toLocaleString('en-US')} out, ${secs.toFixed(1)} s → ${dir}`);
          continue;
        }
        const def = rt.pipeline.stage(name);
        let upstreamDone = true;
        for (const u of def.upstream) if (!(await rt.manifest(u))) upstreamDone = false;
        if (!upstreamDone) continue;
        const records = await readJobRecords(dir);
        if (this.liveOf(records, queue).length) {
          suspect.delete(name);
          continue;
        }
        // Nothing queued can complete this stage. Seen twice in a row (a planner may have just
        // submitted jobs the queue snapshot predates), it is repaired.
        if (!suspect.has(name)) {
          suspect.add(name);
          continue;
        }
        suspect.delete(name);
        await this.repair(run, name, records, done, rounds);
      }
    }
  }

  /** Cancels what waits on a broken stage and resubmits it (and what follows) — or fails the run. */
  private async repair(run: PipelineRun, name: string, records: JobRecord[], done: Set<number>, rounds: Map<string, number>): Promise<void> {
    const { rt } = run;
    const dir = await rt.stageDir(name);
    const def = rt.pipeline.stage(name);
    const attempts = def.options.retries ?? run.retries;
    const plan = await rt.plan(name).catch(() => null);
    const missing: number[] = [];
    if (plan) for (let i = 0; i < plan.tasks; i++) if (!done.has(i)) missing.push(i);
    // Keep each failed task's Slurm output next to the stage, like the local executor's _logs/.
    const notes: string[] = [];
    for (const t of missing) {
      const rec = [...records].reverse().find((r) => r.kind === 'array' && r.tasks?.includes(t));
      if (!rec) continue;
      const out = storage.join(this.logDir(rt, name, dir), `${name}-${rec.id}_${t - (rec.offset ?? 0)}.out`);
      const text = existsSync(out) ? readFileSync(out, 'utf8') : `(no Slurm output at ${out})`;
      const logUri = storage.join(dir, '_logs', `${taskId(t)}.log`);
      const prev = (await storage.exists(logUri)) ? await storage.readText(logUri) : '';
      await storage.write(logUri, `${prev}${prev ? '\n' : ''}job ${rec.id}_${t - (rec.offset ?? 0)} ended without completing the task (at ${new Date().toISOString()}):\n${text}`);
      if (notes.length < 1) notes.push(`task ${t}: ${tail(out, 6) || 'no output'} (log: ${logUri})`);
    }
    const planner = [...records].reverse().find((r) => r.kind === 'planner');
    if (!notes.length && planner && !records.some((r) => r.kind === 'array' && Number(r.id) > Number(planner.id))) {
      const out = storage.join(this.logDir(rt, name, dir), `${name}-plan-${planner.id}.out`);
      notes.push(`planner job ${planner.id} submitted nothing: ${tail(out, 6) || 'no output'} (log: ${out})`);
    }
    // Jobs downstream wait on a finalize that will never run: cancel them (any run).
    const downstream = this.downstreamOf(rt, name, run.stages);
    const cancel: string[] = records.map((r) => r.id);
    for (const d of downstream) cancel.push(...(await readJobRecords(await rt.stageDir(d))).map((r) => r.id));
    const queued = new Set((await squeue()).map((j) => j.jobId));
    const cancelled = new Set([...new Set(cancel)].filter((id) => queued.has(id) && id !== this.ownJob));
    await scancel([...cancelled]);
    const n = (rounds.get(name) ?? 0) + 1;
    rounds.set(name, n);
    if (n > attempts) {
      throw new Error(
        `stage '${name}': ${missing.length} task(s) did not complete on Slurm after ${n} submission(s) of up to ${attempts} attempt(s) each; ${notes[0] ?? `no array job recorded (see ${storage.join(dir, '_slurm')})`}`,
      );
    }
    run.progress.log(`${name}: ${missing.length} task(s) ended without completing${notes[0] ? ` (${notes[0].split('\n')[0]})` : ''}; resubmitting (round ${n + 1} of ${attempts})`);
    await this.walk(run, (await squeue()).filter((j) => !cancelled.has(j.jobId)));
  }

  private downstreamOf(rt: Runtime, name: string, stages: string[]): string[] {
    const out = new Set<string>([name]);
    for (const s of rt.pipeline.stages) if (s.upstream.some((u) => out.has(u))) out.add(s.name);
    out.delete(name);
    return [...out].filter((s) => stages.includes(s));
  }

  /**
   * The `Executor` contract for one stage at a time: submits arrays over `job.tasks`, waits for
   * them to leave the queue, and resubmits tasks that ended without a marker (up to
   * `job.retries` submissions). The caller writes the manifest.
   */
  async runStage(job: StageJob, events: ExecutorEvents): Promise<void> {
    const key = `${job.file}\u0000${job.workdir}`;
    let rt = this.pipelines.get(key);
    if (!rt) {
      rt = new Runtime(await loadPipeline(job.file, { checkCaptures: false }), job.workdir, job.baseDir);
      rt.seed(job.fingerprints);
      this.pipelines.set(key, rt);
    }
    const def = rt.pipeline.stage(job.stage);
    let pending = [...job.tasks];
    for (let round = 1; ; round++) {
      const ids = await this.submitArrays(rt, job.file, def, job.stageDir, pending, job.retries, []);
      if (this.opts.dryRun) return;
      events.log(`${job.stage}: submitted ${pending.length} task(s) as job(s) ${ids.join(', ')}`);
      const seen = new Set<number>();
      for (;;) {
        await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 1000));
        const q = await squeue();
        const done = await doneTasks(job.stageDir);
        for (const t of pending) {
          if (done.has(t) && !seen.has(t)) {
            seen.add(t);
            events.taskDone(job.stage, t, false);
          }
        }
        if (!q.some((j) => ids.includes(j.jobId) && isLive(j))) {
          pending = pending.filter((t) => !done.has(t));
          break;
        }
      }
      if (!pending.length) return;
      if (round >= job.retries) {
        throw new Error(`stage '${job.stage}': ${pending.length} task(s) did not complete on Slurm after ${round} submission(s); task ${pending[0]}: see ${this.logDir(rt, job.stage, job.stageDir)}`);
      }
      events.log(`${job.stage}: ${pending.length} task(s) ended without completing; resubmitting`);
    }
  }

  async close(): Promise<void> {}
}
