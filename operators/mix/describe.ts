/** Text lines of a mixture (the manifest's `info.mix`) for `sluice status`. */
import type { Json } from '../../engine/types.ts';
import type { MixInfo, MixSourceInfo } from './mix.ts';

export type { MixInfo } from './mix.ts';

type JsonObject = { [key: string]: Json };
const isObject = (x: Json | undefined): x is JsonObject => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNumber = (x: Json | undefined): x is number => typeof x === 'number';

const SOURCE_NUMBERS = ['requestedWeight', 'realisedWeight', 'requestedUnits', 'units', 'docs', 'uniqueDocs', 'tokens', 'bytes', 'fullPasses', 'maxRepeat', 'repeats', 'sourceDocs', 'sourceUnits'] as const satisfies readonly (keyof MixSourceInfo)[];

function isMixSourceInfo(x: Json): x is MixSourceInfo {
  return isObject(x) && typeof x.input === 'string' && SOURCE_NUMBERS.every((k) => isNumber(x[k]));
}

/**
 * Whether a manifest's `info.mix` (read back as plain JSON) is a mixture record as `mix()` writes
 * it, with every field {@link describeMix} prints.
 */
export function isMixInfo(x: Json | undefined): x is MixInfo {
  return (
    isObject(x) &&
    (x.by === 'tokens' || x.by === 'bytes' || x.by === 'docs') &&
    (x.target === null || isNumber(x.target)) &&
    isNumber(x.seed) &&
    isNumber(x.units) &&
    Array.isArray(x.sources) &&
    x.sources.every(isMixSourceInfo)
  );
}

const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** One header line and one line per source: requested → realised weight, units, docs, tokens, repeats. */
export function describeMix(m: MixInfo, indent: string): string[] {
  const w = Math.max(6, ...m.sources.map((s) => s.input.length));
  const lines = [`${indent}mix by ${m.by}: ${n(m.units)} ${m.by}${m.target !== null ? ` (target ${n(m.target)})` : ''}, seed ${m.seed}`];
  for (const s of m.sources) {
    lines.push(
      `${indent}  ${s.input.padEnd(w)}  weight ${pct(s.requestedWeight)} → ${pct(s.realisedWeight)}  ${n(s.units)} ${m.by}  ${n(s.docs)} docs (${n(s.uniqueDocs)} unique)  ${n(s.tokens)} tokens  ${n(s.repeats)} repeats (max ×${s.maxRepeat})`,
    );
  }
  return lines;
}
