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

/** The extension of this copy's own modules: `.js` compiled, `.ts` from source. */
export const MODULE_EXT = COMPILED ? '.js' : '.ts';

declare const __SLUICE_TEST_BUILD__: boolean | undefined;

/**
 * True in `npm test`'s compiled copy of the repository (dist-test/, scripts/build-tests.js), where
 * `import.meta.url` is the source file's: the engine then forks dist-test's worker and maps
 * Sluice's sources to dist-test/ when a pipeline loads.
 */
export const TEST_BUILD: boolean = typeof __SLUICE_TEST_BUILD__ !== 'undefined' && __SLUICE_TEST_BUILD__ === true;

/** npm test's compiled copy, `<root>/dist-test`, one `.js` per `.ts`. */
export const TEST_BUILD_ROOT = join(PACKAGE_ROOT, 'dist-test');
