/**
 * Converting typed values (validated operator configs, stage results) to the `Json` type that
 * fingerprints, manifests and `setInfo` carry, by value rather than by a type cast.
 */
import type { Json } from './types.ts';

/**
 * `value` as JSON, with `JSON.stringify`'s semantics (object keys whose value is `undefined` or
 * a function are dropped, non-finite numbers become null, `toJSON` is honoured) — exactly what the
 * stage fingerprint (`canonicalJson`) and `manifest.json` see of it, so converting a config
 * changes no fingerprint. Throws on a value JSON cannot hold at all (a bigint, a cycle).
 */
export function toJson(value: unknown): Json {
  const text = JSON.stringify(value);
  if (text === undefined) return null;
  const parsed: Json = JSON.parse(text);
  return parsed;
}
