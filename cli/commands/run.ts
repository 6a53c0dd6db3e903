/** `sluice run`: runs a pipeline incrementally. */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { intOption, parse } from '../args.ts';
import { run } from '../../engine/runner.ts';
import { renderRunSummary } from './run-summary.ts';
import { SlurmExecutor } from '../../engine/executor/slurm.ts';
import { LocalExecutor } from '../../engine/executor/local.ts';

export const runCommand: Command = {
  usage: `sluice run <pipeline.ts> [options]

Runs every stage whose output is missing or out of date, in declaration order. Up-to-date stages
(same fingerprint) are skipped; partial stages resume task by task.

Options:
  --workdir W     workdir (local path or s3://bucket/prefix); overrides the pipeline's
  --workers N     local worker processes (default: number of cores)
  --only STAGE    run only this stage (repeatable); its inputs must be complete
  --force STAGE   discard this stage's current output and run it again (repeatable; '*' = all)
  --retries N     attempts per task unless the stage sets its own (default 3)
  --json          print a JSON summary on stdout at the end (progress goes to stderr)
  --quiet         no end-of-run summary, audit report or _report page (Slurm finalize jobs use it)
  --executor E    local (default) or slurm: each stage becomes sbatch job arrays chained with
                  --dependency=afterok (see docs/executors.md)

Slurm options (with --executor slurm):
  --dry-run                    print the batch scripts that would be submitted; submit nothing
  --detach                     submit the chain and exit (finalize jobs write the manifests;
                               follow with 'sluice status', stop with 'sluice cancel')
  --slurm-max-parallel N       most array elements of a stage running at once (%N)
  --slurm-partition P          partition for stages that set none
  --slurm-sbatch=LINE          extra sbatch option for every job, e.g. --slurm-sbatch=--account=lab
                               (repeatable; the '=' form, since the value starts with a dash)
  --slurm-setup SNIPPET        shell run before every job, e.g. 'module load nodejs/20'
  --slurm-node PATH            node on the compute nodes (default: this one; $SLUICE_NODE at job time wins)
  --slurm-max-array-size N     split arrays below N (default: the cluster's MaxArraySize)
  --slurm-log-dir DIR          Slurm job output (default <stage dir>/_slurm/logs; required shared
                               path for s3:// workdirs, default ./.sluice-slurm/<pipeline>)
  --slurm-poll-ms N            queue poll interval while waiting (default 1000)

Examples:
  sluice run pipelines/quickstart.ts --workers 2
  sluice run pipelines/quickstart.ts --executor slurm --slurm-partition cpu --slurm-max-parallel 200`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      workdir: { type: 'string' },
      workers: { type: 'string' },
      only: { type: 'string', multiple: true },
      force: { type: 'string', multiple: true },
      retries: { type: 'string' },
      json: { type: 'boolean' },
      executor: { type: 'string' },
      quiet: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      detach: { type: 'boolean' },
      'slurm-max-parallel': { type: 'string' },
      'slurm-partition': { type: 'string' },
      'slurm-sbatch': { type: 'string', multiple: true },
      'slurm-setup': { type: 'string' },
      'slurm-node': { type: 'string' },
      'slurm-max-array-size': { type: 'string' },
      'slurm-log-dir': { type: 'string' },
      'slurm-poll-ms': { type: 'string' },
      'slurm-run-id': { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('expected exactly one pipeline file');
    const kind = values.executor ?? 'local';
    if (kind !== 'local' && kind !== 'slurm') throw new UsageError(`--executor must be 'local' or 'slurm' (got '${kind}')`);
    const slurmFlags = Object.keys(values).filter((k) => k.startsWith('slurm-') || k === 'dry-run' || k === 'detach');
    if (kind === 'local' && slurmFlags.length) throw new UsageError(`--${slurmFlags[0]} needs --executor slurm`);
    if (kind === 'slurm' && values.workers !== undefined) throw new UsageError('--workers applies to the local executor; Slurm runs one array element per task (limit with --slurm-max-parallel)');
    const executor =
      kind === 'slurm'
        ? slurmExecutor({
            dryRun: values['dry-run'],
            detach: values.detach,
            maxParallel: intOption('slurm-max-parallel', values['slurm-max-parallel']),
            partition: values['slurm-partition'],
            sbatch: values['slurm-sbatch'],
            setup: values['slurm-setup'],
            node: values['slurm-node'],
            maxArraySize: intOption('slurm-max-array-size', values['slurm-max-array-size']),
            logDir: values['slurm-log-dir'],
            pollMs: intOption('slurm-poll-ms', values['slurm-poll-ms'], 50),
            runId: values['slurm-run-id'],
          })
        : new LocalExecutor(intOption('workers', values.workers));
    const summary = await run(positionals[0]!, {
      executor,
      workdir: values.workdir,
      workers: intOption('workers', values.workers),
      only: values.only,
      force: values.force,
      retries: intOption('retries', values.retries),
    });
    const detached = executor instanceof SlurmExecutor && (values['dry-run'] || values.detach);
    if (!detached && !values.quiet) process.stderr.write(await renderRunSummary(positionals[0]!, summary, values.workdir));
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 1) + '\n');
    else {
      const submitted = summary.stages.filter((s) => s.status === 'submitted').length;
      if (executor instanceof SlurmExecutor && (values['dry-run'] || values.detach)) {
        process.stderr.write(
          values['dry-run']
            ? `dry run: ${submitted} stage(s) would be submitted to Slurm, ${summary.stages.length - submitted} up to date; nothing submitted\n`
            : `submitted ${submitted} stage(s) to Slurm (run ${executor.runId}); follow with 'sluice status', stop with 'sluice cancel'\n`,
        );
        return 0;
      }
    }
    return 0;
  },
};

/** A Slurm executor; an option value it refuses (e.g. a partition holding a newline) is a usage error. */
function slurmExecutor(opts: ConstructorParameters<typeof SlurmExecutor>[0]): SlurmExecutor {
  try {
    return new SlurmExecutor(opts);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
