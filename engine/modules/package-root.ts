/**
 * Where this copy of Sluice runs from. The same source runs two ways: compiled into dist/ (the
 * `sluice` executable; `npm install` builds it), or as TypeScript through tsx (the tests, the
 * benches). Compiled, this module is bundled into a chunk, and the build gives its
 * `import.meta.url` the path it would have file by file, `dist/engine/modules/package-root.js`
 * (scripts/build.js). Files that are not compiled (cli/bin.js, trainer/torch/*.py) are found from
 * the package root, which is one folder further up when compiled.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when running as compiled JavaScript from dist/; false when loaded as TypeScript source. */
export const COMPILED = import.meta.url.endsWith('.js');

/** The package root (package.json, cli/bin.js, the `.ts` sources). */
export const PACKAGE_ROOT = fileURLToPath(new URL(COMPILED ? '../../../' : '../../', import.meta.url));

/** The compiled tree, `<root>/dist`: the entry points at their sources' paths, the rest in `dist/chunks/`. */
export const DIST_ROOT = join(PACKAGE_ROOT, 'dist');

declare const __SLUICE_TEST_BUILD__: boolean | undefined;

/**
 * True in `npm test`'s compiled copy of the repository (dist-test/, scripts/build-tests.js), where
 * `import.meta.url` is the source file's: the engine then forks dist-test's worker and maps
 * Sluice's sources to dist-test/ when a pipeline loads.
 */
export const TEST_BUILD: boolean = typeof __SLUICE_TEST_BUILD__ !== 'undefined' && __SLUICE_TEST_BUILD__ === true;

/** npm test's compiled copy, `<root>/dist-test`, one `.js` per `.ts`. */
export const TEST_BUILD_ROOT = join(PACKAGE_ROOT, 'dist-test');

/**
 * The file of one of this copy's entry points (scripts/build.js ENTRIES), named by its source path
 * without extension (`'index'`, `'engine/executor/worker'`, `'engine/modules/redirect-hook'`):
 * `dist-test/<rel>.js` under npm test, `dist/<rel>.js` compiled, `<rel>.ts` from source. Only the
 * entry points have a dist/ file of their own; everything else is bundled into `dist/chunks/`.
 */
export function ownEntry(rel: string): string {
  if (TEST_BUILD) return join(TEST_BUILD_ROOT, `${rel}.js`);
  return COMPILED ? join(DIST_ROOT, `${rel}.js`) : join(PACKAGE_ROOT, `${rel}.ts`);
}
