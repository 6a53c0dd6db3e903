/**
 * Dedup benchmark (issue 5 evidence):
 *
 * 1. Signature speed, MB/s of text per core: Sluice's MinHash (WebAssembly SIMD kernel, and its
 *    JavaScript fallback) vs the npm `minhash` package, same process, same texts, 112 hashes
 *    (14 bands × 8 rows) over word 5-grams. Goal ≥ 40 MB/s.
 * 2. Quality on a generated corpus with planted pairs (bench/dedup-corpus.ts): recall per
 *    similarity bucket against the LSH curve 1 − (1 − s^r)^b (goal: within 3 points), and
 *    precision at 0.8 with and without `verify` (goal with verify ≥ 0.99).
 * 3. Whole dedup (`read.jsonl → dedup.minhash`, all four stages) through `pipeline()` on 2
 *    worker processes: wall time and peak RSS for growing corpora (memory must stay flat).
 *
 * Knobs: DEDUP_BENCH_PARTS (default "speed,quality,scale"), DEDUP_BENCH_PAIRS (planted pairs
 * for recall, default 20000: ~1,800 per bucket, binomial σ ≤ 1.2 points), DEDUP_BENCH_SIZES
 * (corpus MB for the scale runs, default "100,400"), DEDUP_BENCH_SPEED_MB (text for the speed
 * runs, default 16). The machine is shared with other helpers: inputs are kept modest.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench, BenchRow } from './harness.ts';
import { medianSeconds, ratio } from './harness.ts';
import { generateCorpus, writeCorpus, type PlantedPair } from './dedup-corpus.ts';
import { MemoryAudit } from '../engine/testing.ts';
import { jsonlDataset, runExpansionLocal } from '../operators/dedup/local.ts';
import { minhash } from '../operators/dedup/minhash/stages.ts';
import { MinHasher, lshProbability } from '../operators/dedup/minhash/signature.ts';
import { normalizeText } from '../operators/dedup/minhash/normalize.ts';
import { jaccard, shingleSet } from '../operators/dedup/minhash/shingle.ts';
import type { Doc } from '../engine/types.ts';

const REPO = join(import.meta.dirname, '..');
const BANDS = 14;
const ROWS = 8;

function speedTexts(mb: number): { texts: string[]; bytes: number } {
  const texts: string[] = [];
  let bytes = 0;
  for (const d of generateCorpus({ docs: 1e9, pairFraction: 0, seed: 77 })) {
    texts.push(d.text);
    bytes += Buffer.byteLength(d.text);
    if (bytes >= mb * 1e6) break;
  }
  return { texts, bytes };
}

async function signatureSpeed(rows: BenchRow[], notes: string[]): Promise<void> {
  const mb = Number(process.env.DEDUP_BENCH_SPEED_MB ?? 16);
  const { texts, bytes } = speedTexts(mb);
  const params = { ngram: 5, bands: BANDS, rows: ROWS, seed: 1 };
  const simd = new MinHasher(params);
  const js = new MinHasher(params, false);
  const sig = new Uint32Array(simd.k);
  const tSimd = await medianSeconds(() => texts.forEach((t) => simd.signature(t, sig)), 5);
  const tJs = await medianSeconds(() => texts.forEach((t) => js.signature(t, sig)), 3);
  // npm minhash: one Minhash per doc, update() per normalised word 5-gram string. It is ~50×
  // slower, so it runs on a 1/16 slice and is reported per MB.
  const require = createRequire(import.meta.url);
  const { Minhash } = require('minhash') as { Minhash: new (c: { numPerm: number; seed?: number }) => { update(s: string): void; hashvalues: number[] } };
  const slice = texts.slice(0, Math.max(1, Math.floor(texts.length / 16)));
  const sliceBytes = slice.reduce((s, t) => s + Buffer.byteLength(t), 0);
  const npm = () => {
    for (const t of slice) {
      const m = new Minhash({ numPerm: BANDS * ROWS });
      const w = normalizeText(t).split(' ');
      for (let i = 0; i + 5 <= w.length; i++) m.update(w.slice(i, i + 5).join(' '));
    }
  };
  const tNpm = await medianSeconds(npm, 3, false);
  const simdMBs = bytes / 1e6 / tSimd;
  const jsMBs = bytes / 1e6 / tJs;
  const npmMBs = sliceBytes / 1e6 / tNpm;
  rows.push({ name: 'sluice dedup.minhash signatures (wasm SIMD), 1 core', value: +simdMBs.toFixed(1), unit: 'MB/s', ratio: ratio(simdMBs, npmMBs, 'npm minhash') });
  rows.push({ name: 'sluice signatures, JavaScript fallback, 1 core', value: +jsMBs.toFixed(1), unit: 'MB/s', ratio: ratio(jsMBs, npmMBs, 'npm minhash') });
  rows.push({ name: 'npm minhash 0.0.9 (peer), 1 core', value: +npmMBs.toFixed(2), unit: 'MB/s' });
  notes.push(`Signatures: ${(bytes / 1e6).toFixed(1)} MB of generated English-like text (npm minhash on ${(sliceBytes / 1e6).toFixed(1)} MB of it), 112 hashes over word 5-grams, normalisation included, median of 5/3/3 runs. Goal ≥ 40 MB/s per core: ${simdMBs >= 40 ? 'met' : 'NOT met'}.`);
}

interface QualityRun {
  kept: Set<string>;
  drops: Array<{ id: string; keptId: string }>;
  texts: Map<string, string>;
}

async function runQuality(paths: string[], dir: string, verify: boolean): Promise<QualityRun> {
  const audit = new MemoryAudit();
  const input = jsonlDataset('input', join(paths[0]!, '..'), paths);
  const { result } = await runExpansionLocal(minhash({ verify, threshold: 0.8 }), 'dedup', input, { workdir: dir, audit, workers: 1 });
  const kept = new Set<string>();
  const texts = new Map<string, string>();
  for await (const b of result.readDocs()) for (const d of b) kept.add(d.id);
  const drops = audit.drops.map((d) => ({ id: d.id, keptId: String(d.details!.keptId) }));
  for (const d of audit.drops) texts.set(d.id, d.doc.text);
  return { kept, drops, texts };
}

async function quality(rows: BenchRow[], notes: string[]): Promise<void> {
  const npairs = Number(process.env.DEDUP_BENCH_PAIRS ?? 20000);
  const dir = mkdtempSync(join(tmpdir(), 'dedup-bench-q-'));
  try {
    const c = await writeCorpus(join(dir, 'in'), 4, { docs: npairs, pairFraction: 1, minWords: 100, maxWords: 250, seed: 5 });
    const allText = new Map<string, string>();
    for (const p of c.paths) for (const l of readFileSync(p, 'utf8').split('\n')) if (l) {
      const d = JSON.parse(l) as Doc;
      allText.set(d.id, d.text);
    }
    const plain = await runQuality(c.paths, join(dir, 'plain'), false);
    const verified = await runQuality(c.paths, join(dir, 'verify'), true);
    const keptFor = (r: QualityRun) => new Map(r.drops.map((d) => [d.id, d.keptId]));
    const maps = new Map([plain, verified].map((r) => [r, keptFor(r)]));
    const together = (r: QualityRun, p: PlantedPair) => {
      const m = maps.get(r)!;
      return m.get(p.variant) === p.base || m.get(p.base) === p.variant;
    };
    // Recall per bucket of achieved Jaccard.
    const edges = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0];
    const table: string[] = ['| Jaccard | pairs | recall | LSH curve | Δ (points) | binomial σ (points) | recall with verify |', '|---|---|---|---|---|---|---|'];
    let worst = 0;
    for (let i = 0; i < edges.length; i++) {
      const lo = edges[i]!;
      const hi = edges[i + 1] ?? 1.0001;
      const inB = c.pairs.filter((p) => (lo === 1 ? p.jaccard === 1 : p.jaccard >= lo && p.jaccard < hi));
      if (!inB.length) continue;
      const found = inB.filter((p) => together(plain, p)).length / inB.length;
      const foundV = inB.filter((p) => together(verified, p)).length / inB.length;
      const curve = inB.reduce((s, p) => s + lshProbability(p.jaccard, BANDS, ROWS), 0) / inB.length;
      const delta = (found - curve) * 100;
      worst = Math.max(worst, Math.abs(delta));
      const sigma = Math.sqrt((curve * (1 - curve)) / inB.length) * 100;
      table.push(`| ${lo === 1 ? '1.00' : `${lo.toFixed(2)}–${Math.min(hi, 1).toFixed(2)}`} | ${inB.length} | ${found.toFixed(3)} | ${curve.toFixed(3)} | ${delta >= 0 ? '+' : ''}${delta.toFixed(1)} | ${sigma.toFixed(1)} | ${foundV.toFixed(3)} |`);
    }
    // Precision at 0.8: of all removed docs, the share whose exact Jaccard with the kept doc is ≥ 0.8.
    const prec = (r: QualityRun) => {
      let ok = 0;
      for (const d of r.drops) if (jaccard(shingleSet(allText.get(d.id)!, 5), shingleSet(allText.get(d.keptId)!, 5)) >= 0.8) ok++;
      return r.drops.length ? ok / r.drops.length : 1;
    };
    const pPlain = prec(plain);
    const pVerify = prec(verified);
    const truePairs = c.pairs.filter((p) => p.jaccard >= 0.8);
    const recallV = truePairs.filter((p) => together(verified, p)).length / truePairs.length;
    const partner = new Map<string, string>();
    for (const p of c.pairs) {
      partner.set(p.base, p.variant);
      partner.set(p.variant, p.base);
    }
    const stray = plain.drops.filter((d) => partner.get(d.id) !== d.keptId).length;
    rows.push({ name: 'recall vs LSH curve, worst bucket |Δ|', value: +worst.toFixed(1), unit: 'points', note: 'goal ≤ 3' });
    rows.push({ name: 'precision at J ≥ 0.8, no verify', value: +pPlain.toFixed(4), unit: 'fraction', note: `${plain.drops.length} removed` });
    rows.push({ name: 'precision at J ≥ 0.8, verify', value: +pVerify.toFixed(4), unit: 'fraction', note: `${verified.drops.length} removed; goal ≥ 0.99` });
    rows.push({ name: 'recall of pairs with J ≥ 0.8, verify', value: +recallV.toFixed(4), unit: 'fraction' });
    notes.push(
      `Quality: ${c.docs} docs (${npairs} base docs, each with one planted variant by word edits, insertions, boilerplate or paragraph reordering; bisection to target Jaccard 0.50…1.00), 4 files, bands 14 × rows 8. Removals joining docs that are not planted partners (LSH collisions between unrelated docs): ${stray}. Precision without verify is low by construction: the planted pairs are spread uniformly over 0.50–1.00, and LSH at 14 × 8 (threshold ≈ 0.72) catches many pairs below 0.8.`,
      '',
      ...table,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS (MiB) of this process tree, polled every 100 ms: [sum over processes, largest one]. */
function rssPoller(): { stop(): { sum: number; max: number } } {
  let sum = 0;
  let max = 0;
  const tick = () => {
    try {
      const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss='], { encoding: 'utf8' });
      const procs = out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
      const tree = new Set([process.pid]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const [pid, ppid] of procs) if (tree.has(ppid) && !tree.has(pid)) {
          tree.add(pid);
          grew = true;
        }
      }
      let s = 0;
      for (const [pid, , rss] of procs) if (tree.has(pid) && pid !== process.pid) {
        s += rss;
        max = Math.max(max, rss / 1024);
      }
      sum = Math.max(sum, s / 1024);
    } catch {
      // ps unavailable for a tick: skip it.
    }
  };
  const timer = setInterval(tick, 100);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return { sum, max };
    },
  };
}

async function scale(rows: BenchRow[], notes: string[]): Promise<void> {
  const { run } = await import('../engine/runner.ts');
  const sizes = (process.env.DEDUP_BENCH_SIZES ?? '100,400').split(',').map(Number).filter((x) => x > 0);
  const table = ['| corpus | docs | load stage (read.jsonl): time, peak RSS per worker | dedup stages | dedup MB/s | dedup peak RSS, largest worker (per stage) | dedup peak RSS, both workers |', '|---|---|---|---|---|---|---|'];
  for (const mb of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'dedup-bench-s-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
      // ~2.3 KB per doc on average; 10% of docs get a planted variant.
      const docs = Math.round((mb * 1e6) / 2600);
      const c = await writeCorpus(join(dir, 'data'), 8, { docs, pairFraction: 0.1, seed: 9 });
      writeFileSync(
        join(dir, 'pipeline.ts'),
        `import { pipeline, read, dedup } from ${JSON.stringify(join(REPO, 'index.ts'))};
export default pipeline({ name: 'bench', workdir: 'work' }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  p.stage('dedup', raw, dedup.minhash({}));
});
`,
      );
      // Each phase in its own run (fresh workers), so peak RSS is attributed to it.
      const phases: Array<[string, string[]]> = [
        ['load', ['load']],
        ['dedup.signatures', ['dedup.signatures']],
        ['dedup.buckets', ['dedup.buckets']],
        ['dedup.clusters', ['dedup.clusters']],
        ['dedup', ['dedup']],
      ];
      const cwd = process.cwd();
      const seconds: Record<string, number> = {};
      const peak: Record<string, { sum: number; max: number }> = {};
      process.chdir(dir);
      try {
        for (const [phase, only] of phases) {
          const poll = rssPoller();
          const summary = await run(join(dir, 'pipeline.ts'), { workers: 2, progress: 'none', only });
          peak[phase] = poll.stop();
          seconds[phase] = summary.stages.reduce((s, x) => s + x.seconds, 0);
        }
      } finally {
        process.chdir(cwd);
      }
      const load = seconds.load!;
      const ddPhases = phases.slice(1).map(([p]) => p);
      const dd = ddPhases.reduce((s, p) => s + seconds[p]!, 0);
      const per = ddPhases.map((p) => `${p} ${seconds[p]!.toFixed(1)} s`).join(', ');
      const rss = { max: Math.max(...ddPhases.map((p) => peak[p]!.max)), sum: Math.max(...ddPhases.map((p) => peak[p]!.sum)) };
      const perRss = ddPhases.map((p) => `${p.replace('dedup.', '')} ${peak[p]!.max.toFixed(0)}`).join(', ');
      const textMB = c.bytes / 1e6;
      table.push(`| ${textMB.toFixed(0)} MB text | ${c.docs.toLocaleString('en-US')} | ${load.toFixed(1)} s, ${peak.load!.max.toFixed(0)} MiB | ${dd.toFixed(1)} s (${per}) | ${(textMB / dd).toFixed(1)} | ${rss.max.toFixed(0)} MiB (${perRss}) | ${rss.sum.toFixed(0)} MiB |`);
      rows.push({ name: `whole dedup.minhash, ${textMB.toFixed(0)} MB, 2 workers`, value: +dd.toFixed(1), unit: 's', note: `peak RSS ${rss.max.toFixed(0)} MiB per worker, ${rss.sum.toFixed(0)} MiB both` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  notes.push(
    '',
    'Whole dedup through `pipeline()` with the local executor, 2 worker processes, 8 input files, default config (14 × 8, sort buffer 64 MiB per task). Each stage runs as its own `run --only` with fresh workers so its peak RSS (polled every 100 ms over the worker processes; a bare worker that has loaded Sluice is ~225 MiB) is its own. Times include worker start-up and the engine\'s Parquet read/write.',
    '',
    ...table,
  );
}

const bench: Bench = {
  id: 'dedup',
  async run() {
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const parts = (process.env.DEDUP_BENCH_PARTS ?? 'speed,quality,scale').split(',');
    if (parts.includes('speed')) await signatureSpeed(rows, notes);
    if (parts.includes('quality')) await quality(rows, notes);
    if (parts.includes('scale')) await scale(rows, notes);
    return { title: 'Deduplication (dedup.exact / url / minhash)', rows, notes: notes.join('\n') };
  },
};
export default bench;
