/**
 * The GPT-3 / DCLM quality-classifier recipe, offline:
 *
 *   curated text (WikiText-2 articles)            → label hq ┐
 *   raw crawl pages (the quickstart's mail-archive  → label lq ┼→ classify.train → filter.classifier
 *   crawl, Dolma's WARC sample, a CCNet WET sample)           ┘        (held-out P/R/F1)   keepTopFraction
 *
 * GPT-3 kept Common Crawl pages that a classifier found similar to WebText, Wikipedia and books;
 * DCLM keeps the top ~10% of its pool by a fastText classifier's P(hq). Here the positives are
 * WikiText-2's validation and test articles (detokenised: its ` @-@ `, ` , ` and `<unk>` would
 * otherwise give the classifier a shortcut no web page has), the negatives raw extracted pages;
 * the classifier is fastText (bigrams, 25 epochs at lr 1.0: the data is small), 20% of the docs held out by id hash; the
 * filter keeps the top fraction of the crawl by P(hq).
 *
 *   npx sluice run pipelines/quality-classifier.ts --json   # held-out figures under 'classifier'
 *   npx sluice audit pipelines/quality-classifier.ts --stage top --what-if 'classifier.minScore=0.5'
 *
 * Data: SLUICE_DATA_MIRROR (default ../shared/data beside the repository). Knobs: QC_PAGES (mail
 * pages crawled, default 600), QC_TOP (kept fraction, default 0.1), QC_EPOCHS (fastText epochs,
 * default 25), QC_WORKDIR (default
 * runs/quality-classifier).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline, read, extract, map, filter, classify, datasets } from 'sluice';

const DATA = process.env.SLUICE_DATA_MIRROR ?? resolve(import.meta.dirname, '../../shared/data');
if (!existsSync(join(DATA, 'wikitext2-tokens'))) throw new Error(`quality-classifier: no WikiText-2 under ${DATA}; set SLUICE_DATA_MIRROR to the shared data folder`);
process.env.SLUICE_DATA_MIRROR ??= DATA;
const PAGES = Number(process.env.QC_PAGES ?? 600);
const TOP = Number(process.env.QC_TOP ?? 0.1);
const EPOCHS = Number(process.env.QC_EPOCHS ?? 25);

/** WikiText's tokenisation undone: `a @-@ b` → `a-b`, space before punctuation removed, `<unk>` dropped. */
function detokenize(text: string): string {
  return text
    .replace(/ @([-.,])@ /g, '$1')
    .replace(/<unk>/g, '')
    .replace(/ ([.,;:!?)'%])/g, '$1')
    .replace(/\( /g, '(')
    .replace(/ {2,}/g, ' ');
}

export default pipeline({ name: 'quality-classifier', workdir: process.env.QC_WORKDIR ?? 'runs/quality-classifier' }, (p) => {
  const wiki = p.stage('wiki', datasets.corpus('wikitext2'), [map('label-hq', (d) => ({ ...d, text: detokenize(d.text), meta: { ...d.meta, label: 'hq' } }))]);
  const pages = p.stage('crawl', datasets.mailArchiveCrawl({ maxPages: PAGES }));
  const crawl = p.stage('crawl-text', pages, [extract.html()]);
  const dolma = p.stage('dolma-text', read.warc(join(DATA, 'dolma-testdata/warc__sample-*.warc.gz')), [extract.html()]);
  const ccnet = p.stage('ccnet-text', read.wet(join(DATA, 'warc-misc/ccnet-sample.warc.wet')));
  const negatives = [crawl, dolma, ccnet].map((s, i) => p.stage(`negatives-${i}`, s, [map('label-lq', (d) => ({ ...d, meta: { ...d.meta, label: 'lq' } }))]));
  const model = p.stage('classifier', classify.train([wiki, ...negatives], { labelKey: 'label', holdout: 0.2, epoch: EPOCHS, lr: 1.0, wordNgrams: 2, dim: 32, seed: 1 }));
  p.stage('top', crawl, filter.classifier({ model, label: 'hq', keepTopFraction: TOP }));
});
