import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli, startCli, tempProject, writePipeline } from '../helpers/cli.ts';
import { COUNT_STAGE, treeHashes, writeInputs } from '../helpers/fixtures.ts';
import { makeBucket, needS3 } from '../helpers/s3.ts';
import { arrayChunks, arrayScript, jobEnv, plannerScript, rangeSpec, resourceLines, sbatchArgs, type ScriptContext } from '../../engine/executor/slurm-script.ts';
import { checkSbatchLine, sbatchWords, shq } from '../../engine/executor/slurm-syntax.ts';
import { slurmAvailable, type JobRecord } from '../../engine/executor/slurm-jobs.ts';
import { storage } from '../../engine/storage/index.ts';
import { run, type RunSummary } from '../../engine/runner.ts';
import { SlurmExecutor } from '../../engine/executor/slurm.ts';
import type { Executor } from '../../engine/executor/types.ts';

const cluster = await slurmAvailable();
const skip = cluster ? false : 'skipped: no Slurm cluster (sbatch/squeue not reachable)';
if (skip) console.log(`# slurm.test.ts: ${skip}; .ci/slurm.sh starts a one-node cluster`);
const s3skip = skip || (await needS3());

/** A marker value that must never appear in a generated script. */
const SECRET = 'sluice-test-secret-0c9f1e';

/**
 * load (JSONL) → clean (slow map + filter, resources) → merged (barrier doc stage) →
 * shards (custom, task count from its input's rows: needs a planner job) → count (custom).
 */
function writeSlurmPipeline(dir: string, name: string, delayMs = 0, full = true, file = 'pipeline.ts'): string {
  return writePipeline(
    dir,
    file,
    `
const shards = (input) => ({
  kind: 'custom', type: 'test.shards', name: 'test.shards', version: '1', config: {}, inputs: [input], output: 'docs',
  async taskCount(_ctx, inputs) { return Math.max(1, Math.ceil(inputs[0].manifest.rows / 12)); },
  async run(ctx) {
    const all = [];
    for await (const b of ctx.inputs[0].readDocs()) all.push(...b);
    const mine = all.filter((_d, i) => i % ctx.count === ctx.index);
    await ctx.writeDocs('part-' + String(ctx.index).padStart(5, '0') + '.parquet', (async function* () { yield mine; })());
  },
});
${COUNT_STAGE}export default pipeline({ name: ${JSON.stringify(name)}, workdir: 'runs/w' }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  const clean = p.stage('clean', raw, [
    map('slow', async (d) => { if (${delayMs}) await new Promise((r) => setTimeout(r, ${delayMs})); return { ...d, text: d.text.trim() }; }, { delayMs: ${delayMs} }),
    filter.where('minWords', (d) => { const n = d.text.split(' ').length; return n >= 5 ? { keep: true, score: n } : { drop: 'too-few-words', score: n }; }, { minWords: 5 }),
  ], { cpus: 1, mem: '200M', time: '10:00', sbatch: ['--comment=sluice-test'], setup: 'export SLUICE_TEST_SETUP=1' });
  const merged = p.stage('merged', clean, [], { barrier: true });
  if (${full}) p.stage('count', count(p.stage('shards', shards(merged))));
});
`,
  );
}

function readRecords(stageDir: string): JobRecord[] {
  const out: JobRecord[] = [];
  const root = join(stageDir, '_slurm');
  if (!existsSync(root)) return out;
  for (const run of readdirSync(root)) {
    const jobs = join(root, run, 'jobs');
    if (existsSync(jobs)) for (const f of readdirSync(jobs)) out.push(JSON.parse(readFileSync(join(jobs, f), 'utf8')) as JobRecord);
  }
  return out.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Hashes of a workdir's stage outputs, without what only one executor writes (logs, Slurm
 * scripts and records) and the run report `audit.html` (it carries its generation time).
 */
function outputHashes(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(treeHashes(dir)).filter(([k]) => !k.includes('/_slurm/') && !k.includes('/_logs/') && !k.endsWith('/audit.html')));
}

async function runJson(dir: string, args: string[], env?: NodeJS.ProcessEnv, file = 'pipeline.ts'): Promise<RunSummary> {
  const r = await runCli(['run', file, '--json', ...args], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as RunSummary;
}

/** The local executor's output for the same project, as the reference; leaves `runs/` empty. */
async function localReference(dir: string, file = 'pipeline.ts'): Promise<Record<string, string>> {
  await runJson(dir, ['--workers', '2'], undefined, file);
  const ref = outputHashes(join(dir, 'runs'));
  rmSync(join(dir, 'runs'), { recursive: true, force: true });
  return ref;
}

const SLURM_ARGS = ['--executor', 'slurm', '--slurm-poll-ms', '250'];

test('array specs: ranges, MaxArraySize windows with offsets, long specs split', () => {
  assert.equal(rangeSpec([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  assert.deepEqual(arrayChunks([0, 1, 2, 3], 1001), [{ offset: 0, tasks: [0, 1, 2, 3], spec: '0-3' }]);
  // Slurm rejects indices ≥ MaxArraySize: 2,500 tasks at 1,001 become three arrays with offsets.
  const big = arrayChunks(Array.from({ length: 2500 }, (_, i) => i), 1001);
  assert.deepEqual(big.map((c) => [c.offset, c.spec, c.tasks.length]), [[0, '0-1000', 1001], [1001, '0-1000', 1001], [2002, '0-497', 498]]);
  // Only the incomplete tasks are submitted.
  assert.deepEqual(arrayChunks([3, 1500, 1501, 9], 1001).map((c) => [c.offset, c.spec]), [[0, '3,9'], [1001, '499-500']]);
  const sparse = arrayChunks(Array.from({ length: 400 }, (_, i) => i * 2), 1001, 100);
  assert.ok(sparse.length > 1 && sparse.every((c) => c.spec.length <= 100));
  assert.deepEqual(sparse.flatMap((c) => c.tasks), Array.from({ length: 400 }, (_, i) => i * 2));
  assert.throws(() => arrayChunks([1], 0), /MaxArraySize must be a positive integer/);
});

test('batch scripts: stage resources, extra #SBATCH lines, setup, retries in place, no environment values and no paths', () => {
  const ctx: ScriptContext = { pipeline: 'p', file: '/shared/p.ts', workdir: 's3://b/w', baseDir: '/shared', stage: 'train', logDir: '/shared/logs', bin: '/opt/sluice/cli/bin.js', node: '/usr/bin/node' };
  const s = arrayScript(ctx, { cpus: 8, mem: '32G', time: '2:00:00', partition: 'gpu', gres: 'gpu:1', sbatch: ['#SBATCH --qos=high'], setup: 'module load cuda' }, { maxParallel: 4, sbatch: ['--account=lab'], setup: 'source /shared/env.sh' }, { offset: 1001, tasks: [1001, 1002], spec: '0-1' }, 3, ['41', '42']);
  for (const line of ['--array=0-1%4', '--cpus-per-task=8', '--mem=32G', '--time=2:00:00', '--partition=gpu', '--gres=gpu:1', '--account=lab', '--qos=high', '--dependency=afterok:41:42', '--export=ALL']) {
    assert.ok(s.includes(`#SBATCH ${line}\n`), `missing #SBATCH ${line}:\n${s}`);
  }
  assert.match(s, /source \/shared\/env\.sh\nmodule load cuda\n/);
  assert.match(s, /TASK=\$\(\( SLURM_ARRAY_TASK_ID \+ 1001 \)\)/);
  assert.match(s, /"\$NODE" "\$SLUICE" task "\$PIPELINE" "\$STAGE" "\$TASK" --workdir "\$WORKDIR"/);
  assert.match(s, /ATTEMPTS=3/);
  assert.doesNotMatch(s, /AWS_|SECRET|TOKEN/);
  // Paths reach the job as sbatch argv words and environment variables, never as script text.
  for (const path of ['/shared/p.ts', 's3://b/w', '/opt/sluice', '/usr/bin/node', '/shared/logs', '--chdir', '--output']) assert.ok(!s.includes(path), `${path} in the script:\n${s}`);
  assert.deepEqual(sbatchArgs(ctx, 'array'), ['--chdir=/shared', '--output=/shared/logs/train-%A_%a.out']);
  assert.deepEqual(sbatchArgs({ ...ctx, logDir: '/shared/100%x' }, 'planner'), ['--chdir=/shared', '--output=/shared/100%%x/train-plan-%j.out'], '% escaped for the filename pattern');
  assert.throws(() => sbatchArgs({ ...ctx, logDir: '/shared/a\\b', logDirOption: '/shared/a\\b' }, 'array'), /--slurm-log-dir "\/shared\/a\\\\b" holds a backslash/);
  assert.deepEqual(jobEnv(ctx), { SLUICE_JOB_BIN: '/opt/sluice/cli/bin.js', SLUICE_JOB_PIPELINE: '/shared/p.ts', SLUICE_JOB_WORKDIR: 's3://b/w', SLUICE_JOB_NODE: '/usr/bin/node', SLUICE_JOB_LOG_DIR: '' });
  const planner = plannerScript({ ...ctx, logDirOption: '/shared/logs' }, {}, { node: '/x', logDir: '/shared/logs' }, [], ['--slurm-setup=a \'b\'\n$(c)']);
  assert.ok(planner.includes(`--detach '--slurm-setup=a '\\''b'\\''\n$(c)' "--slurm-node=$SLUICE_JOB_NODE" "--slurm-log-dir=$SLUICE_JOB_LOG_DIR"\n`), planner);
  assert.throws(() => resourceLines({ mem: 'lots' }, {}), /stage option 'mem' must be a size such as 4G, 500M or 1024 \(got "lots"\)/);
  assert.throws(() => resourceLines({ time: 'soon' }, {}, 'train'), /stage 'train' option 'time' must be a Slurm time such as 30, 2:00:00 or 1-12:00:00 \(got "soon"\)/);
  assert.throws(() => resourceLines({ sbatch: ['rm -rf /'] }, {}), /is not one sbatch option/);
});

test('shq: any string (quotes, $, backticks, newlines, non-ASCII) reads back unchanged through bash', () => {
  const special = fc.constantFrom("'", '"', '$', '`', '\\', '\n', '\r', '\t', ' ', '!', '*', '?', ';', '&', '|', '(', ')', '{', '}', '<', '>', '#', '~', '%', '=', 'é', '日', '😀', '\u2028', '\x7f', '\x01');
  const str = fc.string({ unit: fc.oneof(special, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 40 }).filter((x) => !x.includes('\0'));
  // One bash per batch of strings (spawning one per string would take seconds); each is read back
  // both as a command word and as an assignment, NUL-separated.
  fc.assert(
    fc.property(fc.array(str, { minLength: 1, maxLength: 40 }), (xs) => {
      const cmd = xs.map((x) => `printf '%s\\0' ${shq(x)}; v=${shq(x)}; printf '%s\\0' "$v"`).join('\n');
      const out = execFileSync('bash', ['-c', cmd], { encoding: 'utf8' }).split('\0').slice(0, -1);
      assert.deepEqual(out, xs.flatMap((x) => [x, x]));
    }),
    { numRuns: 25 },
  );
  assert.throws(() => shq('a\0b'), /NUL/);
});

test('values that become #SBATCH lines: Slurm grammar checked, control characters refused, errors name the option and value', () => {
  const hostile = ['debug\ntouch /tmp/x', 'debug;touch x', 'a`touch x`', '$(touch x)', "deb'ug", 'de"bug', 'a b', 'a#b', 'gpu\r', 'x\u0007', ''];
  for (const v of hostile) {
    const shown = JSON.stringify(v).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    assert.throws(() => resourceLines({ partition: v }, {}, 'train'), new RegExp(`stage 'train' option 'partition' must be Slurm name\\(s\\).* \\(got ${shown}\\)`), v);
    assert.throws(() => resourceLines({ gres: v }, {}, 'train'), new RegExp(`stage 'train' option 'gres' must be a GRES list.* \\(got ${shown}\\)`), v);
    assert.throws(() => resourceLines({ time: v }, {}), /option 'time' must be a Slurm time/, v);
    assert.throws(() => resourceLines({ mem: v }, {}), /option 'mem' must be a size/, v);
    assert.throws(() => resourceLines({}, { partition: v }), new RegExp(`--slurm-partition must be Slurm name\\(s\\).* \\(got ${shown}\\)`), v);
    assert.throws(() => new SlurmExecutor({ partition: v }), /--slurm-partition must be/, v);
    // (In a user's own sbatch line an unquoted `#` starts a comment, as sbatch reads it.)
    if (v !== 'a#b') assert.throws(() => resourceLines({ sbatch: [`--account=${v}`] }, {}), /sbatch' line .*(control character|not one sbatch option|unclosed quote|the value of --account must be)/, v);
  }
  assert.throws(() => new SlurmExecutor({ sbatch: ['--comment=x\ntouch /tmp/y'] }), /--slurm-sbatch line "--comment=x\\ntouch \/tmp\/y" holds a newline or other control character/);
  assert.throws(() => new SlurmExecutor({ logDir: '/a\\b' }), /--slurm-log-dir "\/a\\\\b" holds a backslash/);
  // What Slurm documents is accepted.
  assert.deepEqual(resourceLines({ partition: 'gpu,cpu-long', gres: 'gpu:a100:2,mps:100,shard:1K', time: '1-12:00:00' }, {}), ['--time=1-12:00:00', '--partition=gpu,cpu-long', '--gres=gpu:a100:2,mps:100,shard:1K']);
  for (const t of ['30', '30:00', '2:00:00', '1-12', '1-12:30', '1-12:30:00', 'UNLIMITED']) assert.deepEqual(resourceLines({ time: t }, {}), [`--time=${t}`]);
  // User sbatch lines keep sbatch's own syntax (quotes group words, a `#` starts a comment).
  assert.deepEqual(sbatchWords(`--comment="two words" # note`), ['--comment=two words']);
  assert.deepEqual(sbatchWords(`--a='x y'z \\"q -b`), ['--a=x yz', '"q', '-b']);
  assert.equal(sbatchWords(`--comment="open`), null);
  assert.equal(checkSbatchLine('l', '#SBATCH --comment="two words"'), '--comment="two words"');
  assert.equal(checkSbatchLine('l', '-A lab'), '-A lab');
  assert.throws(() => checkSbatchLine('l', '--comment=two words'), /is not one sbatch option/);
  assert.throws(() => checkSbatchLine('l', '-A lab;x'), /the value of --account must be a Slurm name/);
  assert.throws(() => checkSbatchLine('l', '--partition="a b"'), /the value of --partition must be Slurm name/);
});

test('--dry-run prints the whole chain (planner where the task count needs the inputs), submits and writes nothing', async () => {
  const dir = tempProject('sluice-slurm-');
  writeInputs(dir, 2, 20);
  writeSlurmPipeline(dir, 'dry');
  const r = await runCli(['run', 'pipeline.ts', '--executor', 'slurm', '--dry-run', '--slurm-partition', 'cpu', '--slurm-sbatch=--account=lab', '--slurm-max-parallel', '3'], { cwd: dir, env: { AWS_SECRET_ACCESS_KEY: SECRET } });
  assert.equal(r.code, 0, r.stderr);
  const heads = [...r.stdout.matchAll(/^# ---- (\S+): (\S+)/gm)].map((m) => `${m[1]}:${m[2]}`);
  assert.deepEqual(heads, ['load:array', 'load:finalize', 'clean:array', 'clean:finalize', 'merged:array', 'merged:finalize', 'shards:planner']);
  assert.match(r.stdout, /#SBATCH --array=0-1%3\n/);
  assert.match(r.stdout, /#SBATCH --dependency=afterok:<load\.finalize>\n/);
  assert.match(r.stdout, /#SBATCH --cpus-per-task=1\n#SBATCH --mem=200M\n#SBATCH --time=10:00\n#SBATCH --partition=cpu\n#SBATCH --account=lab\n#SBATCH --comment=sluice-test\n/);
  assert.match(r.stdout, /export SLUICE_TEST_SETUP=1/);
  // The barrier stage is one task; the planner continues the same run on the cluster.
  assert.match(r.stdout, /# ---- merged: array \(1 task\(s\)\)/);
  assert.match(r.stdout, /--executor slurm --detach '--slurm-run-id=[^']+' '--retries=3' '--slurm-max-parallel=3' '--slurm-partition=cpu' '--slurm-sbatch=--account=lab'/);
  assert.ok(!r.stdout.includes(SECRET), 'no credential in scripts');
  assert.match(r.stderr, /dry run: 5 stage\(s\) would be submitted/);
  assert.equal(existsSync(join(dir, 'runs')), false, 'a dry run writes nothing');

  const bad = await runCli(['run', 'pipeline.ts', '--dry-run'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--dry-run needs --executor slurm/);
  const bad2 = await runCli(['run', 'pipeline.ts', '--executor', 'pbs'], { cwd: dir });
  assert.equal(bad2.code, 2);
  assert.match(bad2.stderr, /--executor must be 'local' or 'slurm'/);
});

test('hostile #SBATCH values (newline, backticks, `;`, quotes) are refused before anything is submitted; nothing they hold runs', async () => {
  const dir = tempProject('sluice-slurm-');
  writeInputs(dir, 1, 5);
  writePipeline(dir, 'pipeline.ts', `export default pipeline({ name: 'hostile', workdir: 'runs/w' }, (p) => { p.stage('load', read.jsonl('data/*.jsonl'), [], JSON.parse(process.env.STAGE_OPTS ?? '{}')); });`);
  const m = (tag: string) => join(dir, `pwned-${tag}`);
  // Real submissions (no --dry-run): on a cluster each of these ran its command before the fix.
  // (Every option's grammar is covered by the unit test above; these show it end to end.)
  const cases: Array<{ args?: string[]; stage?: object; code: number; error: RegExp }> = [
    { args: ['--slurm-partition', `debug\ntouch ${m('partition')}`], code: 2, error: /--slurm-partition must be Slurm name\(s\) .* \(got "debug\\ntouch \/.*pwned-partition"\)/ },
    { args: [`--slurm-sbatch=--comment=x\ntouch ${m('sbatch')}`], code: 2, error: /--slurm-sbatch line "--comment=x\\ntouch .*pwned-sbatch" holds a newline/ },
    { stage: { partition: `debug\`touch ${m('bt')}\`' "$(touch ${m('quote')})"` }, code: 1, error: /stage 'load' option 'partition' must be Slurm name\(s\)/ },
    { stage: { gres: `gpu:1;touch ${m('semi')}` }, code: 1, error: /stage 'load' option 'gres' must be a GRES list/ },
  ];
  const results = await Promise.all(cases.map((c) => runCli(['run', 'pipeline.ts', ...SLURM_ARGS, ...(c.args ?? [])], { cwd: dir, env: { STAGE_OPTS: JSON.stringify(c.stage ?? {}) } })));
  results.forEach((r, i) => {
    assert.equal(r.code, cases[i]!.code, r.stderr);
    assert.match(r.stderr, cases[i]!.error);
  });
  // Nothing was submitted: no job record, no queued job of the pipeline, no marker.
  assert.ok(!existsSync(join(dir, 'runs')) || !(readdirSync(join(dir, 'runs'), { recursive: true }) as string[]).some((f) => f.includes('_slurm')));
  if (cluster) assert.doesNotMatch(execFileSync('squeue', ['-h', '-o', '%j'], { encoding: 'utf8' }), /sluice\.hostile\./);
  assert.deepEqual(pwned(dir), []);
});

/**
 * A file name holding what a shell or sbatch would act on if it were spliced into a script
 * unquoted: blanks, quotes, `$`, `%` (sbatch's filename patterns), backticks, `$(…)`, `;` and
 * non-ASCII. Each command it holds would create a `pwned-<tag>-*` file in the directory it runs in.
 */
function hostileName(tag: string): string {
  return `${tag} 'q' "dq" $HOME %j %x é 日本 \`touch pwned-${tag}-bt\` $(touch pwned-${tag}-cs); touch pwned-${tag}-semi`;
}

/** Files under `dir` whose name starts with `pwned` (left by a command that should never have run). */
function pwned(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /(^|\/)pwned[^/]*$/.test(f));
}

test('Slurm run from a hostile path: chain queued at once, split arrays, planner, output byte-identical to the local executor', { skip }, async () => {
  // The project directory (the working directory and the workdir under it), the pipeline file,
  // the node executable (--slurm-node) and --slurm-log-dir all have hostile names: the scripts
  // must pass them through verbatim, never run what they hold.
  const root = tempProject('sluice-slurm-');
  const dir = join(root, hostileName('project'));
  mkdirSync(dir);
  const file = `pipe line '$x' "é" ${hostileName('file')}.ts`;
  writeInputs(dir, 2, 20);
  writeSlurmPipeline(dir, 'chain', 0, true, file);
  const node = join(dir, hostileName('node'));
  symlinkSync(process.execPath, node);
  const logDir = join(dir, hostileName('logs'));
  const reference = await localReference(dir, file);

  // MaxArraySize 1 forces one array per task of 'load' and 'clean' (indices ≥ MaxArraySize are offset).
  const s = await runJson(dir, [...SLURM_ARGS, '--slurm-max-array-size', '1', '--slurm-node', node, '--slurm-log-dir', logDir], { AWS_SECRET_ACCESS_KEY: SECRET }, file);
  assert.deepEqual(s.stages.map((x) => [x.stage, x.status, x.tasks]), [['load', 'ran', 2], ['clean', 'ran', 2], ['merged', 'ran', 1], ['shards', 'ran', 3], ['count', 'ran', 1]]);
  assert.deepEqual(outputHashes(join(dir, 'runs')), reference, 'Slurm output equals local output, byte for byte');

  const rec = Object.fromEntries(s.stages.map((x) => [x.stage, readRecords(x.dir)]));
  const kinds = (name: string) => rec[name]!.map((r) => `${r.kind}${r.tasks ? `[${r.tasks.join(',')}]` : ''}`);
  assert.deepEqual(kinds('load'), ['array[0]', 'array[1]', 'finalize']);
  assert.deepEqual(kinds('merged'), ['array[0]', 'finalize']);
  // 36 docs kept / 12 per shard: the planner found 3 tasks, one array each at MaxArraySize 1.
  assert.deepEqual(kinds('shards'), ['planner', 'array[0]', 'array[1]', 'array[2]', 'finalize']);
  // Downstream arrays were queued before their inputs existed, waiting on the upstream finalize job.
  const loadFin = rec.load!.find((r) => r.kind === 'finalize')!;
  const cleanArrays = rec.clean!.filter((r) => r.kind === 'array');
  assert.ok(cleanArrays.every((r) => r.dependency.join() === loadFin.id));
  assert.ok(Date.parse(cleanArrays[0]!.submitted) < statSync(join(s.stages[0]!.dir, 'manifest.json')).mtimeMs, "'clean' was queued before 'load' finished");
  assert.deepEqual(rec.shards![0]!.dependency, [rec.merged!.find((r) => r.kind === 'finalize')!.id]);
  assert.equal(new Set(Object.values(rec).flat().map((r) => r.run)).size, 1, 'the planner continued the same run');
  // Scripts are in the workdir for inspection, without credentials and without paths: those are
  // in the job records, as the sbatch argv words and environment they were submitted with.
  const script = readFileSync(rec.clean![0]!.script, 'utf8');
  assert.match(script, /#SBATCH --mem=200M/);
  assert.ok(!script.includes(SECRET));
  assert.ok(!script.includes('pwned'), script);
  assert.deepEqual(rec.clean![0]!.sbatchArgs?.[0], `--chdir=${dir}`);
  // Jobs the planner submitted got the same node and log directory, through its environment.
  for (const r of [rec.clean![0]!, rec.shards![1]!]) assert.deepEqual([r.env?.SLUICE_JOB_NODE, r.env?.SLUICE_JOB_LOG_DIR, r.env?.SLUICE_JOB_PIPELINE], [node, logDir, join(dir, file)]);
  assert.ok(readdirSync(join(logDir, 'clean')).some((f) => /^clean-\d+_0\.out$/.test(f)), 'Slurm output under the literal --slurm-log-dir (no %j/%x replaced in it)');
  assert.ok(readdirSync(join(logDir, 'shards')).some((f) => /^shards-plan-\d+\.out$/.test(f)));
  assert.deepEqual(pwned(root), [], 'nothing the names hold ran');

  // Everything up to date: nothing submitted.
  const again = await runJson(dir, SLURM_ARGS, undefined, file);
  assert.deepEqual(again.stages.map((x) => x.status), ['skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
  const st = await runCli(['status', file, '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(st.stdout).stages.map((x: { status: string }) => x.status), ['done', 'done', 'done', 'done', 'done']);
});

/** Waits until an element of the stage's array runs; returns `<jobid>_<element>`. */
async function runningElement(stageDir: () => string | undefined, timeoutMs = 240_000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const d = stageDir();
    const arrays = d ? readRecords(d).filter((r) => r.kind === 'array') : [];
    if (arrays.length) {
      const q = execFileSync('squeue', ['-h', '-r', '-o', '%F|%K|%T'], { encoding: 'utf8' });
      for (const line of q.split('\n')) {
        const [id, el, state] = line.split('|');
        if (state === 'RUNNING' && arrays.some((a) => a.id === id) && /^\d+$/.test(el ?? '')) return `${id}_${el}`;
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no array element of the stage started running');
}

/** Polls `cond` every 200 ms until it holds; throws naming `what` after `timeoutMs`. */
async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function cleanDir(dir: string): string | undefined {
  const root = join(dir, 'runs', 'w', 'clean');
  if (!existsSync(root)) return undefined;
  const fp = readdirSync(root)[0];
  return fp ? join(root, fp) : undefined;
}

test('an scancelled array element is resubmitted by the waiting run; cancel + a second run resume', { skip }, async () => {
  const dir = tempProject('sluice-slurm-');
  writeInputs(dir, 2, 20);
  writeSlurmPipeline(dir, 'kill', 150, false);
  const reference = await localReference(dir);

  // 1. The waiting submitter notices the cancelled element and resubmits only that task.
  const run = startCli(['run', 'pipeline.ts', '--json', ...SLURM_ARGS], { cwd: dir });
  const victim = await runningElement(() => cleanDir(dir));
  execFileSync('scancel', [victim]);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /clean: 1 task\(s\) ended without completing .*resubmitting/);
  assert.deepEqual(outputHashes(join(dir, 'runs')), reference);
  const arrays = readRecords(cleanDir(dir)!).filter((a) => a.kind === 'array');
  assert.equal(arrays.length, 2);
  assert.deepEqual(arrays[1]!.tasks, [Number(victim.split('_')[1])], 'only the cancelled task is resubmitted');
  assert.ok(existsSync(join(cleanDir(dir)!, '_logs', `${String(arrays[1]!.tasks![0]).padStart(5, '0')}.log`)));

  // 2. Detached run, one element cancelled, then `sluice cancel`; a second run resumes.
  rmSync(join(dir, 'runs'), { recursive: true, force: true });
  const d = await runCli(['run', 'pipeline.ts', ...SLURM_ARGS, '--detach'], { cwd: dir });
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stderr, /submitted 3 stage\(s\) to Slurm \(run [^)]+\); follow with 'sluice status'/);
  const victim2 = await runningElement(() => cleanDir(dir));
  execFileSync('scancel', [victim2]);
  // The other element must finish before the cancel, or the second run has nothing to resume;
  // on a busy or one-CPU node it may not even have started yet (CI once failed on that race).
  const other = 1 - Number(victim2.split('_')[1]);
  await waitFor(() => existsSync(join(cleanDir(dir)!, '_tasks', `${String(other).padStart(5, '0')}.json`)), 240_000, `task ${other} of clean completes`);
  const st = await runCli(['status', 'pipeline.ts', '--json'], { cwd: dir });
  assert.equal(st.code, 0, st.stderr);
  const clean = JSON.parse(st.stdout).stages.find((x: { stage: string }) => x.stage === 'clean');
  assert.ok(clean.slurm, 'status shows the Slurm queue state of the stage');
  const c = await runCli(['cancel', 'pipeline.ts', '--json'], { cwd: dir });
  assert.equal(c.code, 0, c.stderr);
  const cancelled = JSON.parse(c.stdout).cancelled as Array<{ stage: string; kind: string }>;
  assert.ok(cancelled.some((x) => x.stage === 'clean' && x.kind === 'finalize'), JSON.stringify(cancelled));
  const queueLeft = execFileSync('squeue', ['-h', '-o', '%j'], { encoding: 'utf8' });
  assert.doesNotMatch(queueLeft, /sluice\.kill\./, 'no job of the pipeline left queued');
  const st2 = JSON.parse((await runCli(['status', 'pipeline.ts', '--json'], { cwd: dir })).stdout);
  assert.equal(st2.stages.find((x: { stage: string }) => x.stage === 'clean').slurm.failed >= 1, true);

  const again = await runJson(dir, SLURM_ARGS);
  assert.equal(again.stages[0]!.status, 'skipped');
  assert.equal(again.stages[1]!.status, 'resumed');
  assert.deepEqual(outputHashes(join(dir, 'runs')), reference, 'resumed output equals the uninterrupted local output');
});

test('the stage-at-a-time Executor contract (runStage) on Slurm gives the same output', { skip }, async () => {
  const dir = tempProject('sluice-slurm-');
  writeInputs(dir, 2, 20);
  const file = writeSlurmPipeline(dir, 'bystage', 0, false);
  const reference = await localReference(dir);
  const slurm = new SlurmExecutor({ pollMs: 250 });
  // Hiding runPipeline makes the runner drive the stages itself and write the manifests.
  const executor: Executor = { runStage: (job, events) => slurm.runStage(job, events), close: () => slurm.close() };
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const s = await run(file, { executor, progress: 'none' });
    assert.deepEqual(s.stages.map((x) => [x.stage, x.status, x.tasks]), [['load', 'ran', 2], ['clean', 'ran', 2], ['merged', 'ran', 1]]);
  } finally {
    process.chdir(cwd);
  }
  assert.deepEqual(outputHashes(join(dir, 'runs')), reference);
  const clean = readRecords(cleanDir(dir)!);
  assert.deepEqual(clean.map((r) => [r.kind, r.tasks, r.dependency]), [['array', [0, 1], []]], 'one array per stage, no finalize job');
});

test('s3:// workdir on Slurm: manifests and files equal the local executor\'s; no credentials in scripts', { skip: s3skip }, async () => {
  const dir = tempProject('sluice-slurm-');
  writeInputs(dir, 2, 20);
  writeSlurmPipeline(dir, 's3chain', 0, false);
  const bucket = await makeBucket('sluice-slurm');
  const workdir = `s3://${bucket}/w`;
  // The reference: a local run into a local workdir (fingerprints do not depend on the workdir).
  await runJson(dir, ['--workers', '2']);
  renameSync(join(dir, 'runs'), join(dir, 'local'));
  // moto checks no signatures: a marker secret shows that credentials reach the jobs (they write
  // to S3) through the environment, never through the scripts.
  const s = await runJson(dir, [...SLURM_ARGS, '--workdir', workdir], { AWS_SECRET_ACCESS_KEY: SECRET });
  assert.deepEqual(s.stages.map((x) => x.status), ['ran', 'ran', 'ran']);
  for (const x of s.stages) {
    const local = join(dir, 'local', 'w', x.stage, x.fingerprint);
    assert.equal(await storage.readText(`${x.dir}/manifest.json`), readFileSync(join(local, 'manifest.json'), 'utf8'), `${x.stage}: manifest`);
    const m = JSON.parse(readFileSync(join(local, 'manifest.json'), 'utf8')) as { files: Array<{ path: string }> };
    for (const f of m.files) assert.ok(Buffer.from(await storage.read(`${x.dir}/${f.path}`)).equals(readFileSync(join(local, f.path))), `${x.stage}/${f.path}`);
    // Scripts live in the s3:// stage dir; Slurm output in the shared log dir under the project.
    const scripts = (await storage.list(`${x.dir}/_slurm/`)).filter((e) => e.uri.endsWith('.sh'));
    assert.ok(scripts.length >= 1);
    for (const e of scripts) assert.ok(!(await storage.readText(e.uri)).includes(SECRET), 'no secret key in scripts');
  }
  assert.ok(existsSync(join(dir, '.sluice-slurm', 's3chain', 'clean')));
});
