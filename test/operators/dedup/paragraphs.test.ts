import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dedup } from '../../../operators/dedup/index.ts';
import { splitUnits, parseUnit } from '../../../operators/dedup/units.ts';
import type { Doc } from '../../../engine/types.ts';
import { runLocal } from './helpers.ts';

function files(dir: string, parts: Doc[][]): string[] {
  return parts.map((docs, i) => {
    const p = join(dir, `in-${i}.jsonl`);
    writeFileSync(p, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    return p;
  });
}
const doc = (id: string, text: string): Doc => ({ id, text, meta: {} });

test('dedup.paragraphs (line) keeps first occurrences in input order, names the keeper, drops emptied docs; same result for any worker count', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'para-'));
  try {
    const paths = files(dir, [
      [doc('a', 'Home\nAbout us\nA unique first line.\nHome'), doc('b', 'Home\nSecond unique text.\n\nAbout us')],
      [doc('c', 'About us\nHome\n'), doc('d', 'Third, unique.\n   \nHome')],
    ]);
    const one = await runLocal(dedup.paragraphs({ unit: 'line' }), paths, join(dir, 'w1'), 1);
    assert.deepEqual(
      one.kept.map((d) => [d.id, d.text]),
      [
        ['a', 'Home\nAbout us\nA unique first line.\n'],
        ['b', 'Second unique text.\n\n'],
        ['d', 'Third, unique.\n   \n'],
      ],
    );
    const spans = one.drops.filter((d) => d.reason === 'dedup.duplicateLine');
    assert.deepEqual(spans.map((d) => [d.id, d.doc.text, d.details!.keptId]), [
      ['a', 'Home', 'a'],
      ['b', 'Home\n', 'a'],
      ['b', 'About us', 'a'],
      ['c', 'About us\nHome\n', 'a'],
      ['d', 'Home', 'a'],
    ]);
    assert.deepEqual(one.drops.filter((d) => d.reason === 'dedup.paragraphsEmptied').map((d) => d.id), ['c']);
    const three = await runLocal(dedup.paragraphs({ unit: 'line', partitions: 3, bufferMB: 0.001, fanIn: 2 }), paths, join(dir, 'w3'), 3);
    assert.deepEqual(three.kept, one.kept);
    // Tasks of one stage run concurrently, so the audit's arrival order may differ: compare sorted.
    const norm = (r: typeof one) => r.drops.map((d) => JSON.stringify([d.id, d.reason, d.doc.text, d.details])).sort();
    assert.deepEqual(norm(three), norm(one));
    const bloom = await runLocal(dedup.paragraphs({ unit: 'line', bloom: { expected: 1000, fpRate: 1e-9 } }), paths, join(dir, 'wb'), 2);
    assert.deepEqual(bloom.kept, one.kept, 'Bloom mode with a negligible FP rate removes the same lines');
    assert.equal(bloom.drops[0]!.details!.keptId, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dedup.paragraphs sentences:3 removes a repeated three-sentence span (C4) and minChars protects short units', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'para-'));
  try {
    const shared = 'The cat sat. The dog ran! Birds sing? ';
    const paths = files(dir, [[doc('x', `Intro here. ${shared}End one.`), doc('y', `Other start. ${shared}End two.`), doc('z', 'The cat sat. The dog ran! Fish swim.')]]);
    const r = await runLocal(dedup.paragraphs({ unit: 'sentences:3' }), paths, join(dir, 'w'), 1);
    assert.deepEqual(r.kept.map((d) => d.text), [`Intro here. ${shared}End one.`, 'Other start. End two.', 'The cat sat. The dog ran! Fish swim.']);
    assert.equal(r.drops[0]!.reason, 'dedup.duplicateSentences');
    assert.equal(r.drops[0]!.details!.keptId, 'x');
    const lines = files(dir, [[doc('p', 'ok\nok\nlong enough line\nlong enough line')]]);
    const m = await runLocal(dedup.paragraphs({ unit: 'line', minChars: 5 }), lines, join(dir, 'm'), 1);
    assert.equal(m.kept[0]!.text, 'ok\nok\nlong enough line\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('paragraph units split at blank lines; bad unit and bloom options are named', () => {
  const t = 'One para\nstill one.\n\n  \nTwo.\n\nThree';
  const u = splitUnits(t, parseUnit('paragraph'), 1);
  assert.deepEqual(Array.from({ length: u.count }, (_, i) => t.slice(u.keyStart[i], u.keyEnd[i])), ['One para\nstill one.', 'Two.', 'Three']);
  assert.throws(() => dedup.paragraphs({ unit: 'sentence' }), /unit must be 'line', 'paragraph' or 'sentences:N'.*'sentence'/);
  assert.throws(() => dedup.paragraphs({ bloom: { expected: 10, fpRate: 2 } }), /dedup\.paragraphs/);
});

/** Merges [start, end) intervals. */
function union(xs: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [s, e] of xs.slice().sort((a, b) => a[0] - b[0])) {
    const l = out[out.length - 1];
    if (l && s <= l[1]) l[1] = Math.max(l[1], e);
    else out.push([s, e]);
  }
  return out;
}

test("conformance: Dolma's expected paragraph-dedup spans on its own test documents", async () => {
  const base = join(import.meta.dirname, '../../../../shared/data/dolma-testdata');
  const read = (f: string) => gunzipSync(readFileSync(join(base, f))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  const docs = read('provided__deduper__documents__000.json.gz') as Array<{ id: string; text: string }>;
  const expected = read('expected__dedupe-paragraphs.json.gz') as Array<{ id: string; attributes: { bff_duplicate_paragraph_spans: Array<[number, number, number]> } }>;
  const dir = mkdtempSync(join(tmpdir(), 'dolma-'));
  try {
    const paths = files(dir, [docs.map((d) => ({ id: d.id, text: d.text, meta: {} }))]);
    // Dolma splits on '\n', compares every paragraph (even empty ones) and reports code-point spans.
    const r = await runLocal(dedup.paragraphs({ unit: 'line', minChars: 0 }), paths, join(dir, 'w'), 1);
    let compared = 0;
    for (const [i, d] of docs.entries()) {
      // Dolma adds one for the newline while its code-point offset is below the *byte* length, so
      // on a non-ASCII text the last paragraph's span ends one past the text: clamp it.
      const chars = [...d.text].length;
      const want = union(expected[i]!.attributes.bff_duplicate_paragraph_spans.map(([s, e]) => [s, Math.min(e, chars)] as [number, number]));
      const cp = (u16: number) => [...d.text.slice(0, u16)].length;
      const got = union(r.drops.filter((x) => x.id === d.id && x.reason === 'dedup.duplicateLine').map((x) => [cp(x.details!.start as number), cp(x.details!.end as number)]));
      assert.deepEqual(got, want, d.id);
      compared += want.length;
    }
    assert.ok(compared > 0, 'the fixture has duplicate spans to compare');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
