/**
 * Inputs that failed silently at the command line (issue 15 §4), with the real `sluice`
 * executable: zstd read by `apply`, `tokenizer train` and `contamination`; a truncated gzip named
 * in the run summary, `--json` and `status`; an unreadable input failing the run; an empty
 * corpus failing `contamination`; a read-only workdir and a full disk reported as what they are,
 * naming the path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BIN, runCli, startProcess, tempProject, writePipeline } from '../helpers/cli.ts';

const zstd = (input: string | Buffer) => execFileSync('zstd', ['-q', '-c'], { input });

function docs(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify({ id: `d${i}`, text: `Document ${i} tells of the river, the mill and the bridge ${'and the water runs on '.repeat(i % 7)}` }));
  return out.join('\n') + '\n';
}

test('apply, tokenizer train and contamination read zstd (and gzip) by their first bytes', async () => {
  const dir = tempProject();
  const text = docs(40);
  writeFileSync(join(dir, 'docs.jsonl'), text);
  writeFileSync(join(dir, 'docs.jsonl.zst'), zstd(text));
  writeFileSync(join(dir, 'notes.txt'), 'plain words for the tokenizer\nanother line of words\n');
  writeFileSync(join(dir, 'notes.txt.zst'), zstd(readFileSync(join(dir, 'notes.txt'))));

  const plain = await runCli(['apply', 'filter.gopherQuality', '--in', 'docs.jsonl', '--out', 'plain.out.jsonl', '--keep-dropped'], { cwd: dir });
  assert.equal(plain.code, 0, plain.stderr);
  const z = await runCli(['apply', 'filter.gopherQuality', '--in', 'docs.jsonl.zst', '--out', 'zst.out.jsonl', '--keep-dropped'], { cwd: dir });
  assert.equal(z.code, 0, z.stderr);
  assert.match(z.stderr, /40 docs in/);
  assert.equal(readFileSync(join(dir, 'zst.out.jsonl'), 'utf8'), readFileSync(join(dir, 'plain.out.jsonl'), 'utf8'));

  const t1 = await runCli(['tokenizer', 'train', '--vocab-size', '300', '--out', 'tok-plain', 'docs.jsonl', 'notes.txt'], { cwd: dir });
  const t2 = await runCli(['tokenizer', 'train', '--vocab-size', '300', '--out', 'tok-zst', 'docs.jsonl.zst', 'notes.txt.zst'], { cwd: dir });
  assert.equal(t1.code, 0, t1.stderr);
  assert.equal(t2.code, 0, t2.stderr);
  assert.equal(readFileSync(join(dir, 'tok-zst', 'tokenizer.tiktoken'), 'utf8'), readFileSync(join(dir, 'tok-plain', 'tokenizer.tiktoken'), 'utf8'), 'zstd inputs train what plain ones do');

  // A benchmark item planted in a zstd corpus is found; the benchmark file itself may be gzip.
  const items = [
    { query: 'Which instrument measures the pressure of the air around the weather station on the hill?', choices: ['barometer', 'ruler'], gold: 0 },
    { query: 'What do plants take in from the air to make their food when the sun shines on the leaves?', choices: ['carbon dioxide', 'salt'], gold: 0 },
  ];
  writeFileSync(join(dir, 'bench.jsonl.gz'), gzipSync(items.map((i) => JSON.stringify(i)).join('\n') + '\n'));
  writeFileSync(join(dir, 'corpus.jsonl.zst'), zstd(text + JSON.stringify({ id: 'leak', text: `Quiz. ${items[1]!.query} Answer: carbon dioxide.` }) + '\n'));
  const c = await runCli(['contamination', '--benchmark', 'bench.jsonl.gz:mc', '--against', 'corpus.jsonl.zst', '--json'], { cwd: dir });
  assert.equal(c.code, 0, c.stderr);
  const rep = JSON.parse(c.stdout) as { rows: Array<{ total: number; dirty: number }> };
  assert.deepEqual([rep.rows[0]!.total, rep.rows[0]!.dirty], [2, 1]);
  assert.match(c.stderr, /scanned 41 docs/);

  // Over no documents there is no percentage: an error, not "0% dirty".
  writeFileSync(join(dir, 'empty.jsonl'), '');
  const e = await runCli(['contamination', '--benchmark', 'bench.jsonl.gz:mc', '--against', 'empty.jsonl'], { cwd: dir });
  assert.equal(e.code, 1, e.stdout);
  assert.match(e.stderr, /--against empty\.jsonl: 1 input\(s\) hold no documents; nothing was checked/);
});

test('sluice apply: a truncated gzip is an error naming the file after the docs before the damage', async () => {
  const dir = tempProject();
  const gz = gzipSync(docs(300));
  writeFileSync(join(dir, 'trunc.jsonl.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  const r = await runCli(['apply', 'filter.gopherQuality', '--in', 'trunc.jsonl.gz', '--out', 'out.jsonl'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /trunc\.jsonl\.gz: truncated gzip stream \(unexpected end of file\) after [\d,]+ compressed bytes/);
  assert.match(r.stderr, /error: trunc\.jsonl\.gz could not be read to its end/);
});

test('sluice run: a truncated .jsonl.gz is named in the summary, --json and status; an unreadable input fails the run', async () => {
  const dir = tempProject();
  const gz = gzipSync(docs(200));
  writeFileSync(join(dir, 'trunc.jsonl.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  writePipeline(dir, 'p.ts', `export default pipeline({ name: 'inputs', workdir: 'work-' + process.env.IN }, (p) => {
  const d = p.stage('docs', read.jsonl(process.env.IN));
  p.stage('kept', d, [filter.where('all', () => true)]);
});`);
  const r = await runCli(['run', 'p.ts', '--workers', '1', '--json'], { cwd: dir, env: { IN: 'trunc.jsonl.gz' } });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { stages: Array<{ stage: string; docsOut: number; skipped: Record<string, number>; skipExamples: Record<string, Array<{ input: string; details: { linesRead: number; error: string } }>> }> };
  const st = summary.stages.find((s) => s.stage === 'docs')!;
  assert.ok(st.docsOut > 0 && st.docsOut < 200);
  assert.deepEqual(st.skipped, { 'read.truncated': 1 });
  assert.equal(st.skipExamples['read.truncated']![0]!.input, 'trunc.jsonl.gz');
  assert.equal(st.skipExamples['read.truncated']![0]!.details.linesRead, st.docsOut);
  assert.match(r.stderr, new RegExp(`docs +ran +${st.docsOut} → ${st.docsOut} docs, 1 input record\\(s\\) skipped`));
  assert.match(r.stderr, new RegExp(`skipped read\\.truncated ×1: trunc\\.jsonl\\.gz: .*truncated gzip stream .*\\(${st.docsOut} lines read before it\\)`));
  const s = await runCli(['status', 'p.ts'], { cwd: dir, env: { IN: 'trunc.jsonl.gz' } });
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /docs +done .*1 input record\(s\) skipped\n +skipped read\.truncated ×1: trunc\.jsonl\.gz: /);
  const sj = await runCli(['status', 'p.ts', '--json'], { cwd: dir, env: { IN: 'trunc.jsonl.gz' } });
  assert.deepEqual((JSON.parse(sj.stdout) as { stages: Array<{ skipped?: Record<string, number> }> }).stages[0]!.skipped, { 'read.truncated': 1 });

  // Garbage behind a .zst name, and UTF-16 without a byte-order mark: the run fails and says why.
  const garbage = Buffer.alloc(2000);
  for (let i = 0, x = 3; i < garbage.length; i++) garbage[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  writeFileSync(join(dir, 'garbage.jsonl.zst'), garbage);
  writeFileSync(join(dir, 'utf16.jsonl'), Buffer.from(docs(5), 'utf16le'));
  for (const [file, why] of [['garbage.jsonl.zst', /does not start with a gzip or zstd header/], ['utf16.jsonl', /UTF-16 or UTF-32 without a byte-order mark/]] as const) {
    const g = await runCli(['run', 'p.ts', '--workers', '1', '--retries', '1'], { cwd: dir, env: { IN: file } });
    assert.equal(g.code, 1, g.stderr);
    assert.match(g.stderr, new RegExp(`read\\.jsonl ${file.replace('.', '\\.')}: no record could be read`));
    assert.match(g.stderr, why);
    assert.doesNotMatch(g.stderr, /docs +ran/);
  }
});

/** True when this process may make mount namespaces (root with unshare), as CI can. */
function canUnshare(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('unshare', ['-m', 'true']).status === 0;
}

/** Runs `sluice <args>` inside a private mount namespace after `setup` (shell) there. */
function runInMountNs(setup: string, args: string[], cwd: string) {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return startProcess('unshare', ['-m', 'sh', '-c', `${setup} && exec ${quoted}`], { cwd }).done;
}

test('a read-only workdir is reported as EROFS/EACCES naming the path, not ENOENT', async () => {
  const dir = tempProject();
  writeFileSync(join(dir, 'a.jsonl'), docs(3));
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  writePipeline(dir, 'p.ts', `export default pipeline({ name: 'ro', workdir: ${JSON.stringify(join(ro, 'work'))} }, (p) => { p.stage('docs', read.jsonl('a.jsonl')); });`);
  let r;
  if (canUnshare()) {
    r = await runInMountNs(`mount --bind '${ro}' '${ro}' && mount -o remount,bind,ro '${ro}'`, ['run', 'p.ts', '--workers', '1'], dir);
    assert.match(r.stderr, /cannot create directory .*\/ro\/work.*EROFS: read-only file system/);
  } else {
    execFileSync('chmod', ['0555', ro]);
    r = await runCli(['run', 'p.ts', '--workers', '1'], { cwd: dir });
    assert.match(r.stderr, /cannot create directory .*\/ro\/work.*EACCES/);
  }
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /ENOENT/);
});

test('a full disk (ENOSPC) names the file being written', { skip: canUnshare() ? false : 'needs root and unshare for a small tmpfs' }, async () => {
  const dir = tempProject();
  // ~3 MB of hex text (4 bits of entropy per byte: ~1.5 MB as Parquet) into a 512 KiB tmpfs.
  const rows: string[] = [];
  for (let i = 0; i < 3000; i++) rows.push(JSON.stringify({ id: `r${i}`, text: randomBytes(500).toString('hex') }));
  writeFileSync(join(dir, 'big.jsonl'), rows.join('\n') + '\n');
  const small = join(dir, 'small');
  mkdirSync(small);
  writePipeline(dir, 'p.ts', `export default pipeline({ name: 'full', workdir: ${JSON.stringify(join(small, 'work'))} }, (p) => { p.stage('docs', read.jsonl('big.jsonl')); });`);
  const r = await runInMountNs(`mount -t tmpfs -o size=512k tmpfs '${small}'`, ['run', 'p.ts', '--workers', '1', '--retries', '1'], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot write .*\/small\/work\/docs\/[0-9a-f]{16}\/[^:]+: ENOSPC: no space left on device/);
});
