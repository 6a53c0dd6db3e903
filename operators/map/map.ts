/** `map(name, fn)`: a user function applied to every doc. */
import type { Doc, Operator, TaskContext } from '../../engine/types.ts';
import { defineMap } from '../../engine/operator.ts';

/**
 * A user function over each doc: return the new doc, or `null` to drop it (recorded in the
 * audit as `map.null`). The function's source text is part of the stage fingerprint, so editing
 * it re-runs the stage; values it closes over are not, so pass changing values via `config`.
 */
export function map(name: string, fn: (doc: Doc, ctx: TaskContext) => Doc | null | Promise<Doc | null>, config: Record<string, string | number | boolean | null> = {}): Operator {
  if (typeof name !== 'string' || !name) throw new Error('map(name, fn): name must be a non-empty string');
  if (typeof fn !== 'function') throw new Error(`map('${name}', fn): fn must be a function`);
  return defineMap({ type: 'map', name, version: '1', config, code: fn.toString(), apply: fn });
}
