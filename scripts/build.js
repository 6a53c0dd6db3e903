#!/usr/bin/env node
/**
 * Compiles Sluice's TypeScript into dist/ as an ES-module bundle split at its entry points: one
 * `.js` (plus a `.js.map`) per entry point at the entry's own path (`dist/index.js`,
 * `dist/cli/main.js`, `dist/engine/executor/worker.js`, `dist/engine/modules/redirect-hook.js`),
 * and the modules they share in `dist/chunks/`. A module reached by several entry points lives in
 * one chunk, so a process that runs the CLI and then imports `'sluice'` (or a worker and then its
 * pipeline) holds one copy of every module. Dynamic `import()`s stay lazy: their modules get their
 * own chunks. `sluice` runs from dist/ so a process does not load TypeScript through tsx.
 *
 * Why a bundle and not one `.js` per `.ts`: Node 20 pays per module file (resolve, read, compile,
 * link). `import('dist/index.js')` loaded 489 files (225 of Sluice's, 146 of apache-arrow, 95 of
 * zod) in 0.47 s of CPU per file-per-module, 0.22 s bundled (measured 2026-12-06 on the 2-core
 * machine), and every `sluice` process and every local worker pays it: a test run starts ~430.
 * The pure-ESM packages loaded at start-up (INLINE) are bundled too; every other package stays
 * external, resolved from node_modules as before (native and WebAssembly packages, and those
 * required lazily by `engine/modules/lazy.ts`, must stay single copies of their own).
 *
 * `import.meta.url` in Sluice's sources becomes (esbuild `define`, so in code, not in strings)
 * the URL the file would have in a file-per-module dist/ (`<dist>/engine/executor/local.js`),
 * built from the output file's own URL (a one-line banner), so code that locates files next to
 * itself (the worker, the resolve hook, the package root) behaves as before wherever esbuild put it.
 *
 * Run by `npm install` (the `prepare` script), `npm test` (`pretest`) and `npm run build`;
 * `cli/bin.js` also runs it when a source file is newer than the last build, so an edited `.ts` is
 * never run as old JavaScript.
 *
 * Which files: the entry points in ENTRIES that exist, and whatever they import. esbuild, not tsc:
 * the whole tree bundles in well under a second against 1.5 s for tsc 7 without type checking,
 * which matters for the rebuild that `sluice` does itself; and it is the transform tsx applies, so
 * compiled and source runs behave the same. Type checking stays `npm run typecheck`.
 *
 * dist/build-stamp.json records each input (sources, inlined JSON, the inlined packages'
 * package.json, this script) as it was compiled: mtime, size and sha256. The build is stale when
 * an input is missing, or its mtime or size differ and so does its content (a touched but
 * unchanged file, or a package unpacked with other mtimes, does not count). New files need no
 * check: a new module only runs if an edited file imports it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The build output folder (git-ignored). */
export const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, 'build-stamp.json');
const SELF = fileURLToPath(import.meta.url);

/**
 * The files a process starts from or loads by path: the package's export, the CLI (`cli/bin.js`
 * imports it), the local worker (forked) and the resolve hook (registered). Each keeps its path
 * under dist/ with `.js`.
 */
export const ENTRIES = ['index.ts', 'cli/main.ts', 'engine/executor/worker.ts', 'engine/modules/redirect-hook.ts'];

/**
 * Packages bundled into dist/: pure ES modules that nearly every process loads (apache-arrow 146
 * files, zod 95). All others stay external.
 */
export const INLINE = ['apache-arrow', 'flatbuffers', 'tslib', 'zod', 'fzstd'];

/** The entry points that exist in this tree (absolute paths). */
export function entryFiles() {
  return ENTRIES.map((e) => join(ROOT, e)).filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile());
}

/** The package a bare import names: `@scope/name` or `name`. */
function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Defines `__sluiceDist`, the URL of dist/ (with a trailing slash), in every output file. */
const BANNER = "const __sluiceDist = import.meta.url.slice(0, import.meta.url.lastIndexOf('/dist/') + 6);";

/** The sha256 of some bytes, hex. */
function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Why dist/ is out of date (never built, or the first input that changed or is gone), or undefined
 * when it is current. Costs a small JSON read and a stat per input (~200, ~1.5 ms); an input whose
 * mtime or size moved is read and hashed.
 */
export function staleReason() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return 'dist/ has not been built';
  }
  for (const [rel, was] of Object.entries(stamp.inputs)) {
    const path = join(ROOT, rel);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return `${rel} was removed`;
    if (st.mtimeMs === was.mtime && st.size === was.size) continue;
    if (sha256(readFileSync(path)) !== was.sha256) return `${rel} changed`;
  }
  return undefined;
}

/** Writes `data` to `path` unless it already holds it; through a temporary file and a rename, so a concurrent reader never sees half a file. */
function writeAtomic(path, data) {
  try {
    if (readFileSync(path).equals(data)) return false;
  } catch {
    // absent: write it
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
  return true;
}

/**
 * Sluice's relative imports and JSON are bundled; of the packages, only INLINE ones (their files
 * are then bundled too), every other stays an external import. Every source file esbuild reads
 * is recorded in `inputs` as read (mtime before the read, size, hash of what was compiled), so an
 * edit during the build shows as a change next time; `import.meta.url` in it becomes its
 * file-per-module dist/ URL (see the module comment).
 */
function plugin(inputs) {
  const record = (path, data, st) => {
    inputs[relative(ROOT, path).split(sep).join('/')] = { mtime: st.mtimeMs, size: data.length, sha256: sha256(data) };
  };
  return {
    name: 'sluice-build',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (a) => {
        if (a.kind === 'entry-point' || /^\.\.?\//.test(a.path) || a.path.startsWith('/')) return undefined;
        if (a.path.startsWith('node:') || !INLINE.includes(packageName(a.path))) return { path: a.path, external: true };
        return undefined;
      });
      b.onLoad({ filter: /\.(ts|json)$/ }, (a) => {
        // A bundled package's own JSON is left to esbuild (the repository itself may sit under a node_modules/).
        if (relative(ROOT, a.path).split(sep)[0] === 'node_modules') return undefined;
        const st = statSync(a.path);
        const data = readFileSync(a.path);
        record(a.path, data, st);
        if (a.path.endsWith('.json')) return { contents: data, loader: 'json' };
        // `define` maps import.meta.url to __sluiceUrl in code only (not in strings); this line,
        // first so that line numbers stay the source's, gives each module its own value.
        const url = JSON.stringify(relative(ROOT, a.path).split(sep).join('/').replace(/\.ts$/, '.js'));
        return { contents: `const __sluiceUrl = __sluiceDist + ${url}; ${data.toString('utf8')}`, loader: 'ts' };
      });
      b.onEnd(() => {
        // A changed version of an inlined package makes the build stale like a changed source.
        for (const name of INLINE) {
          const path = join(ROOT, 'node_modules', name, 'package.json');
          const st = statSync(path, { throwIfNoEntry: false });
          if (st) record(path, readFileSync(path), st);
        }
      });
    },
  };
}

/**
 * Writes esbuild's in-memory `outputs` (each only if its bytes changed) and deletes every other
 * `.js`/`.js.map` under `dir`: outputs of sources that are gone. Returns the number written.
 */
export function writeOutputs(outputs, dir) {
  const keep = new Set();
  let written = 0;
  for (const f of outputs) {
    keep.add(f.path);
    if (writeAtomic(f.path, Buffer.from(f.contents))) written++;
  }
  const removeOld = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) removeOld(p);
      else if (/\.js(\.map)?$/.test(e.name) && !keep.has(p)) unlinkSync(p);
    }
  };
  removeOld(dir);
  return written;
}

/**
 * Builds dist/ from the sources; resolves to the number of files written. Outputs that the build
 * no longer makes (old chunks, removed sources) are removed.
 */
export async function build() {
  const { build: esbuild } = await import('esbuild');
  const entries = entryFiles();
  const inputs = {};
  const self = readFileSync(SELF);
  inputs[relative(ROOT, SELF).split(sep).join('/')] = { mtime: statSync(SELF).mtimeMs, size: self.length, sha256: sha256(self) };
  const r = await esbuild({
    entryPoints: entries,
    absWorkingDir: ROOT,
    outdir: DIST,
    outbase: ROOT,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: BANNER },
    define: { __SLUICE_TEST_BUILD__: 'false', 'import.meta.url': '__sluiceUrl' },
    plugins: [plugin(inputs)],
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    write: false,
    logLevel: 'error',
  });
  const written = writeOutputs(r.outputFiles, DIST);
  const sorted = Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeAtomic(STAMP, Buffer.from(JSON.stringify({ inputs: sorted }, null, 1) + '\n'));
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = performance.now();
  const n = await build();
  process.stderr.write(`sluice: built dist/ (${n} file(s) updated) in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
}
