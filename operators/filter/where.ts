/** `filter.where(name, fn)`: a user predicate as a filter. */
import type { Doc, FilterVerdict, Operator, TaskContext } from '../../engine/types.ts';
import { defineFilter } from '../../engine/operator.ts';

/**
 * Keeps a doc when `fn` returns `true` (or `{ keep: true, score }`); drops it when `fn` returns
 * `{ drop: reason, score? }`, or `false` (reason `filter.rejected`). Every drop is counted and logged in
 * the audit. The function's source text is part of the stage fingerprint.
 */
export function where(name: string, fn: (doc: Doc, ctx: TaskContext) => FilterVerdict | boolean | Promise<FilterVerdict | boolean>, config: Record<string, string | number | boolean | null> = {}): Operator {
  if (typeof name !== 'string' || !name) throw new Error('filter.where(name, fn): name must be a non-empty string');
  if (typeof fn !== 'function') throw new Error(`filter.where('${name}', fn): fn must be a function`);
  return defineFilter({
    type: 'filter.where',
    name,
    version: '1',
    config,
    code: fn.toString(),
    async test(doc, ctx) {
      const v = await fn(doc, ctx);
      if (v === false) return { drop: 'filter.rejected' };
      if (v === true) return true;
      if (v && typeof v === 'object' && ('drop' in v || 'keep' in v)) return v;
      throw new Error(`filter.where('${name}'): the function returned ${JSON.stringify(v)} for doc ${doc.id}; expected true, false or { drop: reason, score? }`);
    },
  });
}
