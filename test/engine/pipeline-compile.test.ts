/**
 * The compiled `sluice` loads a plain TypeScript pipeline compiled and cached by esbuild, without
 * tsx (engine/modules/pipeline-compile.ts), and falls back to tsx outside that fast path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, SLUICE } from '../helpers/cli.ts';
import { REPO } from '../helpers/data.ts';
import { CACHE_LIMIT } from '../../engine/modules/pipeline-compile.ts';

/** A pipeline of one map stage over `data/in.jsonl` that tags docs with `import.meta` values and may throw. */
function pipelineText(sluice: string, extra = ''): string {
  return `import { pipeline, read, map } from ${JSON.stringify(sluice)};
import { basename } from 'node:path';
${extra}
const where = basename(import.meta.dirname) + '/' + basename(new URL(import.meta.url).pathname);
export default pipeline({ name: 'compiled', workdir: 'runs/w' }, (p) => {
  const raw = p.stage('load', read.jsonl('data/in.jsonl'));
  p.stage('tag', raw, [
    map('tag', (d) => {
      if (d.text === 'boom') throw new Error('boom from the pipeline');
      return { ...d, meta: { ...d.meta, where } };
    }, { where }),
  ]);
});
`;
}

function project(text: string, docs: string[]): { dir: string; cache: string } {
  // No package.json: a .ts file here is not "type": "module", which a pipeline must not need.
  const dir = mkdtempSync(join(tmpdir(), 'sluice-compiled-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'in.jsonl'), docs.map((t, i) => JSON.stringify({ id: `d${i}`, text: t })).join('\n') + '\n');
  writeFileSync(join(dir, 'pipeline.ts'), text);
  return { dir, cache: join(dir, 'cache') };
}

const cached = (cache: string): string[] => {
  try {
    return readdirSync(join(cache, 'pipelines')).filter((f) => f.endsWith('.mjs'));
  } catch {
    return [];
  }
};

test("a pipeline importing 'sluice' runs compiled and cached, in a folder that is not an ES-module package, with its own import.meta", async () => {
  const { dir, cache } = project(pipelineText('sluice'), ['one', 'two']);
  const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir, env: { SLUICE_CACHE: cache } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(cached(cache).length, 1, 'one compiled module in the cache');
  const summary = JSON.parse(r.stdout) as { stages: Array<{ stage: string; docsOut: number }> };
  assert.equal(summary.stages.find((s) => s.stage === 'tag')!.docsOut, 2);
  const out = await runCli(['status', 'pipeline.ts'], { cwd: dir, env: { SLUICE_CACHE: cache } });
  assert.match(out.stdout, /tag\s+done/);
  const compiled = readFileSync(join(cache, 'pipelines', cached(cache)[0]!), 'utf8');
  assert.ok(compiled.includes(JSON.stringify(join(dir, 'pipeline.ts'))), 'import.meta.filename is the pipeline file, not the cache file');
  assert.ok(compiled.includes(`from${JSON.stringify(join(REPO, 'dist', 'index.js'))}`), "'sluice' is the compiled CLI's own copy");
  rmSync(dir, { recursive: true, force: true });
});

test("a user function's error in a compiled pipeline names the pipeline file and line", async () => {
  const { dir, cache } = project(pipelineText(SLUICE), ['fine', 'boom']);
  const r = await runCli(['run', 'pipeline.ts', '--retries', '1'], { cwd: dir, env: { SLUICE_CACHE: cache } });
  assert.notEqual(r.code, 0);
  assert.equal(cached(cache).length, 1);
  const log = r.stderr.match(/log: (\S+?_logs\/\d+\.log)/)?.[1];
  assert.ok(log, r.stderr);
  const text = readFileSync(log!.startsWith('/') ? log! : join(dir, log!), 'utf8');
  assert.match(text, /boom from the pipeline/);
  assert.match(text, new RegExp(`${join(dir, 'pipeline.ts').replace(/[.]/g, '\\.')}:9:`), text);
  rmSync(dir, { recursive: true, force: true });
});

test('a pipeline with a relative import of a TypeScript helper loads through tsx, unchanged', async () => {
  const { dir, cache } = project(pipelineText(SLUICE, "import { suffix } from './helper.ts';\nvoid suffix;"), ['one']);
  writeFileSync(join(dir, 'helper.ts'), "export const suffix: string = '!';\n");
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir, env: { SLUICE_CACHE: cache } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(cached(cache), [], 'not compiled: tsx loaded it');
  rmSync(dir, { recursive: true, force: true });
});

test('the cache keeps at most CACHE_LIMIT compiled pipelines, dropping the least recently used', async () => {
  const { dir, cache } = project(pipelineText('sluice'), ['one']);
  const folder = join(cache, 'pipelines');
  mkdirSync(folder, { recursive: true });
  // CACHE_LIMIT old entries, then one used recently: the new compile prunes the oldest.
  const old = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < CACHE_LIMIT; i++) {
    const f = join(folder, `old${String(i).padStart(4, '0')}.mjs`);
    writeFileSync(f, 'export default 1;\n');
    utimesSync(f, old, old);
  }
  writeFileSync(join(folder, 'recent.mjs'), 'export default 1;\n');
  const r = await runCli(['status', 'pipeline.ts'], { cwd: dir, env: { SLUICE_CACHE: cache } });
  assert.equal(r.code, 0, r.stderr);
  const left = cached(cache);
  assert.ok(left.length < CACHE_LIMIT, `${left.length} entries left`);
  assert.ok(existsSync(join(folder, 'recent.mjs')), 'the recently used entry stays');
  assert.ok(!existsSync(join(folder, 'old0000.mjs')), 'the oldest entry went');
  assert.equal(left.filter((f) => !f.startsWith('old') && f !== 'recent.mjs').length, 1, 'the new compile is kept');
  rmSync(dir, { recursive: true, force: true });
});
