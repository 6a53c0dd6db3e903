/**
 * Parsing and printing the quantities a plan deals in: counts with SI suffixes (`405B`, `15.6T`,
 * `124M`), FLOPs in scientific notation, money and durations.
 */

const SUFFIX: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/**
 * Parses `405B`, `15.6T`, `124M`, `3.8e25`, `1_000_000` or `2,048` into a number. Suffixes:
 * k/K 1e3, M 1e6, B/G 1e9, T 1e12, P 1e15, E 1e18. Throws naming `what` when it is not a number.
 */
export function parseQuantity(text: string, what: string): number {
  const t = text.trim().replace(/[_,]/g, '');
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([kKMBGTPE]?)$/.exec(t);
  if (!m) throw new Error(`${what}: '${text}' is not a number (examples: 405B, 15.6T, 124M, 3.8e25)`);
  return Number(m[1]) * (m[2] ? SUFFIX[m[2]]! : 1);
}

/** A count with a suffix: 405B, 15.6T, 26.6M, 950. */
export function fmtCount(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const units: Array<[number, string]> = [[1e15, 'P'], [1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [s, u] of units) if (a >= s) return `${trim((v / s).toPrecision(digits))}${u}`;
  return trim(v.toPrecision(digits));
}

/** Scientific notation with 3 significant digits: 3.79e25. */
export function fmtSci(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const [m, e] = v.toExponential(2).split('e');
  return `${trim(m!)}e${Number(e)}`;
}

/** US dollars with a suffix: $53.2M. */
export function fmtUsd(v: number): string {
  return `$${fmtCount(v)}`;
}

/** Days, and months beyond 60 days: "67.7 days (2.2 months)". */
export function fmtDays(days: number): string {
  if (days * 24 * 60 < 1) return `${trim((days * 86400).toPrecision(3))} seconds`;
  if (days * 24 < 1) return `${trim((days * 24 * 60).toPrecision(3))} minutes`;
  if (days < 1) return `${trim((days * 24).toPrecision(3))} hours`;
  const s = `${trim(days.toPrecision(3))} days`;
  return days >= 45 ? `${s} (${(days / 30.44).toFixed(1)} months)` : s;
}

/** A signed percentage: +25%, −12.5%. */
export function fmtPct(v: number): string {
  const p = v * 100;
  if (Math.abs(p) < 0.05) return '0%';
  return `${p > 0 ? '+' : '−'}${trim(Math.abs(p).toPrecision(3))}%`;
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

/** Renders rows as an aligned text table (first row is the header; numbers right-aligned). */
export function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const numeric = (s: string) => /^[-+−$]?[\d.]/.test(s);
  const line = (r: string[]) => r.map((cell, c) => (numeric(cell) && c > 0 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Energy from MWh, in the unit that reads best: 4.6 kWh, 312 MWh, 20.5 GWh. */
export function fmtEnergy(mwh: number): string {
  if (mwh < 1) return `${fmtCount(mwh * 1000)} kWh`;
  if (mwh < 1000) return `${fmtCount(mwh)} MWh`;
  return `${fmtCount(mwh / 1000)} GWh`;
}

/** A mass from tonnes: 2.2 kg, 312 t, 9,830 t. */
export function fmtTonnes(t: number): string {
  if (t < 1) return `${fmtCount(t * 1000)} kg`;
  return `${Math.round(t) >= 1000 ? Math.round(t).toLocaleString('en-US') : fmtCount(t)} t`;
}
