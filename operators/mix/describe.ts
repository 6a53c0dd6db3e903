/** Text lines of a mixture (the manifest's `info.mix`) for `sluice status`. */
import type { MixSourceInfo } from './mix.ts';

/** `info.mix` of a `mix()` stage's manifest. */
export interface MixInfo {
  by: string;
  target: number | null;
  seed: number;
  units: number;
  sources: MixSourceInfo[];
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
