/**
 * Batch scripts of the Slurm executor, as pure functions of their inputs (so `--dry-run` and the
 * tests see exactly what is submitted). Three kinds:
 * - `array`: one job array over some of a stage's tasks; element i runs `sluice task` for task
 *   `offset + SLURM_ARRAY_TASK_ID`, retrying in place up to `attempts` times;
 * - `finalize`: after the array(s) succeed, `sluice run --only <stage>` writes the manifest from
 *   the task markers (so dependent arrays can plan from it without the submitter);
 * - `planner`: for a stage whose task count depends on its inputs' contents (a custom stage's
 *   `taskCount`), a job that runs after those inputs and submits the rest of the chain itself.
 * Scripts carry no environment values: credentials travel with `--export=ALL` from the
 * submitting process's environment, never in the text written to the workdir.
 *
 * Nor do they carry paths. A script is read by two parsers (sbatch for `#SBATCH` lines, bash for
 * the rest; see `slurm-syntax.ts`), and a path may hold anything but NUL. So the working
 * directory and the output pattern are sbatch argv words (`sbatchArgs`), and the paths the body
 * uses (pipeline file, workdir, `cli/bin.js`, `node`) reach it as environment variables
 * (`jobEnv`), exported with the rest of the submitting environment. What is spliced into the
 * text is either generated (numbers, job ids, stage names, which `pipeline()` restricts to
 * `[A-Za-z0-9_.-]`), a directive value checked against Slurm's grammar, a word quoted by `shq`,
 * or the user's own `setup` snippet, which is shell by design.
 */
import type { StageOptions } from '../types.ts';
import { checkDirective, checkSbatchLine, checkSlurmValue, outputPatternDir, shq } from './slurm-syntax.ts';

export { shq };

/** Options of the Slurm executor that shape scripts (CLI `--slurm-*` flags). */
export interface SlurmScriptOptions {
  /** Most array elements of one stage running at once (`%N`; default: unlimited). */
  maxParallel?: number;
  /** Default partition for stages that set none. */
  partition?: string;
  /** Extra `#SBATCH` lines for every job (e.g. `--account=x`). */
  sbatch?: string[];
  /** Shell snippet run before every job (e.g. `module load nodejs`), after the stage's own. */
  setup?: string;
  /** The `node` executable on the compute nodes (default: this process's, overridable at job time by `$SLUICE_NODE`). */
  node?: string;
  /**
   * Where Slurm writes job output (`--slurm-log-dir`): default `<stageDir>/_slurm/logs` for a
   * local workdir, `<cwd>/.sluice-slurm/<pipeline>/<stage>` for s3://. Must be shared by all nodes.
   */
  logDir?: string;
}

/** Everything a script needs about where it runs. */
export interface ScriptContext {
  pipeline: string;
  /** Absolute path of the pipeline file (on the shared filesystem). */
  file: string;
  workdir: string;
  /** Directory the job starts in (relative pipeline paths resolve against it). */
  baseDir: string;
  stage: string;
  /** Directory for Slurm's `--output` files (a shared local path). */
  logDir: string;
  /** `--slurm-log-dir` as given, passed on by planner jobs (undefined: the default). */
  logDirOption?: string;
  /** Absolute path of `cli/bin.js`. */
  bin: string;
  node: string;
}

/** A contiguous run of task indices submitted as one array, `offset + [0, ...]`. */
export interface ArrayChunk {
  /** Added to `SLURM_ARRAY_TASK_ID` to get the task index. */
  offset: number;
  /** Task indices of this chunk, ascending. */
  tasks: number[];
  /** The `--array` spec (without `%N`), e.g. `0-99,120`. */
  spec: string;
}

/** Compresses ascending integers into Slurm's `a-b,c` range syntax. */
export function rangeSpec(values: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    out.push(i === j ? `${values[i]}` : `${values[i]}-${values[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * Splits task indices into arrays the cluster accepts: Slurm rejects array indices ≥
 * `MaxArraySize` (default 1001), so indices are grouped into windows of `maxArraySize` and each
 * window becomes one array with an offset. A window's spec is further split so that no spec
 * exceeds `maxSpecChars` (sbatch parses long specs slowly and some sites cap them).
 */
export function arrayChunks(tasks: number[], maxArraySize: number, maxSpecChars = 10_000): ArrayChunk[] {
  if (!Number.isInteger(maxArraySize) || maxArraySize < 1) throw new Error(`MaxArraySize must be a positive integer (got ${maxArraySize})`);
  const sorted = [...new Set(tasks)].sort((a, b) => a - b);
  const chunks: ArrayChunk[] = [];
  let i = 0;
  while (i < sorted.length) {
    const offset = Math.floor(sorted[i]! / maxArraySize) * maxArraySize;
    const mine: number[] = [];
    while (i < sorted.length && sorted[i]! < offset + maxArraySize) mine.push(sorted[i++]!);
    let start = 0;
    while (start < mine.length) {
      // Grow the chunk while its spec stays short enough.
      let end = mine.length;
      let spec = rangeSpec(mine.slice(start, end).map((t) => t - offset));
      while (spec.length > maxSpecChars && end - start > 1) {
        end = start + Math.ceil((end - start) / 2);
        spec = rangeSpec(mine.slice(start, end).map((t) => t - offset));
      }
      chunks.push({ offset, tasks: mine.slice(start, end), spec });
      start = end;
    }
  }
  return chunks;
}

/**
 * The partition of a stage (its own option, else `--slurm-partition`), checked against Slurm's
 * name grammar; the error names where the value came from.
 */
function partitionOf(stage: StageOptions, opts: SlurmScriptOptions, name?: string): string | undefined {
  if (stage.partition !== undefined) return checkSlurmValue(option(name, 'partition'), stage.partition, 'names');
  if (opts.partition !== undefined) return checkSlurmValue('--slurm-partition', opts.partition, 'names');
  return undefined;
}

/** The extra sbatch lines of a stage (executor's, then the stage's), each checked as one sbatch option. */
function extraLines(stage: StageOptions, opts: SlurmScriptOptions, name?: string): string[] {
  return [...(opts.sbatch ?? []).map((l) => checkSbatchLine('--slurm-sbatch line', l)), ...(stage.sbatch ?? []).map((l) => checkSbatchLine(`${option(name, 'sbatch')} line`, l))];
}

/** How errors name a stage option: `stage 'train' option 'gres'` (or `stage option 'gres'` without a name). */
function option(stage: string | undefined, key: string): string {
  return stage ? `stage '${stage}' option '${key}'` : `stage option '${key}'`;
}

/**
 * The `#SBATCH` resource lines of a stage (stage options first, then executor defaults). Every
 * value is checked against the grammar sbatch(1) documents for it (see `slurm-syntax.ts`); a
 * value that does not fit — a newline, a quote, a `$(…)` — is an error naming the option and
 * showing the value, before anything is submitted.
 */
export function resourceLines(stage: StageOptions, opts: SlurmScriptOptions, name?: string): string[] {
  const lines: string[] = [];
  if (stage.cpus !== undefined) {
    if (!Number.isInteger(stage.cpus) || stage.cpus < 1) throw new Error(`${option(name, 'cpus')} must be a positive integer (got ${JSON.stringify(stage.cpus)})`);
    lines.push(`--cpus-per-task=${stage.cpus}`);
  }
  if (stage.mem !== undefined) lines.push(`--mem=${checkSlurmValue(option(name, 'mem'), stage.mem, 'mem')}`);
  if (stage.time !== undefined) lines.push(`--time=${checkSlurmValue(option(name, 'time'), stage.time, 'time')}`);
  const partition = partitionOf(stage, opts, name);
  if (partition !== undefined) lines.push(`--partition=${partition}`);
  if (stage.gres !== undefined) lines.push(`--gres=${checkSlurmValue(option(name, 'gres'), stage.gres, 'gres')}`);
  lines.push(...extraLines(stage, opts, name));
  return lines;
}

/** `afterok:<ids>`; ids are Slurm job ids (digits), or `<stage.kind>` placeholders in a dry run. */
function dependencyLine(ids: string[]): string[] {
  for (const id of ids) if (!/^(\d+|<[A-Za-z0-9_.+-]+>)$/.test(id)) throw new Error(`internal error: job id ${JSON.stringify(id)} is not a Slurm job id`);
  return ids.length ? [`--dependency=afterok:${ids.join(':')}`] : [];
}

/** What kind of job a script is (it picks the output file name). */
export type ScriptKind = 'array' | 'finalize' | 'planner';

const OUTPUT_NAME: Record<ScriptKind, string> = { array: '%A_%a', finalize: 'finalize-%j', planner: 'plan-%j' };

/**
 * sbatch's command-line options for a job: the working directory and the output pattern. They
 * are paths, so they go to sbatch as argv words, which no parser splits or expands (`%` in the
 * log directory is escaped as `%%`; a backslash there is refused, see `outputPatternDir`). On
 * the command line they also take precedence over any `#SBATCH` line.
 */
export function sbatchArgs(ctx: ScriptContext, kind: ScriptKind): string[] {
  const logDir = outputPatternDir(ctx.logDirOption ? '--slurm-log-dir' : 'Slurm log directory (set --slurm-log-dir to another)', ctx.logDir);
  return [`--chdir=${ctx.baseDir}`, `--output=${logDir}/${ctx.stage}-${OUTPUT_NAME[kind]}.out`];
}

/** Names of the environment variables a job reads its paths from. */
export const JOB_ENV = { bin: 'SLUICE_JOB_BIN', pipeline: 'SLUICE_JOB_PIPELINE', workdir: 'SLUICE_JOB_WORKDIR', node: 'SLUICE_JOB_NODE', logDir: 'SLUICE_JOB_LOG_DIR' } as const;

/**
 * The environment variables that carry a job's paths (added to the submitting environment for
 * `sbatch`, which exports it to the job with `--export=ALL`). `SLUICE_JOB_LOG_DIR` is the
 * `--slurm-log-dir` a planner job passes on, empty when none was given.
 */
export function jobEnv(ctx: ScriptContext): Record<string, string> {
  return { [JOB_ENV.bin]: ctx.bin, [JOB_ENV.pipeline]: ctx.file, [JOB_ENV.workdir]: ctx.workdir, [JOB_ENV.node]: ctx.node, [JOB_ENV.logDir]: ctx.logDirOption ?? '' };
}

function header(name: string, sbatch: string[]): string {
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${checkSlurmValue('job name', name, 'name')}`,
    // The submitting environment (credentials and the job's paths) is exported at submission, not written here.
    '#SBATCH --export=ALL',
    ...sbatch.map((l) => `#SBATCH ${checkDirective(l)}`),
    '',
    '# Generated by the Sluice Slurm executor; submitted with sbatch. Do not edit: the next run rewrites it.',
    'set -uo pipefail',
  ].join('\n');
}

function setupBlock(stage: StageOptions, opts: SlurmScriptOptions): string {
  const parts = [opts.setup, stage.setup].filter((s): s is string => !!s && !!s.trim());
  return parts.length ? `# setup\n${parts.join('\n')}\n` : '';
}

/** `${VAR:?…}`: the variable's value, or the job stops naming it (e.g. when `--export=NONE` was forced). */
function fromEnv(name: string): string {
  return `\${${name}:?is not set: the job did not get the submitting environment, keep --export=ALL}`;
}

function runner(ctx: ScriptContext): string {
  return [
    '# Paths come from the environment sbatch exported (see jobEnv), never from this text.',
    `SLUICE=${fromEnv(JOB_ENV.bin)}`,
    `PIPELINE=${fromEnv(JOB_ENV.pipeline)}`,
    `WORKDIR=${fromEnv(JOB_ENV.workdir)}`,
    `NODE=\${SLUICE_NODE:-${fromEnv(JOB_ENV.node)}}`,
    `STAGE=${shq(ctx.stage)}`,
  ].join('\n');
}

/** The batch script of one array chunk of a stage. */
export function arrayScript(ctx: ScriptContext, stage: StageOptions, opts: SlurmScriptOptions, chunk: ArrayChunk, attempts: number, dependency: string[]): string {
  const spec = chunk.spec + (opts.maxParallel ? `%${opts.maxParallel}` : '');
  const sbatch = [`--array=${spec}`, ...resourceLines(stage, opts, ctx.stage), ...dependencyLine(dependency)];
  return `${header(`sluice.${ctx.pipeline}.${ctx.stage}`, sbatch)}
${setupBlock(stage, opts)}${runner(ctx)}
TASK=$(( SLURM_ARRAY_TASK_ID + ${chunk.offset} ))
ATTEMPTS=${attempts}
attempt=1
while :; do
  echo "sluice: $STAGE#$TASK attempt $attempt/$ATTEMPTS on $(hostname) (job \${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID})" >&2
  "$NODE" "$SLUICE" task "$PIPELINE" "$STAGE" "$TASK" --workdir "$WORKDIR" && exit 0
  rc=$?
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "sluice: $STAGE#$TASK failed after $attempt attempt(s) (exit $rc)" >&2
    exit "$rc"
  fi
  attempt=$(( attempt + 1 ))
done
`;
}

/** The batch script that writes a stage's manifest once its arrays succeeded. */
export function finalizeScript(ctx: ScriptContext, stage: StageOptions, opts: SlurmScriptOptions, arrays: string[]): string {
  // One CPU and the stage's partition; the finalize step only reads markers and writes JSON.
  const partition = partitionOf(stage, opts, ctx.stage);
  const sbatch = [...(partition ? [`--partition=${partition}`] : []), '--cpus-per-task=1', ...dependencyLine(arrays), ...extraLines(stage, opts, ctx.stage)];
  return `${header(`sluice.${ctx.pipeline}.${ctx.stage}.finalize`, sbatch)}
${setupBlock(stage, opts)}${runner(ctx)}
# Every task has its marker (the arrays succeeded): this writes the manifest and runs nothing.
exec "$NODE" "$SLUICE" run "$PIPELINE" --only "$STAGE" --workdir "$WORKDIR" --workers 1 --quiet
`;
}

/**
 * The batch script of a planner job: submits the chain from `stage` on, from the cluster.
 * `runArgs` are `sluice run` flags (each becomes one `shq`-quoted word); `--slurm-node` and
 * `--slurm-log-dir`, being paths, are added from the job's environment instead.
 */
export function plannerScript(ctx: ScriptContext, stage: StageOptions, opts: SlurmScriptOptions, dependency: string[], runArgs: string[]): string {
  const partition = partitionOf(stage, opts, ctx.stage);
  const sbatch = [...(partition ? [`--partition=${partition}`] : []), '--cpus-per-task=1', ...dependencyLine(dependency), ...extraLines(stage, opts, ctx.stage)];
  // Paths the planner passes on are read from its environment at run time, like the others.
  const pathArgs = [...(opts.node ? [`"--slurm-node=$${JOB_ENV.node}"`] : []), ...(ctx.logDirOption ? [`"--slurm-log-dir=$${JOB_ENV.logDir}"`] : [])];
  return `${header(`sluice.${ctx.pipeline}.${ctx.stage}.plan`, sbatch)}
${setupBlock(stage, opts)}${runner(ctx)}
# The task count of '${ctx.stage}' depends on its inputs' contents: plan it now that they are
# complete, and submit it and the stages after it (same run id, so the submitter follows them).
exec "$NODE" "$SLUICE" run "$PIPELINE" --workdir "$WORKDIR" --executor slurm --detach ${[...runArgs.map(shq), ...pathArgs].join(' ')}
`;
}
