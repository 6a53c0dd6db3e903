#!/usr/bin/env node
/**
 * Compiles the repository's TypeScript file by file into dist-test/ for `npm test`: every `.ts`
 * (sources, tests and their helpers, benches, pipelines) becomes `dist-test/<same path>.js`, with
 * relative `.ts` imports rewritten to `.js`. `npm test` runs the compiled test files with plain
 * Node: no TypeScript loader in the test processes.
 *
 * Why: Node 20 sends every module load through the registered loader hooks, a message to the
 * hooks thread and back; a test process that imported Sluice's sources through tsx spent about
 * 0.9 s of CPU loading them (the same modules without hooks: about 0.3 s), and a run starts ~145
 * test processes. Measured 2026-12-06 on the 2-core machine (docs/development.md).
 *
 * What stays as it was, so that a compiled test behaves as its source:
 * - `import.meta.url`, `import.meta.dirname` and `import.meta.filename` are the SOURCE file's, so
 *   fixtures, helper scripts and the package root are found next to the sources;
 * - imports of files that are not compiled (`scripts/build.js`, `cli/bin.js`) point at the
 *   originals; JSON is inlined; packages stay external;
 * - `'sluice'` is this build's `dist-test/index.js`, the one copy of Sluice in the process. The
 *   engine knows it runs from here (`TEST_BUILD` in engine/modules/package-root.ts): its workers
 *   fork the compiled worker, and a TypeScript pipeline loads through tsx with the resolve hook
 *   mapping Sluice's sources to dist-test/.
 *
 * Run by `npm test` (`pretest`, after scripts/build.js). A single test file still runs from
 * source: `node --import tsx --conditions=sluice-source --test test/x.test.ts`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { INLINE, ROOT, writeOutputs } from './build.js';

/** The test build's output folder (git-ignored). */
export const TEST_DIST = join(ROOT, 'dist-test');

/** Top-level folders that hold no TypeScript of ours. */
const SKIP = new Set(['node_modules', 'dist', 'dist-test', 'runs', 'docs']);

/** Every `.ts` file of the repository (absolute paths, sorted). */
export function typeScriptFiles() {
  const out = [];
  const walk = (dir, top) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!(top && SKIP.has(e.name))) walk(p, false);
      } else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(ROOT, true);
  return out.sort();
}

/**
 * Packages imported by their bare name that load as one pre-bundled file each,
 * `dist-test/_vendor/<name>.js`, instead of from node_modules file by file: the packages dist/
 * inlines that Sluice imports by name. apache-arrow is 154 files and zod 99; with them
 * bundled, importing dist-test/index.js costs 0.24 s of CPU instead of 0.35 s (2-core machine,
 * 2026-12-06), in each of the ~145 test processes. Every compiled file, test or source, imports
 * the same bundle, so a process holds one copy of each package (arrow's `instanceof` holds).
 */
export const VENDOR = INLINE.filter((n) => n === 'apache-arrow' || n === 'zod');

/** Keeps every import external (one output per source), rewritten as the module comment says. */
const plugin = {
  name: 'sluice-test-build',
  setup(b) {
    const index = join(TEST_DIST, 'index.js');
    b.onResolve({ filter: /.*/ }, (a) => {
      if (a.kind === 'entry-point') return undefined;
      if (a.path === 'sluice') return { path: index, external: true };
      if (VENDOR.includes(a.path)) return { path: join(TEST_DIST, '_vendor', `${a.path}.js`), external: true };
      if (/^\.\.?\//.test(a.path) || a.path.startsWith('/')) {
        if (a.path.endsWith('.json')) return undefined;
        if (a.path.endsWith('.ts')) return { path: a.path.slice(0, -3) + '.js', external: true };
        return { path: resolve(a.resolveDir, a.path), external: true };
      }
      return { path: a.path, external: true };
    });
    b.onLoad({ filter: /\.ts$/ }, (a) => {
      const src = readFileSync(a.path, 'utf8');
      const decl =
        `const __sluiceSrcUrl = ${JSON.stringify(pathToFileURL(a.path).href)}, ` +
        `__sluiceSrcDir = ${JSON.stringify(dirname(a.path))}, __sluiceSrcFile = ${JSON.stringify(a.path)};`;
      // On the first line, so that line numbers in stack traces stay the source's.
      return { contents: `${decl} ${src}`, loader: 'ts' };
    });
  },
};

/** Builds dist-test/; resolves to the number of files written. Outputs of removed sources are deleted. */
export async function buildTests() {
  const { build: esbuild } = await import('esbuild');
  const r = await esbuild({
    entryPoints: typeScriptFiles(),
    absWorkingDir: ROOT,
    outdir: TEST_DIST,
    outbase: ROOT,
    bundle: true,
    plugins: [plugin],
    define: {
      'import.meta.url': '__sluiceSrcUrl',
      'import.meta.dirname': '__sluiceSrcDir',
      'import.meta.filename': '__sluiceSrcFile',
      __SLUICE_TEST_BUILD__: 'true',
    },
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'error',
  });
  // Each vendored package as one ES module of everything it exports (no default export is used).
  const vendor = await Promise.all(
    VENDOR.map((name) =>
      esbuild({
        stdin: { contents: `export * from ${JSON.stringify(name)};`, resolveDir: ROOT, sourcefile: `_vendor/${name}.js` },
        absWorkingDir: ROOT,
        outfile: join(TEST_DIST, '_vendor', `${name}.js`),
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        write: false,
        logLevel: 'error',
      }),
    ),
  );
  return writeOutputs([...r.outputFiles, ...vendor.flatMap((v) => v.outputFiles)], TEST_DIST);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = performance.now();
  const n = await buildTests();
  process.stderr.write(`sluice: built dist-test/ (${n} file(s) updated) in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
}
