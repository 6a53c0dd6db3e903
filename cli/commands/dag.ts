/** `sluice dag`: the pipeline's DAG as text or Mermaid. */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { loadPipeline } from '../../engine/load.ts';
import type { Pipeline } from '../../engine/pipeline.ts';

/** Describes a stage's input and operators in one line. */
function describe(p: Pipeline, name: string): string {
  const s = p.stage(name);
  const head = s.input.kind === 'source' ? s.input.source.type : s.input.kind === 'custom' ? s.input.custom.type : s.input.refs.map((r) => r.name).join(' + ');
  return [head, ...s.operators.map((o) => (o.name === o.type ? o.type : `${o.type}(${o.name})`))].join(' → ');
}

/** The DAG as indented text: each stage with its inputs and operator chain. */
export function dagText(p: Pipeline): string {
  return p.stages.map((s) => `${s.name}${s.upstream.length ? ` ⇐ ${s.upstream.join(', ')}` : ''}\n    ${describe(p, s.name)}`).join('\n') + '\n';
}

/** The DAG as a Mermaid flowchart. */
export function dagMermaid(p: Pipeline): string {
  const id = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['flowchart LR'];
  for (const s of p.stages) lines.push(`  ${id(s.name)}["${s.name}<br/><small>${describe(p, s.name).replace(/"/g, "'")}</small>"]`);
  for (const s of p.stages) for (const u of s.upstream) lines.push(`  ${id(u)} --> ${id(s.name)}`);
  return lines.join('\n') + '\n';
}

export const dagCommand: Command = {
  usage: `sluice dag <pipeline.ts> [--mermaid]`,
  async run(argv) {
    const { values, positionals } = parse(argv, { mermaid: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('expected exactly one pipeline file');
    const p = await loadPipeline(positionals[0]!);
    process.stdout.write(values.mermaid ? dagMermaid(p) : dagText(p));
    return 0;
  },
};
