/** `filter.where(name, fn, { params })`: a user predicate as a filter. */
import type { Doc, FilterVerdict, Operator, TaskContext } from '../../engine/types.ts';
import { defineFilter, userFunctionOptions, type Params, type UserFunctionOptions } from '../../engine/operator.ts';

/**
 * Keeps a doc when `fn` returns `true` (or `{ keep: true, score }`); drops it when `fn` returns
 * `{ drop: reason, score? }`, or `false` (reason `filter.rejected`). Every drop is counted and logged in
 * the audit. `fn` receives `options.params` (JSON, default `{}`) as its third argument.
 *
 * The stage fingerprint covers the function's source, `params`, and every value the function
 * captures (module constants, closure variables, imported local helpers, `process.env.X` read
 * inside it): change any of them and the stage re-runs. A captured value that cannot be hashed
 * (a class instance, a stream, …) fails the pipeline at load; see docs/concepts.md.
 */
export function where<P extends Params = Params>(name: string, fn: (doc: Doc, ctx: TaskContext, params: P) => FilterVerdict | boolean | Promise<FilterVerdict | boolean>, options?: UserFunctionOptions<P>): Operator {
  if (typeof name !== 'string' || !name) throw new Error('filter.where(name, fn): name must be a non-empty string');
  if (typeof fn !== 'function') throw new Error(`filter.where('${name}', fn): fn must be a function`);
  const { params, config } = userFunctionOptions(`filter.where('${name}')`, options);
  return defineFilter({
    type: 'filter.where',
    name,
    version: '1',
    config,
    functions: { fn },
    async test(doc, ctx) {
      const v = await fn(doc, ctx, params);
      if (v === false) return { drop: 'filter.rejected' };
      if (v === true) return true;
      if (v && typeof v === 'object' && ('drop' in v || 'keep' in v)) return v;
      throw new Error(`filter.where('${name}'): the function returned ${JSON.stringify(v)} for doc ${doc.id}; expected true, false or { drop: reason, score? }`);
    },
  });
}
