import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOperators } from '../../../engine/testing.ts';
import { classify, language, languageModel } from '../../../operators/filter/language.ts';
import { doc, GOOD_PROSE } from './fixtures.ts';

const GERMAN = 'Die Stadt am Fluss erwachte langsam unter einem blassen Winterhimmel, und die Bäcker öffneten als Erste ihre Türen. Kinder gingen über die alte Steinbrücke zur Schule.';

test('language: English prose is kept with meta.lang and meta.langScore', async () => {
  const { out, audit } = await runOperators([language()], [doc(GOOD_PROSE)]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.meta.lang, 'en');
  assert.ok((out[0]!.meta.langScore as number) > 0.9);
  assert.deepEqual(audit.scores.map((s) => s.key).sort(), ['langKept', 'langScore']);
});

test('language: a language outside keep → language.notKept; keep is configurable', async () => {
  const r = await runOperators([language()], [doc(GERMAN)]);
  assert.equal(r.audit.drops[0]?.reason, 'language.notKept');
  const k = await runOperators([language({ keep: ['de', 'fr'] })], [doc(GERMAN)]);
  assert.equal(k.out[0]!.meta.lang, 'de');
  const all = await runOperators([language({ keep: ['*'], minScore: null })], [doc(GERMAN)]);
  assert.equal(all.out.length, 1);
});

test('language: a low-confidence kept language → language.lowScore', async () => {
  // Two words shared by many languages: top label is English, below 0.65.
  const ft = await languageModel();
  const text = 'hotel taxi';
  const g = classify(ft, text);
  assert.ok(g.score < 0.65, JSON.stringify(g));
  const r = await runOperators([language({ keep: [g.lang] })], [doc(text)]);
  assert.equal(r.audit.drops[0]?.reason, 'language.lowScore');
  assert.ok(r.audit.drops[0]!.score! < 0.65);
  const ok = await runOperators([language({ keep: [g.lang], minScore: 0.01 })], [doc(text)]);
  assert.equal(ok.out.length, 1);
});

test('language: the whole text is classified, not its first line (newlines become spaces)', async () => {
  const text = `Startseite\n${GOOD_PROSE}`;
  const { out } = await runOperators([language()], [doc(text)]);
  assert.equal(out[0]?.meta.lang, 'en');
});

test('language: annotate mode keeps everything and still sets meta.lang', async () => {
  const { out, audit } = await runOperators([language({ mode: 'annotate' })], [doc(GOOD_PROSE, 'a'), doc(GERMAN, 'b')]);
  assert.equal(out.length, 2);
  assert.equal(audit.drops.length, 0);
  assert.equal(out[1]!.meta.lang, 'de');
  const q = (out[1]!.meta.quality as Record<string, Record<string, unknown>>).language!;
  assert.equal(q.reason, 'language.notKept');
});

test('language: empty text is "und" with score 0', async () => {
  const { audit } = await runOperators([language()], [doc('')]);
  assert.equal(audit.drops[0]?.reason, 'language.notKept');
});
