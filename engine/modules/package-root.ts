/**
 * Where this copy of Sluice runs from. The same source runs two ways: compiled, from
 * `dist/engine/modules/package-root.js` (the `sluice` executable; `npm install` builds dist/), or as
 * TypeScript through tsx (the tests, the benches). Files that are not compiled (cli/bin.js,
 * trainer/torch/*.py) are found from the package root, which is one folder further up when compiled.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when running as compiled JavaScript from dist/; false when loaded as TypeScript source. */
export const COMPILED = import.meta.url.endsWith('.js');

/** The package root (package.json, cli/bin.js, the `.ts` sources). */
export const PACKAGE_ROOT = fileURLToPath(new URL(COMPILED ? '../../../' : '../../', import.meta.url));

/** The compiled tree, `<root>/dist`, mirroring the sources' layout. */
export const DIST_ROOT = join(PACKAGE_ROOT, 'dist');

/** The extension of this copy's own modules: `.js` compiled, `.ts` from source. */
export const MODULE_EXT = COMPILED ? '.js' : '.ts';
