/**
 * Packages loaded on first use instead of at start-up. Every `sluice` process and every worker
 * imports Sluice's whole API before it runs a task; packages that only some operators need
 * (the HTTP client, the HTML parser, the mail and CSV parsers) cost it 0.14 s of CPU each time
 * when imported eagerly (measured: `import('dist/index.js')` 0.42 s → 0.35 s wall), and a test run
 * starts hundreds of such processes. `require` (Node ≥ 20.19 loads ES modules through it too)
 * keeps the first use synchronous, so callers need not become async.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A memoised loader of package `name`: the first call requires it, later calls return the same module. */
export function lazyPackage<T>(name: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(name) as T);
}
