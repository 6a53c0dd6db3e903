/** Number formats of the report pages (the audit's integer and byte formats, plus time and rates). */
import { fmtBytes, fmtInt } from '../audit/text.ts';

/** `1234567` → `1,234,567`. */
export const fmtCount = fmtInt;

/** Bytes as B/KB/MB/GB (powers of 1000, as the audit prints them). */
export const fmtBytesShort = fmtBytes;

/** Seconds as `0.42 s`, `12.3 s`, `4 min 05 s` or `2 h 03 min`. */
export function fmtSeconds(s: number): string {
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A share in [0, 1] as a percentage with one decimal. */
export function fmtShare(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** A rate per second: `1,234 docs/s`, `3.20 MB/s`. */
export function fmtRate(amount: number, seconds: number, unit: 'docs' | 'bytes'): string {
  if (!(seconds > 0)) return '–';
  const r = amount / seconds;
  return unit === 'docs' ? `${fmtInt(r)} docs/s` : `${fmtBytes(Math.round(r))}/s`;
}
