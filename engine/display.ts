/**
 * Number and HTML formatting shared by every human-facing output (the audit, stats, reports, the
 * run summary). It lives in engine/ because operators render reports too (operators/stats) and
 * must not import audit/ (test/formats/layering.test.ts).
 */

/** `1234567` → `1,234,567`. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes as B/KB/MB/GB (powers of 1000). */
export function fmtBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const u = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < u.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${u[i]}`;
}

/** A score value with at most 4 significant decimals. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return fmtInt(v);
  return String(Number(v.toPrecision(4)));
}

/** Escapes text for HTML content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
