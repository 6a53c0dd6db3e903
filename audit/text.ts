/**
 * Plain-text rendering of stage audits for the terminal: per operator a table of docs and bytes
 * in/out and drops per reason, score ranges with their thresholds, and what-if answers.
 */
import type { StageAuditReport, WhatIfResult } from './report.ts';

export { fmtBytes, fmtInt, fmtNum } from '../engine/display.ts';
import { fmtBytes, fmtInt, fmtNum } from '../engine/display.ts';

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** One what-if answer as a sentence. */
export function whatIfLine(w: WhatIfResult): string {
  const from = w.from === null ? 'off' : fmtNum(w.from);
  const to = w.to === null ? 'off' : fmtNum(w.to);
  const dir = w.delta > 0 ? `${fmtInt(w.delta)} more` : w.delta < 0 ? `${fmtInt(-w.delta)} fewer` : 'no change in the number of';
  return `${w.operator}.${w.key}: ${from} → ${to}: ${dir} docs dropped (${fmtInt(w.droppedBefore)} → ${fmtInt(w.droppedAfter)} of ${fmtInt(w.docs)}; ${fmtInt(w.newlyDropped)} newly dropped, ${fmtInt(w.newlyKept)} newly kept)`;
}

/** Renders stage audits as text. */
export function renderText(reports: StageAuditReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(`stage ${r.stage}${r.fingerprint ? ` (${r.fingerprint.slice(0, 12)})` : ''}: ${r.rows !== undefined ? `${fmtInt(r.rows)} docs out` : 'no manifest'}`);
    out.push(`  drop log: ${r.dropLog.length ? r.dropLog.join(', ') : '(no drops)'}`);
    for (const [reason, n] of Object.entries(r.skipped)) out.push(`  skipped input records: ${reason} ${fmtInt(n)}`);
    for (const op of r.operators) {
      out.push('');
      out.push(`  ${op.name} [${op.type}]  in ${fmtInt(op.docsIn)} docs / ${fmtBytes(op.bytesIn)}  kept ${fmtInt(op.docsOut)} / ${fmtBytes(op.bytesOut)}  dropped ${fmtInt(op.dropped)}${op.docsIn ? ` (${pct(op.dropped / op.docsIn)})` : ''}`);
      for (const rs of op.reasons) {
        out.push(`    ${rs.reason.padEnd(30)} ${fmtInt(rs.docs).padStart(10)}  ${pct(rs.share).padStart(6)}  ${fmtBytes(rs.bytes).padStart(9)}${op.bytesIn ? `  ${pct(rs.byteShare).padStart(6)} of bytes` : ''}`);
        const s = rs.samples[0];
        if (s) out.push(`      e.g. ${s.url ?? s.id}: ${JSON.stringify(s.text.slice(0, 100))}`);
      }
      for (const s of op.scores) {
        const th = s.thresholds.map((t) => `${t.bound} ${fmtNum(t.value)}`).join(', ');
        out.push(`    score ${s.key.padEnd(22)} min ${fmtNum(s.min)}  mean ${fmtNum(s.mean)}  max ${fmtNum(s.max)}${th ? `  threshold ${th}` : ''}`);
      }
    }
    for (const w of r.whatIf) {
      out.push('');
      out.push(`  what if ${whatIfLine(w)}`);
    }
    out.push('');
  }
  return out.join('\n');
}
