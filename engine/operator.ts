/**
 * Building blocks for operator authors: `defineFilter` (one function returning keep or drop with
 * a reason and score; the engine counts, audits and histograms), `defineMap` (one doc in, one or
 * no doc out) and the operator registry behind `sluice apply`.
 */
import { z } from 'zod';
import './modules/single-copy.ts';
import type { Doc, FilterVerdict, Json, Operator, TaskContext } from './types.ts';

/** A clear configuration error naming the operator and the offending key. */
export class ConfigError extends Error {
  constructor(
    readonly operator: string,
    readonly key: string,
    message: string,
  ) {
    super(`${operator}: config key '${key}': ${message}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `config` against a zod schema, applying its defaults. Errors name the operator and
 * the first bad key, e.g. `filter.language: config key 'minScore': expected number, got "x"`.
 */
export function parseConfig<S extends z.ZodType>(operator: string, schema: S, config: unknown): z.output<S> {
  const r = schema.safeParse(config ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const key = issue.path.length ? issue.path.join('.') : '(root)';
  throw new ConfigError(operator, key, issue.message);
}

/** Mode shared by all filters: drop what fails, or only annotate scores into `meta`. */
export type FilterMode = 'drop' | 'annotate';

export interface FilterDefinition {
  /** Registered type, e.g. `filter.gopherQuality`. */
  type: string;
  /** Instance name (default: type). */
  name?: string;
  version: string;
  config: Json;
  code?: string;
  /** User functions whose source and captured values enter the fingerprint (see `OperatorSpec.functions`). */
  functions?: Record<string, Function>;
  /** `annotate`: write scores to `meta[annotateKey]`, drop nothing (default `drop`). */
  mode?: FilterMode;
  /** Where annotate mode writes scores: `meta.quality[<annotateKey>]` (default: the name). */
  annotateKey?: string;
  /** Called once per task before the first doc (e.g. to load a model). */
  setup?(ctx: TaskContext): Promise<void> | void;
  /** The decision for one document. */
  test(doc: Doc, ctx: TaskContext): FilterVerdict | Promise<FilterVerdict>;
}

function isDrop(v: FilterVerdict): v is Extract<FilterVerdict, { drop: string }> {
  return typeof v === 'object' && v !== null && 'drop' in v;
}

/** Byte length of a doc's text in UTF-8, the unit of every MB/s figure. */
export function docBytes(doc: Doc): number {
  return Buffer.byteLength(doc.text, 'utf8');
}

/**
 * Builds a filter operator from a keep/drop function. Every drop is recorded in the audit with
 * its reason and score; every score is recorded for histograms and `--what-if`. In `annotate`
 * mode nothing is dropped and the scores land in `meta.quality[annotateKey]`.
 */
export function defineFilter(def: FilterDefinition): Operator {
  const name = def.name ?? def.type;
  const mode = def.mode ?? 'drop';
  const annotateKey = def.annotateKey ?? name;
  return {
    kind: 'operator',
    type: def.type,
    name,
    version: def.version,
    config: def.config,
    code: def.code,
    functions: def.functions,
    async *process(input, ctx) {
      if (def.setup) await def.setup(ctx);
      for await (const batch of input) {
        const out: Doc[] = [];
        for (const doc of batch) {
          let verdict = def.test(doc, ctx);
          if (verdict instanceof Promise) verdict = await verdict;
          if (verdict === (false as unknown)) verdict = { drop: 'filter.rejected' };
          const drop = isDrop(verdict);
          const v = verdict === true ? undefined : verdict;
          if (v?.score !== undefined) ctx.audit.score(name, 'score', doc, v.score, !drop || mode === 'annotate');
          if (v?.scores) for (const [k, s] of Object.entries(v.scores)) ctx.audit.score(name, k, doc, s, !drop || mode === 'annotate');
          if (mode === 'annotate') {
            const quality = ((doc.meta.quality as Record<string, Json> | undefined) ?? {}) as Record<string, Json>;
            const entry: Record<string, Json> = { ...(v?.scores ?? {}) };
            if (v?.score !== undefined) entry.score = v.score;
            entry.pass = !drop;
            if (drop) entry.reason = (v as { drop: string }).drop;
            out.push({ ...doc, meta: { ...doc.meta, quality: { ...quality, [annotateKey]: entry } } });
          } else if (drop) {
            const d = verdict as Extract<FilterVerdict, { drop: string }>;
            ctx.audit.drop(name, doc, d.drop, d.score, d.details);
          } else {
            out.push(doc);
          }
        }
        if (out.length) yield out;
      }
    },
  };
}

export interface MapDefinition {
  type: string;
  name?: string;
  version: string;
  config: Json;
  code?: string;
  /** User functions whose source and captured values enter the fingerprint (see `OperatorSpec.functions`). */
  functions?: Record<string, Function>;
  setup?(ctx: TaskContext): Promise<void> | void;
  /** Returns the new doc, or `null` to drop it (recorded in the audit with reason `map.null`). */
  apply(doc: Doc, ctx: TaskContext): Doc | null | Promise<Doc | null>;
}

/** Builds a one-doc-in, one-doc-out operator. */
export function defineMap(def: MapDefinition): Operator {
  const name = def.name ?? def.type;
  return {
    kind: 'operator',
    type: def.type,
    name,
    version: def.version,
    config: def.config,
    code: def.code,
    functions: def.functions,
    async *process(input, ctx) {
      if (def.setup) await def.setup(ctx);
      for await (const batch of input) {
        const out: Doc[] = [];
        for (const doc of batch) {
          let r = def.apply(doc, ctx);
          if (r instanceof Promise) r = await r;
          if (r === null) ctx.audit.drop(name, doc, 'map.null');
          else out.push(r);
        }
        if (out.length) yield out;
      }
    },
  };
}

/** JSON values a user function receives as its third argument (`filter.where`, `map`). */
export type Params = { [key: string]: Json };

/**
 * Options of operators that wrap a user function (`filter.where`, `map`). `params` is the way to
 * hand the function values that change between runs (thresholds from the environment, a list of
 * words): they must be JSON, they enter the stage fingerprint, and the function receives them
 * (deep-frozen) as its third argument. Any other key is kept as operator config, as before.
 */
export interface UserFunctionOptions<P extends Params> {
  params?: P;
  [key: string]: Json | undefined;
}

/** Why `value` is not JSON (naming the path), or null when it is. */
export function notJson(value: unknown, path: string, seen = new Set<object>()): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${value}, which JSON cannot hold`;
    case 'object': {
      if (value === null) return null;
      if (seen.has(value)) return `${path} contains itself`;
      const proto = Object.getPrototypeOf(value) as object | null;
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return `${path} is an instance of ${(proto as { constructor?: { name?: string } }).constructor?.name ?? 'a class'}, not plain JSON data`;
      seen.add(value);
      for (const [k, v] of Object.entries(value)) {
        const why = notJson(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, seen);
        if (why) return why;
      }
      seen.delete(value);
      return null;
    }
    default:
      return `${path} is ${typeof value === 'function' ? 'a function' : typeof value}, not JSON`;
  }
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Splits the options of a user-function operator into its params (validated as JSON, copied and
 * frozen) and its config (the other keys, plus `params`, so both enter the fingerprint).
 */
export function userFunctionOptions<P extends Params>(operator: string, options: UserFunctionOptions<P> | undefined): { params: P; config: Record<string, Json> } {
  if (options === undefined || options === null) return { params: deepFreeze({}) as P, config: {} };
  if (typeof options !== 'object' || Array.isArray(options)) throw new Error(`${operator}: options must be an object such as { params: { … } } (got ${Array.isArray(options) ? 'an array' : typeof options})`);
  const { params, ...rest } = options;
  if (params === undefined) return { params: deepFreeze({}) as P, config: rest as Record<string, Json> };
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new Error(`${operator}: params must be an object of JSON values, e.g. { params: { MIN: 40 } } (got ${params === null ? 'null' : Array.isArray(params) ? 'an array' : typeof params})`);
  const bad = notJson(params, 'params');
  if (bad) throw new Error(`${operator}: ${bad}; params must be JSON so they can enter the stage fingerprint`);
  const copy = deepFreeze(JSON.parse(JSON.stringify(params)) as P);
  return { params: copy, config: { ...(rest as Record<string, Json>), params: copy } };
}

/** A factory that builds an operator from a JSON config (what `sluice apply` calls). */
export type OperatorFactory = (config: Json) => Operator;

const registry = new Map<string, { factory: OperatorFactory; describe: string }>();

/** Registers an operator type for `sluice apply` and pipeline-less use. */
export function registerOperator(type: string, describe: string, factory: OperatorFactory): void {
  registry.set(type, { factory, describe });
}

/** Builds a registered operator; an unknown type is an error that lists the known ones. */
export function createOperator(type: string, config: Json): Operator {
  const entry = registry.get(type);
  if (!entry) {
    const known = [...registry.keys()].sort().join(', ');
    throw new Error(`unknown operator '${type}'; registered operators: ${known || '(none)'}`);
  }
  return entry.factory(config);
}

/** The registered operator types with their one-line descriptions, sorted. */
export function listOperators(): Array<{ type: string; describe: string }> {
  return [...registry.entries()].map(([type, e]) => ({ type, describe: e.describe })).sort((a, b) => a.type.localeCompare(b.type));
}
