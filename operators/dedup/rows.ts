/**
 * Applying a dedup decision to an input file: its documents are streamed in row order next to
 * a row-ordered stream of actions (drop with reason and details, or annotate), so the filter
 * stage holds neither the file nor the decisions in memory.
 */
import { docBytes } from '../../engine/operator.ts';
import type { CustomTaskContext, Doc, Json } from '../../engine/types.ts';

/** What happens to one row. */
export type RowAction =
  | { row: number; kind: 'drop'; reason: string; score?: number; details: Record<string, Json> }
  | { row: number; kind: 'annotate'; meta: Record<string, Json> };

/**
 * Yields the kept docs of `docs`, applying `actions` (sorted by row) and auditing every drop
 * and the docs and bytes in and out under `operator` (the audit's per-operator counts).
 */
export async function* applyRowActions(ctx: CustomTaskContext, operator: string, docs: AsyncIterable<Doc[]>, actions: AsyncIterator<RowAction>): AsyncGenerator<Doc[]> {
  let row = 0;
  let next = await actions.next();
  for await (const batch of docs) {
    const out: Doc[] = [];
    for (const doc of batch) {
      const a = next.done ? null : next.value;
      if (a && a.row < row) throw new Error(`${ctx.stage}: decision for row ${a.row} out of order (at row ${row})`);
      if (a && a.row === row) {
        switch (a.kind) {
          case 'drop':
            ctx.audit.drop(operator, doc, a.reason, a.score, a.details);
            break;
          case 'annotate':
            out.push({ ...doc, meta: { ...doc.meta, ...a.meta } });
            break;
          default: {
            const never: never = a;
            throw new Error(`unknown row action ${JSON.stringify(never)}`);
          }
        }
        next = await actions.next();
      } else out.push(doc);
      row++;
    }
    ctx.progress.add(batch.length, 0);
    let bytesIn = 0;
    let bytesOut = 0;
    for (const d of batch) bytesIn += docBytes(d);
    for (const d of out) bytesOut += docBytes(d);
    ctx.audit.flow?.(operator, batch.length, bytesIn, out.length, bytesOut);
    if (out.length) yield out;
  }
  if (!next.done) throw new Error(`${ctx.stage}: decision for row ${next.value.row} but the input has only ${row} rows`);
}
