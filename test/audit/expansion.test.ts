/**
 * Stage expansions (dedup.minhash, dedup.exact) in the audit: their filter step runs inside a
 * custom stage, not through the engine's operator chain, and their counts used to be lost
 * (`dedup.minhash [(unknown)] in 0 docs / 0 B kept 0 / 0 B dropped 43`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, SLUICE, tempProject } from '../helpers/cli.ts';
import { writeCorpus } from '../../bench/dedup-corpus.ts';
import type { RunSummary } from '../../engine/runner.ts';
import type { StageAuditReport } from '../../audit/report.ts';
import type { Manifest } from '../../engine/types.ts';

let dir = '';
let summary: RunSummary;
before(async () => {
  dir = tempProject('sluice-audit-expansion-');
  await writeCorpus(join(dir, 'data'), 2, { docs: 60, pairFraction: 0.6, seed: 7 });
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read, dedup } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'dd', workdir: 'runs' }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  const exact = p.stage('exact', raw, dedup.exact({ normalize: true }));
  p.stage('near', exact, dedup.minhash({ bufferMB: 0.05 }));
});
`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  summary = JSON.parse(r.stdout) as RunSummary;
});
after(() => rmSync(dir, { recursive: true, force: true }));

const stage = (name: string) => summary.stages.find((s) => s.stage === name)!;
const manifest = (name: string) => JSON.parse(readFileSync(join(stage(name).dir, 'manifest.json'), 'utf8')) as Manifest;
const bytesOf = (name: string) => manifest(name).stats.bytesOut as number;

test('sluice audit --json: an expansion stage reports its docs and bytes in and out, and its type', async () => {
  const r = await runCli(['audit', 'pipeline.ts', '--json', '--stage', 'exact', '--stage', 'near'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const reports = (JSON.parse(r.stdout) as { stages: StageAuditReport[] }).stages;
  for (const [name, op, type, input] of [['exact', 'dedup.exact', 'dedup.exact.filter', 'load'], ['near', 'dedup.minhash', 'dedup.minhash.filter', 'exact']] as const) {
    const rep = reports.find((x) => x.stage === name)!;
    assert.deepEqual(rep.operators.map((o) => o.name), [op], `${name}: one row, the operator the drops are logged under`);
    const o = rep.operators[0]!;
    assert.equal(o.type, type);
    const dropped = Object.values(manifest(name).stats.operators[op]!.drops).reduce((a, b) => a + b, 0);
    assert.ok(dropped > 0, `${name} dropped some docs`);
    assert.equal(o.docsIn, stage(input).docsOut, `${name}: docs in = the input stage's docs`);
    assert.equal(o.docsOut, stage(name).docsOut, `${name}: docs kept = the stage's docs`);
    assert.equal(o.dropped, o.docsIn - o.docsOut);
    assert.equal(o.bytesIn, bytesOf(input));
    assert.equal(o.bytesOut, bytesOf(name));
    assert.ok(o.reasons[0]!.share > 0 && o.reasons[0]!.share < 1);
    assert.equal(stage(name).docsIn, o.docsIn, `${name}: the run summary's docs in too`);
  }
});

test('sluice audit: the text and HTML reports show the expansion counts', async () => {
  const html = join(dir, 'audit.html');
  const r = await runCli(['audit', 'pipeline.ts', '--stage', 'near', '--html', html], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const inDocs = stage('exact').docsOut;
  const kept = stage('near').docsOut;
  const line = r.stdout.split('\n').find((l) => l.includes('dedup.minhash ['))!;
  assert.match(line, new RegExp(`dedup\\.minhash \\[dedup\\.minhash\\.filter\\]  in ${inDocs} docs / .* kept ${kept} / .* dropped ${inDocs - kept} \\(`));
  const page = readFileSync(html, 'utf8');
  assert.ok(page.includes(`<td class="n">${inDocs}</td><td class="n">${kept}</td><td class="n">${inDocs - kept} (`), 'HTML counts table');
  assert.ok(page.includes(`${kept} / ${inDocs}`), 'HTML kept-of-input bar');
});
