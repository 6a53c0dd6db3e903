/**
 * Threshold rules: the one description of "score S must be ≥ / ≤ the value of config key K, else
 * drop with reason R" shared by the quality filters (to decide), `filter.threshold` (to decide on
 * annotated scores) and `sluice audit` (to mark thresholds on histograms and to answer
 * `--what-if 'gopherQuality.minWords=100'` from recorded scores, without re-running).
 */
import type { Json } from '../../engine/types.ts';

/** One threshold of a filter. */
export interface ThresholdRule {
  /** Config key holding the threshold, as users name it in `--what-if` (e.g. `minWords`). */
  config: string;
  /** Score key the rule compares (recorded in `_audit/scores-*`, e.g. `words`). */
  score: string;
  /** `min`: keep when score ≥ threshold; `max`: keep when score ≤ threshold. */
  bound: 'min' | 'max';
  /** Drop reason when violated (short, stable, e.g. `gopher.minWords`). */
  reason: string;
  /** Current threshold; `null` when the rule is switched off. */
  threshold: number | null;
  /** For on/off rules: the threshold applied when switched on (`--what-if c4.loremIpsum=true`). */
  toggle?: number;
  /** A rule that no numeric what-if can change (e.g. the language keep-list). */
  fixed?: boolean;
}

/**
 * Builds a filter's rules from its validated config and, for thresholds decided at run time
 * (`filter.classifier`'s `keepTopFraction`), the manifest info of the stage that applied them.
 */
export type RuleFactory = (config: Json, info?: Readonly<Record<string, unknown>>) => ThresholdRule[];

const factories = new Map<string, RuleFactory>();

/** Registers the rules of an operator type (done by each filter module at load). */
export function registerRules(type: string, factory: RuleFactory): void {
  factories.set(type, factory);
}

/** The rules of an operator type for a config (and its stage's manifest info), or undefined for types without threshold rules. */
export function rulesFor(type: string, config: Json, info?: Readonly<Record<string, unknown>>): ThresholdRule[] | undefined {
  const f = factories.get(type);
  return f ? f(config, info) : undefined;
}

/** Whether `value` passes `rule` (a switched-off rule always passes; NaN fails). */
export function passes(rule: ThresholdRule, value: number | undefined): boolean {
  if (rule.threshold === null) return true;
  if (value === undefined) return true;
  if (Number.isNaN(value)) return false;
  return rule.bound === 'min' ? value >= rule.threshold : value <= rule.threshold;
}

/** The first rule the scores violate, in rule order (the reason the filter reports). */
export function firstViolation(rules: ThresholdRule[], scores: Record<string, number>): ThresholdRule | undefined {
  for (const r of rules) if (!passes(r, scores[r.score])) return r;
  return undefined;
}

/**
 * Returns a copy of `rules` with the rule(s) configured by `key` set to `value`: a number, or
 * `off`/`false`/`null` to switch off, `on`/`true` to switch a toggle on. Throws a clear error
 * when no rule has that key, or the rule cannot be changed numerically.
 */
export function overrideRules(rules: ThresholdRule[], key: string, value: string): ThresholdRule[] {
  const hit = rules.filter((r) => r.config === key);
  if (!hit.length) {
    const known = [...new Set(rules.filter((r) => !r.fixed).map((r) => r.config))].join(', ');
    throw new Error(`no threshold '${key}'; this operator's thresholds are: ${known || '(none)'}`);
  }
  const v = value.trim().toLowerCase();
  return rules.map((r) => {
    if (r.config !== key) return r;
    if (r.fixed) throw new Error(`'${key}' is not a numeric threshold; it cannot be changed by --what-if`);
    if (v === 'off' || v === 'false' || v === 'null' || v === 'none') return { ...r, threshold: null };
    if (v === 'on' || v === 'true') {
      if (r.toggle === undefined) throw new Error(`'${key}' is a numeric threshold; give a number`);
      return { ...r, threshold: r.toggle };
    }
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`--what-if ${key}=${value}: expected a number, 'off' or 'on'`);
    return { ...r, threshold: n };
  });
}

/**
 * A config key a rule reads. Typed as a key of the config, so a misspelt key is a compile error;
 * at run time (JavaScript callers) a key the config lacks is an error instead of a rule that is
 * silently off.
 */
function readKey<C extends object>(config: C, key: keyof C & string, what: string): unknown {
  if (!config || typeof config !== 'object' || !(key in config)) {
    throw new Error(`${what}: config has no key '${key}' (it has: ${Object.keys(config ?? {}).join(', ') || 'none'})`);
  }
  return config[key];
}

/** Shorthand for a numeric rule read from a validated config (every key present, `null` = off). */
export function rule<C extends object>(config: C, key: keyof C & string, score: string, bound: 'min' | 'max', reason: string): ThresholdRule {
  const t = readKey(config, key, `rule '${reason}'`);
  return { config: key, score, bound, reason, threshold: typeof t === 'number' ? t : null };
}

/** Shorthand for an on/off rule: when `config[key]` is true, `score` must be ≤ 0. */
export function toggleRule<C extends object>(config: C, key: keyof C & string, score: string, reason: string): ThresholdRule {
  return { config: key, score, bound: 'max', reason, threshold: readKey(config, key, `rule '${reason}'`) === true ? 0 : null, toggle: 0 };
}
