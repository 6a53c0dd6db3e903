/**
 * The contamination conformance corpus (issue 19), shared by the conformance test and the bench:
 * `perBenchmark` MMLU test items and as many ARC-Challenge items leaked into tinyshakespeare
 * chunks in five formats, the ways a quiz page, a forum or a scrape writes them:
 *
 * 0. label between question and answer (`Question: … Answer: B) …`);
 * 1. answer first (`The answer is "…". …question…`);
 * 2. case and whitespace changes (upper case, a newline and spaces between every word);
 * 3. the question alone;
 * 4. the options in a different order (reversed, lettered), no answer marked.
 *
 * Items are every k-th of the benchmark (no filter on length: short questions are the point),
 * hosts every j-th chunk; both deterministic.
 */
import { readFileSync } from 'node:fs';
import type { Benchmark, ChoiceItem } from '../../formats/benchmarks.ts';
import { loadBenchmark } from '../../operators/read/benchmarks.ts';
import { dataPath } from './data.ts';

export const LEAK_FORMATS = ['label between', 'answer first', 'case and whitespace', 'question alone', 'options reordered'] as const;

/** One leak: which item, into which doc, in which format. */
export interface Leak {
  benchmark: string;
  item: string;
  doc: string;
  format: (typeof LEAK_FORMATS)[number];
}

/** Renders a choice item in leak format `f`. */
export function leakText(it: ChoiceItem, f: number): string {
  const gold = it.choices[it.gold]!;
  switch (f % LEAK_FORMATS.length) {
    case 0:
      return `Question: ${it.question}\nAnswer: ${'ABCDE'[it.gold] ?? 'A'}) ${gold}`;
    case 1:
      return `The answer is "${gold}". ${it.question}`;
    case 2:
      return `${it.question} ${gold}`.toUpperCase().split(/\s+/).join('\n  ');
    case 3:
      return it.question;
    case 4:
      return `${it.question}\n${[...it.choices].reverse().map((c, i) => `(${'abcde'[i]}) ${c}`).join('\n')}`;
    default:
      throw new Error(`leak format ${f}`);
  }
}

/** The corpus: tinyshakespeare in `chunkChars` chunks, with the leaks inserted at a line break. */
export async function leakCorpus(perBenchmark = 200, chunkChars = 4096): Promise<{ benches: Benchmark[]; docs: Array<{ id: string; text: string; url: string }>; leaks: Leak[] }> {
  const benches = [await loadBenchmark(dataPath('mc-eval', 'mmlu/test')), await loadBenchmark(dataPath('mc-eval', 'llm-foundry/arc_challenge.jsonl'))];
  const ts = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8');
  const docs: Array<{ id: string; text: string; url: string }> = [];
  for (let i = 0; i < ts.length; i += chunkChars) docs.push({ id: `tinyshakespeare:${docs.length}`, text: ts.slice(i, i + chunkChars), url: `https://corpus.example/shakespeare/${docs.length}` });
  const leaks: Leak[] = [];
  let k = 0;
  for (const b of benches) {
    const items = b.items.filter((it): it is ChoiceItem => it.kind === 'choice');
    const step = Math.floor(items.length / perBenchmark);
    for (let j = 0; j < perBenchmark; j++) {
      const it = items[j * step]!;
      const host = docs[(k * 37 + 11) % docs.length]!;
      const at = host.text.indexOf('\n', (k * 131) % Math.max(1, host.text.length - 1));
      const cut = at < 0 ? host.text.length : at;
      host.text = `${host.text.slice(0, cut)}\n${leakText(it, k)}\n${host.text.slice(cut)}`;
      leaks.push({ benchmark: b.name, item: it.id, doc: host.id, format: LEAK_FORMATS[k % LEAK_FORMATS.length]! });
      k++;
    }
  }
  return { benches, docs, leaks };
}
