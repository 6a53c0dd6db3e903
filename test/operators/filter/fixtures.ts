/** Labelled text fixtures shared by the quality-filter tests (written for these tests). */
import type { Doc } from '../../../engine/types.ts';

/** A doc with the given text (id `fixture`, or the one given). */
export function doc(text: string, id = 'fixture', meta: Doc['meta'] = {}): Doc {
  return { id, text, meta };
}

/** `n` distinct filler words (`lorem0 …` are avoided on purpose: `w` + base-26 letters). */
export function fillerWords(n: number, prefix = 'word'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    let k = i;
    do {
      s = String.fromCharCode(97 + (k % 26)) + s;
      k = Math.floor(k / 26);
    } while (k > 0);
    out.push(prefix + s);
  }
  return out;
}

/**
 * Ordinary English prose: 12 distinct sentences on their own lines, ~150 words, stop words,
 * terminal punctuation, no repetition. Passes every filter's defaults.
 */
export const GOOD_PROSE = [
  'The river town woke slowly under a pale winter sky, and the bakers were the first to open their doors.',
  'Children walked to school along the old stone bridge that connects the market square with the station.',
  'Farmers brought apples, cheese and fresh bread to sell, while tourists looked for coffee and maps.',
  'A small museum near the church shows how the valley changed over three hundred years of trade.',
  'Its curator explained that the mills had powered the first factories long before the railway arrived.',
  'Many of the workers who came with the railway settled here and raised families in narrow brick houses.',
  'Today the town council is debating whether to turn the abandoned warehouse into a public library.',
  'Supporters argue that a library would give young people a quiet place to study after school.',
  'Others worry about the cost of repairs and would rather spend the money on roads and bridges.',
  'The final vote is planned for next month, after a series of public meetings in the town hall.',
  'Residents have been invited to share their views with the council by letter or in person.',
  'Whatever they decide, most people agree that the valley has to plan carefully for its future.',
].join('\n');
