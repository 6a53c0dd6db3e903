/**
 * Values captured by user functions enter the stage fingerprint (issue 15, section 2), through the
 * real `sluice` CLI: an environment variable read at module level, an edited module constant, an
 * edited constant captured by an imported local helper, explicit `params`, and the refusal of a
 * captured value that cannot be hashed. Each run here used to print "nothing to do" and keep the
 * old output, or ran with a captured class instance without a word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, writePipeline } from '../helpers/cli.ts';
import { fixtureText, writeInputs, writeTestPipeline } from '../helpers/fixtures.ts';
import { readDocsParquet } from '../../engine/parquet.ts';
import type { Doc, Manifest } from '../../engine/types.ts';
import type { RunSummary } from '../../engine/runner.ts';

async function run(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ summary: RunSummary; stderr: string }> {
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '1'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  return { summary: JSON.parse(r.stdout) as RunSummary, stderr: r.stderr };
}

const statuses = (s: RunSummary) => s.stages.map((x) => [x.stage, x.status]);
const clean = (s: RunSummary) => s.stages.find((x) => x.stage === 'clean')!;

async function docsOf(dir: string): Promise<Doc[]> {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const out: Doc[] = [];
  for (const f of m.files) for await (const b of readDocsParquet(join(dir, f.path))) out.push(...b);
  return out;
}

/** How many of the fixture docs have at least `min` characters. */
function expectedLonger(n: number, min: number): number {
  return Array.from({ length: n }, (_, i) => fixtureText(i)).filter((t) => t.length >= min).length;
}

const N = 60;
const LOAD = `const raw = p.stage('load', read.jsonl('data/*.jsonl'));`;

test('a threshold read from the environment at module level: changing it re-runs the stage with the new value', async () => {
  const dir = tempProject();
  writeInputs(dir, 2, N / 2);
  writePipeline(
    dir,
    'pipeline.ts',
    `const MIN = Number(process.env.MIN);
export default pipeline({ name: 'env', workdir: 'runs' }, (p) => {
  ${LOAD}
  p.stage('clean', raw, [filter.where('min-len', (d) => d.text.length >= MIN || { drop: 'short' })]);
});`,
  );
  const a = await run(dir, { MIN: '5' });
  assert.deepEqual(statuses(a.summary), [['load', 'ran'], ['clean', 'ran']]);
  assert.equal(clean(a.summary).docsOut, expectedLonger(N, 5));

  const b = await run(dir, { MIN: '40' });
  assert.deepEqual(statuses(b.summary), [['load', 'skipped'], ['clean', 'ran']], 'MIN=40 re-runs the filter stage, not its input');
  assert.equal(clean(b.summary).docsOut, expectedLonger(N, 40));
  assert.ok(clean(b.summary).docsOut < clean(a.summary).docsOut, 'and its output differs');
  assert.notEqual(clean(b.summary).dir, clean(a.summary).dir);
  assert.ok((await docsOf(clean(b.summary).dir)).every((d) => d.text.length >= 40));

  const c = await run(dir, { MIN: '40' });
  assert.match(c.stderr, /nothing to do/, 'the same value again is up to date');
  const d = await run(dir, { MIN: '5' });
  assert.deepEqual(statuses(d.summary), [['load', 'skipped'], ['clean', 'skipped']], 'going back to MIN=5 finds the first output');
  assert.equal(clean(d.summary).dir, clean(a.summary).dir);
});

test('editing a module-level constant in the pipeline file re-runs the stage', async () => {
  const dir = tempProject();
  writeInputs(dir, 1, N);
  const write = (min: number) =>
    writePipeline(
      dir,
      'pipeline.ts',
      `const MIN = ${min};
export default pipeline({ name: 'edit', workdir: 'runs' }, (p) => {
  ${LOAD}
  p.stage('clean', raw, [filter.where('min-len', (d) => d.text.length >= MIN || { drop: 'short' })]);
});`,
    );
  write(5);
  const a = await run(dir);
  write(40);
  const b = await run(dir);
  assert.deepEqual(statuses(b.summary), [['load', 'skipped'], ['clean', 'ran']]);
  assert.equal(clean(a.summary).docsOut, expectedLonger(N, 5));
  assert.equal(clean(b.summary).docsOut, expectedLonger(N, 40));
});

test('a constant captured by an imported local helper: editing the helper module re-runs the stage', async () => {
  const dir = tempProject();
  writeInputs(dir, 1, N);
  const helper = (limit: number) => writeFileSync(join(dir, 'rules.ts'), `const LIMIT = ${limit};\nexport function long(text: string): boolean {\n  return text.length >= LIMIT;\n}\n`);
  writePipeline(
    dir,
    'pipeline.ts',
    `import { long } from './rules.ts';
export default pipeline({ name: 'helper', workdir: 'runs' }, (p) => {
  ${LOAD}
  p.stage('clean', raw, [filter.where('long', (d) => long(d.text) || { drop: 'short' })]);
});`,
  );
  helper(5);
  const a = await run(dir);
  helper(40);
  const b = await run(dir);
  assert.deepEqual(statuses(b.summary), [['load', 'skipped'], ['clean', 'ran']]);
  assert.equal(clean(a.summary).docsOut, expectedLonger(N, 5));
  assert.equal(clean(b.summary).docsOut, expectedLonger(N, 40));
});

test('params: the functions of filter.where and map receive them, and a change re-runs the stage', async () => {
  const dir = tempProject();
  writeInputs(dir, 1, N);
  writePipeline(
    dir,
    'pipeline.ts',
    `export default pipeline({ name: 'params', workdir: 'runs' }, (p) => {
  ${LOAD}
  p.stage('clean', raw, [
    filter.where('min-len', (d, _ctx, { min }) => d.text.length >= min || { drop: 'short' }, { params: { min: Number(process.env.MIN) } }),
    map('tag', (d, _ctx, { tag }) => ({ ...d, meta: { ...d.meta, tag } }), { params: { tag: process.env.TAG ?? 'none' } }),
  ]);
});`,
  );
  const a = await run(dir, { MIN: '5', TAG: 'first' });
  assert.equal(clean(a.summary).docsOut, expectedLonger(N, 5));
  assert.deepEqual([...new Set((await docsOf(clean(a.summary).dir)).map((d) => d.meta.tag))], ['first']);
  const b = await run(dir, { MIN: '5', TAG: 'second' });
  assert.deepEqual(statuses(b.summary), [['load', 'skipped'], ['clean', 'ran']]);
  assert.deepEqual([...new Set((await docsOf(clean(b.summary).dir)).map((d) => d.meta.tag))], ['second']);

  // A parameter that is not JSON is refused when the pipeline loads.
  const r = await runCli(['run', 'pipeline.ts', '--workers', '1'], { cwd: dir, env: { TAG: 'x' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /filter\.where\('min-len'\): params\.min is NaN, which JSON cannot hold/);
});

test('a captured value that cannot be hashed is refused at load, naming the stage, the function, the variable and the fix', async () => {
  const dir = tempProject();
  writeInputs(dir, 1, 10);
  writePipeline(
    dir,
    'pipeline.ts',
    `class Counter { seen = 0; }
const counter = new Counter();
export default pipeline({ name: 'refuse', workdir: 'runs' }, (p) => {
  ${LOAD}
  p.stage('clean', raw, [filter.where('count', (d) => { counter.seen++; return d.text.length > 3; })]);
});`,
  );
  const expected =
    "stage 'clean', filter.where('count'): the function captures 'counter' (an instance of Counter), which cannot be part of the stage fingerprint, so a change to it would not re-run the stage. Fix: pass the values the function depends on through params (JSON: e.g. filter.where('count', fn, { params: { … } }), which fn receives as its third argument), or make 'counter' a JSON value.";
  for (const cmd of ['run', 'status']) {
    const r = await runCli([cmd, 'pipeline.ts'], { cwd: dir });
    assert.equal(r.code, 1, `${cmd}: ${r.stderr}`);
    assert.ok(r.stderr.includes(expected), `${cmd} stderr:\n${r.stderr}`);
  }
});

test('inline constants (the engine test pipeline): an unchanged pipeline is up to date', async () => {
  const dir = tempProject();
  writeInputs(dir, 2, 20);
  writeTestPipeline(dir, { minWords: 5 });
  const a = await run(dir);
  assert.deepEqual(statuses(a.summary), [['load', 'ran'], ['clean', 'ran'], ['count', 'ran']]);
  const b = await run(dir);
  assert.match(b.stderr, /nothing to do/);
});
