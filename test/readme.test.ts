import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli, tempProject, SLUICE } from './helpers/cli.ts';
import { REPO } from './helpers/data.ts';
import { commands } from '../cli/commands/index.ts';
import { main } from '../cli/main.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');

test("the README's pipeline example runs as written", async () => {
  const example = /```ts\n(import \{ pipeline, read, map, filter \} from 'sluice';[\s\S]*?)```/.exec(README)![1]!;
  const dir = tempProject();
  writeFileSync(join(dir, 'demo.ts'), example.replace("from 'sluice'", `from ${JSON.stringify(SLUICE)}`));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'a.jsonl.gz'), gzipSync('{"text":"  kept  "}\n{"text":"   "}\n'));
  const r = await runCli(['run', 'demo.ts', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.stages.map((x: { stage: string; docsOut: number }) => [x.stage, x.docsOut]), [['load', 2], ['clean', 1]]);
});

test('the README lists every CLI command, and each answers --help', async () => {
  // Through the real executable once: the overview names every command.
  const top = await runCli(['--help'], { cwd: REPO });
  assert.equal(top.code, 0, top.stderr);
  for (const c of commands) {
    assert.ok(README.includes(`sluice ${c.name}`), `README mentions sluice ${c.name}`);
    assert.match(top.stdout, new RegExp(`^  ${c.name} +\\S`, 'm'), `sluice --help lists ${c.name}`);
    // Each command's --help in-process (a process per command cost ~2.5 s of CPU each).
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main([c.name, '--help']);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0, c.name);
    const { usage } = await c.load();
    assert.equal(out.join(''), usage + '\n', `sluice ${c.name} --help prints its usage`);
    assert.match(usage, new RegExp(`^sluice ${c.name}\\b`), `${c.name}: usage starts with its synopsis`);
  }
});

test('every pipeline the README runs exists', () => {
  const named = new Set([...README.matchAll(/npx sluice run (pipelines\/[\w.-]+\.ts)/g)].map((m) => m[1]!));
  for (const f of ['pipelines/quickstart.ts', 'pipelines/post-training.ts']) assert.ok(named.has(f), `README runs ${f}`);
  for (const f of named) assert.ok(existsSync(join(REPO, f)), `README runs ${f}, which does not exist`);
});

test('the README Slurm command: a dry run of the quickstart prints the batch scripts', async () => {
  assert.ok(README.includes('npx sluice run pipelines/quickstart.ts --executor slurm --dry-run'));
  const workdir = mkdtempSync(join(tmpdir(), 'sluice-dry-'));
  const r = await runCli(['run', 'pipelines/quickstart.ts', '--executor', 'slurm', '--dry-run'], { cwd: REPO, env: { QUICKSTART_WORKDIR: workdir } });
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  assert.match(r.stdout + r.stderr, /#SBATCH --array=0\n/);
  assert.match(r.stdout + r.stderr, /#SBATCH --dependency=afterok:/);
  assert.match(r.stderr, /dry run: \d+ stage\(s\) would be submitted to Slurm/);
});
