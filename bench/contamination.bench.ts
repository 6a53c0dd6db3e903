/**
 * Contamination scanner throughput: training text streamed past an index of every mc-eval
 * benchmark (ARC-E/C, OpenBookQA, COPA, CommonsenseQA, PIQA, Winogrande, LAMBADA, MMLU test).
 * Peer, in the same process: the straightforward JS port of lm-evaluation-harness's janitor
 * approach (regex normalisation, a `Set` of 13-gram strings). Goal: ≥ 50 MB/s per core.
 * Defaults throughout (N auto per benchmark, fields on their own, IDF share 0.5, answer window
 * 50). Also the issue-19 conformance figures: 200 MMLU test + 200 ARC-Challenge items leaked
 * into tinyshakespeare chunks in five formats (recall with provenance, unleaked flagged).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench, BenchResult } from './harness.ts';
import { medianSeconds, ratio } from './harness.ts';
import { loadBenchmark, type Benchmark } from '../operators/read/benchmarks.ts';
import { buildIndex, itemRenderings } from '../formats/contamination/ngram-index.ts';
import { ContaminationScanner } from '../evals/contamination/scan.ts';
import { decontaminate } from '../operators/filter/decontaminate.ts';
import { runOperators } from '../engine/testing.ts';
import { SHARED_DATA } from '../test/helpers/data.ts';
import { leakCorpus } from '../test/helpers/contamination-leaks.ts';

const MC = join(SHARED_DATA, 'mc-eval');
const FILES = ['llm-foundry/arc_easy.jsonl', 'llm-foundry/arc_challenge.jsonl', 'llm-foundry/openbook_qa.jsonl', 'llm-foundry/copa.jsonl', 'llm-foundry/commonsense_qa.jsonl', 'llm-foundry/piqa.jsonl', 'llm-foundry/winogrande.jsonl', 'llm-foundry/lambada_openai.jsonl', 'mmlu/test'];

/** The peer: regex normalisation and a Set of space-joined 13-gram strings. */
function naiveIndex(benches: Benchmark[], n: number): Set<string> {
  const set = new Set<string>();
  for (const b of benches)
    for (const it of b.items)
      for (const r of itemRenderings(it, 'both')) {
        const w = naiveWords(r.join('\n'));
        for (let i = 0; i + n <= w.length; i++) set.add(w.slice(i, i + n).join(' '));
      }
  return set;
}
const naiveWords = (t: string) => t.toLowerCase().replace(/[\p{P}\p{S}]/gu, '').split(/\s+/u).filter(Boolean);
function naiveScan(set: Set<string>, docs: string[], n: number): number {
  let hits = 0;
  for (const d of docs) {
    const w = naiveWords(d);
    for (let i = 0; i + n <= w.length; i++) if (set.has(w.slice(i, i + n).join(' '))) hits++;
  }
  return hits;
}

const bench: Bench = {
  id: 'contamination',
  async run(): Promise<BenchResult> {
    if (!existsSync(MC)) return { title: 'Contamination scanner', rows: [], notes: `skipped: ${MC} is absent` };
    const benches: Benchmark[] = [];
    for (const f of FILES) benches.push(await loadBenchmark(join(MC, f)));
    const items = benches.reduce((s, b) => s + b.items.length, 0);
    let index = buildIndex(benches);
    const buildS = await medianSeconds(() => (index = buildIndex(benches)), 3, false);
    // Corpus: tinyshakespeare ×8 (~8.9 MB) in 4 KiB documents; modest because other work shares the cores.
    const ts = readFileSync(join(SHARED_DATA, 'tinyshakespeare/input.txt'), 'utf8').repeat(8);
    const docs: string[] = [];
    for (let i = 0; i < ts.length; i += 4096) docs.push(ts.slice(i, i + 4096));
    const mb = Buffer.byteLength(ts, 'utf8') / 1e6;
    // Wall time and this process's CPU time (user + system): on a shared, oversubscribed machine
    // the wall figure understates a core's throughput, the CPU-time figure does not.
    const cpu: number[] = [];
    const scanS = await medianSeconds(() => {
      const c0 = process.cpuUsage();
      const s = new ContaminationScanner(index);
      docs.forEach((d, i) => s.scanText(`d${i}`, d));
      const r = s.result();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
      return r;
    }, 5);
    cpu.sort((a, b) => a - b);
    const cpuS = cpu[Math.floor(cpu.length / 2)]!;
    const set = naiveIndex(benches, 13);
    const naiveS = await medianSeconds(() => naiveScan(set, docs, 13), 3);
    const decon = decontaminate({ benchmarks: FILES.map((f) => join(MC, f)) });
    const docObjs = docs.map((text, i) => ({ id: `d${i}`, text, meta: {} }));
    const deconS = await medianSeconds(() => runOperators([decon], docObjs), 3);
    const sluice = mb / scanS;
    // Conformance (issue 19): leaked items found with their host doc; other items flagged.
    const lc = await leakCorpus(200);
    const ls = new ContaminationScanner(buildIndex(lc.benches));
    for (const d of lc.docs) ls.scanText(d.id, d.text, d.url);
    const lr = ls.result();
    const byId = new Map(lr.benchmarks.flatMap((b) => b.items.map((i) => [i.id, i] as const)));
    const leaked = new Set(lc.leaks.map((l) => l.item));
    const found = lc.leaks.filter((l) => byId.get(l.item)?.dirty && byId.get(l.item)!.sources.some((x) => x.id === l.doc)).length;
    const others = lr.benchmarks.reduce((n, b) => n + b.total, 0) - leaked.size;
    const falsePos = [...byId.values()].filter((i) => i.dirty && !leaked.has(i.id)).length;
    return {
      title: 'Contamination scanner (train–test n-gram overlap)',
      rows: [
        { name: `sluice contamination scan (N per benchmark ${index.ngrams.join('/')}, fields, 1 core)`, value: +sluice.toFixed(1), unit: 'MB/s', ratio: ratio(sluice, mb / naiveS, 'naive Set<string>') },
        { name: 'sluice contamination scan, per CPU-second', value: +(mb / cpuS).toFixed(1), unit: 'MB/s', note: 'bytes / process CPU time: the per-core figure on a loaded machine' },
        { name: 'naive JS port of the janitor approach (peer)', value: +(mb / naiveS).toFixed(1), unit: 'MB/s' },
        { name: 'filter.decontaminate (span removal)', value: +(mb / deconS).toFixed(1), unit: 'MB/s' },
        { name: `index build (${items.toLocaleString('en-US')} items, ${index.gramCount.toLocaleString('en-US')} n-grams)`, value: +buildS.toFixed(2), unit: 's' },
        { name: 'leaked items found with provenance (200 MMLU + 200 ARC, 5 formats)', value: +((100 * found) / lc.leaks.length).toFixed(2), unit: '%', note: `${found}/${lc.leaks.length}; goal ≥ 99%` },
        { name: 'unleaked items flagged, same corpus', value: +((100 * falsePos) / others).toFixed(2), unit: '%', note: `${falsePos}/${others}; goal ≤ 1%` },
        { name: 'index size', value: +(index.bytes() / 2 ** 20).toFixed(1), unit: 'MiB', note: `${(index.bytes() / index.gramCount).toFixed(1)} B per n-gram; naive Set holds ${set.size.toLocaleString('en-US')} strings` },
      ],
      notes: `Corpus: tinyshakespeare ×8 = ${mb.toFixed(1)} MB in ${docs.length} docs of 4 KiB; index: ${FILES.length} benchmark sets (every mc-eval file plus MMLU test). Medians of 5 (scan) / 3 runs, one core, in-process. Goal ≥ 50 MB/s per core: ${mb / cpuS >= 50 ? 'met' : 'not met'} per CPU-second (${(mb / cpuS).toFixed(1)} MB/s); wall ${sluice.toFixed(1)} MB/s (the machine is shared with other work; figures move with load). On the 2-core VM the scan figure is bimodal from one process to the next, ≈ 39–40 or ≈ 52–56 MB/s for the same code: 2026-12-06, a bisection over 131 commits measured both modes on neighbouring commits, and three runs of one commit gave 53.3, 53.6 and 39.5 (re-allocating the index in the process keeps its mode; pinned to one CPU with taskset, 8 of 8 processes ran in the fast mode, unpinned 2–3 of 8–10 in the slow one, where scanText, hashWords and matchUnits are all slower: scheduling, not the code).`,
    };
  },
};
export default bench;
