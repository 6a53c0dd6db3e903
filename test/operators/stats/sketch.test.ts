/** The DDSketch quantile sketch: measured error against exact quantiles on real text lengths, and exact merging. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { QuantileSketch } from '../../../operators/stats/sketch.ts';
import { mulberry32 } from '../../../engine/random.ts';
import { dataPath, needData } from '../../helpers/data.ts';

const QS = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

/** Largest relative error of the sketch's quantiles against the exact order statistic x[floor(q(n-1))]. */
function maxRelError(values: number[], s: QuantileSketch): number {
  const sorted = [...values].sort((a, b) => a - b);
  let worst = 0;
  for (const q of QS) {
    const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
    const got = s.quantile(q);
    worst = Math.max(worst, exact === 0 ? Math.abs(got) : Math.abs(got - exact) / Math.abs(exact));
  }
  return worst;
}

test('sketch: quantiles of real line and document lengths within the stated 1% relative error', { skip: needData('tinyshakespeare') || needData('wikitext2-tokens') || needData('dolma-testdata') }, () => {
  const sets: Record<string, number[]> = {
    shakespeareLines: readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').split('\n').map((l) => Buffer.byteLength(l)),
    wikiLines: readFileSync(dataPath('wikitext2-tokens/test.txt'), 'utf8').split('\n').map((l) => Buffer.byteLength(l)),
    dolmaDocs: gunzipSync(readFileSync(dataPath('dolma-testdata/multiple_files__cc_en_head-0091.jsonl.gz'))).toString().split('\n').filter(Boolean).map((l) => Buffer.byteLength((JSON.parse(l) as { text: string }).text)),
  };
  for (const [name, values] of Object.entries(sets)) {
    const s = new QuantileSketch(0.01);
    for (const v of values) s.add(v);
    const err = maxRelError(values, s);
    assert.ok(err <= 0.01 + 1e-12, `${name}: max relative error ${err}`);
    assert.equal(s.count, values.length);
    assert.equal(s.sum, values.reduce((a, b) => a + b, 0));
  }
});

test('sketch: merging any split equals the sketch of the whole, bit for bit; negatives and zeros; alpha is honoured', () => {
  const r = mulberry32(11);
  const values = Array.from({ length: 20000 }, (_, i) => (i % 97 === 0 ? 0 : i % 13 === 0 ? -Math.exp(r() * 8) : Math.exp(r() * 12)));
  const whole = new QuantileSketch(0.02);
  for (const v of values) whole.add(v);
  assert.ok(maxRelError(values, whole) <= 0.02 + 1e-12, `alpha 0.02: ${maxRelError(values, whole)}`);
  for (const parts of [2, 7]) {
    const sketches = Array.from({ length: parts }, () => new QuantileSketch(0.02));
    values.forEach((v, i) => sketches[(i * 31) % parts]!.add(v));
    const merged = new QuantileSketch(0.02);
    for (const s of sketches.reverse()) merged.merge(QuantileSketch.fromJSON(JSON.parse(JSON.stringify(s.toJSON()))));
    const a = merged.toJSON();
    const b = whole.toJSON();
    assert.deepEqual({ ...a, sum: 0 }, { ...b, sum: 0 }, `${parts} parts`);
    assert.ok(Math.abs(a.sum - b.sum) <= 1e-9 * Math.abs(b.sum));
  }
  assert.throws(() => whole.merge(new QuantileSketch(0.01)), /alpha 0.01 differs/);
  assert.throws(() => new QuantileSketch(0), /alpha must be in \(0, 1\)/);
  assert.ok(Number.isNaN(new QuantileSketch().quantile(0.5)));
});
