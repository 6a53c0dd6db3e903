/**
 * Fails fast when a second copy of Sluice's engine loads into a process. Two copies (e.g. the
 * compiled dist/ and the `.ts` sources) keep two operator registries, and `instanceof` and symbol
 * checks fail across them, with errors far from the cause; the resolve hook in `redirect-hook.ts`
 * and the package's `sluice-source` export condition exist so that this never happens.
 * Imported for its effect by the modules that hold process-wide state (the operator registry,
 * pipelines).
 */
import { TEST_BUILD } from './package-root.ts';

const KEY = Symbol.for('sluice.engine.url');
// npm test's compiled copy reports its sources' URL as import.meta.url; the suffix keeps it apart
// from the sources themselves loaded through tsx.
const HERE = TEST_BUILD ? `${import.meta.url}#dist-test` : import.meta.url;
const slot = globalThis as typeof globalThis & { [KEY]?: string };
const first = slot[KEY];
if (first !== undefined && first !== HERE) {
  throw new Error(
    `two copies of Sluice are loaded in one process: ${first} and ${HERE}. ` +
      `Import Sluice as 'sluice' or by one path; tests that import the .ts sources run with --conditions=sluice-source (docs/development.md).`,
  );
}
slot[KEY] = HERE;
