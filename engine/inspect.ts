/**
 * A read-only view of a pipeline and its outputs, for reports (`sluice audit`, eval reports):
 * each stage's fingerprint, output directory, status, operator specs and manifest.
 */
import type { Manifest, OperatorSpec } from './types.ts';
import { openRuntime, stageStatus, type StageStatus } from './runner.ts';

/** One stage as `inspectPipeline` describes it. */
export interface StageInfo {
  name: string;
  fingerprint: string;
  dir: string;
  status: StageStatus['status'];
  /** The stage's operators, or its source / custom stage, as specs (configs give thresholds). */
  operators: OperatorSpec[];
  manifest?: Manifest;
  upstream: string[];
}

/** Describes every stage of the pipeline in `file` against its workdir (or `opts.workdir`). */
export async function inspectPipeline(file: string, opts: { workdir?: string } = {}): Promise<{ name: string; workdir: string; stages: StageInfo[] }> {
  const rt = await openRuntime(file, opts.workdir);
  const stages: StageInfo[] = [];
  for (const s of rt.pipeline.stages) {
    const st = await stageStatus(rt, s.name);
    const head: OperatorSpec[] = s.input.kind === 'source' ? [s.input.source] : s.input.kind === 'custom' ? [s.input.custom] : [];
    const operators = [...head, ...s.operators].map(({ type, name, version, config, code }) => ({ type, name, version, config, code }));
    const manifest = st.status === 'done' ? ((await rt.manifest(s.name)) ?? undefined) : undefined;
    stages.push({ name: s.name, fingerprint: st.fingerprint, dir: st.dir, status: st.status, operators, manifest, upstream: s.upstream });
  }
  return { name: rt.pipeline.name, workdir: rt.workdir, stages };
}
