/**
 * A pipeline bound to a workdir: stage fingerprints, output locations, task plans and completed
 * datasets. The runner, `sluice task`, `sluice status` and every executor share this one view,
 * so a task run anywhere computes the same fingerprint and reads the same plan.
 *
 * Fingerprint = sha256 over the canonical JSON of: the stage's input (a source's spec and its
 * parts' keys — uri, range, size, mtime/etag — or the upstream fingerprints), its operators'
 * types, names, versions, configs and code, the digests of their user functions (source plus
 * captured values, `engine/captures.ts`), the fingerprints of stages the operators reference, and
 * the options that shape output files (`tasks`, `barrier`).
 */
import { createHash } from 'node:crypto';
import type { Dataset, Doc, Json, Manifest, OperatorSpec, SourcePart, StageInfo } from './types.ts';
import { stageSpecs, type Pipeline, type StageDef } from './pipeline.ts';
import { storage } from './storage/index.ts';
import { readDocsParquet } from './parquet.ts';
import type { DocColumn } from '../formats/doc.ts';

/** JSON with object keys sorted, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

/** The hex sha256 of a string. */
export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

function specOfWith(o: OperatorSpec, functions?: Map<OperatorSpec, Record<string, string> | undefined>): Json {
  const spec: Record<string, Json> = { type: o.type, name: o.name, version: o.version, config: o.config, code: o.code ?? null };
  // Only specs with user functions carry the key, so other stages keep their fingerprints.
  const digests = functions?.get(o);
  if (digests) spec.functions = digests;
  return spec;
}

/**
 * Digests of the user functions of a stage's operators, source or custom stage, by spec;
 * undefined when it has none (then the capture analysis and its parser are never imported).
 */
async function userFunctionDigests(stage: StageDef): Promise<Map<OperatorSpec, Record<string, string> | undefined> | undefined> {
  const specs = stageSpecs(stage);
  if (!specs.some((s) => s.functions)) return undefined;
  const { functionDigests } = await import('./captures.ts');
  return new Map(specs.map((s) => [s, functionDigests(stage.name, s)]));
}

/** How a stage's tasks divide its input; written to `_plan.json` before any task runs. */
export interface TaskPlan {
  fingerprint: string;
  tasks: number;
  /** Source stages: the part of each task. */
  parts?: SourcePart[];
  /** Stage-input stages: the upstream file URIs of each task. */
  files?: string[][];
}

/** Zero-padded task number used in file names. */
export function taskId(index: number): string {
  return String(index).padStart(5, '0');
}

/** A pipeline bound to a workdir. */
export class Runtime {
  private readonly fps = new Map<string, Promise<string>>();
  private readonly parts = new Map<string, Promise<SourcePart[]>>();

  constructor(
    readonly pipeline: Pipeline,
    readonly workdir: string,
    readonly baseDir: string,
  ) {}

  /** Pins fingerprints computed elsewhere (the runner sends its own to workers). */
  seed(fingerprints: Record<string, string>): void {
    for (const [k, v] of Object.entries(fingerprints)) if (!this.fps.has(k)) this.fps.set(k, Promise.resolve(v));
  }

  /** The source parts of a source stage (planned once per process). */
  sourceParts(stage: StageDef): Promise<SourcePart[]> {
    if (stage.input.kind !== 'source') throw new Error(`stage '${stage.name}' has no source`);
    const source = stage.input.source;
    let p = this.parts.get(stage.name);
    if (!p) {
      p = source.plan({ workdir: this.workdir, baseDir: this.baseDir, storage }).then((parts) => {
        if (!parts.length) throw new Error(`stage '${stage.name}': ${source.type} found no input (config ${JSON.stringify(source.config)})`);
        return parts;
      });
      this.parts.set(stage.name, p);
    }
    return p;
  }

  /** The stage's fingerprint (16 hex digits), computed once per process. */
  fingerprint(name: string): Promise<string> {
    let p = this.fps.get(name);
    if (!p) {
      p = this.computeFingerprint(this.pipeline.stage(name));
      this.fps.set(name, p);
    }
    return p;
  }

  private async computeFingerprint(stage: StageDef): Promise<string> {
    const upstream: Record<string, string> = {};
    for (const u of stage.upstream) upstream[u] = await this.fingerprint(u);
    const fns = await userFunctionDigests(stage);
    const specOf = (o: OperatorSpec) => specOfWith(o, fns);
    let input: Json;
    switch (stage.input.kind) {
      case 'source': {
        const parts = await this.sourceParts(stage);
        input = { source: specOf(stage.input.source), parts: parts.map((p) => p.key) };
        break;
      }
      case 'stages':
        input = { stages: stage.input.refs.map((r) => upstream[r.name]!) };
        break;
      case 'custom':
        input = { custom: specOf(stage.input.custom), output: stage.input.custom.output, stages: stage.input.custom.inputs.map((r) => upstream[r.name]!) };
        break;
      default: {
        const never: never = stage.input;
        throw new Error(`unknown stage input ${JSON.stringify(never)}`);
      }
    }
    const doc = {
      v: 1,
      input,
      operators: stage.operators.map(specOf),
      refs: [...stage.operators, ...(stage.input.kind === 'custom' ? [stage.input.custom] : stage.input.kind === 'source' ? [stage.input.source] : [])].flatMap((o) => (o.refs ?? []).map((r) => upstream[r.name]!)),
      shape: { tasks: stage.options.tasks ?? null, barrier: stage.options.barrier ?? false },
    };
    return sha256(canonicalJson(doc)).slice(0, 16);
  }

  /** `<workdir>/<stage>` (all fingerprints of a stage live below it). */
  stageRoot(name: string): string {
    return storage.join(this.workdir, name);
  }

  /** `<workdir>/<stage>/<fingerprint>`. */
  async stageDir(name: string): Promise<string> {
    return storage.join(this.workdir, name, await this.fingerprint(name));
  }

  /**
   * The manifest of the stage's current output, or null when it is not complete. `Info` is what
   * the caller knows the stage records (from its `StageRef<Info>`); the JSON is not re-validated.
   */
  async manifest<Info extends StageInfo = StageInfo>(name: string): Promise<Manifest<Info> | null> {
    const uri = storage.join(await this.stageDir(name), 'manifest.json');
    if (!(await storage.exists(uri))) return null;
    return storage.readJson<Manifest<Info>>(uri);
  }

  /** Opens a completed stage as a dataset; an error naming the stage when it is not complete. */
  async dataset<Info extends StageInfo = StageInfo>(name: string): Promise<Dataset<Info>> {
    const dir = await this.stageDir(name);
    const manifest = await this.manifest<Info>(name);
    if (!manifest) throw new Error(`stage '${name}' has no complete output at ${dir}; run it first`);
    return openDataset(name, dir, manifest);
  }

  /** Computes the task plan of a stage whose inputs are complete. */
  async computePlan(name: string): Promise<TaskPlan> {
    const stage = this.pipeline.stage(name);
    const fingerprint = await this.fingerprint(name);
    switch (stage.input.kind) {
      case 'source': {
        const parts = await this.sourceParts(stage);
        if (stage.options.barrier || stage.options.tasks === 1) {
          if (parts.length > 1) throw new Error(`stage '${name}': a source stage cannot be a barrier over ${parts.length} parts; add a downstream barrier stage`);
        }
        return { fingerprint, tasks: parts.length, parts };
      }
      case 'stages': {
        const files: string[] = [];
        for (const r of stage.input.refs) files.push(...(await this.dataset(r.name)).files());
        const n = stage.options.barrier ? 1 : Math.max(1, Math.min(stage.options.tasks ?? files.length, files.length));
        const groups: string[][] = [];
        for (let i = 0; i < n; i++) groups.push(files.slice(Math.floor((i * files.length) / n), Math.floor(((i + 1) * files.length) / n)));
        return { fingerprint, tasks: n, files: groups };
      }
      case 'custom': {
        const custom = stage.input.custom;
        const inputs = await Promise.all(custom.inputs.map((r) => this.dataset(r.name)));
        const n = custom.taskCount ? await custom.taskCount({ workdir: this.workdir, baseDir: this.baseDir, storage }, inputs) : 1;
        if (!Number.isInteger(n) || n < 1) throw new Error(`stage '${name}': ${custom.type}.taskCount returned ${n}; expected a positive integer`);
        return { fingerprint, tasks: n };
      }
      default: {
        const never: never = stage.input;
        throw new Error(`unknown stage input ${JSON.stringify(never)}`);
      }
    }
  }

  /** Reads the stage's `_plan.json`, or computes and writes it (atomically) when absent. */
  async plan(name: string): Promise<TaskPlan> {
    const uri = storage.join(await this.stageDir(name), '_plan.json');
    if (await storage.exists(uri)) return storage.readJson<TaskPlan>(uri);
    const plan = await this.computePlan(name);
    await storage.write(uri, JSON.stringify(plan, null, 1));
    return plan;
  }
}

/** A dataset view over a stage directory and its manifest. */
export function openDataset<Info extends StageInfo = StageInfo>(stage: string, dir: string, manifest: Manifest<Info>): Dataset<Info> {
  const files = () => manifest.files.map((f) => storage.join(dir, f.path));
  return {
    stage,
    dir,
    manifest,
    files,
    async *readDocs(which?: string[], opts?: { batchSize?: number; columns?: readonly DocColumn[] }): AsyncIterable<Doc[]> {
      if (manifest.output !== 'docs') throw new Error(`stage '${stage}' produced artifacts, not docs (${dir})`);
      for (const f of which ?? files()) yield* readDocsParquet(f, opts);
    },
  };
}
