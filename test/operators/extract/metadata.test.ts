import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOperators, readSource } from '../../../engine/testing.ts';
import { extract, extractHtml } from '../../../operators/extract/index.ts';
import { read } from '../../../operators/read/index.ts';
import { dataPath, needData } from '../../helpers/data.ts';

const BODY = '<p>The council met on Tuesday evening to discuss the future of the old warehouse by the river, which has stood empty for more than ten years.</p>';

test('extract.html metadata: JSON-LD wins over Open Graph over meta names over the document; each value names its source', () => {
  const html = `<html lang="de"><head><title>Doc title | Site</title>
<link rel="canonical" href="https://ex.org/a">
<meta property="og:title" content="OG title"><meta property="og:site_name" content="OG Site"><meta property="og:locale" content="en_GB">
<meta name="author" content="Meta Author"><meta property="article:published_time" content="2024-01-02">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"LD Site"},{"@type":"NewsArticle","headline":"LD headline","author":[{"@type":"Person","name":"Ann A"},{"name":"Bob B"}],"datePublished":"2024-01-01T10:00:00Z"}]}</script>
<script type="application/ld+json">{ broken json, </script>
</head><body>${BODY}</body></html>`;
  assert.deepEqual(extractHtml(html).metadata, {
    title: { value: 'LD headline', from: 'json-ld:headline' },
    author: { value: 'Ann A; Bob B', from: 'json-ld:author.name' },
    date: { value: '2024-01-01T10:00:00Z', from: 'json-ld:datePublished' },
    siteName: { value: 'LD Site', from: 'json-ld:WebSite.name' },
    language: { value: 'de', from: 'html:lang' },
    canonicalUrl: { value: 'https://ex.org/a', from: 'link:canonical' },
  });
  const noLd = html.replace(/<script[\s\S]*?<\/script>/g, '').replace('<html lang="de">', '<html>');
  assert.deepEqual(extractHtml(noLd).metadata, {
    title: { value: 'OG title', from: 'og:title' },
    author: { value: 'Meta Author', from: 'meta:author' },
    date: { value: '2024-01-02', from: 'article:published_time' },
    siteName: { value: 'OG Site', from: 'og:site_name' },
    language: { value: 'en-GB', from: 'og:locale' },
    canonicalUrl: { value: 'https://ex.org/a', from: 'link:canonical' },
  });
  assert.deepEqual(extractHtml(`<html><head><title> Only  a title </title></head><body>${BODY}</body></html>`).metadata, { title: { value: 'Only a title', from: 'title' } });
});

test('extract.html metadata on real pages (dolma WARC sample): meta.extract with sources', { skip: needData('dolma-testdata') }, async () => {
  const docs = (await readSource(read.warc(dataPath('dolma-testdata', 'warc__sample-0001.warc.gz')))).out;
  const pick = (url: string) => docs.find((d) => d.meta.url === url)!;
  const wipo = 'https://creativecommons.org/2024/04/23/cc-at-wipo-slow-progress-on-copyright-exceptions-for-cultural-heritage-institutions/';
  const news = 'https://commoncrawl.org/blog/march-april-2024-newsletter';
  const { out } = await runOperators([extract.html()], [pick(wipo), pick(news)]);
  assert.deepEqual(out[0]!.meta.extract, {
    date: { value: '2024-04-23T12:58:32+00:00', from: 'json-ld:datePublished' },
    language: { value: 'en-US', from: 'json-ld:inLanguage' },
    siteName: { value: 'Creative Commons', from: 'json-ld:WebSite.name' },
    title: { value: 'CC at WIPO: Slow progress on copyright exceptions for cultural heritage institutions - Creative Commons', from: 'og:title' },
    author: { value: 'Brigitte Vézina', from: 'meta:author' },
    canonicalUrl: { value: wipo, from: 'link:canonical' },
  });
  assert.deepEqual(out[1]!.meta.extract, {
    title: { value: 'Common Crawl - Blog - March/April 2024 Newsletter', from: 'og:title' },
    language: { value: 'en', from: 'html:lang' },
    canonicalUrl: { value: news, from: 'link:canonical' },
  });
});
