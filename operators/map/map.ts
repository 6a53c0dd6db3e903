/** `map(name, fn, { params })`: a user function applied to every doc. */
import type { Doc, Operator, TaskContext } from '../../engine/types.ts';
import { defineMap, userFunctionOptions, type Params, type UserFunctionOptions } from '../../engine/operator.ts';

/**
 * A user function over each doc: return the new doc, or `null` to drop it (recorded in the
 * audit as `map.null`). `fn` receives `options.params` (JSON, default `{}`) as its third argument.
 * The stage fingerprint covers the function's source, `params` and every value the function
 * captures, so changing any of them re-runs the stage; a captured value that cannot be hashed
 * fails the pipeline at load (see docs/concepts.md).
 */
export function map<P extends Params = Params>(name: string, fn: (doc: Doc, ctx: TaskContext, params: P) => Doc | null | Promise<Doc | null>, options?: UserFunctionOptions<P>): Operator {
  if (typeof name !== 'string' || !name) throw new Error('map(name, fn): name must be a non-empty string');
  if (typeof fn !== 'function') throw new Error(`map('${name}', fn): fn must be a function`);
  const { params, config } = userFunctionOptions(`map('${name}')`, options);
  return defineMap({ type: 'map', name, version: '1', config, functions: { fn }, apply: (doc, ctx) => fn(doc, ctx, params) });
}
