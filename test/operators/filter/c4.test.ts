import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOperators } from '../../../engine/testing.ts';
import { c4 } from '../../../operators/filter/c4.ts';
import { doc, GOOD_PROSE } from './fixtures.ts';

async function run(text: string, options = {}) {
  const { out, audit } = await runOperators([c4(options)], [doc(text)]);
  return { kept: out[0]?.text, reason: audit.drops[0]?.reason, drop: audit.drops[0] };
}

test('c4: ordinary prose is kept unchanged', async () => {
  const r = await run(GOOD_PROSE);
  assert.equal(r.kept, GOOD_PROSE);
});

const lineRules: Array<[string, string, Record<string, unknown>]> = [
  ['a line without terminal punctuation', 'Read more about the valley', { terminalPunctuation: false }],
  ['a line ending in an ellipsis', 'And then the story continued with more...', { terminalPunctuation: false }],
  ['a line with fewer than 3 words', 'Thanks everyone.', { minWordsPerLine: null }],
  ['a line with a word over 1,000 characters', `Here is ${'x'.repeat(1001)} indeed.`, { maxWordLength: null }],
  ['a line mentioning javascript', 'Please enable JavaScript to view the comments.', { javascript: false }],
  ['a line about a privacy policy', 'By using this site you agree to our privacy policy.', { policy: false }],
  ['a line saying the site uses cookies', 'This website uses cookies to improve your experience.', { policy: false }],
];
for (const [label, line, off] of lineRules) {
  test(`c4: removes ${label}; kept when the rule is off`, async () => {
    const text = `${GOOD_PROSE}\n${line}`;
    assert.equal((await run(text)).kept, GOOD_PROSE);
    assert.equal((await run(text, off)).kept, text);
  });
}

test('c4: strips citation markers (switchable)', async () => {
  const text = `${GOOD_PROSE}\nThe bridge was built in 1850[1] by local masons[citation needed] and rebuilt later[edit].`;
  assert.equal((await run(text)).kept, `${GOOD_PROSE}\nThe bridge was built in 1850 by local masons and rebuilt later.`);
  assert.equal((await run(text, { citations: false })).kept, text);
});

test('c4: "lorem ipsum" drops the doc → c4.loremIpsum (switchable)', async () => {
  const text = `${GOOD_PROSE}\nLorem ipsum dolor sit amet, consectetur adipiscing elit.`;
  assert.equal((await run(text)).reason, 'c4.loremIpsum');
  assert.ok((await run(text, { loremIpsum: false })).kept);
});

test('c4: a curly bracket drops the doc → c4.curlyBracket (switchable)', async () => {
  const text = `${GOOD_PROSE}\nThe function returns { ok: true } when it works.`;
  assert.equal((await run(text)).reason, 'c4.curlyBracket');
  assert.ok((await run(text, { curlyBracket: false })).kept);
});

test('c4: fewer than 5 sentences → c4.minSentences; exactly 5 pass; configurable', async () => {
  const four = GOOD_PROSE.split('\n').slice(0, 4).join('\n');
  const five = GOOD_PROSE.split('\n').slice(0, 5).join('\n');
  const r = await run(four);
  assert.equal(r.reason, 'c4.minSentences');
  assert.equal(r.drop!.score, 4);
  assert.equal((await run(five)).kept, five);
  assert.equal((await run(four, { minSentences: 3 })).kept, four);
  assert.equal((await run(four, { minSentences: null })).kept, four);
});

test('c4: sentences are counted after line removal', async () => {
  const text = ['Menu', 'Home', 'About us', ...GOOD_PROSE.split('\n').slice(0, 4)].join('\n');
  assert.equal((await run(text)).reason, 'c4.minSentences');
});

test('c4: annotate mode keeps text unchanged and records the verdict', async () => {
  const text = `${GOOD_PROSE}\nLorem ipsum dolor sit amet, consectetur adipiscing elit.`;
  const { out, audit } = await runOperators([c4({ mode: 'annotate' })], [doc(text)]);
  assert.equal(out[0]!.text, text);
  const q = (out[0]!.meta.quality as Record<string, Record<string, unknown>>).c4!;
  assert.equal(q.pass, false);
  assert.equal(q.reason, 'c4.loremIpsum');
  assert.equal(audit.drops.length, 0);
});

test('c4: scores are recorded for every doc', async () => {
  const { audit } = await runOperators([c4()], [doc(GOOD_PROSE, 'a'), doc('Menu\nHome', 'b')]);
  const keysA = audit.scores.filter((s) => s.id === 'a').map((s) => s.key).sort();
  assert.deepEqual(keysA, ['curlyBracket', 'linesKept', 'linesRemoved', 'loremIpsum', 'sentences']);
  assert.equal(audit.scores.find((s) => s.id === 'b' && s.key === 'linesRemoved')!.value, 2);
});
