/** `sluice cancel`: cancels the Slurm jobs of a pipeline's runs. */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { openRuntime } from '../../engine/runner.ts';
import { readJobRecords, scancel, squeue } from '../../engine/executor/slurm-jobs.ts';

export const cancelCommand: Command = {
  usage: `sluice cancel <pipeline.ts> [--workdir W] [--stage S]... [--json]

Finds the jobs that 'sluice run --executor slurm' recorded under each stage's current output
(<stage>/<fingerprint>/_slurm/<run>/jobs/) and scancels those still in the queue. Completed tasks
keep their markers: a later 'sluice run' resubmits only what is missing.

Options:
  --workdir W   workdir (local path or s3://bucket/prefix); overrides the pipeline's
  --stage S     only this stage's jobs (repeatable; default: every stage)
  --json        print {cancelled: [{stage, id, kind}]} on stdout`,
  async run(argv) {
    const { values, positionals } = parse(argv, { workdir: { type: 'string' }, stage: { type: 'string', multiple: true }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('expected exactly one pipeline file');
    const rt = await openRuntime(positionals[0]!, values.workdir);
    for (const s of values.stage ?? []) rt.pipeline.stage(s);
    const queued = new Set((await squeue()).map((j) => j.jobId));
    const cancelled: Array<{ stage: string; id: string; kind: string }> = [];
    for (const s of rt.pipeline.stages) {
      if (values.stage && !values.stage.includes(s.name)) continue;
      for (const r of await readJobRecords(await rt.stageDir(s.name))) if (queued.has(r.id)) cancelled.push({ stage: s.name, id: r.id, kind: r.kind });
    }
    // Downstream jobs first, so none starts in the moment its upstream is cancelled.
    await scancel([...cancelled].reverse().map((c) => c.id));
    if (values.json) process.stdout.write(JSON.stringify({ pipeline: rt.pipeline.name, cancelled }, null, 1) + '\n');
    else if (!cancelled.length) process.stderr.write(`no queued Slurm jobs for pipeline '${rt.pipeline.name}'\n`);
    else process.stderr.write(cancelled.map((c) => `cancelled ${c.stage} ${c.kind} job ${c.id}`).join('\n') + `\n${cancelled.length} job(s) cancelled\n`);
    return 0;
  },
};
