/**
 * Compiles a TypeScript pipeline file to one cached ES module, so that the compiled `sluice` and
 * its workers import it without registering tsx. Registering tsx starts Node's loader-hooks
 * thread and loads tsx there: about 0.15 s of CPU in every `sluice run`/`status`/`task` process and
 * every local worker (measured 2026-12-06, 2-core machine), and hooks slow every later module load.
 *
 * The fast path covers the common pipeline: a `.ts`/`.mts` file whose imports are Sluice (as
 * `'sluice'` or by the path of its `index.ts`/`dist/index.js`) and Node built-ins. Anything else —
 * a relative import (a helper module, JSON), another package, `import.meta.resolve`, a dynamic
 * `import()` esbuild cannot follow, a compile error — returns undefined and the caller loads the
 * file through tsx as before (which then reports any error in its usual words).
 *
 * The output matches what tsx would run: esbuild with tsx's options (target this Node,
 * `keepNames`, `minifyWhitespace`, inline source map; the file's tsconfig applies), always as an ES
 * module; `import.meta.url`, `.dirname` and `.filename` are the pipeline's own. Sluice's import
 * points at this process's copy (dist/index.js, or dist-test/index.js under npm test), so no
 * resolve hook is needed. Source maps are switched on, as tsx does, so a user function's stack
 * trace names the pipeline's lines.
 *
 * Cache: `<SLUICE_CACHE or ~/.cache/sluice>/pipelines/<sha256>.mjs`, keyed by the file's path and
 * content, this Sluice's index, esbuild's version and COMPILE_VERSION; written through a temporary
 * file and a rename, so concurrent processes (a run and its workers) never read half a file. A
 * cache that cannot be written falls back to tsx. At most CACHE_LIMIT entries stay, the least
 * recently used pruned first.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sluiceCacheRoot } from '../cache-root.ts';
import { COMPILED, DIST_ROOT, PACKAGE_ROOT, TEST_BUILD, TEST_BUILD_ROOT, ownEntry } from './package-root.ts';

/** Bump when the compiled form changes, so old cache entries are not reused. */
const COMPILE_VERSION = '1';

/**
 * The cache keeps at most this many compiled pipelines: every edit of a pipeline, and every
 * pipeline a test writes to a temporary folder, is a new entry (a test run adds ~150).
 * When a write takes it past the limit, the least recently used go, down to PRUNE_TO.
 */
export const CACHE_LIMIT = 256;
const PRUNE_TO = 192;

const BUILTINS = new Set(builtinModules);

/** The files that name Sluice's API by path. */
function sluicePaths(): Set<string> {
  return new Set([join(PACKAGE_ROOT, 'index.ts'), join(DIST_ROOT, 'index.js'), join(TEST_BUILD_ROOT, 'index.js')]);
}

/**
 * The `file:` URL of `file` compiled to a cached ES module, or undefined when this process should
 * load it through tsx instead (a process running the sources, a file outside the fast path, or a
 * compile error: see the module comment). `file` is an absolute path.
 */
export async function compiledPipelineUrl(file: string): Promise<string | undefined> {
  if (!(COMPILED || TEST_BUILD) || !/\.m?ts$/.test(file)) return undefined;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // import.meta other than .url/.dirname/.filename (e.g. resolve) would see the cache file.
  if (/\bimport\.meta\b(?!\.(?:url|dirname|filename)\b)/.test(source)) return undefined;
  // esbuild's version from its package.json: its API is only loaded when something is compiled.
  const version = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;
  // This process's copy of Sluice's API, which the compiled pipeline imports.
  const index = ownEntry('index');
  const key = createHash('sha256').update([COMPILE_VERSION, version, process.versions.node, index, file, source].join('\0')).digest('hex');
  const out = join(sluiceCacheRoot(), 'pipelines', `${key.slice(0, 32)}.mjs`);
  if (existsSync(out)) {
    touch(out);
    return enable(out);
  }

  const own = sluicePaths();
  let outside = false;
  let result;
  try {
    const { build } = await import('esbuild');
    result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      // The source map's paths are relative to this file, so stack traces name the pipeline.
      outfile: out,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      keepNames: true,
      minifyWhitespace: true,
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      define: { 'import.meta.url': '__sluicePipelineUrl', 'import.meta.dirname': '__sluicePipelineDir', 'import.meta.filename': '__sluicePipelineFile' },
      banner: {
        js: `const __sluicePipelineUrl = ${JSON.stringify(pathToFileURL(file).href)}, __sluicePipelineDir = ${JSON.stringify(dirname(file))}, __sluicePipelineFile = ${JSON.stringify(file)};`,
      },
      plugins: [
        {
          name: 'sluice-pipeline',
          setup(b) {
            b.onResolve({ filter: /.*/ }, (a) => {
              if (a.kind === 'entry-point') return undefined;
              const spec = a.path;
              if (spec === 'sluice') return { path: index, external: true };
              if (spec.startsWith('node:') || BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0]!)) return { path: spec, external: true };
              if (spec.startsWith('/') || spec.startsWith('./') || spec.startsWith('../')) {
                if (own.has(resolve(a.resolveDir, spec))) return { path: index, external: true };
              }
              // Outside the fast path: tsx loads this pipeline.
              outside = true;
              return { path: spec, external: true };
            });
          },
        },
      ],
    });
  } catch {
    return undefined;
  }
  // A warning is an import esbuild could not follow (e.g. import() of a computed path).
  if (outside || result.warnings.length || result.errors.length) return undefined;
  try {
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, result.outputFiles[0]!.contents);
    renameSync(tmp, out);
  } catch {
    return undefined;
  }
  prune(dirname(out));
  return enable(out);
}

/** Marks a cache entry as used now (its mtime orders the pruning); a failure only loses that. */
function touch(file: string): void {
  try {
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // read-only cache: entries are still used, only not reordered
  }
}

/** Deletes the least recently used entries of `dir` beyond CACHE_LIMIT, down to PRUNE_TO. Best effort: another process may prune at the same time. */
function prune(dir: string): void {
  try {
    const names = readdirSync(dir).filter((n) => n.endsWith('.mjs'));
    if (names.length <= CACHE_LIMIT) return;
    const aged = names.map((n) => ({ path: join(dir, n), t: statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => a.t - b.t);
    for (const e of aged.slice(0, names.length - PRUNE_TO)) {
      try {
        unlinkSync(e.path);
      } catch {
        // already gone
      }
    }
  } catch {
    // an unreadable cache folder is left as it is
  }
}

/** Switches source maps on (as tsx does) and returns the URL of `out`. */
function enable(out: string): string {
  process.setSourceMapsEnabled(true);
  return pathToFileURL(out).href;
}
