import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { runCli, tempProject, SLUICE } from '../../helpers/cli.ts';
import { dataPath, needData } from '../../helpers/data.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import type { Manifest } from '../../../engine/types.ts';
import type { ShardManifest } from '../../../formats/shards.ts';
import { readBin } from '../../../formats/bin.ts';
import { loadTokenizer } from '../../../operators/tokenize/load.ts';
import { parseBinHeader } from '../../../formats/bin.ts';

const SEQ = 64;
const SHARD_SEQS = 20;

function writeProject(): { dir: string; texts: string[] } {
  const dir = tempProject('sluice-shards-');
  const lines = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').split('\n\n').slice(0, 400);
  // One document longer than five shards (a Dolma bug looped on these), in the middle.
  const giant = lines.slice(0, 200).join(' ').replace(/\s+/g, ' ');
  const texts = [...lines.slice(0, 150), giant, ...lines.slice(150)];
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'a.jsonl'), texts.slice(0, 200).map((t, i) => JSON.stringify({ id: `d${i}`, text: t })).join('\n') + '\n');
  writeFileSync(join(dir, 'data', 'b.jsonl'), texts.slice(200).map((t, i) => JSON.stringify({ id: `d${200 + i}`, text: t })).join('\n') + '\n');
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read, tokenize, shard } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'tok', workdir: 'runs' }, (p) => {
  const docs = p.stage('load', read.jsonl('data/*.jsonl'));
  const bpe = p.stage('bpe', tokenize.trainBpe(docs, { vocabSize: 600 }));
  const enc = p.stage('encoded', docs, [tokenize.encode({ tokenizer: bpe })]);
  const opts = { tokenizer: bpe, seqLen: ${SEQ}, shardTokens: ${SEQ * SHARD_SEQS} + 5, valFraction: 0.1, seed: 7, chunkSequences: 16 };
  p.stage('shards', enc, shard.tokens(opts));
  p.stage('pq', enc, shard.tokens({ ...opts, format: 'parquet' }));
  p.stage('arr', enc, shard.tokens({ ...opts, format: 'arrow', shuffle: false }));
});
`,
  );
  return { dir, texts };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('docs → trainBpe → encode → shard.tokens: shards are a shuffled partition of the packed stream, readable by the trainer and DuckDB', { skip: needData('tinyshakespeare') }, async () => {
  const { dir, texts } = writeProject();
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '2'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const dirOf = (s: string) => summary.stages.find((x) => x.stage === s)!.dir;
  assert.deepEqual(summary.stages.map((s) => s.stage), ['load', 'bpe', 'encoded', 'shards.pack', 'shards.write', 'shards', 'pq.pack', 'pq.write', 'pq', 'arr.pack', 'arr.write', 'arr']);

  // The expected packed stream: every doc encoded in input order, EOS-terminated.
  const tok = await loadTokenizer(dirOf('bpe'));
  assert.equal(tok.vocabSize, 600);
  const stream: number[] = [];
  for (const t of texts) stream.push(...tok.encode(t), tok.eotId!);
  const nSeq = Math.floor(stream.length / SEQ);
  const expectedSeqs = new Map<string, number>();
  for (let i = 0; i < nSeq; i++) {
    const k = stream.slice(i * SEQ, (i + 1) * SEQ).join(',');
    expectedSeqs.set(k, (expectedSeqs.get(k) ?? 0) + 1);
  }

  const m = JSON.parse(readFileSync(join(dirOf('shards'), 'shards.json'), 'utf8')) as ShardManifest;
  const { summary: line, ...info } = (JSON.parse(readFileSync(join(dirOf('shards'), 'manifest.json'), 'utf8')) as Manifest).info as unknown as ShardManifest & { summary: string };
  assert.deepEqual(info, m, 'manifest info = shards.json (plus the end-of-run summary)');
  assert.equal(line, `${m.tokens.train.toLocaleString('en-US')} train + ${m.tokens.val.toLocaleString('en-US')} validation tokens in ${(m.sequences.train + m.sequences.val).toLocaleString('en-US')} sequences of 64 (uint16, bin), from ${m.docs} docs`);
  assert.equal(m.format, 'sluice.tokens/1');
  assert.equal(m.dtype, 'uint16');
  assert.equal(m.vocabSize, 600);
  assert.equal(m.eotToken, 0);
  assert.equal(m.tokenizer.fingerprint, tok.fingerprint);
  assert.equal(m.docs, texts.length);
  assert.equal(m.inputTokens, stream.length);
  assert.equal(m.droppedTokens, stream.length - nSeq * SEQ);
  const nVal = Math.round(nSeq * 0.1);
  assert.deepEqual(m.sequences, { train: nSeq - nVal, val: nVal });
  assert.equal(m.train.length, Math.ceil((nSeq - nVal) / SHARD_SEQS), 'the giant doc does not multiply shards');
  assert.equal(m.val.length, Math.ceil(nVal / SHARD_SEQS));
  assert.ok(nSeq > 5 * SHARD_SEQS);

  const seen = new Map<string, number>();
  const firstSeqs: string[] = [];
  for (const s of [...m.train, ...m.val]) {
    const bytes = readFileSync(s.uri);
    assert.equal(sha(bytes), s.sha256, `${s.path} sha256`);
    const h = parseBinHeader(bytes, s.uri); // the trainer's own reader
    assert.equal(h.tokens, s.tokens);
    assert.equal(h.bytesPerToken, 2);
    const { tokens } = readBin(bytes, s.uri);
    assert.equal(tokens.length, s.sequences * SEQ);
    for (let i = 0; i < s.sequences; i++) {
      const k = Array.from(tokens.subarray(i * SEQ, (i + 1) * SEQ)).join(',');
      seen.set(k, (seen.get(k) ?? 0) + 1);
      if (firstSeqs.length < 30) firstSeqs.push(k);
    }
    // Document-boundary index: every start is 0 or follows an EOS.
    const docs = new Uint32Array(new Uint8Array(readFileSync(join(dirOf('shards.write'), s.docs!))).buffer);
    for (const p of docs) assert.ok(p % SEQ === 0 || tokens[p - 1] === 0, `${s.path}: doc start ${p} follows EOS`);
  }
  assert.deepEqual(seen, expectedSeqs, 'shards hold exactly the packed sequences');
  const inOrder = Array.from({ length: 30 }, (_, i) => stream.slice(i * SEQ, (i + 1) * SEQ).join(','));
  assert.notDeepEqual(firstSeqs, inOrder, 'shuffled');

  // Parquet shards: DuckDB (not our reader) opens them; same sequences as the bin shards (same seed).
  const pq = JSON.parse(readFileSync(join(dirOf('pq'), 'shards.json'), 'utf8')) as ShardManifest;
  assert.equal(pq.layout, 'parquet');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const files = [...pq.train, ...pq.val].map((s) => `'${s.uri}'`).join(', ');
  const res = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(len(tokens))::INTEGER AS t, min(len(tokens))::INTEGER AS lo, max(len(tokens))::INTEGER AS hi FROM read_parquet([${files}])`);
  assert.deepEqual(res.getRowObjects()[0], { n: nSeq, t: nSeq * SEQ, lo: SEQ, hi: SEQ });
  const first = await conn.runAndReadAll(`SELECT seq::INTEGER AS seq, list_transform(tokens, x -> x::INTEGER) AS tokens FROM read_parquet('${pq.train[0]!.uri}') LIMIT 3`);
  const rows = first.getRowObjectsJson() as Array<{ seq: number; tokens: number[] }>;
  for (const row of rows) assert.deepEqual(row.tokens, stream.slice(row.seq * SEQ, (row.seq + 1) * SEQ));
  assert.deepEqual(rows.map((x) => x.tokens.join(',')), firstSeqs.slice(0, 3), 'parquet and bin shards share the order');

  // Arrow IPC shards (unshuffled): apache-arrow reads them; sequences in stream order.
  const ar = JSON.parse(readFileSync(join(dirOf('arr'), 'shards.json'), 'utf8')) as ShardManifest;
  const table = arrow.tableFromIPC(readFileSync(ar.train[0]!.uri));
  assert.equal(table.numRows, SHARD_SEQS);
  assert.deepEqual(Array.from(table.getChild('tokens')!.get(1)!), stream.slice(SEQ, 2 * SEQ));
  const starts = Array.from(table.getChild('doc_starts')!.get(0)! as Iterable<number>);
  assert.equal(starts[0], 0, 'the first doc starts the first sequence');
});
