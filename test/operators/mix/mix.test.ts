/**
 * `mix()`: the sampling plan on the token counts of real shared corpora (10M tokens), and a
 * pipeline run (encode → mix → shard.tokens) with its manifest, status and worker-count
 * determinism.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { planMixture } from '../../../operators/mix/plan.ts';
import { isMixInfo } from '../../../operators/mix/describe.ts';
import { loadTokenizer } from '../../../operators/tokenize/load.ts';
import { run, status } from '../../../engine/runner.ts';
import { LocalExecutor } from '../../../engine/executor/local.ts';
import { storage } from '../../../engine/storage/index.ts';
import { readDocsParquet } from '../../../engine/parquet.ts';
import type { Doc, Manifest } from '../../../engine/types.ts';
import { dataPath, needData } from '../../helpers/data.ts';
import { SLUICE, tempProject } from '../../helpers/cli.ts';
import { runMain } from '../../helpers/main.ts';
import { treeHashes } from '../../helpers/fixtures.ts';

/**
 * Per-document GPT-2 token counts of three real corpora: Shakespeare speeches (blank-line
 * separated), WikiText-2 test paragraphs (lines), Dolma CC documents. About 1.2M tokens in all.
 */
async function realCounts(): Promise<number[][]> {
  const tok = await loadTokenizer('gpt2');
  const count = (texts: string[]) => texts.filter((t) => t.trim()).map((t) => tok.encode(t).length);
  const shakespeare = count(readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').split(/\n\s*\n/));
  const wiki = count(readFileSync(dataPath('wikitext2-tokens/test.txt'), 'utf8').split('\n'));
  const dolma = count(
    ['0091', '0174'].flatMap((k) => gunzipSync(readFileSync(dataPath(`dolma-testdata/multiple_files__cc_en_head-${k}.jsonl.gz`))).toString('utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text)),
  );
  return [shakespeare, wiki, dolma];
}

test('planMixture: realised weights within 0.1% of requested at 10M tokens of real corpora; each source within one document; seeded', { skip: needData('tinyshakespeare') || needData('wikitext2-tokens') || needData('dolma-testdata') }, async () => {
  const counts = await realCounts();
  const weights = [0.5, 0.3, 0.2];
  const target = 10_000_000;
  const plans = planMixture(counts.map((c, i) => ({ counts: c, weight: weights[i]! })), target, 7);
  const total = plans.reduce((a, p) => a + p.realised, 0);
  plans.forEach((p, i) => {
    const c = counts[i]!;
    const maxDoc = Math.max(...c);
    assert.ok(Math.abs(p.realised - weights[i]! * target) <= maxDoc, `source ${i}: ${p.realised} vs ${weights[i]! * target} (largest doc ${maxDoc})`);
    assert.ok(Math.abs(p.realised / total - weights[i]!) / weights[i]! < 0.001, `source ${i}: realised weight ${p.realised / total} is not within 0.1% (relative) of ${weights[i]}`);
    console.log(`# source ${i}: ${c.length} docs, ${p.total} tokens, ×${p.fullPasses} + sample; realised ${p.realised} of ${weights[i]! * target} (weight ${(p.realised / total).toFixed(6)} vs ${weights[i]})`);
    // Upsampling repeats whole documents: every doc gets the full passes, the remainder adds at most one copy (without replacement).
    assert.ok(p.fullPasses >= 1, `source ${i} is upsampled`);
    let sum = 0;
    let docs = 0;
    for (let d = 0; d < c.length; d++) {
      assert.ok(p.copies[d] === p.fullPasses || p.copies[d] === p.fullPasses + 1);
      sum += p.copies[d]! * c[d]!;
      docs += p.copies[d]!;
    }
    assert.equal(sum, p.realised);
    assert.equal(docs, p.docs);
  });
  const again = planMixture(counts.map((c, i) => ({ counts: c, weight: weights[i]! })), target, 7);
  assert.deepEqual(again.map((p) => [...p.copies]), plans.map((p) => [...p.copies]), 'same seed, same plan');
  const other = planMixture(counts.map((c, i) => ({ counts: c, weight: weights[i]! })), target, 8);
  assert.notDeepEqual(other.map((p) => [...p.copies]), plans.map((p) => [...p.copies]), 'another seed draws another sample');
  // Downsampling: 1% of the Dolma docs' tokens, a sample without replacement.
  const down = planMixture([{ counts: counts[2]!, weight: 1 }], 0.01 * counts[2]!.reduce((a, b) => a + b, 0), 3)[0]!;
  assert.equal(down.fullPasses, 0);
  assert.ok([...down.copies].every((k) => k <= 1));
  assert.ok(Math.abs(down.realised - down.requested) <= Math.max(...counts[2]!));
});

test('planMixture: epochs repeat a source whole; fractional epochs sample the rest; errors name the problem', () => {
  const [a] = planMixture([{ counts: [3, 5, 7, 9], epochs: 2.5 }], undefined, 0);
  assert.equal(a!.fullPasses, 2);
  assert.ok(Math.abs(a!.realised - 60) <= 9, String(a!.realised));
  const [e, w] = planMixture([{ counts: [10, 10], epochs: 1 }, { counts: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], weight: 1 }], 25, 0);
  assert.equal(e!.realised, 20);
  assert.equal(w!.realised, 5, 'weighted sources share target minus the epoch sources');
  assert.throws(() => planMixture([{ counts: [1], weight: 1 }], undefined, 0), /'target' is required/);
  assert.throws(() => planMixture([{ counts: [], weight: 1 }], 5, 0), /source #1 is empty/);
  assert.throws(() => planMixture([{ counts: [10], epochs: 2 }, { counts: [1], weight: 1 }], 5, 0), /more than 'target'/);
});

function project(): string {
  const dir = tempProject('sluice-mix-');
  mkdirSync(join(dir, 'data'));
  const lines = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').split(/\n\s*\n/).filter((s) => s.trim());
  writeFileSync(join(dir, 'data', 'a.jsonl'), lines.slice(0, 60).map((t, i) => JSON.stringify({ id: `a${i}`, text: t })).join('\n') + '\n');
  writeFileSync(join(dir, 'data', 'b.jsonl'), lines.slice(60, 100).map((t, i) => JSON.stringify({ id: `b${i}`, text: t })).join('\n') + '\n');
  writeFileSync(join(dir, 'data', 'c.jsonl'), lines.slice(100, 130).map((t, i) => JSON.stringify({ id: `c${i}`, text: t })).join('\n') + '\n');
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read, tokenize, shard, mix } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'mixp', workdir: 'runs' }, (p) => {
  const a = p.stage('a', p.stage('a.raw', read.jsonl(${JSON.stringify(join(dir, 'data'))} + '/a.jsonl')), [tokenize.encode({ tokenizer: 'gpt2' })]);
  const b = p.stage('b', p.stage('b.raw', read.jsonl(${JSON.stringify(join(dir, 'data'))} + '/b.jsonl')), [tokenize.encode({ tokenizer: 'gpt2' })]);
  const c = p.stage('c', p.stage('c.raw', read.jsonl(${JSON.stringify(join(dir, 'data'))} + '/c.jsonl')), [tokenize.encode({ tokenizer: 'gpt2' })]);
  const m = p.stage('mix', mix({ sources: [{ input: a, weight: 0.25 }, { input: b, weight: 0.75 }, { input: c, epochs: 1 }], target: 12000, seed: 5, by: 'tokens' }));
  p.stage('shards', m, shard.tokens({ tokenizer: 'gpt2', seqLen: 64, shardTokens: 2048, valFraction: 0.1, seed: 1 }));
});
`,
  );
  return dir;
}

async function stageDocs(dir: string): Promise<Doc[]> {
  const m = await storage.readJson<Manifest>(join(dir, 'manifest.json'));
  const out: Doc[] = [];
  for (const f of m.files) for await (const b of readDocsParquet(join(dir, f.path))) out.push(...b);
  return out;
}

test('mix stage: draws by tokens, repeats whole docs with their repeat index, records the mixture; shard.tokens output is byte-identical with 1 and 4 workers', { skip: needData('tinyshakespeare') }, async () => {
  const dir = project();
  const file = join(dir, 'pipeline.ts');
  const one = await run(file, { workers: 1, progress: 'none', workdir: join(dir, 'w1') });
  // Four workers at once (no ramp), so the tasks really run in parallel.
  const four = await run(file, { executor: new LocalExecutor(4, 0), progress: 'none', workdir: join(dir, 'w4') });
  const mixDir = one.stages.find((s) => s.stage === 'mix')!.dir;
  const docs = await stageDocs(mixDir);
  const m = await storage.readJson<Manifest>(join(mixDir, 'manifest.json'));
  const info = m.info!.mix as { by: string; units: number; sources: Array<Record<string, number | string>> };
  assert.ok(isMixInfo(m.info!.mix), 'the manifest holds a mixture record `sluice status` can print');
  assert.equal(info.by, 'tokens');
  const [sa, sb, sc] = info.sources;
  // c: one epoch = every c doc once; a and b share the rest 1:3, each within one document.
  const cDocs = docs.filter((d) => d.meta.mixSource === 'c');
  assert.equal(cDocs.length, 30);
  const cTokens = cDocs.reduce((x, d) => x + d.tokens!.length, 0);
  assert.equal(sc!.units, cTokens);
  const rest = 12000 - cTokens;
  for (const [s, w, name] of [[sa!, 0.25, 'a'], [sb!, 0.75, 'b']] as const) {
    const got = docs.filter((d) => d.meta.mixSource === name);
    const tokens = got.reduce((x, d) => x + d.tokens!.length, 0);
    assert.equal(s.units, tokens);
    assert.equal(s.tokens, tokens);
    assert.equal(s.docs, got.length);
    const maxDoc = Math.max(...got.map((d) => d.tokens!.length));
    assert.ok(Math.abs(tokens - w * rest) <= maxDoc, `${name}: ${tokens} tokens vs ${w * rest}`);
    assert.equal(s.requestedUnits, w * rest);
  }
  // b (40 docs) is upsampled: copies carry their repeat index and a distinct id, text and tokens unchanged.
  assert.ok((sb!.fullPasses as number) >= 1 && (sb!.repeats as number) > 0);
  const byId = new Map(docs.map((d) => [d.id, d]));
  assert.equal(byId.size, docs.length, 'ids stay unique');
  const copy = docs.find((d) => d.meta.mixSource === 'b' && d.meta.mixRepeat === 1)!;
  const orig = byId.get(copy.id.replace(/#r1$/, ''))!;
  assert.equal(copy.id, `${orig.id}#r1`);
  assert.equal(orig.meta.mixRepeat, 0);
  assert.equal(copy.text, orig.text);
  assert.deepEqual([...copy.tokens!], [...orig.tokens!]);
  assert.ok(Math.abs((sb!.realisedWeight as number) - (sb!.requestedWeight as number)) < 0.05);
  // Worker count does not change any output byte (mix files and manifest, packed chunks, shards); shards.json holds absolute URIs, so it differs by workdir.
  const h1 = treeHashes(join(dir, 'w1'));
  const h4 = treeHashes(join(dir, 'w4'));
  const pick = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => /^(mix|shards)/.test(k) && (/\.(parquet|bin|docs|idx)$/.test(k) || /^mix\/[^/]+\/manifest\.json$/.test(k))));
  assert.ok(Object.keys(pick(h1)).some((k) => k.endsWith('.bin')), 'shards written');
  assert.deepEqual(pick(h1), pick(h4));
  assert.equal(four.stages.find((s) => s.stage === 'mix')!.dir.replace(join(dir, 'w4'), ''), mixDir.replace(join(dir, 'w1'), ''));
  // status: text and --json.
  const st = await status(file, { workdir: join(dir, 'w1') });
  assert.deepEqual(st.stages.find((s) => s.stage === 'mix')!.mix, m.info!.mix);
  const txt = await runMain(['status', file, '--workdir', join(dir, 'w1')], dir);
  assert.equal(txt.code, 0, txt.stderr);
  assert.match(txt.stdout, /mix by tokens: [\d,]+ tokens \(target 12,000\), seed 5/);
  assert.match(txt.stdout, /\n\s+b\s+weight [\d.]+% → [\d.]+%\s+[\d,]+ tokens\s+\d+ docs \(40 unique\)/);
  const js = await runMain(['status', file, '--workdir', join(dir, 'w1'), '--json'], dir);
  assert.equal((JSON.parse(js.stdout) as { stages: Array<{ stage: string; mix?: unknown }> }).stages.find((s) => s.stage === 'mix')!.mix !== undefined, true);
  assert.ok(readdirSync(mixDir).length > 0);
});

test('mix: config errors name the problem', async () => {
  const { mix } = await import('../../../operators/mix/mix.ts');
  const ref = (name: string) => ({ kind: 'stage' as const, name, pipeline: 'p' });
  assert.throws(() => mix({ sources: [{ input: ref('a'), weight: 1 }] }), /'target' is required/);
  assert.throws(() => mix({ sources: [{ input: ref('a'), weight: 1 }, { input: ref('a'), weight: 2 }], target: 5 }), /source 'a' is listed twice/);
  assert.throws(() => mix({ sources: [], target: 5 }), /sources/);
  assert.throws(() => mix({ sources: [{ input: ref('a'), weight: -1 }], target: 5 }), /weight|sources/);
});

test('isMixInfo: accepts a mixture record, rejects JSON that describeMix could not print', () => {
  const source = { input: 'a', requestedWeight: 1, realisedWeight: 1, requestedUnits: 10, units: 10, docs: 2, uniqueDocs: 2, tokens: 10, bytes: 40, fullPasses: 0, maxRepeat: 1, repeats: 0, sourceDocs: 3, sourceUnits: 15 };
  const info = { by: 'tokens', target: 10, seed: 0, units: 10, sources: [source] };
  assert.ok(isMixInfo(info));
  assert.ok(isMixInfo({ ...info, target: null, by: 'docs' }));
  assert.ok(!isMixInfo(undefined));
  assert.ok(!isMixInfo(null));
  assert.ok(!isMixInfo([info]));
  assert.ok(!isMixInfo({ ...info, by: 'words' }));
  assert.ok(!isMixInfo({ ...info, sources: 'a' }));
  assert.ok(!isMixInfo({ ...info, sources: [{ ...source, docs: '2' }] }));
  const { input: _input, ...noInput } = source;
  assert.ok(!isMixInfo({ ...info, sources: [noInput] }));
});
