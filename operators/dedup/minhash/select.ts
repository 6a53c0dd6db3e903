/**
 * Keeper choice: which document of a duplicate cluster survives. Deterministic for every rule:
 * ties fall back to input order (dataset file order, then row), so the result does not depend
 * on task or worker counts.
 */

/** `first`: earliest in input order; `longest`: most UTF-8 bytes; `score`: highest `meta[scoreKey]`. */
export type KeepRule = 'first' | 'longest' | 'score';

/** What the rule looks at for one document. */
export interface Candidate {
  /** Global input position (file offset + row). */
  index: number;
  /** Text length in UTF-8 bytes. */
  bytes: number;
  /** Quality score (NaN when the doc has none: it loses to any scored doc). */
  score: number;
}

/** True when `a` should be kept over `b` under `rule`. */
export function better(rule: KeepRule, a: Candidate, b: Candidate): boolean {
  switch (rule) {
    case 'first':
      return a.index < b.index;
    case 'longest':
      return a.bytes !== b.bytes ? a.bytes > b.bytes : a.index < b.index;
    case 'score': {
      const sa = Number.isNaN(a.score) ? -Infinity : a.score;
      const sb = Number.isNaN(b.score) ? -Infinity : b.score;
      return sa !== sb ? sa > sb : a.index < b.index;
    }
    default: {
      const never: never = rule;
      throw new Error(`unknown keep rule ${String(never)}`);
    }
  }
}

/** Reads a numeric score at a dotted path of `meta` (e.g. `quality.fasttext.score`); NaN when absent. */
export function scoreAt(meta: Record<string, unknown>, path: string): number {
  let v: unknown = meta;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return NaN;
    v = (v as Record<string, unknown>)[k];
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}
