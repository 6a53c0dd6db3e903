/**
 * What stage expansions (`dedup.minhash`, `dedup.paragraphs`, `dedup.substrings`, `stats`,
 * `filter.classifier({ keepTopFraction })`, …) share when they declare their stages.
 */
import type { CustomStage, CustomTaskContext, Json, StageInfo, StageOptions, StageRef, StageRefs } from '../engine/types.ts';

/** Stage options that carry over to every generated stage (resources, retries), not task counts. */
export function resourceOptions(options: StageOptions | undefined): StageOptions | undefined {
  if (!options) return undefined;
  const { tasks: _t, barrier: _b, ...rest } = options;
  return rest;
}

/** The input file count, at least 1 (one task then sees no file and writes an empty result). */
export function fileTasks(_ctx: unknown, inputs: Array<{ files(): string[] }>): number {
  return Math.max(1, inputs[0]?.files().length ?? 0);
}

/**
 * A maker of an expansion's custom stages: every stage it declares carries the expansion's
 * `version` and `config` (so a config change re-runs all of them) and differs in its type, name,
 * inputs, output kind, task count and task body.
 */
export function stageMaker(version: string, config: Json) {
  return <Info extends StageInfo = StageInfo, In extends StageRefs = StageRef[]>(
    type: string,
    name: string,
    inputs: In,
    output: 'docs' | 'artifact',
    taskCount: CustomStage<Info, In>['taskCount'],
    run: (ctx: CustomTaskContext<Info, In>) => Promise<void>,
  ): CustomStage<Info, In> => ({ kind: 'custom', type, name, version, config, inputs, output, taskCount, run });
}
