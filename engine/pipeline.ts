/**
 * The pipeline DSL: `pipeline(options, (p) => { p.stage(…) })` declares a DAG of stages. Nothing
 * runs at declaration; the runner plans, fingerprints and executes it. Declaration errors (a
 * duplicate stage, an input from another pipeline, an operator that is not one) name the stage.
 */
import './modules/single-copy.ts';
import type { CustomStage, Operator, OperatorSpec, PipelineBuilder, Source, StageExpansion, StageInfo, StageInput, StageOptions, StageRef, StageRefs } from './types.ts';

/** Options of `pipeline()`. */
export interface PipelineOptions {
  /** Pipeline name; appears in manifests and logs. */
  name: string;
  /** Where stage outputs live: a local path (relative to the cwd) or `s3://bucket/prefix`. CLI `--workdir` overrides it. */
  workdir: string;
}

/** A stage's input, resolved. */
export type StageSource =
  | { kind: 'source'; source: Source }
  | { kind: 'stages'; refs: StageRef[] }
  | { kind: 'custom'; custom: CustomStage<StageInfo, StageRefs> };

/** A declared stage. */
export interface StageDef {
  name: string;
  input: StageSource;
  operators: Operator[];
  options: StageOptions;
  /** Names of the stages this one needs complete first (inputs and operator refs), in order. */
  upstream: string[];
}

/** A declared pipeline: the default export of a pipeline file. */
export interface Pipeline {
  kind: 'pipeline';
  name: string;
  options: PipelineOptions;
  /** Stages in declaration order, which is a topological order. */
  stages: StageDef[];
  stage(name: string): StageDef;
}

/** Every spec of a stage that may carry user functions: its operators, and its source or custom stage. */
export function stageSpecs(stage: StageDef): OperatorSpec[] {
  return [...stage.operators, ...(stage.input.kind === 'source' ? [stage.input.source] : stage.input.kind === 'custom' ? [stage.input.custom] : [])];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** What an object says it is (`kind`), or undefined; pipeline files are user code, so inputs are checked, not trusted. */
function kindOf(x: unknown): unknown {
  return typeof x === 'object' && x !== null && 'kind' in x ? x.kind : undefined;
}

function isRef(x: unknown): x is StageRef {
  return kindOf(x) === 'stage';
}

function isExpansion(x: unknown): x is StageExpansion {
  return kindOf(x) === 'expansion';
}

/**
 * Declares a pipeline. `build` receives the builder; each `p.stage(name, input, operators?,
 * options?)` returns a handle usable as another stage's input. Stages must be declared after
 * their inputs (so declaration order is a valid execution order).
 */
export function pipeline(options: PipelineOptions, build: (p: PipelineBuilder) => void): Pipeline {
  if (!options || typeof options.name !== 'string' || !NAME.test(options.name)) {
    throw new Error(`pipeline(): 'name' must be a non-empty name of letters, digits, '.', '_' or '-' (got ${JSON.stringify(options?.name)})`);
  }
  if (typeof options.workdir !== 'string' || !options.workdir) throw new Error(`pipeline '${options.name}': 'workdir' must be a path or s3:// URI`);
  const stages: StageDef[] = [];
  const byName = new Map<string, StageDef>();

  const checkRef = (stage: string, ref: StageRef, what: string) => {
    if (ref.pipeline !== options.name) throw new Error(`stage '${stage}': ${what} '${ref.name}' belongs to pipeline '${ref.pipeline}', not '${options.name}'`);
    if (!byName.has(ref.name)) throw new Error(`stage '${stage}': ${what} '${ref.name}' is not declared before it`);
  };

  const builder: PipelineBuilder = {
    name: options.name,
    stage(name: string, input: StageInput, operators?: Operator[] | StageExpansion | [StageExpansion], stageOptions: StageOptions = {}): StageRef {
      if (typeof name !== 'string' || !NAME.test(name)) throw new Error(`pipeline '${options.name}': invalid stage name ${JSON.stringify(name)} (letters, digits, '.', '_', '-')`);
      if (byName.has(name)) throw new Error(`pipeline '${options.name}': stage '${name}' is declared twice`);
      if (isExpansion(input)) {
        // An expansion that carries its inputs (`train.dpo(pairs, …)`) stands for `p.stage(name, inputs, expansion)`.
        if (!Array.isArray(input.inputs)) throw new Error(`stage '${name}': ${input.type} is an expansion without inputs; give it upstream stage(s): p.stage(name, inputs, ${input.type}(…))`);
        if (operators !== undefined && !(Array.isArray(operators) && operators.length === 0)) throw new Error(`stage '${name}': ${input.type} takes no operators`);
        return builder.stage(name, input.inputs, input, stageOptions);
      }
      const only: unknown = Array.isArray(operators) ? (operators.length === 1 ? operators[0] : undefined) : operators;
      const expansion = isExpansion(only) ? only : undefined;
      if (expansion) {
        const refs = isRef(input) ? [input] : Array.isArray(input) ? input : null;
        if (!refs) throw new Error(`stage '${name}': ${expansion.type} takes upstream stage(s) as input`);
        refs.forEach((r) => checkRef(name, r, 'input'));
        const out = expansion.expand(builder, name, refs, stageOptions);
        if (!byName.has(out.name)) throw new Error(`stage '${name}': ${expansion.type} did not declare the stage it returned ('${out.name}')`);
        return out;
      }
      const ops = (operators ?? []) as Operator[];
      if (!Array.isArray(ops)) throw new Error(`stage '${name}': operators must be an array of operators`);
      ops.forEach((op: unknown, i) => {
        if (kindOf(op) !== 'operator') {
          const kind = kindOf(op);
          throw new Error(`stage '${name}': operator #${i + 1} is not an operator (got ${isExpansion(op) ? `the expansion '${op.type}', which must be the only operator` : typeof kind === 'string' ? `a ${kind}` : typeof op})`);
        }
      });
      const names = new Set<string>();
      for (const op of ops) {
        if (names.has(op.name)) throw new Error(`stage '${name}': two operators are named '${op.name}'; give one a distinct name`);
        names.add(op.name);
      }
      let src: StageSource;
      const upstream: string[] = [];
      if (isRef(input)) src = { kind: 'stages', refs: [input] };
      else if (Array.isArray(input)) {
        if (!input.length || !input.every(isRef)) throw new Error(`stage '${name}': input array must hold one or more stage handles`);
        src = { kind: 'stages', refs: input };
      } else if (kindOf(input) === 'source' && input.kind === 'source') src = { kind: 'source', source: input };
      else if (kindOf(input) === 'custom' && input.kind === 'custom') {
        if (ops.length) throw new Error(`stage '${name}': a custom stage (${input.type}) takes no operators`);
        src = { kind: 'custom', custom: input };
      } else throw new Error(`stage '${name}': input must be a source (e.g. read.jsonl(...)), a custom stage, or upstream stage handle(s)`);
      const refsIn = src.kind === 'stages' ? src.refs : src.kind === 'custom' ? src.custom.inputs : [];
      for (const r of refsIn) {
        checkRef(name, r, 'input');
        if (!upstream.includes(r.name)) upstream.push(r.name);
      }
      const opRefs = [...ops.flatMap((o) => o.refs ?? []), ...(src.kind === 'custom' ? (src.custom.refs ?? []) : []), ...(src.kind === 'source' ? (src.source.refs ?? []) : [])];
      for (const r of opRefs) {
        checkRef(name, r, 'operator reference');
        if (!upstream.includes(r.name)) upstream.push(r.name);
      }
      const def: StageDef = { name, input: src, operators: ops, options: stageOptions, upstream };
      stages.push(def);
      byName.set(name, def);
      return { kind: 'stage', name, pipeline: options.name };
    },
  };
  build(builder);
  if (!stages.length) throw new Error(`pipeline '${options.name}' declares no stages`);
  return {
    kind: 'pipeline',
    name: options.name,
    options,
    stages,
    stage(n: string): StageDef {
      const s = byName.get(n);
      if (!s) throw new Error(`pipeline '${options.name}' has no stage '${n}'; stages: ${stages.map((x) => x.name).join(', ')}`);
      return s;
    },
  };
}
