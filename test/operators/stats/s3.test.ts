/** `mix()` and `stats()` on an `s3://` workdir (moto): by docs, fractional epochs, Parquet and HTML written as objects. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../engine/runner.ts';
import { storage } from '../../../engine/storage/index.ts';
import { readDocsParquet } from '../../../engine/parquet.ts';
import type { Doc, Manifest } from '../../../engine/types.ts';
import { SLUICE, tempProject } from '../../helpers/cli.ts';
import { makeBucket, needS3 } from '../../helpers/s3.ts';

const skip = await needS3();

test('mix by docs and stats on an s3:// workdir', { skip }, async () => {
  const dir = tempProject('sluice-mix-s3-');
  mkdirSync(join(dir, 'data'));
  for (const k of ['x', 'y']) writeFileSync(join(dir, 'data', `${k}.jsonl`), Array.from({ length: k === 'x' ? 10 : 40 }, (_, i) => JSON.stringify({ id: `${k}${i}`, text: `${k} doc ${i}.`, url: `https://${k}.example/${i}` })).join('\n') + '\n');
  const bucket = await makeBucket('sluice-mix');
  const file = join(dir, 'pipeline.ts');
  writeFileSync(
    file,
    `import { pipeline, read, mix, stats } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'ms3', workdir: 's3://${bucket}/w' }, (p) => {
  const x = p.stage('x', read.jsonl(${JSON.stringify(join(dir, 'data', 'x.jsonl'))}));
  const y = p.stage('y', read.jsonl(${JSON.stringify(join(dir, 'data', 'y.jsonl'))}));
  const m = p.stage('mix', mix({ sources: [{ input: x, epochs: 2.5 }, { input: y, weight: 1 }], target: 45, by: 'docs', seed: 9 }));
  p.stage('stats', m, stats({ groupBy: ['domain', 'source'] }));
});
`,
  );
  const r = await run(file, { workers: 2, progress: 'none' });
  const mixDir = r.stages.find((s) => s.stage === 'mix')!.dir;
  assert.ok(mixDir.startsWith(`s3://${bucket}/`));
  const m = await storage.readJson<Manifest>(storage.join(mixDir, 'manifest.json'));
  const docs: Doc[] = [];
  for (const f of m.files) for await (const b of readDocsParquet(storage.join(mixDir, f.path))) docs.push(...b);
  const xs = docs.filter((d) => d.meta.mixSource === 'x');
  const ys = docs.filter((d) => d.meta.mixSource === 'y');
  assert.equal(xs.length, 25, '2.5 epochs of 10 docs');
  assert.equal(ys.length, 20, 'the weighted source takes target minus the epoch source');
  assert.equal(new Set(ys.map((d) => d.id)).size, 20, 'downsampling draws without replacement');
  assert.deepEqual([...new Set(xs.map((d) => d.meta.mixRepeat))].sort(), [0, 1, 2]);
  const sDir = r.stages.find((s) => s.stage === 'stats')!.dir;
  const sm = await storage.readJson<Manifest>(storage.join(sDir, 'manifest.json'));
  assert.deepEqual(sm.info!.stats, { docs: 45, bytes: docs.reduce((a, d) => a + Buffer.byteLength(d.text), 0), tokens: 0, rows: (sm.info!.stats as { rows: number }).rows, groups: { domain: 2, source: 2 } });
  assert.match(await storage.readText(storage.join(sDir, 'stats.html')), /<h2>Top domains<\/h2>/);
  assert.ok((await storage.read(storage.join(sDir, 'stats.parquet'))).byteLength > 100);
});
