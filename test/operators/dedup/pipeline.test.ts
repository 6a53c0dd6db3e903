import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, SLUICE } from '../../helpers/cli.ts';
import { writeFileSync } from 'node:fs';
import { readDocsParquet, readParquetTables } from '../../../engine/parquet.ts';
import type { Manifest } from '../../../engine/types.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import { writeCorpus } from '../../../bench/dedup-corpus.ts';
import { storage } from '../../../engine/storage/index.ts';
import { makeBucket, needS3 } from '../../helpers/s3.ts';

const noS3 = await needS3();

/** Kept docs (id, cluster, size) and audit drops of a stage output, local or s3://. */
async function stageOutput(dir: string) {
  const m = await storage.readJson<Manifest>(storage.join(dir, 'manifest.json'));
  const docs: Array<[string, unknown, unknown]> = [];
  for (const f of m.files) for await (const b of readDocsParquet(storage.join(dir, f.path))) for (const d of b) docs.push([d.id, d.meta.dedupCluster ?? null, d.meta.dedupClusterSize ?? null]);
  const drops: Array<Record<string, unknown>> = [];
  const audit = (await storage.list(storage.join(dir, '_audit') + '/')).map((e) => e.uri).filter((u) => /\/drops-[^/]*$/.test(u)).sort();
  for (const u of audit) for await (const t of readParquetTables(u)) for (const r of t.toArray()) drops.push(r.toJSON() as Record<string, unknown>);
  return { docs, drops, manifest: m };
}

test('pipeline(): read.jsonl → dedup.exact → dedup.minhash({ verify }) gives identical output with 1 and 4 workers (and on s3:// when a test server is up)', async (t) => {
  const dir = tempProject('sluice-dedup-');
  try {
    const c = await writeCorpus(join(dir, 'data'), 4, { docs: 150, pairFraction: 0.7, seed: 4 });
    writeFileSync(
      join(dir, 'pipeline.ts'),
      `import { pipeline, read, dedup } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'dd', workdir: 'runs/default' }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  const exact = p.stage('exact', raw, dedup.exact({ normalize: true, partitions: 2 }));
  p.stage('near', exact, dedup.minhash({ verify: true, bufferMB: 0.05, bandsPerTask: 5 }));
});
`,
    );
    const runs: Array<[string, string]> = [['1', 'runs/w1'], ['4', 'runs/w4']];
    if (noS3) t.diagnostic(noS3);
    else runs.push(['2', `s3://${await makeBucket('sluice-dedup')}/dd`]);
    const outs = [];
    for (const [workers, workdir] of runs) {
      // Every worker at once (no ramp), so the tasks really run in parallel.
      const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', workers, '--workdir', workdir], { cwd: dir, env: { SLUICE_WORKER_RAMP_MS: '0' } });
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as RunSummary;
      assert.deepEqual(
        s.stages.map((x) => x.stage),
        ['load', 'exact.hashes', 'exact.groups', 'exact', 'near.signatures', 'near.buckets', 'near.clusters', 'near'],
      );
      const exact = await stageOutput(s.stages.find((x) => x.stage === 'exact')!.dir);
      const near = await stageOutput(s.stages.find((x) => x.stage === 'near')!.dir);
      outs.push({ exact, near, s });
    }
    const a = outs[0]!;
    for (const b of outs.slice(1)) {
      assert.deepEqual(b.exact.docs, a.exact.docs);
      assert.deepEqual(b.near.docs, a.near.docs);
      assert.deepEqual(b.near.drops, a.near.drops);
    }
    assert.equal(a.exact.docs.length + a.exact.drops.length, c.docs);
    const identical = c.pairs.filter((p) => p.jaccard === 1).length;
    assert.equal(a.exact.drops.length, identical, 'dedup.exact removes exactly the identical planted copies');
    assert.ok(a.near.drops.length > 15, `${a.near.drops.length} near-duplicates`);
    for (const d of a.near.drops) {
      assert.equal(d.operator, 'dedup.minhash');
      assert.equal(d.reason, 'dedup.nearDuplicate');
      assert.ok((d.score as number) >= 0.8);
      const details = JSON.parse(d.details as string) as { cluster: string; keptId: string; keptUrl: string };
      assert.ok(a.near.docs.some(([id]) => id === details.keptId), 'the kept doc is in the output');
    }
    assert.equal(a.near.manifest.stats.operators['dedup.minhash']?.drops['dedup.nearDuplicate'], a.near.drops.length);
    // A rerun is incremental: every stage is up to date.
    const again = await runCli(['run', 'pipeline.ts', '--json', '--workers', '2', '--workdir', 'runs/w1'], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.ok((JSON.parse(again.stdout) as RunSummary).stages.every((x) => x.status === 'skipped'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
