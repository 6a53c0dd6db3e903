/**
 * `node --import tsx bench/extract-eval.ts [--errors]`: prints `extract.html`'s quality tables —
 * snippet shares on the trafilatura evaluation subset (200 pages) and full set (945 pages), per
 * language (lid.176 on each page's `with` snippets), and word 4-gram shingle precision/recall/F1
 * on the hand-labelled gold bodies of test/fixtures/extract-gold. `--errors` also lists every
 * missed `with` and kept `without` snippet, by page.
 */
import { existsSync } from 'node:fs';
import { extractHtml } from '../operators/extract/index.ts';
import { read } from '../operators/read/index.ts';
import { readSource } from '../engine/testing.ts';
import { dataPath } from '../test/helpers/data.ts';
import { addSnippets, loadGold, loadSnippetSet, meanShingles, NO_SNIPPETS, scoreSnippets, shingleScore, snippetLanguages, type SnippetScore } from './extract-quality.ts';

const showErrors = process.argv.includes('--errors');
const row = (name: string, s: SnippetScore): string =>
  `| ${name} | ${s.pages} | ${s.withN} | ${(s.withHit / Math.max(1, s.withN)).toFixed(3)} | ${s.withoutN} | ${(s.withoutHit / Math.max(1, s.withoutN)).toFixed(3)} |`;

const full = loadSnippetSet(dataPath('trafilatura-eval-full'));
const subsetUrls = new Set(loadSnippetSet(dataPath('trafilatura-eval-subset')).map((p) => p.url));
const langs = await snippetLanguages(full);
let all = NO_SNIPPETS;
let sub = NO_SNIPPETS;
let rest = NO_SNIPPETS;
const byLang = new Map<string, SnippetScore>();
for (let i = 0; i < full.length; i++) {
  const p = full[i]!;
  const text = extractHtml(p.html).text;
  const s = scoreSnippets(p, text);
  all = addSnippets(all, s);
  if (subsetUrls.has(p.url)) sub = addSnippets(sub, s);
  else rest = addSnippets(rest, s);
  byLang.set(langs[i]!, addSnippets(byLang.get(langs[i]!) ?? NO_SNIPPETS, s));
  if (showErrors && (s.withHit < s.withN || s.withoutHit < s.withoutN)) {
    const t = text.replace(/\s+/g, ' ');
    console.log(`\n## ${p.file} ${p.url} [${langs[i]}]`);
    for (const w of p.with) if (!t.includes(w.replace(/\s+/g, ' ').trim())) console.log(`  MISSING: ${w}`);
    for (const w of p.without) if (t.includes(w.replace(/\s+/g, ' ').trim())) console.log(`  KEPT:    ${w}`);
  }
}
console.log('\n### Snippets (trafilatura evaluation data)\n');
console.log('| set | pages | with | with present | without | without absent |\n|---|---|---|---|---|---|');
console.log(row('subset (200, tuned on)', sub));
console.log(row('full minus subset (745)', rest));
console.log(row('full (945)', all));
console.log('\n### Per language (lid.176 on the page\'s `with` snippets; languages with < 10 pages pooled as `other`)\n');
console.log('| language | pages | with | with present | without | without absent |\n|---|---|---|---|---|---|');
let other = NO_SNIPPETS;
for (const [l, s] of [...byLang].sort((a, b) => b[1].pages - a[1].pages)) {
  if (s.pages < 10) other = addSnippets(other, s);
  else console.log(row(l, s));
}
if (other.pages) console.log(row('other', other));

if (existsSync(dataPath('dolma-testdata'))) {
  const gold = loadGold();
  const byWarc = new Map<string, Map<string, string>>();
  const scores = [];
  console.log('\n### Shingles (word 4-grams) against the hand-written gold bodies\n');
  console.log('| page | precision | recall | F1 |\n|---|---|---|---|');
  for (const g of gold) {
    if (!byWarc.has(g.warc)) {
      const docs = (await readSource(read.warc(dataPath(g.warc)))).out;
      byWarc.set(g.warc, new Map(docs.map((d) => [d.id, d.text])));
    }
    const html = byWarc.get(g.warc)!.get(g.recordId);
    if (html === undefined) throw new Error(`${g.id}: record ${g.recordId} not in ${g.warc}`);
    const s = shingleScore(extractHtml(html).text, g.body);
    scores.push(s);
    console.log(`| ${g.id} | ${s.precision.toFixed(3)} | ${s.recall.toFixed(3)} | ${s.f1.toFixed(3)} |`);
  }
  for (const kind of ['blog', 'page', 'reference']) {
    const ks = scores.filter((_, i) => gold[i]!.kind === kind);
    const k = meanShingles(ks);
    if (ks.length) console.log(`| mean of ${ks.length} ${kind} pages | ${k.precision.toFixed(3)} | ${k.recall.toFixed(3)} | ${k.f1.toFixed(3)} |`);
  }
  const m = meanShingles(scores);
  console.log(`| **mean of ${gold.length} pages** | ${m.precision.toFixed(3)} | ${m.recall.toFixed(3)} | ${m.f1.toFixed(3)} |`);
}
