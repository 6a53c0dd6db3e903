/** `sluice status`: each stage's state. */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { status } from '../../engine/runner.ts';
import { describeSkips, skipTotal } from './run-summary.ts';
import { describeMix, isMixInfo } from '../../operators/mix/describe.ts';

export const statusCommand: Command = {
  usage: `sluice status <pipeline.ts> [--workdir W] [--json]

done     output complete at the current fingerprint
partial  some tasks complete (a run resumes the rest)
stale    output exists only for an older fingerprint (config, code or input changed)
pending  nothing written yet

A done stage whose source skipped input records (malformed lines, invalid UTF-8, lines over
maxLineBytes, a truncated or corrupt compressed file) shows how many, per reason, with the
first input and error of each; --json has them as 'skipped' and 'skipExamples'.

A done mix() stage shows its mixture per source: requested vs realised weight, units, docs,
tokens and repeats (--json: 'mix').

Stages submitted to Slurm (sluice run --executor slurm) also show their tasks' queue state:
queued and running from squeue; failed/cancelled (submitted, ended without a completion marker:
failed, scancelled, timed out) from sacct when accounting is on, else from the job records and
markers. 'sluice run --executor slurm' resubmits exactly those.`,
  async run(argv) {
    const { values, positionals } = parse(argv, { workdir: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('expected exactly one pipeline file');
    const s = await status(positionals[0]!, { workdir: values.workdir });
    if (values.json) {
      process.stdout.write(JSON.stringify(s, null, 1) + '\n');
      return 0;
    }
    process.stdout.write(`pipeline ${s.pipeline}  workdir ${s.workdir}\n`);
    const w = Math.max(5, ...s.stages.map((x) => x.stage.length));
    for (const x of s.stages) {
      const tasks = x.tasks === null ? '-' : `${x.tasksDone}/${x.tasks}`;
      const rows = x.rows === null ? '' : `  ${x.rows.toLocaleString('en-US')} rows`;
      const slurm = x.slurm && x.status !== 'done' ? `  slurm: ${x.slurm.queued} queued, ${x.slurm.running} running, ${x.slurm.failed} failed/cancelled${x.slurm.jobs.length ? ` (jobs ${x.slurm.jobs.join(', ')})` : ''}` : '';
      const skips = skipTotal(x.skipped);
      const skipNote = skips ? `  ${skips.toLocaleString('en-US')} input record(s) skipped` : '';
      process.stdout.write(`${x.stage.padEnd(w)}  ${x.status.padEnd(7)}  tasks ${tasks.padEnd(9)} ${x.fingerprint}${rows}${skipNote}${slurm}\n`);
      for (const l of describeSkips(x.skipped, x.skipExamples, ' '.repeat(w + 2))) process.stdout.write(l + '\n');
      if (isMixInfo(x.mix)) for (const l of describeMix(x.mix, ' '.repeat(w + 2))) process.stdout.write(l + '\n');
      else if (x.mix !== undefined) process.stdout.write(`${' '.repeat(w + 2)}mix: the manifest's info.mix is not a mixture record (${JSON.stringify(x.mix).slice(0, 80)})\n`);
    }
    return 0;
  },
};
