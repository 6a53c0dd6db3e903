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
 */
import type { StageOptions } from '../types.ts';

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

/** Single-quotes a string for bash. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const SBATCH_OPT = /^--?[A-Za-z][A-Za-z0-9-]*(=.*)?$|^-[A-Za-z] \S.*$/;

/** The `#SBATCH` resource lines of a stage (stage options first, then executor defaults). */
export function resourceLines(stage: StageOptions, opts: SlurmScriptOptions): string[] {
  const lines: string[] = [];
  if (stage.cpus !== undefined) {
    if (!Number.isInteger(stage.cpus) || stage.cpus < 1) throw new Error(`stage option 'cpus' must be a positive integer (got ${stage.cpus})`);
    lines.push(`--cpus-per-task=${stage.cpus}`);
  }
  if (stage.mem !== undefined) {
    if (!/^\d+[KMGT]?$/i.test(stage.mem)) throw new Error(`stage option 'mem' must look like 4G, 500M or 1024 (got '${stage.mem}')`);
    lines.push(`--mem=${stage.mem}`);
  }
  if (stage.time !== undefined) {
    if (!/^(\d+-)?\d+(:\d{1,2}){0,2}$/.test(stage.time)) throw new Error(`stage option 'time' must be a Slurm time such as 30, 2:00:00 or 1-12:00:00 (got '${stage.time}')`);
    lines.push(`--time=${stage.time}`);
  }
  const partition = stage.partition ?? opts.partition;
  if (partition !== undefined) lines.push(`--partition=${partition}`);
  if (stage.gres !== undefined) lines.push(`--gres=${stage.gres}`);
  for (const raw of [...(opts.sbatch ?? []), ...(stage.sbatch ?? [])]) {
    const l = raw.replace(/^#SBATCH\s+/, '').trim();
    if (!SBATCH_OPT.test(l) || l.includes('\n')) throw new Error(`extra sbatch line ${JSON.stringify(raw)} is not one sbatch option (e.g. '--account=lab' or '#SBATCH --qos=high')`);
    lines.push(l);
  }
  return lines;
}

function header(ctx: ScriptContext, name: string, sbatch: string[], output: string): string {
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --output=${output}`,
    `#SBATCH --chdir=${ctx.baseDir}`,
    // The submitting environment (credentials included) is exported at submission, not written here.
    '#SBATCH --export=ALL',
    ...sbatch.map((l) => `#SBATCH ${l}`),
    '',
    '# Generated by the Sluice Slurm executor; submitted with sbatch. Do not edit: the next run rewrites it.',
    'set -uo pipefail',
  ].join('\n');
}

function setupBlock(stage: StageOptions, opts: SlurmScriptOptions): string {
  const parts = [opts.setup, stage.setup].filter((s): s is string => !!s && !!s.trim());
  return parts.length ? `# setup\n${parts.join('\n')}\n` : '';
}

function runner(ctx: ScriptContext): string {
  return [`NODE="\${SLUICE_NODE:-${ctx.node}}"`, `SLUICE=${shq(ctx.bin)}`, `PIPELINE=${shq(ctx.file)}`, `WORKDIR=${shq(ctx.workdir)}`, `STAGE=${shq(ctx.stage)}`].join('\n');
}

/** The batch script of one array chunk of a stage. */
export function arrayScript(ctx: ScriptContext, stage: StageOptions, opts: SlurmScriptOptions, chunk: ArrayChunk, attempts: number, dependency: string[]): string {
  const spec = chunk.spec + (opts.maxParallel ? `%${opts.maxParallel}` : '');
  const sbatch = [`--array=${spec}`, ...resourceLines(stage, opts), ...(dependency.length ? [`--dependency=afterok:${dependency.join(':')}`] : [])];
  return `${header(ctx, `sluice.${ctx.pipeline}.${ctx.stage}`, sbatch, `${ctx.logDir}/${ctx.stage}-%A_%a.out`)}
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
  const partition = stage.partition ?? opts.partition;
  const sbatch = [...(partition ? [`--partition=${partition}`] : []), '--cpus-per-task=1', `--dependency=afterok:${arrays.join(':')}`, ...resourceLines({ sbatch: stage.sbatch }, { sbatch: opts.sbatch })];
  return `${header(ctx, `sluice.${ctx.pipeline}.${ctx.stage}.finalize`, sbatch, `${ctx.logDir}/${ctx.stage}-finalize-%j.out`)}
${setupBlock(stage, opts)}${runner(ctx)}
# Every task has its marker (the arrays succeeded): this writes the manifest and runs nothing.
exec "$NODE" "$SLUICE" run "$PIPELINE" --only "$STAGE" --workdir "$WORKDIR" --workers 1 --quiet
`;
}

/** The batch script of a planner job: submits the chain from `stage` on, from the cluster. */
export function plannerScript(ctx: ScriptContext, stage: StageOptions, opts: SlurmScriptOptions, dependency: string[], runArgs: string[]): string {
  const partition = stage.partition ?? opts.partition;
  const sbatch = [...(partition ? [`--partition=${partition}`] : []), '--cpus-per-task=1', ...(dependency.length ? [`--dependency=afterok:${dependency.join(':')}`] : []), ...resourceLines({ sbatch: stage.sbatch }, { sbatch: opts.sbatch })];
  return `${header(ctx, `sluice.${ctx.pipeline}.${ctx.stage}.plan`, sbatch, `${ctx.logDir}/${ctx.stage}-plan-%j.out`)}
${setupBlock(stage, opts)}${runner(ctx)}
# The task count of '${ctx.stage}' depends on its inputs' contents: plan it now that they are
# complete, and submit it and the stages after it (same run id, so the submitter follows them).
exec "$NODE" "$SLUICE" run "$PIPELINE" --workdir "$WORKDIR" --executor slurm --detach ${runArgs.map(shq).join(' ')}
`;
}
