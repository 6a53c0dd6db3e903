import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, SLUICE } from '../../helpers/cli.ts';
import { readDocsParquet, readParquetTables } from '../../../engine/parquet.ts';
import type { Manifest } from '../../../engine/types.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import { storage } from '../../../engine/storage/index.ts';
import { makeBucket, needS3 } from '../../helpers/s3.ts';

const noS3 = await needS3();

async function docsOf(dir: string): Promise<{ docs: Array<[string, string]>; manifest: Manifest }> {
  const m = await storage.readJson<Manifest>(storage.join(dir, 'manifest.json'));
  const docs: Array<[string, string]> = [];
  for (const f of m.files) for await (const b of readDocsParquet(storage.join(dir, f.path))) for (const d of b) docs.push([d.id, d.text]);
  return { docs, manifest: m };
}

test('pipeline(): read.jsonl → dedup.paragraphs → dedup.substrings: same output for 1 and 2 workers and on s3://, audited bytes, incremental rerun', async (t) => {
  const dir = tempProject('sluice-subdoc-');
  try {
    mkdirSync(join(dir, 'data'));
    const passage = Array.from({ length: 40 }, (_, i) => `word${i} stands in line ${i * 7}`).join(' ');
    const files = [
      [
        { id: 'a', text: `Menu\nHome\nA first article about rivers.\n${passage}` },
        { id: 'b', text: 'Menu\nHome\nA second article on mountains.' },
      ],
      [
        { id: 'c', text: `Menu\nA third one, on lakes, quoting: ${passage} and more.` },
        { id: 'd', text: 'Menu\nHome' },
      ],
    ];
    files.forEach((docs, i) => writeFileSync(join(dir, 'data', `p${i}.jsonl`), docs.map((d) => JSON.stringify({ ...d, meta: {} })).join('\n') + '\n'));
    writeFileSync(
      join(dir, 'pipeline.ts'),
      `import { pipeline, read, dedup } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'sd', workdir: 'runs/default' }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  const lines = p.stage('lines', raw, dedup.paragraphs({ unit: 'line' }));
  p.stage('sorted', raw, dedup.paragraphs({ unit: 'line', strategy: 'sort', partitions: 2 }));
  p.stage('tail', raw, dedup.paragraphs({ unit: 'line', bufferMB: 0.0001 }));
  p.stage('sub', lines, dedup.substrings({ tokenizer: 'gpt2', minTokens: 20, shardTokens: 100 }));
});
`,
    );
    const runs: Array<[string, string]> = [['1', 'runs/w1'], ['2', 'runs/w2']];
    if (noS3) t.diagnostic(noS3);
    else runs.push(['2', `s3://${await makeBucket('sluice-subdoc')}/sd`]);
    const outs = [];
    for (const [workers, workdir] of runs) {
      // Every worker at once (no ramp), so the tasks really run in parallel.
      const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', workers, '--workdir', workdir], { cwd: dir, env: { SLUICE_WORKER_RAMP_MS: '0' } });
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as RunSummary;
      assert.deepEqual(s.stages.map((x) => x.stage).sort(), ['lines', 'load', 'sorted', 'sorted.groups', 'sorted.hashes', 'sub', 'sub.repeats', 'sub.sa', 'sub.tokens', 'tail']);
      const dirOf = (n: string) => s.stages.find((x) => x.stage === n)!.dir;
      const lines = await docsOf(dirOf('lines'));
      // The exact strategies agree: streaming (here all in the table), the three sort stages,
      // and streaming with a table too small for the corpus (frozen, the rest sorted).
      assert.deepEqual((await docsOf(dirOf('sorted'))).docs, lines.docs);
      const tail = await docsOf(dirOf('tail'));
      assert.deepEqual(tail.docs, lines.docs);
      assert.equal(lines.manifest.info!.frozenAt, null);
      assert.ok(tail.manifest.info!.frozenAt, 'the small table was frozen');
      outs.push({ linesDir: dirOf('lines'), lines, sub: await docsOf(dirOf('sub')), repeats: await storage.readJson<Manifest>(storage.join(dirOf('sub.repeats'), 'manifest.json')) });
    }
    const a = outs[0]!;
    for (const b of outs.slice(1)) {
      assert.deepEqual(b.lines.docs, a.lines.docs);
      assert.deepEqual(b.sub.docs, a.sub.docs);
    }
    assert.deepEqual(a.lines.docs.map(([id]) => id), ['a', 'b', 'c'], "'d' (all lines seen before) is dropped");
    const ops = a.lines.manifest.stats.operators['dedup.paragraphs']!;
    assert.equal(ops.drops['dedup.duplicateLine'], 3, 'touching removed lines merge into one span');
    assert.equal(ops.drops['dedup.paragraphsEmptied'], 1);
    assert.equal(ops.dropBytes!['dedup.duplicateLine'], 'Menu\nHome\n'.length + 'Menu\n'.length + 'Menu\nHome'.length);
    assert.equal(ops.bytesIn - ops.bytesOut, 'Menu\nHome\n'.length + 'Menu\n'.length + 'Menu\nHome'.length);
    // Each removed span is a row of the stage's Parquet audit (TaskAudit.dropSpan): the kept
    // document, the group (first 64 hash bits), the first unit and the span's offsets.
    const spans: Array<{ id: string; bytes: number; details: unknown }> = [];
    for (const e of await storage.list(storage.join(a.linesDir, '_audit') + '/')) {
      if (!/\/drops-\d+\.parquet$/.test(e.uri)) continue;
      for await (const tb of readParquetTables(e.uri)) {
        for (let i = 0; i < tb.numRows; i++) {
          if (tb.getChild('reason')!.get(i) !== 'dedup.duplicateLine') continue;
          spans.push({ id: String(tb.getChild('id')!.get(i)), bytes: Number(tb.getChild('bytes')!.get(i)), details: JSON.parse(String(tb.getChild('details')!.get(i))) });
        }
      }
    }
    spans.sort((x, y) => (x.id < y.id ? -1 : 1));
    const group = (d: unknown) => (d as { group: string }).group;
    assert.match(group(spans[0]?.details), /^[0-9a-f]{16}$/);
    assert.deepEqual(spans, [
      { id: 'b', bytes: 10, details: { keptId: 'a', group: group(spans[0]!.details), unit: 0, start: 0, end: 10 } },
      { id: 'c', bytes: 5, details: { keptId: 'a', group: group(spans[0]!.details), unit: 0, start: 0, end: 5 } },
      { id: 'd', bytes: 9, details: { keptId: 'a', group: group(spans[0]!.details), unit: 0, start: 0, end: 9 } },
    ]);
    const c = a.sub.docs.find(([id]) => id === 'c')![1];
    assert.ok(!c.includes('word20 stands in line 140'), 'the repeated passage left the later document');
    assert.ok(a.sub.docs.find(([id]) => id === 'a')![1].includes(passage), 'and stayed in the first');
    const info = a.repeats.info!;
    assert.ok(Number(info.removedShare) > 0.3 && Number(info.removedTokens) > 100, JSON.stringify(info));
    assert.ok(Number(info.shards) >= 2);
    const again = await runCli(['run', 'pipeline.ts', '--json', '--workers', '2', '--workdir', 'runs/w1'], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.ok((JSON.parse(again.stdout) as RunSummary).stages.every((x) => x.status === 'skipped'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
