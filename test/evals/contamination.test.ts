import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { loadBenchmark, type Benchmark, type ChoiceItem, type EvalItem } from '../../operators/read/benchmarks.ts';
import { buildIndex, ContaminationScanner, contaminationReport, reportMarkdown, normalizeWords, itemTexts } from '../../evals/contamination/index.ts';
import { overlapKinds } from '../../evals/contamination/report.ts';
import { hashWords, UnitBuffer } from '../../formats/contamination/normalize.ts';
import { dataPath, needData } from '../helpers/data.ts';

const choice = (id: string, question: string, choices: string[], gold = 0, index = 0): ChoiceItem => ({ kind: 'choice', benchmark: 'b', id, index, source: 'mem', query: question, question, choices, gold });
const bench = (name: string, items: EvalItem[]): Benchmark => ({ name, format: 'mc', path: '(memory)', items: items.map((it) => ({ ...it, benchmark: name })), skipped: [] });
const words = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');

test('GPT-3 normalisation: lowercase, punctuation removed without splitting, whitespace split', () => {
  assert.deepEqual(normalizeWords("Don't STOP—now!  It's   “quoted”, well-known.\n\tEnd"), ['dont', 'stopnow', 'its', 'quoted', 'wellknown', 'end']);
  assert.deepEqual(normalizeWords('Ünïcode ÉTÉ 東京 x\u200by'), ['ünïcode', 'été', '東京', 'xy']);
});

/** Checks that hashing splits `text` into the words normalizeWords gives, unit for unit (the index keeps only the text and normalises it when a match is shown). */
function sameSplit(text: string, buf: UnitBuffer): void {
  const words = normalizeWords(text);
  const n = hashWords(text, buf);
  assert.equal(n, words.length, JSON.stringify(text.slice(0, 80)));
  for (let i = 0; i < n; i++) assert.deepEqual(normalizeWords(text.slice(buf.start[i], buf.end[i])), [words[i]], `unit ${i} of ${JSON.stringify(text.slice(0, 80))}`);
}

test('hashing and normalizeWords split every text alike: fuzzed Unicode, and MMLU test questions', { skip: needData('mc-eval') }, async () => {
  const buf = new UnitBuffer();
  const pieces = ['a', 'B', ' ', '\n', '\t', "'", '—', '“', '.', '東', 'É', '\u200b', '\u00a0', '😀', '\ud800', '-', '3', 'ß', 'İ'];
  fc.assert(fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (xs) => sameSplit(xs.join(''), buf)), { numRuns: 2000 });
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (t) => sameSplit(t, buf)), { numRuns: 1000 });
  const mmlu = await loadBenchmark(dataPath('mc-eval', 'mmlu/test'));
  // Every text the same count; every 10th item unit by unit (all of them: 0.75 s).
  mmlu.items.forEach((it, i) => {
    for (const t of itemTexts(it, 'both')) {
      if (i % 10 === 0) sameSplit(t, buf);
      else assert.equal(hashWords(t, buf), normalizeWords(t).length, JSON.stringify(t.slice(0, 80)));
    }
  });
});

test('item n-grams: matched count, fraction, rule (any vs 70%) and provenance', () => {
  const item = choice('b/0', words(12, 'q'), [words(3, 'a')]); // 15 words → 3 distinct 13-grams
  // Without the question as a field of its own (fields: both indexes it, whole: see below).
  const idx = buildIndex([bench('b', [item])], { ngram: 13 });
  assert.equal(idx.items[0]!.grams, 4); // 3 of the renderings, and the 12-word question whole
  const doc = `Intro text. ${words(11, 'Q').toUpperCase()}, Q11 A0 a1 and more`; // 14 words of the item in order
  for (const [rule, dirty] of [[{ type: 'any' as const }, true], [{ type: 'fraction' as const, min: 0.7 }, true]] as const) {
    const s = new ContaminationScanner(idx, { rule });
    s.scanText('doc-1', doc, 'https://example.org/1');
    s.scanText('doc-2', 'unrelated words only');
    const r = s.result();
    const it = r.benchmarks[0]!.items[0]!;
    assert.equal(it.matched, 3);
    assert.equal(it.fraction, 1); // the question field whole
    assert.equal(it.field, 'question');
    assert.equal(it.score, 1);
    assert.equal(it.dirty, dirty);
    assert.deepEqual(it.sources, [{ id: 'doc-1', url: 'https://example.org/1', grams: 3 }]);
    assert.equal(r.corpus.docs, 2);
  }
  // fields: 'question' without the question whole in the doc: the rendering's fraction decides.
  for (const [rule, dirty] of [[{ type: 'any' as const }, true], [{ type: 'fraction' as const, min: 0.7 }, false]] as const) {
    const s = new ContaminationScanner(buildIndex([bench('b', [choice('b/0', words(15, 'q'), ['x'])])], { ngram: 13, fields: 'question' }), { rule, minIdfShare: 0 });
    const part = words(15, 'q').split(' ').slice(2).join(' '); // the 3rd of the question's three 13-grams
    s.scanText('doc-1', `${part} x`, 'https://example.org/1');
    s.scanText('doc-2', 'unrelated words only');
    const r = s.result();
    const it = r.benchmarks[0]!.items[0]!;
    assert.equal(it.matched, 1);
    assert.equal(it.fraction, 1 / 3);
    assert.equal(it.dirty, dirty);
    assert.deepEqual(it.ngrams, [part]);
    assert.equal(r.benchmarks[0]!.dirty, dirty ? 1 : 0);
  }
});

test('N per field: a short question with a label before its answer is found by its question field', () => {
  const items = Array.from({ length: 40 }, (_, i) => choice(`b/${i}`, `${words(9, `q${i}x`)}?`, [words(2, `a${i}x`), words(2, `b${i}x`)], 1, i));
  const idx = buildIndex([bench('b', items)]);
  assert.deepEqual(idx.ngrams, [13]); // 5th percentile of 13-word items
  const s = new ContaminationScanner(idx);
  s.scanText('quiz', `Quiz time. ${words(9, 'q3x')}? Answer: ${words(2, 'b3x')}. Next page`);
  const r = s.result().benchmarks[0]!;
  assert.deepEqual(r.dirtyIds, ['b/3']);
  assert.equal(r.items[0]!.field, 'question');
  assert.equal(r.items[0]!.answerNear, true);
  // The concatenation alone (no label) would be one 13-gram; the label breaks it.
  assert.ok(!r.items[0]!.fields.some((f) => f.field === 'question+answer'));
});

test('per-benchmark N: GPT-3 5th percentile, clipped to [8, 13]', () => {
  const mk = (name: string, len: number) => bench(name, Array.from({ length: 20 }, (_, i) => choice(`${name}/${i}`, words(len, `${name}x${i}y`), ['x'])));
  const idx = buildIndex([mk('short', 8), mk('long', 30), mk('tiny', 3)]);
  assert.deepEqual(idx.benchmarks.map((b) => b.ngram), [9, 13, 8]); // 8+1 words, 30+1 clipped, 3+1 clipped up
  const s = new ContaminationScanner(idx, { minIdfShare: 0 }); // one 13-gram of 19 is matched
  // 13 words of the n30 item 4 in a doc, 9 words of n20's item 2: both found: one probe length (13), the 9-grams by the pair prefilter.
  s.scanText('d', `x ${words(30, 'longx4y').split(' ').slice(5, 18).join(' ')} y ${words(8, 'shortx2y')} x z`);
  assert.deepEqual(idx.shortLengths.slice(0, 1), [9]); // short's 9-grams: by the pair prefilter
  const r = s.result();
  assert.deepEqual(r.benchmarks.map((b) => b.dirtyIds), [['short/2'], ['long/4'], []]);
});

test('boilerplate: an n-gram found in more than maxDocs training docs is ignored', () => {
  const item = choice('b/0', words(13, 'w'), []);
  item.choices = ['x', 'y'];
  const idx = buildIndex([bench('b', [item])], { fields: 'question' });
  const s = new ContaminationScanner(idx, { maxDocs: 3 });
  for (let d = 0; d < 4; d++) s.scanText(`d${d}`, words(13, 'w'));
  const it = s.result().benchmarks[0]!.items[0]!;
  assert.equal(it.matched, 0);
  assert.equal(it.ignored, 1);
  assert.equal(it.dirty, false);
  const s2 = new ContaminationScanner(idx, { maxDocs: 4 });
  for (let d = 0; d < 4; d++) s2.scanText(`d${d}`, words(13, 'w'));
  assert.equal(s2.result().benchmarks[0]!.items[0]!.sources.length, 4);
});

test('short items are matched whole; template n-grams shared by many items are not indexed', () => {
  const short = choice('b/0', 'dresser', ['replace drawer with bobby pin', 'finish, woodgrain with  bobby pin']); // 10 words
  const tiny = choice('b/1', 'hi', ['yo']); // 2 words < minLength 5: unindexed
  const templ = [0, 1, 2, 3].map((i) => choice(`b/${2 + i}`, `For which of these two scenarios does the main character do something wrong ${words(3, `s${i}x`)}`, ['Wrong', 'Not wrong']));
  const idx = buildIndex([bench('b', [short, tiny, ...templ])], { ngram: 13 });
  assert.equal(idx.items[0]!.short, true);
  assert.equal(idx.items[1]!.grams, 0);
  assert.ok(idx.templateGrams > 0);
  const s = new ContaminationScanner(idx);
  s.scanText('t', 'goal: Dresser\nsol1: replace drawer with bobby-pin\nsol2: finish woodgrain with bobby pin');
  s.scanText('u', 'finish woodgrain with bobby pin alone'); // a part of a short item is no match
  s.scanText('v', 'For which of these two scenarios does the main character do something wrong today');
  const r = s.result().benchmarks[0]!;
  assert.equal(r.unindexed, 1);
  assert.deepEqual(r.dirtyIds, []); // "goal:" and "sol1:" break the sequence
  const s2 = new ContaminationScanner(idx);
  s2.scanText('t', 'Dresser.\nreplace drawer with bobby pin\n* finish, woodgrain with bobby pin'); // ("bobby-pin" would normalise to "bobbypin")
  s2.scanText('v', 'For which of these two scenarios does the main character do something wrong today');
  const r2 = s2.result().benchmarks[0]!;
  assert.deepEqual(r2.dirtyIds, ['b/0']);
  assert.equal(r2.items[0]!.fraction, 1);
});

test('property: an item embedded anywhere in a doc, re-cased and re-spaced, is always found', () => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z]{1,8}$/), { minLength: 13, maxLength: 40 }), fc.string(), fc.string(), (ws, pre, post) => {
      const item = choice('b/0', ws.join(' '), ['zz']);
      const idx = buildIndex([bench('b', [item])], { maxItems: 1000 });
      const s = new ContaminationScanner(idx);
      s.scanText('d', `${pre} \n${ws.map((w, i) => (i % 3 ? w.toUpperCase() : w)).join('  \t')} ${'zz'}\n ${post}`);
      return s.result().benchmarks[0]!.dirty === 1;
    }),
    { numRuns: 100 },
  );
});

test('token mode: token n-grams of each field (inner tokens) match token documents', () => {
  // A toy tokenizer: one token per word, with a leading-space marker folded into the id.
  const vocab = new Map<string, number>();
  const encode = (t: string) => t.split(/(?=\s)/).filter(Boolean).map((w) => vocab.get(w) ?? (vocab.set(w, vocab.size), vocab.size - 1));
  const item = choice('b/0', words(16, 'k'), ['yes', 'no']);
  const idx = buildIndex([bench('b', [item])], { unit: 'tokens', encode, ngram: 8 });
  assert.equal(idx.items[0]!.grams, 16 - 2 - 8 + 1);
  const s = new ContaminationScanner(idx);
  s.scanTokens('t', Uint32Array.from(encode(` intro ${words(16, 'k')} outro`)));
  assert.deepEqual(s.result().benchmarks[0]!.dirtyIds, ['b/0']);
  assert.throws(() => s.scanText('x', 'text'), /token-level/);
  assert.throws(() => buildIndex([bench('b', [item])], { unit: 'tokens' }), /needs the training tokenizer/);
});

test('bad options are clear errors', () => {
  const b = bench('b', [choice('b/0', words(20, 'w'), ['a', 'b'])]);
  assert.throws(() => buildIndex([b], { ngram: 0 }), /'ngram' must be 'auto' or an integer/);
  assert.throws(() => buildIndex([b], { minLength: 1 }), /'minLength' must be an integer ≥ 2/);
  assert.throws(() => new ContaminationScanner(buildIndex([b]), { rule: { type: 'fraction', min: 1.5 } }), /0 < min ≤ 1/);
});

const MC = 'mc-eval';
const loaded = new Map<string, Promise<Benchmark>>();
/** Loads a shared-data benchmark once per test file. */
const load = (p: string) => {
  let b = loaded.get(p);
  if (!b) loaded.set(p, (b = loadBenchmark(dataPath(MC, p))));
  return b;
};

test('positive control: llm-foundry PIQA indexed, official PIQA scanned as training data: ≥ 99% flagged', { skip: needData(MC) }, async () => {
  const piqa = await load('llm-foundry/piqa.jsonl');
  const idx = buildIndex([piqa]);
  const s = new ContaminationScanner(idx);
  const lines = readFileSync(dataPath(MC, 'piqa/valid.jsonl'), 'utf8').split('\n').filter(Boolean);
  lines.forEach((l, i) => {
    const r = JSON.parse(l) as Record<string, string>;
    s.scanText(`piqa-valid:${i + 1}`, [r.goal, r.sol1, r.sol2].join('\n'));
  });
  const r = s.result().benchmarks[0]!;
  const pct = r.dirty / r.total;
  console.log(`# positive control PIQA: ${r.dirty}/${r.total} flagged (${(100 * pct).toFixed(2)}%), ${r.short} indexed whole (short), ${r.unindexed} unindexed`);
  assert.ok(pct >= 0.99, `only ${r.dirty}/${r.total} flagged`);
  // Provenance: item k came from line k + 1 of the official file.
  const item5 = r.items.find((i) => i.id === 'piqa/5')!;
  assert.equal(item5.sources[0]!.id, 'piqa-valid:6');
});

test('negative controls: ARC-Easy vs ARC-Challenge and MMLU test vs dev ≤ 1% flagged', { skip: needData(MC) }, async () => {
  const asDocs = (b: Benchmark) => b.items.map((it) => ({ id: it.id, text: itemTexts(it, 'both').join('\n') }));
  const pairs: Array<[string, string]> = [
    ['llm-foundry/arc_easy.jsonl', 'llm-foundry/arc_challenge.jsonl'],
    ['llm-foundry/arc_challenge.jsonl', 'llm-foundry/arc_easy.jsonl'],
    ['mmlu/test', 'mmlu/dev'],
  ];
  for (const [a, b] of pairs) {
    const A = await load(a), B = await load(b);
    const s = new ContaminationScanner(buildIndex([A]));
    for (const d of asDocs(B)) s.scanText(d.id, d.text);
    const r = s.result().benchmarks[0]!;
    console.log(`# negative control ${A.name} indexed, ${B.name} scanned: ${r.dirty}/${r.total} flagged (${((100 * r.dirty) / r.total).toFixed(2)}%)`);
    assert.ok(r.dirty / r.total <= 0.01, `${A.name} vs ${B.name}: ${r.dirty}/${r.total}`);
  }
});

test('MMLU dev indexed, test scanned: the exact cross-split duplicates are found with their test twins', { skip: needData(MC) }, async () => {
  const dev = await load('mmlu/dev');
  const tst = await load('mmlu/test');
  const s = new ContaminationScanner(buildIndex([dev]));
  for (const it of tst.items) s.scanText(it.id, itemTexts(it, 'both').join('\n'));
  const r = s.result().benchmarks[0]!;
  // Verbatim duplicates: a whole rendering (question+choices or question+answer) matched.
  const exact = r.items.filter((i) => i.fields.some((f) => f.field.includes('+') && f.matched === f.grams));
  const q = (id: string, items: EvalItem[]) => itemTexts(items.find((x) => x.id === id)!, 'both').map((t) => normalizeWords(t).join(' ')).join(' ');
  for (const it of exact) assert.equal(q(it.sources[0]!.id, tst.items), q(it.id, dev.items), `${it.id} vs ${it.sources[0]!.id}`);
  assert.ok(exact.some((i) => i.id === 'clinical_knowledge/0'));
  // The rest share a field, not the item: history passages ("This question refers to the
  // following information …") that dev and test items quote and ask different things about.
  const passages = r.items.filter((i) => i.dirty && i.field === 'question' && /^high_school_(european|us|world)_history/.test(i.id));
  assert.ok(passages.length >= 10, `${passages.length} shared history passages`);
  for (const i of passages) assert.ok(!i.fields.some((f) => f.field.includes('+') && f.matched === f.grams));
  // GPT-3's any-overlap rule (minIdfShare 0) adds template matches at low scores (moral scenarios).
  const any = new ContaminationScanner(buildIndex([dev]), { minIdfShare: 0 });
  for (const it of tst.items) any.scanText(it.id, itemTexts(it, 'both').join('\n'));
  const ra = any.result().benchmarks[0]!;
  assert.ok(ra.dirty > r.dirty);
  assert.ok(ra.items.some((i) => i.dirty && i.id.startsWith('moral_scenarios/') && i.score < 0.1));
  assert.ok(!r.items.some((i) => i.dirty && i.id.startsWith('moral_scenarios/')));
  console.log(`# MMLU dev vs test: any-overlap ${ra.dirty}/${ra.total} (${((100 * ra.dirty) / ra.total).toFixed(1)}%), IDF share ≥ 0.5 ${r.dirty}/${r.total}; ${overlapKinds(r.items.filter((i) => i.dirty))[0]}`);
  console.log(`# MMLU dev indexed, test scanned: ${r.dirty}/${r.total} dev items overlap test (${exact.length} exact duplicates: ${exact.map((i) => i.id).join(', ')})`);
});

/** Speeches of tinyshakespeare (blank-line separated) as training docs with URLs. */
function shakespeareDocs(): Array<{ id: string; text: string; url: string }> {
  return readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8')
    .split(/\n\n+/)
    .map((text, i) => ({ id: `tinyshakespeare:${i}`, text, url: `https://corpus.example/shakespeare/${i}` }));
}

test('planted leaks: 24 benchmark items, reformatted, inserted into tinyshakespeare are all found with provenance', { skip: needData(MC) || needData('tinyshakespeare') }, async () => {
  const benches = await Promise.all(['llm-foundry/arc_challenge.jsonl', 'llm-foundry/openbook_qa.jsonl', 'llm-foundry/piqa.jsonl', 'mmlu/test'].map((p) => load(p)));
  const idx = buildIndex(benches);
  const docs = shakespeareDocs();
  // Deterministic choice of items (long enough questions) and of host docs.
  const planted = new Map<string, string>(); // item id → doc id
  const formats = [
    (it: ChoiceItem) => `Q: ${it.question.toUpperCase()}\n${it.choices.map((c, i) => `(${'abcd'[i]}) ${c}`).join('\n')}`,
    (it: ChoiceItem) => `${it.question}   Answer: ${it.choices[it.gold]}`,
    (it: ChoiceItem) => `“${it.question.replace(/ /g, '\n ')}” — ${it.choices.join('; ')}.`,
  ];
  let k = 0;
  for (const b of benches) {
    const candidates = b.items.filter((it): it is ChoiceItem => it.kind === 'choice' && normalizeWords(it.question).length >= 16);
    for (let j = 0; j < 6; j++) {
      const it = candidates[(j * 97 + 13) % candidates.length]!;
      const host = docs[(k * 331 + 17) % docs.length]!;
      const cut = host.text.indexOf('\n') > 0 ? host.text.indexOf('\n') : host.text.length;
      host.text = `${host.text.slice(0, cut)}\n${formats[k % formats.length]!(it)}\n${host.text.slice(cut)}`;
      planted.set(it.id, host.id);
      k++;
    }
  }
  const s = new ContaminationScanner(idx);
  for (const d of docs) s.scanText(d.id, d.text, d.url);
  const r = s.result();
  const dirty = new Map(r.benchmarks.flatMap((b) => b.items.filter((i) => i.dirty).map((i) => [i.id, i] as const)));
  for (const [item, host] of planted) {
    const found = dirty.get(item);
    assert.ok(found, `planted item ${item} not found`);
    assert.equal(found.sources[0]!.id, host);
    assert.equal(found.sources[0]!.url, `https://corpus.example/shakespeare/${host.split(':')[1]}`);
  }
  const extra = [...dirty.keys()].filter((id) => !planted.has(id));
  console.log(`# planted leaks: ${planted.size} planted, ${[...planted.keys()].filter((id) => dirty.has(id)).length} found; other items flagged: ${extra.length}`);
  assert.deepEqual(extra, []);
  const report = contaminationReport(r);
  const md = reportMarkdown(report);
  assert.match(md, /\| Benchmark \| Metric \(method\) \| N \| Total \| Dirty \| Dirty % \|/);
  assert.match(md, /\| arc_challenge \| — \| 13 \| 1172 \| 6 \| 0\.51% \|/);
});
