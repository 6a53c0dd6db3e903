/**
 * `defineThresholdFilter`: what the built-in quality filters are made of, for operator authors.
 * One declaration (score names, threshold rules, a measure function) gives a filter with parity
 * with the built-ins: `mode: 'annotate'`, `name`, every score in the audit's histograms, drop
 * reasons `<family>.<ruleKey>`, `sluice audit --what-if '<name>.<ruleKey>=…'` from recorded
 * scores, and `sluice apply <type>`.
 *
 * Rule keys are checked twice: by the type system (a rule's `score` must be one of `scores`, the
 * options accept exactly the rule keys, `measure` must return every score), and at run time for
 * JavaScript callers (an unknown score name or option key is an error naming it, and a measure
 * that leaves out a score a rule needs fails the doc's task instead of switching the rule off).
 */
import { z } from 'zod';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Doc, Json, Operator, TaskContext } from '../../engine/types.ts';
import { CommonOptions, verdictFromRules } from './common.ts';
import { registerRules, type ThresholdRule } from './rules.ts';

/** A numeric threshold: keep when the score is ≥ (`min`) or ≤ (`max`) the option's value. */
export interface NumericRule<S extends string> {
  /** The score the rule compares (one of the filter's `scores`). */
  score: S;
  bound: 'min' | 'max';
  /** Default threshold; `null`: off unless the user sets it. */
  default: number | null;
  /** camelCase detail of the drop reason (default: the rule key), e.g. `hashRatio` → `gopher.hashRatio`. */
  reason?: string;
}

/** An on/off rule: when the option is `true`, the score must be ≤ 0 (e.g. "contains lorem ipsum"). */
export interface ToggleRule<S extends string> {
  score: S;
  toggle: true;
  /** Default: on (`true`) or off. */
  default: boolean;
  reason?: string;
}

/** One rule of a threshold filter. */
export type RuleSpec<S extends string> = NumericRule<S> | ToggleRule<S>;

/** The option type of a filter's rules: a number (`null` switches off) or, for toggles, a boolean. */
export type RuleOptions<R> = { [K in keyof R]?: R[K] extends { toggle: true } ? boolean : number | null };

/** The extra (non-threshold) options as users pass them; none when the shape is empty. */
type ExtraInput<X extends z.ZodRawShape> = [keyof X] extends [never] ? {} : Partial<z.input<z.ZodObject<X>>>;
/** The extra options with defaults applied. */
type ExtraOutput<X extends z.ZodRawShape> = [keyof X] extends [never] ? {} : z.output<z.ZodObject<X>>;

/** The validated config `measure` receives: every rule key resolved, plus the extra options. */
export type RuleConfig<R, X extends z.ZodRawShape> = { [K in keyof R]-?: R[K] extends { toggle: true } ? boolean : number | null } & ExtraOutput<X>;

/** The options of a filter made by `defineThresholdFilter`. */
export type ThresholdFilterOptions<R, X extends z.ZodRawShape = {}> = {
  /** `drop` (default) removes failing docs; `annotate` only writes scores to `meta.quality[name]`. */
  mode?: 'drop' | 'annotate';
  /** Instance name (audit rows, `--what-if`, `meta.quality` key); default: the definition's `name`. */
  name?: string;
} & RuleOptions<R> &
  ExtraInput<X>;

/** What `defineThresholdFilter` takes. */
export interface ThresholdFilterDefinition<S extends string, R extends Record<string, RuleSpec<S>>, X extends z.ZodRawShape> {
  /** Registered type (`sluice apply <type>`, the audit's rule lookup), e.g. `filter.digits`. */
  type: string;
  /** Default instance name; default: the type after its last dot (`digits`). */
  name?: string;
  /** Family of the drop reasons, lower camelCase; default: the name. */
  family?: string;
  /** Bump when the output changes for the same options (old outputs then become stale). */
  version: string;
  /** One line for `sluice apply --list`; default: `threshold filter <type>`. */
  describe?: string;
  /** Every score `measure` returns (all recorded in the audit, kept docs and dropped). */
  scores: readonly S[];
  /** Rule key (the option users set, and the `--what-if` key) → rule, in the order reasons are reported. */
  rules: R;
  /** Options that are not thresholds (zod shape), passed to `measure` with their defaults applied. */
  options?: X;
  /** Called once per task before the first doc (e.g. to load a model). */
  setup?(config: RuleConfig<R, X>, ctx: TaskContext): Promise<void> | void;
  /** The scores of one document. */
  measure(doc: Doc, config: RuleConfig<R, X>, ctx: TaskContext): Record<S, number> | Promise<Record<S, number>>;
}

/** A filter factory made by `defineThresholdFilter`; `rules(config)` gives its threshold rules. */
export interface ThresholdFilterFactory<R, X extends z.ZodRawShape> {
  (options?: ThresholdFilterOptions<R, X>): Operator;
  /** The registered type. */
  readonly type: string;
  /** The threshold rules of a (validated) config, as the audit reads them. */
  rules(config: Json): ThresholdRule[];
}

const CAMEL = /^[a-z][a-zA-Z0-9]*$/;

/**
 * Defines a threshold filter: `scores` names what `measure` computes, `rules` maps each option
 * key to the score it bounds. A doc is dropped with reason `<family>.<reason ?? ruleKey>` of the
 * first rule it violates (rule order); its scores are recorded either way. Registers the type for
 * `sluice apply` and its rules for `sluice audit`. Defaults: name = type after the last dot,
 * family = name, mode `drop`. Example in docs/operators.md.
 */
export function defineThresholdFilter<const S extends string, const R extends Record<string, RuleSpec<S>>, X extends z.ZodRawShape = {}>(def: ThresholdFilterDefinition<S, R, X>): ThresholdFilterFactory<R, X> {
  const type = def.type;
  if (typeof type !== 'string' || !/^[a-z][\w.-]*$/i.test(type)) throw new Error(`defineThresholdFilter: type must be a name like 'filter.digits', got ${JSON.stringify(type)}`);
  const defaultName = def.name ?? type.slice(type.lastIndexOf('.') + 1);
  const family = def.family ?? defaultName;
  const where = `defineThresholdFilter('${type}')`;
  if (!CAMEL.test(family)) throw new Error(`${where}: the reason family '${family}' must be lower camelCase (reasons are '<family>.<camelCase>')`);
  if (!Array.isArray(def.scores) || !def.scores.length) throw new Error(`${where}: scores must list the score names measure returns`);
  if (typeof def.measure !== 'function') throw new Error(`${where}: measure must be a function`);
  const known = new Set<string>(def.scores);
  const entries = Object.entries(def.rules ?? {}) as Array<[string, RuleSpec<S>]>;
  if (!entries.length) throw new Error(`${where}: rules must hold at least one threshold`);
  const extra = (def.options ?? {}) as z.ZodRawShape;
  for (const [key, r] of entries) {
    if (!known.has(r.score)) throw new Error(`${where}: rule '${key}' bounds score '${r.score}', which is not in scores (${[...known].join(', ')})`);
    const reason = r.reason ?? key;
    if (!CAMEL.test(reason)) throw new Error(`${where}: rule '${key}': reason '${reason}' must be lower camelCase`);
    if (key === 'mode' || key === 'name' || key in extra) throw new Error(`${where}: rule key '${key}' clashes with an option of the same name`);
    if ('toggle' in r ? typeof r.default !== 'boolean' : r.default !== null && typeof r.default !== 'number') throw new Error(`${where}: rule '${key}': default must be ${'toggle' in r ? 'a boolean' : 'a number or null'}`);
    if (!('toggle' in r) && r.bound !== 'min' && r.bound !== 'max') throw new Error(`${where}: rule '${key}': bound must be 'min' or 'max'`);
  }

  const shape: Record<string, z.ZodType> = { ...CommonOptions, ...extra };
  for (const [key, r] of entries) shape[key] = 'toggle' in r ? z.boolean().default(r.default) : z.number().nullable().default(r.default);
  const Options = z.object(shape).strict();

  /** Rules from a config; a key absent from the config (recorded before the rule existed) takes its default. */
  const rules = (config: Json): ThresholdRule[] => {
    const c = (config ?? {}) as Record<string, unknown>;
    return entries.map(([key, r]) => {
      const v = key in c ? c[key] : r.default;
      const reason = `${family}.${r.reason ?? key}`;
      if ('toggle' in r) return { config: key, score: r.score, bound: 'max', reason, threshold: v === true ? 0 : null, toggle: 0 };
      return { config: key, score: r.score, bound: r.bound, reason, threshold: typeof v === 'number' ? v : null };
    });
  };
  registerRules(type, rules);

  const factory = (options: ThresholdFilterOptions<R, X> = {}): Operator => {
    const o = parseConfig(type, Options, options) as Record<string, unknown> & { mode: 'drop' | 'annotate'; name?: string };
    const { mode, name, ...config } = o;
    const active = rules(config as Json);
    const cfg = config as RuleConfig<R, X>;
    const check = (scores: Record<string, number>, doc: Doc) => {
      for (const r of active) {
        if (typeof scores?.[r.score] !== 'number') throw new Error(`${type}: measure returned no number for score '${r.score}' (doc ${doc.id}); rule '${r.config}' needs it`);
      }
      return verdictFromRules(active, scores);
    };
    return defineFilter({
      type,
      name: name ?? defaultName,
      version: def.version,
      // The mode is part of the config: switching drop ↔ annotate changes the output, hence the fingerprint.
      config: { mode, ...config } as Json,
      mode,
      setup: def.setup ? (ctx) => def.setup!(cfg, ctx) : undefined,
      // Synchronous when measure is: a promise per doc would cost the built-ins time.
      test(doc, ctx) {
        const s = def.measure(doc, cfg, ctx) as Record<string, number> | Promise<Record<string, number>>;
        return s instanceof Promise ? s.then((x) => check(x, doc)) : check(s, doc);
      },
    });
  };
  registerOperator(type, def.describe ?? `threshold filter ${type}`, (c) => factory((c ?? {}) as ThresholdFilterOptions<R, X>));
  return Object.assign(factory, { type, rules });
}
