/**
 * `extract.html`: quality on the trafilatura evaluation subset (200 real pages: share of `with`
 * snippets present and of `without` snippets absent in our output), speed on the same pages
 * (docs/s and MB/s of HTML, one core), HTML parsers measured side by side (htmlparser2 SAX +
 * our tree, htmlparser2's DOM, parse5), and a comparison with Common Crawl's WET text for the
 * cc-whirlwind capture.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseDocument } from 'htmlparser2';
import type { Bench, BenchRow } from './harness.ts';
import { medianSeconds, ratio, medianCpuSeconds } from './harness.ts';
import { parseHtml } from '../operators/extract/dom.ts';
import { extractHtml, decodeHtml } from '../operators/extract/index.ts';
import { read } from '../operators/read/index.ts';
import { readSource } from '../engine/testing.ts';
import { dataPath } from '../test/helpers/data.ts';
import { addSnippets, loadSnippetSet, NO_SNIPPETS, scoreSnippets } from './extract-quality.ts';

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

interface EvalItem {
  file: string;
  with: string[];
  without: string[];
}

/** Snippet shares of extracted texts against the evaluation annotations. */
export function snippetShares(items: EvalItem[], texts: string[]): { withShare: number; withoutShare: number; withN: number; withoutN: number } {
  let w = 0;
  let wt = 0;
  let wo = 0;
  let wot = 0;
  items.forEach((it, i) => {
    const t = norm(texts[i]!);
    for (const s of it.with) (wt++, t.includes(norm(s)) && w++);
    for (const s of it.without) (wot++, !t.includes(norm(s)) && wo++);
  });
  return { withShare: w / wt, withoutShare: wo / wot, withN: wt, withoutN: wot };
}

function words(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Our text vs CC's WET text for the whirlwind capture: word overlap both ways and lengths. */
async function whirlwind(): Promise<{ ours: number; wet: number; precision: number; recall: number }> {
  const html = (await readSource(read.warc(dataPath('cc-whirlwind', 'whirlwind.warc.gz')))).out;
  const wet = (await readSource(read.wet(dataPath('cc-whirlwind', 'whirlwind.warc.wet.gz')))).out;
  if (!html.length || !wet.length) throw new Error('cc-whirlwind: expected one response and one conversion record');
  const ours = extractHtml(html[0]!.text).text;
  const a = words(ours);
  const b = words(wet[0]!.text);
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const ca = count(a);
  const cb = count(b);
  let common = 0;
  for (const [k, n] of ca) common += Math.min(n, cb.get(k) ?? 0);
  return { ours: a.length, wet: b.length, precision: common / a.length, recall: common / b.length };
}

const bench: Bench = {
  id: 'extract',
  async run() {
    const base = dataPath('trafilatura-eval-subset');
    const data = JSON.parse(readFileSync(`${base}/evaldata-subset.json`, 'utf8')) as Record<string, EvalItem>;
    const items = Object.values(data);
    const pages = items.map((it) => decodeHtml(gunzipSync(readFileSync(`${base}/${it.file}`))));
    const bytes = pages.reduce((a, p) => a + Buffer.byteLength(p), 0);
    const mb = bytes / 1e6;

    const texts = pages.map((p) => extractHtml(p).text);
    const q = snippetShares(items, texts);

    const tExtract = await medianSeconds(() => {
      for (const p of pages) extractHtml(p);
    });
    const cpuExtract = medianCpuSeconds(() => {
      for (const p of pages) extractHtml(p);
    });
    // Parsers are compared per CPU second, side by side in this process.
    const tOurTree = medianCpuSeconds(() => {
      for (const p of pages) parseHtml(p);
    });
    const tDom = medianCpuSeconds(() => {
      for (const p of pages) parseDocument(p);
    });
    let parse5Row: BenchRow | undefined;
    try {
      const parse5 = (await import('parse5')) as { parse(html: string): unknown };
      const t = medianCpuSeconds(() => {
        for (const p of pages) parse5.parse(p);
      });
      parse5Row = { name: 'parse5 parse (peer), per CPU second', value: mb / t, unit: 'MB/s', note: `htmlparser2 SAX → our tree is ${(t / tOurTree).toFixed(2)}× faster` };
    } catch {
      parse5Row = undefined;
    }
    const cc = await whirlwind();
    let fullQ = NO_SNIPPETS;
    for (const p of loadSnippetSet(dataPath('trafilatura-eval-full'))) fullQ = addSnippets(fullQ, scoreSnippets(p, extractHtml(p.html).text));

    const rows: BenchRow[] = [
      { name: 'extract.html: `with` snippets present', value: q.withShare, unit: 'share', note: `${q.withN} snippets; goal ≥ 0.90` },
      { name: 'extract.html: `without` snippets absent', value: q.withoutShare, unit: 'share', note: `${q.withoutN} snippets; goal ≥ 0.90` },
      { name: 'extract.html: `with` present, trafilatura-eval-full', value: fullQ.withHit / fullQ.withN, unit: 'share', note: `${fullQ.withN} snippets, ${fullQ.pages} pages; goal ≥ 0.95` },
      { name: 'extract.html: `without` absent, trafilatura-eval-full', value: fullQ.withoutHit / fullQ.withoutN, unit: 'share', note: `${fullQ.withoutN} snippets; goal ≥ 0.92` },
      { name: 'extract.html', value: mb / tExtract, unit: 'MB/s', note: `${((pages.length / tExtract) | 0).toLocaleString('en-US')} docs/s; goal ≥ 5 MB/s` },
      { name: 'extract.html', value: pages.length / tExtract, unit: 'docs/s' },
      { name: 'extract.html, per CPU second', value: mb / cpuExtract, unit: 'MB/s', note: 'user+system CPU time of this process: robust to other jobs on the machine' },
      { name: 'htmlparser2 SAX → extraction tree (ours), per CPU second', value: mb / tOurTree, unit: 'MB/s', ratio: ratio(mb / tOurTree, mb / tDom, 'domhandler DOM') },
      { name: 'htmlparser2 parseDocument (domhandler DOM, peer), per CPU second', value: mb / tDom, unit: 'MB/s' },
      ...(parse5Row ? [parse5Row] : []),
      { name: 'cc-whirlwind: our words found in CC WET text', value: cc.precision, unit: 'share', note: `${cc.ours} words ours vs ${cc.wet} in WET` },
      { name: 'cc-whirlwind: WET words kept by us', value: cc.recall, unit: 'share', note: 'WET keeps navigation and footers; a lower share is boilerplate removed' },
    ];
    return {
      title: 'HTML extraction (extract.html)',
      rows,
      notes:
        `Input: the 200 pages of \`trafilatura-eval-subset\` (${mb.toFixed(1)} MB of HTML, decoded by meta charset), one core, median of 3 runs after a warm-up. ` +
        'Snippet matching collapses whitespace on both sides (a snippet may span inline markup). ' +
        'The extractor was tuned on this subset, then on the full set (945 pages; per-language tables and the shingle metric on hand-labelled gold bodies: `node --import tsx bench/extract-eval.ts`). ' +
        `Goals: subset shares ≥ 0.90 (${q.withShare >= 0.9 && q.withoutShare >= 0.9 ? 'met' : 'NOT met'}); full set \`with\` ≥ 0.95 (${fullQ.withHit / fullQ.withN >= 0.95 ? 'met' : 'NOT met'}), \`without\` ≥ 0.92 (${fullQ.withoutHit / fullQ.withoutN >= 0.92 ? 'met' : 'NOT met'}); ≥ 50 MB/s per CPU second (${mb / cpuExtract >= 50 ? 'met' : 'NOT met'}); ≥ 5 MB/s (wall: ${mb / tExtract >= 5 ? 'met' : 'NOT met'}; per CPU second: ${mb / cpuExtract >= 5 ? 'met' : 'NOT met'}). ` +
        'cc-whirlwind: one Aragonese Wikipedia page; bag-of-words overlap of our text with the WET conversion of the same capture.',
    };
  },
};

export default bench;
