import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOperators } from '../../../engine/testing.ts';
import { gopherRepetition, gopherRepetitionScores } from '../../../operators/filter/gopher-repetition.ts';
import { doc, fillerWords, GOOD_PROSE } from './fixtures.ts';

async function verdict(text: string, options = {}): Promise<string> {
  const { out, audit } = await runOperators([gopherRepetition(options)], [doc(text)]);
  return out.length ? 'keep' : audit.drops[0]!.reason;
}
const scores = (t: string) => JSON.stringify(gopherRepetitionScores(t, [2, 3, 4], [5, 6, 7, 8, 9, 10]));

/** `phrase` `copies` times, each followed by `filler` unique words in total. */
function build(phrase: string, copies: number, filler: number): string {
  const words = fillerWords(filler, 'fil');
  const per = Math.ceil(filler / copies);
  const parts: string[] = [];
  for (let i = 0; i < copies; i++) parts.push(phrase, ...words.slice(i * per, (i + 1) * per));
  return parts.join(' ');
}

/** The text with the least filler whose `key` statistic is at most `hi` (and above `lo`). */
function tuned(phrase: string, copies: number, key: string, lo: number, hi: number): string {
  for (let filler = copies; filler < 5000; filler++) {
    const t = build(phrase, copies, filler);
    const v = gopherRepetitionScores(t, [2, 3, 4], [5, 6, 7, 8, 9, 10])[key]!;
    if (v <= hi) {
      assert.ok(v > lo, `${key}=${v} jumped below ${lo}`);
      return t;
    }
  }
  throw new Error(`could not tune ${key} into (${lo}, ${hi}]`);
}

test('gopherRepetition: ordinary prose passes every rule', async () => {
  assert.equal(await verdict(GOOD_PROSE), 'keep', scores(GOOD_PROSE));
});

test('gopherRepetition: duplicate lines over 0.3 → gopher.dupLines; 0.25 passes', async () => {
  const ls = GOOD_PROSE.split('\n');
  const bad = [...ls.slice(0, 6), ...ls.slice(0, 3)].join('\n'); // 3 of 9 lines are repeats
  assert.equal(await verdict(bad), 'gopher.dupLines', scores(bad));
  const ok = [...ls.slice(0, 9), ls[0]!].join('\n'); // 1 of 10
  assert.notEqual(await verdict(ok), 'gopher.dupLines', scores(ok));
});

test('gopherRepetition: duplicate paragraphs over 0.3 → gopher.dupParagraphs', async () => {
  const ls = GOOD_PROSE.split('\n');
  const paras = [ls.slice(0, 4).join('\n'), ls.slice(4, 8).join('\n'), ls.slice(8).join('\n'), 'Short note.', 'Short note.', 'Short note.'];
  const text = paras.join('\n\n');
  assert.equal(await verdict(text), 'gopher.dupParagraphs', scores(text));
  assert.equal(await verdict(paras.slice(0, 5).join('\n\n')), 'keep', scores(paras.slice(0, 5).join('\n\n')));
});

test('gopherRepetition: characters in duplicate lines over 0.2 → gopher.dupLineChars', async () => {
  const long = 'This one sentence is much longer than the others because it keeps going with many words about the weather and the sea.';
  const text = [...fillerWords(12, 'line').map((w) => `${w} short.`), long, long].join('\n');
  assert.equal(await verdict(text), 'gopher.dupLineChars', scores(text));
});

test('gopherRepetition: characters in duplicate paragraphs over 0.2 → gopher.dupParagraphChars (line rule off)', async () => {
  const long = GOOD_PROSE.split('\n').slice(0, 2).join('\n');
  const unique = fillerWords(30, 'para');
  const text = [...Array.from({ length: 10 }, (_, i) => unique.slice(3 * i, 3 * i + 3).join(' ') + '.'), long, long].join('\n\n');
  assert.equal(await verdict(text, { maxDupLineCharFrac: null }), 'gopher.dupParagraphChars', scores(text));
  assert.equal(await verdict(text, { maxDupLineCharFrac: null, maxDupParaCharFrac: null, dupNgrams: {} }), 'keep', scores(text));
});

const topThresholds: Record<number, number> = { 2: 0.2, 3: 0.18, 4: 0.16 };
for (const [n, phrase] of [[2, 'alpha beta'], [3, 'alpha beta gamma'], [4, 'alpha beta gamma delta']] as const) {
  const thr = topThresholds[n]!;
  test(`gopherRepetition: top ${n}-gram share over ${thr} → gopher.topNgram${n}`, async () => {
    const text = tuned(phrase, 12, `topNgram${n}`, thr, thr + 0.01);
    assert.equal(await verdict(text), `gopher.topNgram${n}`, scores(text));
    const ok = tuned(phrase, 12, `topNgram${n}`, thr - 0.02, thr - 0.005);
    assert.equal(await verdict(ok), 'keep', scores(ok));
  });
}

const dupThresholds: Record<number, number> = { 5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.1 };
for (const n of [5, 6, 7, 8, 9, 10]) {
  test(`gopherRepetition: duplicated ${n}-grams → gopher.dupNgram${n}`, async () => {
    const phrase = fillerWords(n, 'rep').join(' ');
    const thr = dupThresholds[n]!;
    const text = tuned(phrase + (n === 5 ? 'extraordinarily' : ''), 10, `dupNgram${n}`, thr, thr + 0.008);
    assert.equal(await verdict(text), `gopher.dupNgram${n}`, scores(text));
    const ok = tuned(phrase + (n === 5 ? 'extraordinarily' : ''), 10, `dupNgram${n}`, thr - 0.03, thr - 0.005);
    assert.equal(await verdict(ok), 'keep', scores(ok));
  });
}

test('gopherRepetition: n-gram sizes are configurable; records every score', async () => {
  const text = tuned('alpha beta', 12, 'topNgram2', 0.2, 0.21);
  assert.equal(await verdict(text, { topNgrams: { '2': 0.3 } }), 'keep');
  const { audit } = await runOperators([gopherRepetition()], [doc(GOOD_PROSE)]);
  assert.deepEqual(
    audit.scores.map((s) => s.key).sort(),
    ['dupLineCharFrac', 'dupLineFrac', 'dupNgram10', 'dupNgram5', 'dupNgram6', 'dupNgram7', 'dupNgram8', 'dupNgram9', 'dupParaCharFrac', 'dupParaFrac', 'topNgram2', 'topNgram3', 'topNgram4'],
  );
});
