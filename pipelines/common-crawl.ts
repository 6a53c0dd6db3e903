/**
 * A FineWeb-style pipeline over real Common Crawl WARC files, for users with network:
 *
 *   warc.paths.gz → read.warc → extract.html → language → Gopher repetition + quality → C4 → FineWeb
 *   → MinHash dedup → PII redaction
 *
 *   npx sluice run pipelines/common-crawl.ts                       # 2 WARC files over HTTPS
 *   CC_BASE=s3://commoncrawl/ CC_FILES=100 npx sluice run pipelines/common-crawl.ts --workdir s3://my-bucket/cc
 *
 * Knobs (environment): CC_CRAWL (default CC-MAIN-2024-22), CC_BASE (default
 * https://data.commoncrawl.org/; `s3://commoncrawl/` reads the same files through S3),
 * CC_FILES (WARC files taken from the head of the path list, default 2), CC_WORKDIR.
 * Each WARC file (~1 GB gzipped) becomes one task; the path list is read once at load time.
 */
import { gunzipSync } from 'node:zlib';
import { pipeline, read, extract, filter, map, dedup, storage } from 'sluice';

const CRAWL = process.env.CC_CRAWL ?? 'CC-MAIN-2024-22';
const BASE = (process.env.CC_BASE ?? 'https://data.commoncrawl.org/').replace(/\/?$/, '/');
const FILES = Number(process.env.CC_FILES ?? 2);

/** The first `n` WARC URLs of a crawl's `warc.paths.gz`, under `base` (https:// or s3://). */
async function warcPaths(base: string, crawl: string, n: number): Promise<string[]> {
  const list = `${base}crawl-data/${crawl}/warc.paths.gz`;
  let gz: Uint8Array;
  if (base.startsWith('s3://') || !/^https?:\/\//.test(base)) gz = await storage.read(list);
  else {
    const res = await fetch(list);
    if (!res.ok) throw new Error(`common-crawl: GET ${list} failed: HTTP ${res.status}`);
    gz = new Uint8Array(await res.arrayBuffer());
  }
  const paths = gunzipSync(gz).toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  if (!paths.length) throw new Error(`common-crawl: ${list} lists no files`);
  return paths.slice(0, n).map((p) => base + p);
}

const warcs = await warcPaths(BASE, CRAWL, FILES);

export default pipeline({ name: 'common-crawl', workdir: process.env.CC_WORKDIR ?? 'runs/common-crawl' }, (p) => {
  const records = p.stage('warc', read.warc(warcs));
  const text = p.stage('extract', records, [extract.html()]);
  const filtered = p.stage('filter', text, [
    filter.language({ keep: ['en'], minScore: 0.65 }),
    filter.gopherRepetition({}),
    filter.gopherQuality({}),
    filter.c4({}),
    filter.fineweb({}),
  ]);
  const unique = p.stage('dedup', filtered, dedup.minhash({ ngram: 5, bands: 14, rows: 8 }));
  p.stage('pii', unique, [map.pii({})]);
});
