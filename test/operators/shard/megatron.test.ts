/**
 * Megatron-LM indexed datasets: `shard.tokens({ format: 'megatron' })` read back by Megatron-LM's
 * own reader (`megatron/core/datasets/indexed_dataset.py` from the shared reference copy, run
 * with Debian's python3 + numpy + torch), locally and from s3://; `read.megatron` on files
 * Megatron's own `IndexedDatasetBuilder` wrote, and on malformed indexes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, tempProject, SLUICE } from '../../helpers/cli.ts';
import { dataPath, needData } from '../../helpers/data.ts';
import { makeBucket, needS3 } from '../../helpers/s3.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import type { Doc, Manifest } from '../../../engine/types.ts';
import { readDocsParquet } from '../../../engine/parquet.ts';
import { storage } from '../../../engine/storage/index.ts';
import { readSource } from '../../../engine/testing.ts';
import type { ShardManifest } from '../../../formats/shards.ts';
import { sequenceOrder } from '../../../operators/shard/write.ts';
import { megatronPlan } from '../../../operators/shard/megatron.ts';
import { megatronDtypeFor, parseMegatronHeader, writeMegatronIndex } from '../../../formats/megatron.ts';
import { read } from '../../../operators/read/index.ts';
import { shard } from '../../../operators/shard/index.ts';
import { loadTokenizer } from '../../../operators/tokenize/load.ts';

const REFERENCE = dataPath('megatron-reference');
const PY = '/usr/bin/python3';
// Looks the packages up without importing them (importing torch alone costs ~1 s of CPU).
const torch = existsSync(PY) && spawnSync(PY, ['-c', "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('numpy', 'torch')) else 1)"], { encoding: 'utf8' }).status === 0;
const skipPy = needData('megatron-reference') || (torch ? false : `skipped: ${PY} with numpy and torch (Debian python3-numpy, python3-torch) is not installed`);

/**
 * Debian has no boto3 new enough for AWS_ENDPOINT_URL_S3 (bookworm: 1.26; the variable came in
 * 1.28), and Megatron's S3 reader calls plain `boto3.client("s3")`. The Python that runs moto has
 * a current, pure-Python boto3: its site-packages go at the END of the torch Python's path, so
 * numpy and torch still come from Debian.
 */
const botoSite = (() => {
  const r = spawnSync('python3', ['-c', 'import boto3, os; print(os.path.dirname(os.path.dirname(boto3.__file__)))'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();

/** Megatron's reader over each prefix: per document, its tokens (sequences concatenated). */
const READER = `
import json, sys
boto_site, cache = sys.argv[1], sys.argv[2]
import numpy, torch
if boto_site:
    sys.path.append(boto_site)
from megatron.core.datasets.indexed_dataset import IndexedDataset
from megatron.core.datasets.object_storage_utils import ObjectStorageConfig
out = {}
for prefix in sys.argv[3:]:
    if prefix.startswith("s3://"):
        ds = IndexedDataset(prefix, mmap=False, object_storage_config=ObjectStorageConfig(path_to_idx_cache=cache, bin_chunk_nbytes=4096))
    else:
        ds = IndexedDataset(prefix)
    di = ds.document_indices
    docs = [numpy.concatenate([ds[s] for s in range(di[d], di[d + 1])] or [numpy.zeros(0, ds.index.dtype)]).tolist() for d in range(len(di) - 1)]
    out[prefix] = {"dtype": ds.index.dtype.__name__, "documentIndices": di.tolist(), "lengths": ds.sequence_lengths.tolist(), "docs": docs}
print(json.dumps(out))
`;

interface Read {
  dtype: string;
  documentIndices: number[];
  lengths: number[];
  docs: number[][];
}

function megatronRead(prefixes: string[], env: NodeJS.ProcessEnv = {}): Record<string, Read> {
  const cache = mkdtempSync(join(tmpdir(), 'sluice-mcache-'));
  const r = spawnSync(PY, ['-c', READER, botoSite ?? '', cache, ...prefixes], { encoding: 'utf8', env: { ...process.env, ...env, PYTHONPATH: REFERENCE }, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, Read>;
}

/** Texts of varied length: one longer than three shards, unicode, one-word docs. */
function texts(): string[] {
  const words = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').split(/\s+/).slice(0, 20000);
  const out: string[] = [];
  let w = 0;
  for (let i = 0; i < 90; i++) {
    const n = i === 40 ? 1500 : 1 + ((i * 37) % 120);
    out.push((i % 9 === 0 ? 'Æsir — naïve café 字 ' : '') + words.slice(w, w + n).join(' '));
    w = (w + n) % 18000;
  }
  return out;
}

function project(shardOpts: string[]): string {
  const dir = tempProject('sluice-megatron-');
  const t = texts();
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'a.jsonl'), t.slice(0, 50).map((x, i) => JSON.stringify({ id: `d${i}`, text: x })).join('\n') + '\n');
  writeFileSync(join(dir, 'data', 'b.jsonl'), t.slice(50).map((x, i) => JSON.stringify({ id: `d${50 + i}`, text: x })).join('\n') + '\n');
  const stages = shardOpts.map((o, i) => `  p.stage('m${i}', enc${o.includes('cl100k') ? 'Wide' : ''}, shard.tokens(${o}));`).join('\n');
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read, tokenize, shard } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'meg', workdir: 'runs' }, (p) => {
  const docs = p.stage('load', read.jsonl('data/*.jsonl'));
${shardOpts.some((o) => !o.includes('cl100k')) ? `  const enc = p.stage('encoded', docs, [tokenize.encode({ tokenizer: 'gpt2' })]);\n` : ''}${shardOpts.some((o) => o.includes('cl100k')) ? `  const encWide = p.stage('encodedWide', docs, [tokenize.encode({ tokenizer: 'cl100k_base' })]);\n` : ''}${stages}
});
`,
  );
  return dir;
}

/** The docs of a stage, in manifest order (what the pack stage reads). */
async function stageDocs(summary: RunSummary, stage: string): Promise<Doc[]> {
  const dir = summary.stages.find((s) => s.stage === stage)!.dir;
  const m = await storage.readJson<Manifest>(storage.join(dir, 'manifest.json'));
  const out: Doc[] = [];
  for (const f of m.files) for await (const b of readDocsParquet(storage.join(dir, f.path))) out.push(...b);
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The shard manifest of a megatron shard stage. */
async function shardManifest(summary: RunSummary, stage: string): Promise<ShardManifest> {
  return storage.readJson<ShardManifest>(storage.join(summary.stages.find((s) => s.stage === stage)!.dir, 'shards.json'));
}

/** Megatron's reader over every shard of these stages, in one Python process (~4 s of CPU each: torch). */
async function megatronReadStages(summary: RunSummary, stages: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, Read>> {
  const prefixes: string[] = [];
  for (const st of stages) {
    const m = await shardManifest(summary, st);
    prefixes.push(...[...m.train, ...m.val].map((s) => s.prefix!));
  }
  return megatronRead(prefixes, env);
}

/** Checks a megatron shard set against the encoded docs: Megatron's reader returns every document, in the seeded order. */
async function checkShards(summary: RunSummary, stage: string, input: string, o: { dtype: string; shuffle: boolean; seed: number; shardTokens: number }, got: Record<string, Read>) {
  const m = await shardManifest(summary, stage);
  const docs = (await stageDocs(summary, input)).filter((d) => d.tokens!.length > 0);
  assert.equal(m.layout, 'megatron');
  assert.equal(m.dtype, o.dtype);
  assert.equal(m.seqLen, 0);
  assert.equal(m.docs, docs.length);
  assert.equal(m.droppedTokens, 0);
  const shards = [...m.train, ...m.val];
  assert.ok(m.train.length >= 3 && m.val.length >= 1, `${m.train.length} train, ${m.val.length} val shards`);
  const all: number[][] = [];
  const writeDir = summary.stages.find((s) => s.stage === `${stage}.write`)!.dir;
  const files = new Map((await storage.readJson<Manifest>(storage.join(writeDir, 'manifest.json'))).files.map((f) => [f.path, f]));
  for (const s of shards) {
    const r = got[s.prefix!]!;
    assert.equal(r.dtype, o.dtype, s.prefix);
    assert.equal(s.uri, `${s.prefix}.bin`);
    assert.equal(s.docs, s.path.replace(/\.bin$/, '.idx'));
    assert.deepEqual(r.documentIndices, Array.from({ length: s.sequences + 1 }, (_, i) => i), 'one sequence per document');
    const tokens = r.lengths.reduce((a, b) => a + b, 0);
    assert.equal(tokens, s.tokens);
    assert.ok(tokens <= o.shardTokens || s.sequences === 1, `${s.path}: ${tokens} tokens in ${s.sequences} documents`);
    // Listed with size and sha256 in the shard manifest and the stage manifest.
    const bin = await storage.read(s.uri);
    assert.equal(bin.byteLength, s.bytes);
    assert.equal(bin.byteLength, tokens * (o.dtype === 'uint16' ? 2 : 4));
    assert.equal(sha(bin), s.sha256);
    const idxBytes = await storage.read(`${s.prefix}.idx`);
    assert.deepEqual(files.get(s.path), { path: s.path, task: files.get(s.path)!.task, rows: s.sequences, bytes: s.bytes, sha256: s.sha256 });
    assert.deepEqual(files.get(s.docs!), { path: s.docs, task: files.get(s.path)!.task, rows: s.sequences, bytes: idxBytes.byteLength, sha256: sha(idxBytes) });
    all.push(...r.docs);
  }
  const order = sequenceOrder(docs.length, o.shuffle, o.seed);
  assert.equal(all.length, docs.length);
  all.forEach((t, i) => assert.deepEqual(t, [...docs[order[i]!]!.tokens!], `document ${i} (input doc ${order[i]})`));
  // read.megatron returns the same documents with their text, locally and from s3://.
  const back = await readSource(read.megatron(shards.map((s) => s.prefix!), { tokenizer: o.dtype === 'uint16' ? 'gpt2' : 'cl100k_base', splitBytes: 1000 }));
  assert.equal(back.out.length, docs.length);
  back.out.forEach((d, i) => {
    assert.deepEqual([...d.tokens!], all[i]);
    assert.equal(d.text, docs[order[i]!]!.text + '<|endoftext|>');
  });
  return m;
}

test('shard.tokens megatron: Megatron-LM reads every document back (uint16 for GPT-2, int32 for cl100k), shuffled and split', { skip: needData('tinyshakespeare') || skipPy }, async () => {
  const dir = project([
    `{ format: 'megatron', tokenizer: 'gpt2', shardTokens: 2000, valFraction: 0.1, seed: 5, chunkSequences: 700 }`,
    `{ format: 'megatron', tokenizer: 'cl100k_base', shardTokens: 2000, valFraction: 0.1, shuffle: false, chunkSequences: 700 }`,
  ]);
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '2'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const got = await megatronReadStages(summary, ['m0', 'm1']);
  const m = await checkShards(summary, 'm0', 'encoded', { dtype: 'uint16', shuffle: true, seed: 5, shardTokens: 2000 }, got);
  assert.match((await storage.readJson<Manifest>(join(summary.stages.find((s) => s.stage === 'm0')!.dir, 'manifest.json'))).info!.summary as string, new RegExp(`in ${m.sequences.train + m.sequences.val} documents \\(uint16, megatron\\), from ${m.docs} docs`));
  await checkShards(summary, 'm1', 'encodedWide', { dtype: 'int32', shuffle: false, seed: 0, shardTokens: 2000 }, got);
  // Nothing half-written: no temporary files beside the shards.
  const writeDir = summary.stages.find((s) => s.stage === 'm0.write')!.dir;
  assert.deepEqual(readdirSync(writeDir).filter((f) => !/^(train|val)-\d{5}\.(bin|idx)$|^manifest\.json$|^_/.test(f)), []);
});

test('shard.tokens megatron on an s3:// workdir: Megatron-LM\'s S3 reader returns identical documents', { skip: needData('tinyshakespeare') || skipPy || (botoSite ? false : 'skipped: no python3 with boto3 (moto\'s) to lend Megatron\'s S3 reader') }, async (t) => {
  const s3 = await needS3();
  if (s3) return t.skip(s3);
  const bucket = await makeBucket('sluice-megatron');
  const dir = project([`{ format: 'megatron', tokenizer: 'cl100k_base', shardTokens: 2500, valFraction: 0.05, seed: 9, chunkSequences: 1000 }`]);
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '2', '--workdir', `s3://${bucket}/runs`], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const m = await checkShards(summary, 'm0', 'encodedWide', { dtype: 'int32', shuffle: true, seed: 9, shardTokens: 2500 }, await megatronReadStages(summary, ['m0']));
  assert.match(m.train[0]!.prefix!, new RegExp(`^s3://${bucket}/runs/m0\\.write/`));
});

test('megatronPlan: every document once, train then val, shards of at most shardTokens (a longer document alone)', () => {
  const lengths = Uint32Array.from({ length: 500 }, (_, i) => (i === 17 ? 5000 : 1 + ((i * 7919) % 300)));
  for (const shuffle of [true, false]) {
    const { order, shards } = megatronPlan(lengths, { shardTokens: 2000, shuffle, seed: 3, valFraction: 0.1 });
    const seen: number[] = [];
    for (const [i, s] of shards.entries()) {
      assert.equal(s.name, `${s.split}-${String(s.k).padStart(5, '0')}`);
      assert.equal(s.from, i ? shards[i - 1]!.to : 0);
      const ids = [...order.slice(s.from, s.to)];
      assert.equal(s.tokens, ids.reduce((a, d) => a + lengths[d]!, 0));
      assert.ok(s.tokens <= 2000 || ids.length === 1, `${s.name}: ${s.tokens} tokens`);
      seen.push(...ids);
    }
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i));
    assert.deepEqual(shards.filter((s) => s.split === 'val').reduce((a, s) => a + s.to - s.from, 0), 50);
    assert.ok(shards.findIndex((s) => s.split === 'val') > shards.findLastIndex((s) => s.split === 'train'));
  }
  assert.deepEqual(megatronPlan(new Uint32Array(0), { shardTokens: 10, shuffle: true, seed: 0, valFraction: 0.1 }).shards, []);
});

test('the .idx writer: Megatron\'s layout byte for byte (header, int32 lengths, int64 pointers, document indices)', async () => {
  const chunks: Uint8Array[] = [];
  const n = await writeMegatronIndex({ write: async (c) => void chunks.push(Uint8Array.from(c)) }, 'int32', [3, 1, 70000]);
  const b = Buffer.concat(chunks);
  assert.equal(b.byteLength, n);
  assert.equal(n, 34 + 3 * 12 + 4 * 8);
  assert.equal(b.subarray(0, 9).toString('latin1'), 'MMIDIDX\x00\x00');
  assert.equal(b.readBigUInt64LE(9), 1n);
  assert.equal(b.readUInt8(17), 4);
  assert.deepEqual([b.readBigUInt64LE(18), b.readBigUInt64LE(26)], [3n, 4n]);
  assert.deepEqual([0, 1, 2].map((i) => b.readInt32LE(34 + 4 * i)), [3, 1, 70000]);
  assert.deepEqual([0, 1, 2].map((i) => b.readBigInt64LE(46 + 8 * i)), [0n, 12n, 16n]);
  assert.deepEqual([0, 1, 2, 3].map((i) => b.readBigInt64LE(70 + 8 * i)), [0n, 1n, 2n, 3n]);
  assert.deepEqual(parseMegatronHeader(b, 'x.idx', b.byteLength), { dtype: 'int32', itemSize: 4, sequences: 3, docIndexEntries: 4, lengthsAt: 34, pointersAt: 46, docIndicesAt: 70, multimodal: false });
  assert.equal(megatronDtypeFor(65536), 'uint16');
  assert.equal(megatronDtypeFor(65537), 'int32');
});

test('shard.tokens megatron: seqLen is refused (documents are whole), and the S3 part limit is checked', () => {
  assert.throws(() => shard.tokens({ tokenizer: 'gpt2', format: 'megatron', seqLen: 512 }), /config key 'seqLen': not used by format 'megatron'/);
  assert.throws(() => shard.tokens({ tokenizer: 'gpt2', format: 'megatron', shardTokens: 50_000_000_000 }), /10,000 parts/);
});

/**
 * Megatron's own IndexedDatasetBuilder writes each set: `prefix` with these documents (each a list
 * of sequences). One Python process for all of them: each one imports torch, ~4 s of CPU.
 */
const BUILDER = `
import json, sys, numpy, torch
from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder
for s in json.load(sys.stdin):
    b = IndexedDatasetBuilder(s["prefix"] + ".bin", dtype=getattr(numpy, s["dtype"]))
    for doc in s["docs"]:
        for seq in doc:
            b.add_item(torch.tensor(seq, dtype=torch.int64))
        b.end_document()
    b.finalize(s["prefix"] + ".idx")
`;

function megatronWrite(sets: Array<{ prefix: string; dtype: string; docs: number[][][] }>): void {
  const r = spawnSync(PY, ['-c', BUILDER], { input: JSON.stringify(sets), encoding: 'utf8', env: { ...process.env, PYTHONPATH: REFERENCE } });
  assert.equal(r.status, 0, r.stderr);
}

/** Texts of the `small` set, whose documents are their GPT-2 tokens. */
const SMALL_TEXTS = Array.from({ length: 40 }, (_, i) => `Document ${i}: the weir holds ${i * 3} barrels and the wheel turns.`);
/** The s3:// test's documents. */
const C_DOCS = Array.from({ length: 300 }, (_, i) => [Array.from({ length: 1 + (i % 13) }, (_, j) => (i * 31 + j) % 65000)]);

let fixtures: Promise<{ dir: string; small: number[][][] }> | undefined;
/**
 * The sets the read.megatron tests read, written by Megatron once for all of them (in the test
 * file's order, the first one that needs them): `small` (multi-sequence and empty documents),
 * `wide` (int32, ids beyond GPT-2's vocabulary), `c` (the s3:// test's), `ok` (the malformed-index test's).
 */
function megatronFixtures(): Promise<{ dir: string; small: number[][][] }> {
  fixtures ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-mwrite-'));
    const tok = await loadTokenizer('gpt2');
    const small = SMALL_TEXTS.map((t, i) => (i === 7 ? [] : i % 5 === 0 ? [[...tok.encode(t.slice(0, 12))], [...tok.encode(t.slice(12))]] : [[...tok.encode(t)]]));
    megatronWrite([
      { prefix: join(dir, 'small'), dtype: 'uint16', docs: small },
      { prefix: join(dir, 'wide'), dtype: 'int32', docs: [[[70000, 1, 2]], [[3]], [[0, 100276]]] },
      { prefix: join(dir, 'c'), dtype: 'uint16', docs: C_DOCS },
      { prefix: join(dir, 'ok'), dtype: 'uint16', docs: [[[1, 2, 3]], [[4, 5]]] },
    ]);
    return { dir, small };
  })();
  return fixtures;
}

/** Copies the Megatron-written sets `names` (.bin and .idx) into `dir`. */
function copySets(from: string, dir: string, names: string[]): void {
  for (const n of names) for (const ext of ['bin', 'idx']) writeFileSync(join(dir, `${n}.${ext}`), readFileSync(join(from, `${n}.${ext}`)));
}

test('read.megatron reads what Megatron-LM\'s IndexedDatasetBuilder wrote: multi-sequence and empty documents, split into parts', { skip: skipPy }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mread-'));
  const tok = await loadTokenizer('gpt2');
  const texts = SMALL_TEXTS;
  const { dir: written, small: docs } = await megatronFixtures();
  copySets(written, dir, ['small', 'wide']);
  // A tiny splitBytes: many parts, every document read exactly once, in order.
  const { out, audit } = await readSource(read.megatron([join(dir, 'small.idx'), join(dir, 'wide')], { tokenizer: 'gpt2', splitBytes: 64 }));
  assert.equal(out.length, 40 + 1, 'the wide docs with ids ≥ GPT-2\'s vocabulary are skipped');
  out.slice(0, 40).forEach((d, i) => {
    assert.ok(d.id.endsWith(`small#${i}`), d.id);
    assert.equal(d.meta.source, d.id);
    assert.deepEqual([...d.tokens!], docs[i]!.flat());
    assert.equal(d.text, i === 7 ? '' : texts[i]);
    assert.ok(d.tokens instanceof Uint32Array, 'docs carry uint32 ids whatever the stored width');
    if (i % 5 === 0 && i !== 7) assert.deepEqual(d.meta.sequenceLengths, docs[i]!.map((s) => s.length));
  });
  assert.ok(out[40]!.tokens instanceof Uint32Array);
  assert.deepEqual([...out[40]!.tokens!], [3]);
  assert.equal(out[40]!.text, tok.decode([3]));
  assert.deepEqual(audit.skips.map((s) => [s.input.replace(/^.*\//, ''), s.reason]), [['wide#0', 'invalid token ids'], ['wide#2', 'invalid token ids']]);
  // Without a tokenizer: tokens only, nothing skipped.
  const raw = await readSource(read.megatron(join(dir, 'wide.bin')));
  assert.deepEqual(raw.out.map((d) => [...d.tokens!]), [[70000, 1, 2], [3], [0, 100276]]);
  assert.deepEqual(raw.out.map((d) => d.text), ['', '', '']);

  // As a pipeline stage: several tasks, tokens and text in the stage's Parquet.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'mr', workdir: 'runs' }, (p) => { p.stage('corpus', read.megatron('small', { tokenizer: 'gpt2', splitBytes: 256 })); });
`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  assert.ok(summary.stages[0]!.tasks > 1, `${summary.stages[0]!.tasks} tasks`);
  const staged = await stageDocs(summary, 'corpus');
  assert.deepEqual(staged.map((d) => [d.id, d.text, [...(d.tokens ?? [])]]), out.slice(0, 40).map((d) => [d.id.replace(/^.*\//, ''), d.text, [...d.tokens!]]));
});

test('read.megatron from s3:// with ranged reads', { skip: skipPy }, async (t) => {
  const s3 = await needS3();
  if (s3) return t.skip(s3);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mread-'));
  const docs = C_DOCS;
  copySets((await megatronFixtures()).dir, dir, ['c']);
  const bucket = await makeBucket('sluice-mread');
  for (const ext of ['bin', 'idx']) await storage.write(`s3://${bucket}/corpus/c.${ext}`, readFileSync(join(dir, `c.${ext}`)));
  const src = read.megatron(`s3://${bucket}/corpus/*.idx`, { splitBytes: 1024 });
  const { out } = await readSource(src);
  assert.deepEqual(out.map((d) => [...d.tokens!]), docs.map((d) => d.flat()));
  const parts = await src.plan({ workdir: dir, baseDir: dir, storage });
  assert.ok(parts.length > 1, `${parts.length} parts`);
});

test('read.megatron: a malformed index fails with an error naming the file', { skip: skipPy }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mbad-'));
  copySets((await megatronFixtures()).dir, dir, ['ok']);
  const idx = readFileSync(join(dir, 'ok.idx'));
  const bin = readFileSync(join(dir, 'ok.bin'));
  const bad = (name: string, idxBytes: Uint8Array, binBytes: Uint8Array | null = bin) => {
    writeFileSync(join(dir, `${name}.idx`), idxBytes);
    if (binBytes) writeFileSync(join(dir, `${name}.bin`), binBytes);
    return join(dir, name);
  };
  const patch = (at: number, v: number) => {
    const b = Buffer.from(idx);
    b[at] = v;
    return b;
  };
  const cases: Array<[string, RegExp]> = [
    [bad('magic', patch(0, 0x58)), /magic\.idx: not a Megatron-LM index: magic "XMIDIDX/],
    [bad('version', patch(9, 2)), /version\.idx: Megatron index version 2; only version 1 exists/],
    [bad('dtype', patch(17, 9)), /dtype\.idx: unknown Megatron dtype code 9/],
    [bad('float', patch(17, 7)), /float\.idx: dtype float32 holds no token ids/],
    [bad('cut', idx.subarray(0, idx.length - 3)), /cut\.idx: truncated Megatron index: \d+ bytes, but its header counts 2 sequences and 3 document indices/],
    [bad('short', idx.subarray(0, 20)), /short\.idx: truncated Megatron index: 20 bytes, shorter than the 34-byte header/],
    [bad('nobin', idx, null), /nobin\.bin: missing/],
    [bad('binsize', idx, bin.subarray(0, 6)), /binsize\.bin: 6 bytes, but its index .*binsize\.idx ends the last sequence at byte 10/],
  ];
  for (const [prefix, re] of cases) await assert.rejects(readSource(read.megatron(prefix)), re, prefix);
  await assert.rejects(readSource(read.megatron(join(dir, 'absent'))), /absent\.idx: no files match/);
});

test('a custom stage\'s streamed file (fileWriter) is recorded on commit and leaves nothing behind when its task fails', async () => {
  const dir = tempProject('sluice-filewriter-');
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline } from ${JSON.stringify(SLUICE)};
const stream = (fail) => ({
  kind: 'custom', type: 'test.stream', name: 'test.stream', version: '1', config: { fail }, inputs: [], output: 'artifact',
  async run(ctx) {
    const w = await ctx.fileWriter('big.bin');
    for (let i = 0; i < 4; i++) await w.write(new Uint8Array(1 << 20).fill(i));
    if (fail) throw new Error('crash mid-file');
    await w.commit(4);
  },
});
export default pipeline({ name: 'fw', workdir: 'runs' }, (p) => {
  p.stage('ok', stream(false));
  p.stage('bad', stream(true), undefined, { retries: 1 });
});
`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /crash mid-file/);
  const [okDir] = readdirSync(join(dir, 'runs', 'ok'));
  const m = JSON.parse(readFileSync(join(dir, 'runs', 'ok', okDir!, 'manifest.json'), 'utf8')) as Manifest;
  const bytes = readFileSync(join(dir, 'runs', 'ok', okDir!, 'big.bin'));
  assert.deepEqual(m.files, [{ path: 'big.bin', task: 0, rows: 4, bytes: 4 << 20, sha256: sha(bytes) }]);
  const [badDir] = readdirSync(join(dir, 'runs', 'bad'));
  assert.deepEqual(readdirSync(join(dir, 'runs', 'bad', badDir!)).filter((f) => !f.startsWith('_')), [], 'no big.bin, whole or temporary');
});
