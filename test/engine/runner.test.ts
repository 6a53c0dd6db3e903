import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempProject, writePipeline } from '../helpers/cli.ts';
import { fixtureText, treeHashes, writeInputs, writeTestPipeline } from '../helpers/fixtures.ts';
import { readDocsParquet, readParquetTables } from '../../engine/parquet.ts';
import type { Doc, Manifest } from '../../engine/types.ts';
import type { RunSummary } from '../../engine/runner.ts';

async function docsOf(dir: string): Promise<Doc[]> {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const out: Doc[] = [];
  for (const f of m.files) for await (const b of readDocsParquet(join(dir, f.path))) out.push(...b);
  return out;
}

async function runJson(dir: string, args: string[] = []): Promise<RunSummary> {
  const r = await runCli(['run', 'pipeline.ts', '--json', ...args], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as RunSummary;
}

test('run writes Parquet + manifest per stage, audits drops and skips, and reruns incrementally', async () => {
  const dir = tempProject();
  const n = writeInputs(dir, 4, 50);
  writeTestPipeline(dir, { minWords: 5 });

  const st0 = await runCli(['status', 'pipeline.ts', '--json'], { cwd: dir });
  assert.equal(st0.code, 0, st0.stderr);
  assert.deepEqual(JSON.parse(st0.stdout).stages.map((s: { status: string }) => s.status), ['pending', 'pending', 'pending']);

  const s1 = await runJson(dir, ['--workers', '2']);
  assert.deepEqual(s1.stages.map((s) => [s.stage, s.status, s.tasks]), [['load', 'ran', 4], ['clean', 'ran', 4], ['count', 'ran', 1]]);
  const expectedKept = Array.from({ length: n }, (_, i) => i).filter((i) => fixtureText(i).split(' ').length >= 5);
  const load = s1.stages[0]!;
  const clean = s1.stages[1]!;
  assert.equal(load.docsOut, n, 'every valid line became a doc');
  assert.equal(clean.docsOut, expectedKept.length);

  const kept = await docsOf(clean.dir);
  assert.deepEqual(kept.map((d) => d.id), expectedKept.map((i) => `doc-${String(i).padStart(5, '0')}`), 'kept docs, in input order');
  assert.equal(kept[0]!.meta.url, `https://example.org/${expectedKept[0]}`);

  const manifest = JSON.parse(readFileSync(join(clean.dir, 'manifest.json'), 'utf8')) as Manifest;
  assert.equal(manifest.format, 'sluice.dataset/1');
  assert.equal(manifest.rows, expectedKept.length);
  assert.equal(manifest.files.length, 4);
  assert.match(manifest.files[0]!.sha256, /^[0-9a-f]{64}$/);
  const dropped = n - expectedKept.length;
  assert.deepEqual(manifest.stats.operators.minWords!.drops, { 'too-few-words': dropped });
  assert.equal(manifest.stats.operators.minWords!.docsIn, n);
  assert.equal(manifest.stats.operators.slow!.docsOut, n);

  // The drop log names every dropped doc with its reason and score.
  const drops: Array<{ id: string; reason: string; score: number; url: string; bytes: number }> = [];
  for (const f of readdirSync(join(clean.dir, '_audit')).filter((f) => f.startsWith('drops-'))) {
    for await (const t of readParquetTables(join(clean.dir, '_audit', f))) for (const r of t.toArray()) drops.push(r.toJSON() as never);
  }
  assert.equal(drops.length, dropped);
  assert.ok(drops.every((d) => d.reason === 'too-few-words' && d.score < 5 && d.url.startsWith('https://example.org/')));
  const textOf = (id: string) => fixtureText(Number(id.slice(4)));
  assert.ok(drops.every((d) => d.bytes === Buffer.byteLength(textOf(d.id))), 'each drop row carries the bytes of its text');
  assert.deepEqual(manifest.stats.operators.minWords!.dropBytes, { 'too-few-words': drops.reduce((a, d) => a + d.bytes, 0) });

  // The malformed line is skipped and recorded, not lost.
  const loadManifest = JSON.parse(readFileSync(join(load.dir, 'manifest.json'), 'utf8')) as Manifest;
  assert.deepEqual(loadManifest.stats.skipped, { 'invalid JSON': 1 });

  const count = JSON.parse(readFileSync(join(s1.stages[2]!.dir, 'count.json'), 'utf8'));
  assert.equal(count.docs, expectedKept.length);

  // Second run: nothing to do.
  const again = await runCli(['run', 'pipeline.ts'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /nothing to do: all 3 stage\(s\) up to date/);

  // A threshold change re-runs that stage and what follows, not the source stage.
  writeTestPipeline(dir, { minWords: 10 });
  const st1 = JSON.parse((await runCli(['status', 'pipeline.ts', '--json'], { cwd: dir })).stdout);
  assert.deepEqual(st1.stages.map((s: { status: string }) => s.status), ['done', 'stale', 'stale']);
  const s2 = await runJson(dir);
  assert.deepEqual(s2.stages.map((s) => s.status), ['skipped', 'ran', 'ran']);
  assert.equal(s2.stages[1]!.docsOut, Array.from({ length: n }, (_, i) => i).filter((i) => fixtureText(i).split(' ').length >= 10).length);

  // --force re-runs one stage only; its output is identical.
  const before = treeHashes(s2.stages[1]!.dir);
  const s3 = await runJson(dir, ['--force', 'clean']);
  assert.deepEqual(s3.stages.map((s) => s.status), ['skipped', 'ran', 'skipped']);
  assert.deepEqual(treeHashes(s3.stages[1]!.dir), before);

  // `sluice dag` shows the chain.
  const dag = await runCli(['dag', 'pipeline.ts'], { cwd: dir });
  assert.match(dag.stdout, /clean ⇐ load\n {4}load → map\(slow\) → filter\.where\(minWords\)/);
});

test('output is byte-identical for --workers 1 and --workers 4', async () => {
  const dir = tempProject();
  writeInputs(dir, 6, 40);
  writeTestPipeline(dir, { workdir: 'runs/w1' }, 'p1.ts');
  writeTestPipeline(dir, { workdir: 'runs/w4' }, 'p4.ts');
  const a = await runCli(['run', 'p1.ts', '--workers', '1'], { cwd: dir });
  // All four workers at once (no ramp), so the tasks really run in parallel.
  const b = await runCli(['run', 'p4.ts', '--workers', '4'], { cwd: dir, env: { SLUICE_WORKER_RAMP_MS: '0' } });
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  // Plans hold absolute URIs of the workdir; everything else must match byte for byte.
  const strip = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => !k.endsWith('_plan.json')));
  const ha = strip(treeHashes(join(dir, 'runs/w1')));
  assert.ok(Object.keys(ha).length > 15);
  assert.deepEqual(strip(treeHashes(join(dir, 'runs/w4'))), ha);
});

test('kill -9 mid-run, then run again: completes byte-identical to an uninterrupted run', async () => {
  const dir = tempProject();
  writeInputs(dir, 8, 30);
  writeTestPipeline(dir, { delayMs: 15 });
  const clean = await runCli(['run', 'pipeline.ts', '--workers', '2'], { cwd: dir });
  assert.equal(clean.code, 0, clean.stderr);
  const reference = treeHashes(join(dir, 'runs/test'));
  cpSync(join(dir, 'runs'), join(dir, 'reference'), { recursive: true });
  rmSync(join(dir, 'runs'), { recursive: true });

  const { child, done } = startCli(['run', 'pipeline.ts', '--workers', '2'], { cwd: dir });
  // Wait until some, but not all, clean tasks have committed, then kill the whole process group.
  const tasksDir = () => {
    const root = join(dir, 'runs/test/clean');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((fp) => (existsSync(join(root, fp, '_tasks')) ? readdirSync(join(root, fp, '_tasks')).filter((f) => /^\d{5}\.json$/.test(f)) : []));
  };
  const t0 = Date.now();
  while (tasksDir().length < 2 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
  process.kill(-child.pid!, 'SIGKILL');
  const killed = await done;
  assert.equal(killed.signal, 'SIGKILL');
  const partial = tasksDir().length;
  assert.ok(partial >= 2 && partial < 8, `killed with ${partial} of 8 clean tasks complete`);
  const st = JSON.parse((await runCli(['status', 'pipeline.ts', '--json'], { cwd: dir })).stdout);
  assert.equal(st.stages[1].status, 'partial');

  const resumed = await runCli(['run', 'pipeline.ts', '--workers', '2', '--json'], { cwd: dir });
  assert.equal(resumed.code, 0, resumed.stderr);
  const summary = JSON.parse(resumed.stdout) as RunSummary;
  assert.equal(summary.stages[1]!.status, 'resumed');
  assert.equal(summary.stages[1]!.tasksSkipped, partial);
  assert.deepEqual(treeHashes(join(dir, 'runs/test')), reference);
});

test('a failing task is retried, logged with its stack, and fails the run with a clear message', async () => {
  const dir = tempProject();
  writeInputs(dir, 2, 10);
  writeTestPipeline(dir, { failOn: 'doc-00012' });
  const r = await runCli(['run', 'pipeline.ts', '--workers', '2', '--retries', '2'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /stage 'clean': 1 task\(s\) failed after 2 attempt\(s\); task 1: boom on doc-00012 \(log: .*_logs\/00001\.log\)/);
  const log = r.stderr.match(/log: (.*?_logs\/00001\.log)/)![1]!;
  const text = readFileSync(log, 'utf8');
  assert.match(text, /attempt 1 failed/);
  assert.match(text, /attempt 2 failed/);
  assert.match(text, /Error: boom on doc-00012\n\s+at /);
  // The task that succeeded is complete; the stage has no manifest (nothing looks complete).
  const st = JSON.parse((await runCli(['status', 'pipeline.ts', '--json'], { cwd: dir })).stdout);
  assert.equal(st.stages[1].status, 'partial');
  assert.equal(st.stages[1].tasksDone, 1);
});

test('bad pipeline files and inputs give one clear error and a non-zero exit', async () => {
  const dir = tempProject();
  writeFileSync(join(dir, 'syntax.ts'), 'export default pipeline({ name: "x", workdir: "w" }, (p) => {');
  const a = await runCli(['run', 'syntax.ts'], { cwd: dir });
  assert.equal(a.code, 1);
  assert.match(a.stderr, /sluice run: error: failed to load pipeline syntax\.ts/);
  writeFileSync(join(dir, 'nodefault.ts'), 'export const x = 1;\n');
  const b = await runCli(['run', 'nodefault.ts'], { cwd: dir });
  assert.match(b.stderr, /pipeline file nodefault\.ts: the default export must be pipeline/);
  writeTestPipeline(dir, {});
  const c = await runCli(['run', 'pipeline.ts'], { cwd: dir });
  assert.equal(c.code, 1);
  assert.match(c.stderr, /input data\/\*\.jsonl: no files match/);
  const d = await runCli(['run', 'missing.ts'], { cwd: dir });
  assert.match(d.stderr, /pipeline file missing\.ts does not exist/);
  const e = await runCli(['run', 'pipeline.ts', '--workers', 'zero'], { cwd: dir });
  assert.equal(e.code, 2);
  assert.match(e.stderr, /--workers must be an integer/);
  const f = await runCli(['run', 'pipeline.ts', '--only', 'nope'], { cwd: dir });
  assert.match(f.stderr, /pipeline 'test' has no stage 'nope'; stages: load, clean, count/);
  const g = await runCli(['frobnicate'], { cwd: dir });
  assert.equal(g.code, 2);
  assert.match(g.stderr, /unknown command 'frobnicate'/);
  for (const cmd of ['run', 'status', 'dag', 'task', 'apply']) {
    const h = await runCli([cmd, '--help'], { cwd: dir });
    assert.equal(h.code, 0);
    assert.match(h.stdout, new RegExp(`sluice ${cmd}`));
  }
});

test('sluice task runs one task; --only runs one stage once its inputs are complete', async () => {
  const dir = tempProject();
  writeInputs(dir, 3, 10);
  writeTestPipeline(dir, {});
  const early = await runCli(['run', 'pipeline.ts', '--only', 'clean'], { cwd: dir });
  assert.equal(early.code, 1);
  assert.match(early.stderr, /stage 'clean' needs stage 'load', which is not complete/);
  const t = await runCli(['task', 'pipeline.ts', 'load', '1'], { cwd: dir });
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /load#1: done/);
  const t2 = await runCli(['task', 'pipeline.ts', 'load', '1'], { cwd: dir });
  assert.match(t2.stderr, /load#1: already complete/);
  const st = JSON.parse((await runCli(['status', 'pipeline.ts', '--json'], { cwd: dir })).stdout);
  assert.deepEqual([st.stages[0].status, st.stages[0].tasksDone, st.stages[0].tasks], ['partial', 1, 3]);
  const only = JSON.parse((await runCli(['run', 'pipeline.ts', '--only', 'load', '--json'], { cwd: dir })).stdout) as RunSummary;
  assert.deepEqual(only.stages.map((s) => [s.stage, s.status, s.tasksRun]), [['load', 'resumed', 2]]);
  const bad = await runCli(['task', 'pipeline.ts', 'load', '7'], { cwd: dir });
  assert.match(bad.stderr, /stage 'load' has 3 task\(s\); task index 7 is out of range/);
});

test('a worker killed mid-write and retried in the same run leaves no temporary file in the finished stage', async () => {
  const dir = tempProject();
  writeInputs(dir, 2, 10);
  const flag = join(dir, 'died-once');
  // The first attempt of task 1 of 'clean' SIGKILLs its own worker with its output file open.
  writePipeline(
    dir,
    'pipeline.ts',
    `import { existsSync, writeFileSync } from 'node:fs';
export default pipeline({ name: 'die', workdir: 'runs/die' }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  p.stage('clean', raw, [
    map('die-once', (d) => {
      if (d.id === 'doc-00012' && !existsSync(${JSON.stringify(flag)})) {
        writeFileSync(${JSON.stringify(flag)}, '');
        process.kill(process.pid, 'SIGKILL');
      }
      return d;
    }),
  ]);
});`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--workers', '2', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(flag), 'the first attempt was killed');
  const temps = Object.keys(treeHashes(join(dir, 'runs/die'))).filter((f) => /\.tmp-/.test(f));
  assert.deepEqual(temps, [], 'the killed attempt left no temporary file behind');
  assert.match(r.stderr, /clean: removed 1 temporary file\(s\) or unfinished upload\(s\) left by an interrupted write/);
  const summary = JSON.parse(r.stdout) as RunSummary;
  assert.equal(summary.stages[1]!.docsOut, 20);
});
