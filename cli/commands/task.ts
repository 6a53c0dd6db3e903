/** `sluice task`: runs one task; the entry point every executor uses. */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { intOption, parse } from '../args.ts';
import { openRuntime } from '../../engine/runner.ts';
import { runTask } from '../../engine/task.ts';

export const taskCommand: Command = {
  usage: `sluice task <pipeline.ts> <stage> <index> [--workdir W]

Runs task <index> of <stage> if its completion marker is absent; exits 0 when complete.
The stage's inputs must be complete. Exit code 1 on failure, with the error on stderr.`,
  async run(argv) {
    const { values, positionals } = parse(argv, { workdir: { type: 'string' } });
    if (positionals.length !== 3) throw new UsageError('expected <pipeline.ts> <stage> <index>');
    const [file, stage, idx] = positionals as [string, string, string];
    const index = intOption('index', idx, 0)!;
    const rt = await openRuntime(file, values.workdir);
    rt.pipeline.stage(stage);
    const t0 = performance.now();
    const r = await runTask(rt, stage, index, { log: (m) => process.stderr.write(m + '\n') });
    process.stderr.write(
      r.skipped
        ? `${stage}#${index}: already complete\n`
        : `${stage}#${index}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${r.marker.stats.docsIn} docs in, ${r.marker.stats.docsOut} out\n`,
    );
    return 0;
  },
};
