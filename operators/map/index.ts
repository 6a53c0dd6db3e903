/** `map(name, fn)` and the registered `map.*` operators. */
import { map as mapFn } from './map.ts';
import { pii } from './pii.ts';

/** `map(name, fn)`: a user function over each doc; also the namespace of `map.*` operators. */
export const map = Object.assign(mapFn, { pii });
