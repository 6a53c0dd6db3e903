/** `sluice audit`: what the filters of a pipeline dropped, why, and what other thresholds would do. */
import { writeFile } from 'node:fs/promises';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { inspectPipeline } from '../../engine/inspect.ts';
import { auditStage, findOperator, parseWhatIf, type StageAuditReport } from '../../audit/report.ts';
import { renderText } from '../../audit/text.ts';
import { renderHtml } from '../../audit/html.ts';

/** The `sluice audit` sub-command. */
export const auditCommand: Command = {
  usage: `sluice audit <pipeline.ts> [--stage S]... [--workdir W] [--json] [--html FILE] [--what-if 'op.key=value']...

Reads the audit the engine wrote next to each completed stage (manifest.json and _audit/: the
drop log, per-doc scores, samples) and reports, per operator: docs and bytes in and kept, drops
per reason with samples, a histogram of every score with its threshold, and the kept docs
closest to each threshold. The full drop log stays as Parquet in <stage dir>/_audit/.

Options:
  --stage S        only this stage (repeatable; default: every completed stage with operators)
  --workdir W      override the pipeline's workdir
  --json           print the report as JSON instead of text
  --html FILE      also write a self-contained HTML report (inline SVG charts, no network)
  --what-if E      'operator.key=value': how many more or fewer docs the operator would drop
                   with another threshold, from the recorded scores, without re-running
                   (repeatable; value a number, or off/on for switches)

Examples:
  sluice audit pipelines/quickstart.ts --html audit.html
  sluice audit p.ts --stage filtered --what-if 'gopherQuality.minWords=100' --what-if 'fineweb.maxShortLines=0.5'`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      stage: { type: 'string', multiple: true },
      workdir: { type: 'string' },
      json: { type: 'boolean' },
      html: { type: 'string' },
      'what-if': { type: 'string', multiple: true },
    });
    if (positionals.length !== 1) throw new UsageError('expected exactly one pipeline file');
    const whatIf = values['what-if'] ?? [];
    for (const w of whatIf) {
      try {
        parseWhatIf(w);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const p = await inspectPipeline(positionals[0]!, { workdir: values.workdir });
    const wanted = values.stage ?? [];
    for (const s of wanted) {
      if (!p.stages.some((x) => x.name === s)) throw new UsageError(`pipeline '${p.name}' has no stage '${s}' (stages: ${p.stages.map((x) => x.name).join(', ')})`);
    }
    const stages = p.stages.filter((s) => (wanted.length ? wanted.includes(s.name) : true));
    const reports: StageAuditReport[] = [];
    const notDone: string[] = [];
    for (const s of stages) {
      if (s.status !== 'done' || !s.manifest) {
        notDone.push(`${s.name} (${s.status})`);
        continue;
      }
      const ops = Object.keys(s.manifest.stats.operators ?? {});
      if (!wanted.length && !ops.length) continue;
      // A what-if applies to the stages that have the operator it names.
      const mine = whatIf.filter((w) => findOperator(s.operators, parseWhatIf(w).operator));
      reports.push(await auditStage({ name: s.name, dir: s.dir, operators: s.operators, manifest: s.manifest }, { whatIf: mine }));
    }
    for (const w of whatIf) {
      const op = parseWhatIf(w).operator;
      if (!reports.some((r) => r.whatIf.some((x) => x.expr === w))) throw new UsageError(`--what-if '${w}': no completed stage${wanted.length ? ' among those selected' : ''} has an operator '${op}'`);
    }
    if (notDone.length) process.stderr.write(`not audited (not complete; run 'sluice run' first): ${notDone.join(', ')}\n`);
    if (!reports.length) {
      process.stderr.write('no completed stage with operators to audit\n');
      return 1;
    }
    if (values.html) {
      await writeFile(values.html, renderHtml(reports, { pipeline: p.name, generated: new Date().toISOString() }));
      process.stderr.write(`wrote ${values.html}\n`);
    }
    process.stdout.write(values.json ? JSON.stringify({ pipeline: p.name, workdir: p.workdir, stages: reports }, null, 1) + '\n' : renderText(reports));
    return 0;
  },
};
