import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { runCli, tempProject, SLUICE } from '../../helpers/cli.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import type { Doc, Manifest } from '../../../engine/types.ts';
import { writeDocsParquet } from '../../../engine/parquet.ts';
import type { ShardManifest } from '../../../formats/shards.ts';
import { bestFitDecreasing, packingEfficiency } from '../../../operators/shard/bfd.ts';

test('bestFitDecreasing: longest first, each into the tightest row that holds it; nothing split, nothing lost', () => {
  const lengths = [3, 7, 2, 5, 5, 1, 8, 4];
  const rows = bestFitDecreasing(lengths, 10);
  // 8 → r0 (2 left); 7 → r1 (3); 5 → r2 (5); 5 → r2 (0); 4 → r3 (6); 3 → r1 (0); 2 → r0 (0); 1 → r3 (5)
  assert.deepEqual(rows, [[6, 2], [1, 0], [3, 4], [7, 5]]);
  assert.equal(packingEfficiency(lengths, rows, 10), 35 / 40);
  // Random lengths: every item exactly once, no row over capacity.
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) % 1000) / 1000;
  const many = Array.from({ length: 2000 }, () => 1 + Math.floor(rand() ** 2 * 512));
  const packed = bestFitDecreasing(many, 512);
  assert.deepEqual(packed.flat().sort((a, b) => a - b), many.map((_, i) => i));
  for (const r of packed) assert.ok(r.reduce((n, i) => n + many[i]!, 0) <= 512);
  assert.ok(packingEfficiency(many, packed, 512) > 0.98);
  assert.throws(() => bestFitDecreasing([3, 11], 10), /item 1 has length 11, outside 1\.\.10/);
});

const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const SEQ = 16;
const EOT = 50256; // gpt2's end-of-text: the pad token

/** Tiny docs with tokens and loss masks; doc `long` does not fit a row. */
function docs(): Doc[] {
  const lens = [5, 11, 3, 9, 7, 2, 13, 4, 6, 16];
  const out: Doc[] = lens.map((n, d) => ({
    id: `d${d}`,
    text: '',
    meta: {},
    tokens: Uint32Array.from({ length: n }, (_, i) => 100 * (d + 1) + i),
    // Prompt half at 0, answer at 1 (even docs); odd docs carry no mask (all trained).
    ...(d % 2 === 0 ? { lossMask: Uint8Array.from({ length: n }, (_, i) => (i >= n / 2 ? 1 : 0)) } : {}),
  }));
  out.push({ id: 'long', text: '', meta: {}, tokens: Uint32Array.from({ length: 20 }, (_, i) => 7000 + i) });
  return out;
}

test('shard.tokens pack bfd / none / greedy: whole docs, pads at mask 0, the .mask file numpy reads, the manifest counts; old-style sets write no mask', async () => {
  const dir = tempProject('sluice-packing-');
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'plain'));
  await writeDocsParquet(join(dir, 'data', 'chat.parquet'), (async function* () { yield docs(); })());
  await writeDocsParquet(join(dir, 'plain', 'plain.parquet'), (async function* () { yield docs().map(({ lossMask: _m, ...d }) => d); })());
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read, shard } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'pack', workdir: 'runs' }, (p) => {
  const chat = p.stage('chat', read.parquet('data/*.parquet'));
  const plain = p.stage('plain', read.parquet('plain/*.parquet'));
  const o = { tokenizer: 'gpt2', seqLen: ${SEQ}, shuffle: false, valFraction: 0 };
  p.stage('bfd', chat, shard.tokens({ ...o, pack: 'bfd', attention: 'document', chunkSequences: 4 }));
  p.stage('none', chat, shard.tokens({ ...o, pack: 'none' }));
  p.stage('greedy', chat, shard.tokens(o));
  p.stage('old', plain, shard.tokens(o));
  p.stage('pq', chat, shard.tokens({ ...o, pack: 'bfd', format: 'arrow' }));
});
`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '1'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const dirOf = (s: string) => summary.stages.find((x) => x.stage === s)!.dir;
  const manifest = (s: string) => JSON.parse(readFileSync(join(dirOf(s), 'shards.json'), 'utf8')) as ShardManifest;
  const input = docs();
  const byFirst = new Map(input.map((d) => [d.tokens![0]!, d]));

  // bfd: rows hold whole docs (chunk windows of 4 rows), then pads; the long doc is dropped and audited.
  const m = manifest('bfd');
  assert.equal(m.pack, 'bfd');
  assert.equal(m.attention, 'document');
  assert.equal(m.padToken, EOT);
  assert.equal(m.docs, 10);
  assert.equal(m.droppedTokens, 20);
  const fitted = input.slice(0, 10).reduce((n, d) => n + d.tokens!.length, 0);
  const total = m.sequences.train * SEQ;
  assert.equal(m.padTokens, total - fitted);
  assert.ok(m.train[0]!.mask === 'train-00000.mask' && m.train[0]!.docs === 'train-00000.docs');
  const packStats = (JSON.parse(readFileSync(join(dirOf('bfd.pack'), 'manifest.json'), 'utf8')) as Manifest).stats;
  assert.match(JSON.stringify(packStats), /shard\.docTooLong/);

  const py = `
import json, sys, numpy as np
base = sys.argv[1]
h = np.fromfile(base + '.bin', dtype=np.int32, count=256)
t = np.memmap(base + '.bin', dtype=np.uint16, mode='r', offset=1024)
m = np.fromfile(base + '.mask', dtype=np.uint8)
d = np.fromfile(base + '.docs', dtype=np.uint32)
assert len(m) == len(t) == h[2]
print(json.dumps({"tokens": t.tolist(), "mask": m.tolist(), "docs": d.tolist()}))
`;
  const check = (stage: string) => {
    const mm = manifest(stage);
    const rows: Array<{ tokens: number[]; mask: number[]; docs: number[] }> = [];
    for (const e of mm.train) {
      const out = spawnSync('python3', ['-c', py, join(dirOf(`${stage}.write`), e.path.replace(/\.bin$/, ''))], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      rows.push(JSON.parse(out.stdout));
    }
    const seen: string[] = [];
    for (const s of rows) {
      for (let row = 0; row * SEQ < s.tokens.length; row++) {
        const starts = s.docs.filter((p) => p >= row * SEQ && p < (row + 1) * SEQ);
        assert.equal(starts[0], row * SEQ, `${stage}: every row starts with a document`);
        let p = row * SEQ;
        for (const st of starts) {
          assert.equal(st, p);
          const doc = byFirst.get(s.tokens[p]!)!;
          const n = doc.tokens!.length;
          assert.deepEqual(s.tokens.slice(p, p + n), [...doc.tokens!], `${stage}: ${doc.id} whole`);
          const want = doc.lossMask ? [...doc.lossMask] : new Array(n).fill(1);
          want[0] = 0;
          assert.deepEqual(s.mask.slice(p, p + n), want, `${stage}: ${doc.id} mask, first token 0`);
          seen.push(doc.id);
          p += n;
        }
        assert.ok(s.tokens.slice(p, (row + 1) * SEQ).every((t) => t === EOT), `${stage}: pads are end-of-text`);
        assert.ok(s.mask.slice(p, (row + 1) * SEQ).every((x) => x === 0), `${stage}: pads at mask 0`);
      }
    }
    assert.deepEqual(seen.sort(), input.slice(0, 10).map((d) => d.id).sort());
    return rows;
  };
  if (numpy) {
    check('bfd');
    const none = check('none');
    assert.equal(none.reduce((n, s) => n + s.tokens.length, 0), 10 * SEQ, 'none: one doc per row');
    assert.equal(manifest('none').padTokens, 10 * SEQ - fitted);
    assert.ok(manifest('bfd').sequences.train < 10, 'bfd needs fewer rows than one per doc');
  }

  // greedy: today's concatenate-and-cut; masked docs still give a .mask, and no pads.
  const g = manifest('greedy');
  assert.equal(g.pack, 'greedy');
  assert.equal(g.padTokens, 0);
  assert.ok(g.maskedTokens! > 0 && g.train[0]!.mask);
  // Nothing masked: no .mask file (every token trained), as before masks existed.
  const old = manifest('old');
  assert.equal(old.maskedTokens, 0);
  assert.equal(old.train[0]!.mask, undefined);
  assert.ok(!existsSync(join(dirOf('old.write'), 'train-00000.mask')));

  // arrow layout: a loss_mask column equal to the bin layout's mask.
  const t = arrow.tableFromIPC(readFileSync(join(dirOf('pq.write'), manifest('pq').train[0]!.path)));
  assert.deepEqual(t.schema.fields.map((f) => f.name), ['seq', 'tokens', 'doc_starts', 'loss_mask']);
  const row0 = [...t.getChild('tokens')!.get(0)!] as number[];
  const mask0 = [...t.getChild('loss_mask')!.get(0)!] as number[];
  const first = byFirst.get(row0[0]!)!;
  assert.equal(mask0[0], 0);
  assert.deepEqual(mask0.slice(1, first.tokens!.length), (first.lossMask ? [...first.lossMask] : new Array(first.tokens!.length).fill(1)).slice(1));
});
