import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOperators } from '../../../engine/testing.ts';
import { gopherQuality, gopherQualityScores, GOPHER_STOP_WORDS } from '../../../operators/filter/gopher-quality.ts';
import { doc, fillerWords, GOOD_PROSE } from './fixtures.ts';

async function verdict(text: string, options = {}): Promise<string> {
  const { out, audit } = await runOperators([gopherQuality(options)], [doc(text)]);
  if (out.length) return 'keep';
  return audit.drops[0]!.reason;
}

const lines = GOOD_PROSE.split('\n');

// Each case: [label, text, expected reason]. Every rule has a failing fixture; the passing
// fixture for every rule is GOOD_PROSE (and the boundary cases below).
const cases: Array<[string, string, string]> = [
  ['good prose passes every rule', GOOD_PROSE, 'keep'],
  ['10 words is too short', 'The cat sat on the mat and it was very happy.', 'gopher.minWords'],
  ['100,001 words is too long', Array.from({ length: 25_001 }, () => 'the cat and dog').join(' '), 'gopher.maxWords'],
  ['mean word length under 3', Array.from({ length: 30 }, () => 'to be or of it the an').join(' '), 'gopher.minMeanWordLength'],
  ['mean word length over 10', Array.from({ length: 12 }, () => 'the incomprehensibilities and counterrevolutionaries with internationalisation').join(' ') + ' of', 'gopher.maxMeanWordLength'],
  ['hashes over 0.1 per word', GOOD_PROSE + '\n' + Array.from({ length: 25 }, (_, i) => `#tag${i}`).join(' '), 'gopher.hashRatio'],
  ['ellipses over 0.1 per word', lines.map((l) => l.replace(/ /g, '... ').replace(/\.$/, '')).slice(0, 3).join(' ') + ' ' + GOOD_PROSE, 'gopher.ellipsisRatio'],
  ['over 90% bullet lines', lines.map((l) => '- ' + l).join('\n'), 'gopher.bulletLines'],
  ['over 30% lines end with an ellipsis', lines.map((l, i) => (i % 2 ? l.replace(/\.$/, '…') : l)).join('\n'), 'gopher.ellipsisLines'],
  ['under 80% words with a letter', GOOD_PROSE + '\n' + Array.from({ length: 90 }, (_, i) => String(1000 + i)).join(' '), 'gopher.alphaWords'],
  ['fewer than 2 stop words', fillerWords(80, 'term').join(' ') + ' with', 'gopher.stopWords'],
];

for (const [label, text, expected] of cases) {
  test(`gopherQuality: ${label} → ${expected}`, async () => {
    assert.equal(await verdict(text), expected, JSON.stringify(gopherQualityScores(text, new Set(GOPHER_STOP_WORDS))));
  });
}

test('gopherQuality: boundaries are inclusive (exactly 50 words and 2 stop words pass)', async () => {
  const text = ['the', 'and', ...fillerWords(48, 'item')].join(' ');
  const s = gopherQualityScores(text, new Set(GOPHER_STOP_WORDS));
  assert.equal(s.words, 50);
  assert.equal(s.stopWords, 2);
  assert.equal(await verdict(text), 'keep');
  assert.equal(await verdict(text.replace(/^the /, 'zzz ')), 'gopher.stopWords');
});

test('gopherQuality: symbol-only tokens are not words; thresholds are configurable and switchable', async () => {
  const s = gopherQualityScores('hello — world | ## ok', new Set(GOPHER_STOP_WORDS));
  assert.equal(s.words, 3);
  assert.equal(await verdict('The cat sat on the mat and it was very happy.', { minWords: 5 }), 'keep');
  assert.equal(await verdict('The cat sat on the mat and it was very happy.', { minWords: null }), 'keep');
  assert.equal(await verdict(GOOD_PROSE, { minWords: 1000 }), 'gopher.minWords');
});

test('gopherQuality: every score is recorded for kept and dropped docs', async () => {
  const { audit } = await runOperators([gopherQuality()], [doc(GOOD_PROSE, 'a'), doc('too short', 'b')]);
  const keys = ['words', 'meanWordLength', 'hashRatio', 'ellipsisRatio', 'bulletLineRatio', 'ellipsisLineRatio', 'alphaWordRatio', 'stopWords'];
  // defineFilter also records the violated rule's value under 'score' for dropped docs.
  for (const id of ['a', 'b']) assert.deepEqual(audit.scores.filter((s) => s.id === id && s.key !== 'score').map((s) => s.key).sort(), [...keys].sort());
  assert.ok(audit.scores.filter((s) => s.id === 'a').every((s) => s.kept));
  assert.ok(audit.scores.filter((s) => s.id === 'b').every((s) => !s.kept));
  assert.equal(audit.drops[0]!.score, 2);
});

test('gopherQuality: annotate mode keeps everything and writes meta.quality.gopherQuality', async () => {
  const { out, audit } = await runOperators([gopherQuality({ mode: 'annotate' })], [doc(GOOD_PROSE, 'a'), doc('too short', 'b')]);
  assert.equal(out.length, 2);
  assert.equal(audit.drops.length, 0);
  const q = out[1]!.meta.quality as Record<string, Record<string, unknown>>;
  assert.equal(q.gopherQuality!.pass, false);
  assert.equal(q.gopherQuality!.reason, 'gopher.minWords');
  assert.equal(q.gopherQuality!.words, 2);
  assert.equal((out[0]!.meta.quality as Record<string, Record<string, unknown>>).gopherQuality!.pass, true);
});

test('gopherQuality: a bad config names the key', () => {
  assert.throws(() => gopherQuality({ minWords: 'x' as unknown as number }), /filter\.gopherQuality: config key 'minWords'/);
  assert.throws(() => gopherQuality({ minWord: 3 } as never), /filter\.gopherQuality/);
});
