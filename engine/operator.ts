/**
 * Building blocks for operator authors: `defineFilter` (one function returning keep or drop with
 * a reason and score; the engine counts, audits and histograms), `defineMap` (one doc in, one or
 * no doc out) and the operator registry behind `sluice apply`.
 */
import { z } from 'zod';
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
