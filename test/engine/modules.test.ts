/**
 * How Sluice loads: one copy of the engine per process whichever way a pipeline names Sluice
 * (the compiled CLI, its workers, `sluice task`, the tests' source-mode processes), and a
 * `sluice --help` that loads neither TypeScript nor the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli, startProcess, tempProject } from '../helpers/cli.ts';
import { REPO } from '../helpers/data.ts';
import { loadPipeline } from '../../engine/load.ts';
import { preparePipelineImport } from '../../engine/modules/pipeline-imports.ts';
import * as source from '../../index.ts';

/**
 * A project with `node_modules/sluice` (as `npm install sluice` makes it) and a pipeline that
 * imports Sluice three ways, fails at import if they differ, and checks again inside a map (which
 * runs in the worker processes).
 */
function project(): { dir: string; file: string } {
  const dir = tempProject('sluice-modules-');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'sluice'), 'dir');
  writeFileSync(join(dir, 'in.jsonl'), '{"id":"a","text":"one"}\n{"id":"b","text":"two"}\n');
  const file = join(dir, 'pipeline.ts');
  writeFileSync(
    file,
    `import * as byName from 'sluice';
import * as bySource from ${JSON.stringify(join(REPO, 'index.ts'))};
import * as byDist from ${JSON.stringify(join(REPO, 'dist', 'index.js'))};
const same = () => byName.pipeline === bySource.pipeline && byName.pipeline === byDist.pipeline && byName.listOperators === byDist.listOperators;
if (!same()) throw new Error('two copies of Sluice');
export const engine = byName.pipeline;
export default byName.pipeline({ name: 'modules', workdir: 'runs/modules' }, (p) => {
  const docs = p.stage('load', byName.read.jsonl('in.jsonl'));
  p.stage('check', docs, [byName.map('same-copy', (d) => { if (!same()) throw new Error('two copies of Sluice in a worker'); return d; })]);
});
`,
  );
  return { dir, file };
}

test('the compiled CLI, its workers and sluice task see one copy of Sluice however the pipeline imports it', async () => {
  const { dir } = project();
  const r = await runCli(['run', 'pipeline.ts', '--workers', '2', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout).stages.map((s: { stage: string; docsOut: number }) => [s.stage, s.docsOut]),
    [
      ['load', 2],
      ['check', 2],
    ],
  );
  const t = await runCli(['task', 'pipeline.ts', 'load', '0', '--workdir', 'runs/task'], { cwd: dir });
  assert.equal(t.code, 0, t.stderr);
});

test('a source-mode process (the tests) loads the same pipeline against the .ts sources it already runs', async () => {
  const { file } = project();
  const p = await loadPipeline(file);
  assert.equal(p.name, 'modules');
  // Imported by hand too, as a user's module: tsx and the resolve hook when the process lacks them
  // (npm test runs compiled tests; loadPipeline itself may have used the compiled-pipeline cache).
  await preparePipelineImport(file);
  const mod = (await import(pathToFileURL(file).href)) as { engine: unknown };
  assert.equal(mod.engine, source.pipeline, "'sluice' and dist/index.js resolved to the sources this process runs");
});

test('without --conditions=sluice-source, a source-mode process still gets one copy (the resolve hook maps dist/ to the sources)', async () => {
  const { dir, file } = project();
  const script = `
    const { loadPipeline } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'engine', 'load.ts')).href)});
    const src = await import(${JSON.stringify(pathToFileURL(join(REPO, 'index.ts')).href)});
    await loadPipeline(${JSON.stringify(file)});
    const mod = await import(${JSON.stringify(pathToFileURL(file).href)});
    if (mod.engine !== src.pipeline) throw new Error('the pipeline got another copy');
    console.log('one copy');`;
  const r = await startProcess(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { cwd: dir }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'one copy');
});

test('two copies in one process fail at once with a clear error', async () => {
  const script = `await import(${JSON.stringify(pathToFileURL(join(REPO, 'index.ts')).href)}); await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'index.js')).href)});`;
  const r = await startProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO }).done;
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /two copies of Sluice are loaded in one process: file:\/\/.*\/engine\/modules\/single-copy\.ts and file:\/\/.*\/dist\/engine\/modules\/single-copy\.js/);
});

test('sluice --help loads only the compiled CLI: no tsx, no .ts file, no dependency', async () => {
  // A resolve hook that prints every module the process loads.
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("LOADED " + r.url + "\\\\n"); return r; }'));
  `)}`;
  const r = await startProcess(process.execPath, ['--import', hook, join(REPO, 'cli', 'bin.js'), '--help'], { cwd: REPO }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Commands:/m);
  const loaded = [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!).filter((u) => !u.startsWith('node:') && !u.startsWith('data:'));
  const root = pathToFileURL(REPO).href;
  const own = loaded.map((u) => (u.startsWith(root) ? u.slice(root.length) : u));
  assert.ok(own.includes('/dist/cli/main.js'), own.join(', '));
  for (const u of own) assert.match(u, /^\/(cli\/bin\.js|scripts\/build\.js|dist\/cli\/[\w/.-]+\.js|dist\/chunks\/[\w-]+\.js)$/, `--help loaded ${u}`);
  // The shared chunks it loads hold Sluice's CLI plumbing, no bundled package (esbuild marks each
  // bundled file with a `// node_modules/…` line).
  for (const u of own.filter((x) => x.startsWith('/dist/chunks/'))) {
    assert.doesNotMatch(readFileSync(join(REPO, u), 'utf8'), /^\/\/ node_modules\//m, `--help loaded a package through ${u}`);
  }
});

test('sluice run --help prints the usage without running anything', async () => {
  const r = await runCli(['run', '--help'], { cwd: REPO });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sluice run/);
});
