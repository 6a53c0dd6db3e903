/**
 * scripts/build.js, run on a small package of its own (a copy of the script in a temporary root,
 * so the test never rebuilds the repository's dist/ under the other tests): what it bundles, where
 * lazy modules go, what `import.meta.url` says, and when a build counts as stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startProcess } from '../helpers/cli.ts';
import { REPO } from '../helpers/data.ts';

function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'sluice-build-'));
  mkdirSync(join(root, 'scripts'));
  copyFileSync(join(REPO, 'scripts', 'build.js'), join(root, 'scripts', 'build.js'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  const files: Record<string, string> = {
    'index.ts': "export { twice } from './lib/math.ts';\nexport { here } from './lib/where.ts';\nexport const later = () => import('./lib/late.ts');\n",
    'lib/where.ts': 'export const here = (): string => import.meta.url;\n',
    'lib/math.ts': "import table from './table.json' with { type: 'json' };\nimport type { Unused } from './types.ts';\nexport const twice = (n: number): number => n * table.factor;\nexport type T = Unused;\n",
    'lib/table.json': '{ "factor": 2 }\n',
    'lib/types.ts': 'export interface Unused { x: number }\n',
    'lib/late.ts': "export const late: string = 'late';\n",
    'test/skip.test.ts': 'export const x: number = 1;\n',
    'pipelines/p.ts': 'export const y: number = 1;\n',
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), text);
  }
  return root;
}

async function build(root: string): Promise<void> {
  const r = await startProcess(process.execPath, [join(root, 'scripts', 'build.js')], { cwd: tmpdir() }).done;
  assert.equal(r.code, 0, r.stderr);
}

async function staleReason(root: string): Promise<string | undefined> {
  const m = (await import(`${pathToFileURL(join(root, 'scripts', 'build.js')).href}?${Math.random()}`)) as { staleReason(): string | undefined };
  return m.staleReason();
}

/** The `.js` files under `dir` (relative paths, sorted). */
function jsFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...jsFiles(join(dir, e.name), `${prefix}${e.name}/`));
    else if (e.name.endsWith('.js')) out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

test('build bundles the entry points into dist/ (shared and lazy modules in dist/chunks/), inlines JSON, and skips tests and pipelines', async () => {
  const root = makeRoot();
  assert.equal(await staleReason(root), 'dist/ has not been built');
  await build(root);
  const files = jsFiles(join(root, 'dist'));
  assert.ok(files.includes('index.js') && existsSync(join(root, 'dist', 'index.js.map')), files.join(', '));
  assert.ok(!files.includes('lib/math.js'), 'a module that is not an entry point is bundled, not emitted on its own');
  const index = readFileSync(join(root, 'dist', 'index.js'), 'utf8');
  assert.match(index, /factor: 2/, 'the JSON is inlined');
  assert.match(index, /import\("\.\/chunks\/late-[\w]+\.js"\)/, 'a dynamic import stays lazy, in a chunk of its own');
  assert.ok(!existsSync(join(root, 'dist', 'test')) && !existsSync(join(root, 'dist', 'pipelines')));
  const mod = (await import(pathToFileURL(join(root, 'dist', 'index.js')).href)) as { twice(n: number): number; later(): Promise<{ late: string }>; here(): string };
  assert.equal(mod.twice(21), 42);
  assert.equal((await mod.later()).late, 'late');
  assert.equal(mod.here(), pathToFileURL(join(root, 'dist', 'lib', 'where.js')).href, 'import.meta.url is the file-per-module URL');
  assert.equal(await staleReason(root), undefined);
});

test('a build is stale when a source or an inlined file changes or is removed, not when it is only touched; a rebuild drops outputs it no longer makes', async () => {
  const root = makeRoot();
  await build(root);
  const future = new Date(Date.now() + 60_000);
  utimesSync(join(root, 'lib', 'math.ts'), future, future);
  assert.equal(await staleReason(root), undefined, 'same content, other mtime: still current');
  writeFileSync(join(root, 'lib', 'table.json'), '{ "factor": 3 }\n');
  assert.equal(await staleReason(root), 'lib/table.json changed');
  await build(root);
  assert.equal(await staleReason(root), undefined);
  const mod = (await import(`${pathToFileURL(join(root, 'dist', 'index.js')).href}?v=3`)) as { twice(n: number): number };
  assert.equal(mod.twice(21), 63, 'the rebuilt output has the new JSON inlined');
  const lateChunks = jsFiles(join(root, 'dist')).filter((f) => f.startsWith('chunks/late-'));
  assert.equal(lateChunks.length, 1, lateChunks.join(', '));
  writeFileSync(join(root, 'index.ts'), 'export const only = 1;\n');
  rmSync(join(root, 'lib', 'late.ts'));
  const reason = await staleReason(root);
  assert.ok(reason === 'index.ts changed' || reason === 'lib/late.ts was removed', reason);
  await build(root);
  assert.deepEqual(jsFiles(join(root, 'dist')), ['index.js'], 'the chunk of the removed source is gone');
  assert.equal(await staleReason(root), undefined);
});

test('sluice rebuilds a stale dist/ before running, so an edited source never runs as old JavaScript', async () => {
  // On a copy of the CLI's own layout: cli/bin.js, scripts/build.js and a cli/main.ts.
  const root = makeRoot();
  mkdirSync(join(root, 'cli'));
  copyFileSync(join(REPO, 'cli', 'bin.js'), join(root, 'cli', 'bin.js'));
  writeFileSync(join(root, 'cli', 'main.ts'), "export async function main(argv: string[]): Promise<number> { console.log('v1', argv.join(' ')); return 0; }\n");
  const run = () => startProcess(process.execPath, [join(root, 'cli', 'bin.js'), 'a', 'b'], { cwd: tmpdir() }).done;
  let r = await run();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'v1 a b\n', 'first run builds dist/');
  writeFileSync(join(root, 'cli', 'main.ts'), "export async function main(): Promise<number> { console.log('v2'); return 3; }\n");
  r = await run();
  assert.equal(r.stdout, 'v2\n');
  assert.equal(r.code, 3);
  writeFileSync(join(root, 'cli', 'main.ts'), 'export async function main(: broken\n');
  r = await run();
  assert.equal(r.code, 1);
  assert.match(r.stderr, /sluice: dist\/ is out of date \(cli\/main\.ts changed\) and rebuilding it failed: .*\nRun `npm run build`/s);
  assert.equal(r.stdout, '', 'the old build did not run');
});
