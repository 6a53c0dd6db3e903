/** `sluice run`: runs a pipeline incrementally. */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { intOption, parse } from '../args.ts';
import { run } from '../../engine/runner.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run a pipeline incrementally (skips up-to-date stages, resumes partial ones)',
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

Example:
  sluice run pipelines/quickstart.ts --workers 2`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      workdir: { type: 'string' },
      workers: { type: 'string' },
      only: { type: 'string', multiple: true },
      force: { type: 'string', multiple: true },
      retries: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('expected exactly one pipeline file');
    const summary = await run(positionals[0]!, {
      workdir: values.workdir,
      workers: intOption('workers', values.workers),
      only: values.only,
      force: values.force,
      retries: intOption('retries', values.retries),
    });
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 1) + '\n');
    else {
      const ran = summary.stages.filter((s) => s.status !== 'skipped').length;
      process.stderr.write(ran ? `done in ${summary.seconds.toFixed(1)} s: ${ran} stage(s) ran, ${summary.stages.length - ran} up to date\n` : `nothing to do: all ${summary.stages.length} stage(s) up to date\n`);
    }
    return 0;
  },
};
