import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { localTaskContext } from '../../../engine/testing.ts';
import type { Doc } from '../../../engine/types.ts';
import { crawl } from '../../../operators/crawl/crawl.ts';
import { Frontier } from '../../../operators/crawl/frontier.ts';
import { extractLinks } from '../../../operators/crawl/links.ts';
import { agentToken } from '../../../operators/crawl/robots.ts';
import { Scope, normalizeUrl } from '../../../operators/crawl/url.ts';
import { base32 } from '../../../operators/crawl/warc-writer.ts';
import { serve } from './site.ts';

test('URL normalisation: case, default ports, dot segments, fragments, empty query; http(s) only', () => {
  assert.equal(normalizeUrl('HTTP://Example.COM:80/a/./b/../c?#frag'), 'http://example.com/a/c');
  assert.equal(normalizeUrl('https://example.com:443'), 'https://example.com/');
  assert.equal(normalizeUrl('../x?q=1#y', 'http://h/a/b/'), 'http://h/a/x?q=1');
  assert.equal(normalizeUrl('http://user:pw@h/'), 'http://h/');
  assert.equal(normalizeUrl('http://h./p'), 'http://h/p');
  assert.equal(normalizeUrl('mailto:a@b'), undefined);
  assert.equal(normalizeUrl('javascript:void(0)'), undefined);
  assert.equal(normalizeUrl('http://'), undefined);
});

test('scope: host, domain, any; allow and deny patterns', () => {
  const host = new Scope(['https://www.example.org/'], 'host', [], []);
  assert.equal(host.reject('https://www.example.org/x'), undefined);
  assert.equal(host.reject('https://blog.example.org/x'), 'out of scope: other host');
  const domain = new Scope(['https://www.example.org/'], 'domain', [], ['\\.pdf$']);
  assert.equal(domain.reject('https://blog.example.org/x'), undefined);
  assert.equal(domain.reject('https://example.org/'), undefined);
  assert.equal(domain.reject('https://notexample.org/'), 'out of scope: other domain');
  assert.equal(domain.reject('https://example.org/a.pdf'), 'out of scope: a deny pattern matches');
  const any = new Scope(['https://a/'], 'any', ['/docs/'], []);
  assert.equal(any.reject('https://z/docs/1'), undefined);
  assert.equal(any.reject('https://z/blog/1'), 'out of scope: no allow pattern matches');
});

test('link extraction: <base>, entities, nofollow, meta robots, frames', () => {
  const html = `<html><head><base href="/dir/"></head><body>
    <a href="x.html?a=1&amp;b=2">x</a> <A HREF="/abs">abs</A> <a href="x.html?a=1&amp;b=2#top">dup</a>
    <a href="skip" rel="nofollow ugc">nf</a> <area href="area"> <iframe src="frame.html"></iframe>
    <a href="mailto:x@y">m</a> <a>no href</a></body></html>`;
  assert.deepEqual(extractLinks(html, 'http://h/page').links, ['http://h/dir/x.html?a=1&b=2', 'http://h/abs', 'http://h/dir/area', 'http://h/dir/frame.html']);
  assert.ok(extractLinks(html, 'http://h/page', { followNofollow: true }).links.includes('http://h/dir/skip'));
  const robots = '<meta name="robots" content="noindex, nofollow"><a href="/a">a</a>';
  assert.deepEqual(extractLinks(robots, 'http://h/'), { links: [], nofollowPage: true });
});

test('helpers: robots agent token, RFC 4648 base32 of SHA-1', () => {
  assert.equal(agentToken('SluiceBot/0.1 (+https://x)'), 'SluiceBot');
  assert.equal(agentToken('Mozilla/5.0 (compatible; X)'), 'Mozilla');
  assert.equal(base32(Buffer.from('foobar')), 'MZXW6YTBOI======');
  // the digest of an empty payload, as Heritrix and warcio write it
  assert.equal(base32(createHash('sha1').update('').digest()), '3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ');
});

test('frontier: de-duplication, per-host round robin, backoff', () => {
  const f = new Frontier();
  const e = (url: string, notBefore = 0) => ({ url, depth: 0, attempts: 0, notBefore, chain: [] });
  assert.equal(f.add(e('http://a/1')), true);
  assert.equal(f.add(e('http://a/1')), false);
  f.add(e('http://a/2'));
  f.add(e('http://b/1'));
  f.push({ ...e('http://b/2', Date.now() + 60_000), attempts: 1 });
  const order: string[] = [];
  for (let x = f.take(Date.now(), () => true); x; x = f.take(Date.now(), () => true)) order.push(x.url);
  assert.deepEqual(order, ['http://a/1', 'http://b/1', 'http://a/2']);
  assert.equal(f.size, 1, 'the backed-off entry waits');
  assert.equal(f.take(Date.now() + 61_000, () => true)?.url, 'http://b/2');
});

test('maxPages bounds the URLs fetched; the rest stays queued, nothing is fetched twice', { timeout: 30_000 }, async () => {
  const routes: Parameters<typeof serve>[0] = {};
  for (let i = 0; i < 20; i++) {
    routes[`/p${i}`] = (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<a href="/p${i + 1}">n</a><a href="/p${i + 2}">nn</a>`);
    };
  }
  const site = await serve(routes);
  const ctx = localTaskContext();
  try {
    const src = crawl({ seeds: [site.url + '/p0'], allowPrivateNetworks: true, minDelayMs: 0, maxPages: 5, maxDepth: 50, respectRobots: false });
    const [part] = await src.plan({ workdir: ctx.workdir, baseDir: ctx.baseDir, storage: ctx.storage });
    const docs: Doc[] = [];
    for await (const b of src.read(part!, ctx)) docs.push(...b);
    assert.equal(docs.length, 5);
    assert.deepEqual(
      site.hits.map((h) => h.path),
      ['/p0', '/p1', '/p2', '/p3', '/p4'],
    );
    assert.deepEqual(ctx.audit.skips, []);
  } finally {
    ctx.dispose();
    await site.close();
  }
});
