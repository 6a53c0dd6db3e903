import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOperators } from '../../../engine/testing.ts';
import { fineweb, finewebScores } from '../../../operators/filter/fineweb.ts';
import { doc, GOOD_PROSE } from './fixtures.ts';

async function verdict(text: string, options = {}): Promise<string> {
  const { out, audit } = await runOperators([fineweb(options)], [doc(text)]);
  return out.length ? 'keep' : audit.drops[0]!.reason;
}
const lines = GOOD_PROSE.split('\n');

const cases: Array<[string, string, string]> = [
  ['ordinary prose passes every rule', GOOD_PROSE, 'keep'],
  // 1 of 12 lines ends in punctuation: 0.083 < 0.12.
  ['too few lines end in punctuation', lines.map((l, i) => (i === 0 ? l : l.replace(/\.$/, ''))).join('\n'), 'fineweb.linePunctuation'],
  // 2 of 12 (0.167) is enough.
  ['two of twelve punctuated lines pass', lines.map((l, i) => (i < 2 ? l : l.replace(/\.$/, ''))).join('\n'), 'keep'],
  ['over 67% short lines', [...lines.slice(0, 3), ...Array.from({ length: 7 }, (_, i) => `Item number ${i} is here.`)].join('\n'), 'fineweb.shortLines'],
  ['duplicated line characters over 1%', [...lines, lines[3]!].join('\n'), 'fineweb.dupLineChars'],
  ['over 0.3 newlines per word', Array.from({ length: 20 }, (_, i) => `Notwithstanding-${i} extraordinarily-long-compound-words.`).join('\n'), 'fineweb.newlinesPerWord'],
];
for (const [label, text, expected] of cases) {
  test(`fineweb: ${label} → ${expected}`, async () => {
    assert.equal(await verdict(text), expected, JSON.stringify(finewebScores(text)));
  });
}

test('fineweb: each rule switches off and short-line length is configurable', async () => {
  const short = [...lines.slice(0, 3), ...Array.from({ length: 7 }, (_, i) => `Item number ${i} is here.`)].join('\n');
  assert.equal(await verdict(short, { maxShortLines: null }), 'keep');
  assert.equal(await verdict(short, { shortLineLength: 10 }), 'keep');
  assert.equal(await verdict([...lines, lines[3]!].join('\n'), { maxDupLineChars: 0.2 }), 'keep');
});

test('fineweb: scores for every rule are recorded', async () => {
  const { audit } = await runOperators([fineweb()], [doc(GOOD_PROSE)]);
  assert.deepEqual(audit.scores.map((s) => s.key).sort(), ['dupLineCharRatio', 'linePunctuationRatio', 'newlinesPerWord', 'shortLineRatio']);
  const s = finewebScores(GOOD_PROSE);
  assert.equal(s.linePunctuationRatio, 1);
  assert.equal(s.dupLineCharRatio, 0);
});
