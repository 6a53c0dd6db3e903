import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { localTaskContext, readSource } from '../../../engine/testing.ts';
import type { Doc } from '../../../engine/types.ts';
import { crawl, type CrawlOptions } from '../../../operators/crawl/crawl.ts';
import { SSRF_BLOCKED, isBlockedAddress } from '../../../operators/crawl/ssrf.ts';
import { base32 } from '../../../operators/crawl/warc-writer.ts';
import { warc } from '../../../operators/read/warc/source.ts';
import { fixtureRoutes, serve } from './site.ts';

const UA = 'SluiceBot/0.1 (+https://example.org/bot; test)';

async function runCrawl(options: CrawlOptions, dir?: string) {
  const src = crawl(options);
  const ctx = localTaskContext(dir ? { dir } : {});
  const docs: Doc[] = [];
  try {
    const parts = await src.plan({ workdir: ctx.workdir, baseDir: ctx.baseDir, storage: ctx.storage });
    assert.equal(parts.length, 1, 'the crawl is one task');
    for await (const b of src.read(parts[0]!, ctx)) docs.push(...b);
    return { docs, skips: ctx.audit.skips, dir: ctx.stageDir };
  } finally {
    ctx.dispose();
  }
}

/** Runs a crawl that must fail because no seed produced a page; its error and skips. */
async function failedCrawl(options: CrawlOptions, dir?: string) {
  const src = crawl(options);
  const ctx = localTaskContext(dir ? { dir } : {});
  try {
    const parts = await src.plan({ workdir: ctx.workdir, baseDir: ctx.baseDir, storage: ctx.storage });
    const docs: Doc[] = [];
    const error = await (async () => {
      for await (const b of src.read(parts[0]!, ctx)) docs.push(...b);
    })().then(
      () => assert.fail('the crawl should have failed'),
      (e: Error) => e,
    );
    assert.deepEqual(docs, []);
    return { error, skips: ctx.audit.skips };
  } finally {
    ctx.dispose();
  }
}

test('crawl of the fixture site: exactly what is fetched, skipped and why; WARC 1.1 written', { timeout: 120_000 }, async () => {
  const site = await serve(fixtureRoutes());
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'crawl-site-'));
  try {
    const { docs, skips } = await runCrawl(
      {
        seeds: [site.url + '/'],
        allowPrivateNetworks: true,
        userAgent: UA,
        maxDepth: 2,
        minDelayMs: 0,
        timeoutMs: 1500, // generous: a loaded CI machine must not time out the normal pages
        retries: 2,
        backoffMs: 50,
        maxRedirects: 3,
        maxBodyBytes: 1 << 20,
        concurrency: 4,
        checkpointEvery: 5,
      },
      dir,
    );
    const u = (p: string) => site.url + p;
    const paths = site.hits.map((h) => h.path);
    assert.ok(site.hits.every((h) => h.ua === UA), 'the User-Agent is sent');
    assert.equal(paths[0], '/robots.txt');
    assert.equal(paths.filter((p) => p === '/robots.txt').length, 1);
    const count = (p: string) => paths.filter((x) => x === p).length;
    assert.deepEqual(
      [...new Set(paths)].sort(),
      ['/', '/a', '/b', '/sub/c', '/loop-a', '/loop-b', '/redirect-chain/1', '/redirect-chain/2', '/redirect-chain/3', '/redirect-chain/4', '/flaky', '/busy', '/slow', '/huge', '/data.json', '/latin1', '/missing', '/old', '/robots.txt'].sort(),
    );
    // nothing fetched twice except the retries: 500 → 200, 429 → 200, and the slow page 3 times
    assert.equal(count('/flaky'), 2);
    assert.equal(count('/busy'), 2);
    assert.equal(count('/slow'), 3);
    for (const p of ['/', '/a', '/b', '/sub/c', '/huge', '/latin1', '/old']) assert.equal(count(p), 1, p);
    // never: disallowed by robots, nofollow, deeper than maxDepth, out of scope
    for (const p of ['/private/secret', '/nofollow-target', '/deep']) assert.equal(count(p), 0, p);

    // politeness: Crawl-delay 0.2 s between request starts (one request at a time per host)
    const pageHits = site.hits.filter((h) => h.path !== '/robots.txt');
    for (let i = 1; i < pageHits.length; i++) assert.ok(pageHits[i]!.at - pageHits[i - 1]!.at >= 190, `gap before ${pageHits[i]!.path}: ${pageHits[i]!.at - pageHits[i - 1]!.at} ms`);
    // Retry-After: 1 honoured
    const busy = site.hits.filter((h) => h.path === '/busy');
    assert.ok(busy[1]!.at - busy[0]!.at >= 990, 'the 429 retry waited for Retry-After');

    assert.deepEqual(docs.map((d) => d.meta.url).sort(), [u('/'), u('/a'), u('/b'), u('/sub/c'), u('/flaky'), u('/busy'), u('/latin1')].sort());
    const byUrl = new Map(docs.map((d) => [d.meta.url, d]));
    assert.match(byUrl.get(u('/flaky'))!.text, /recovered/);
    const latin = byUrl.get(u('/latin1'))!;
    assert.match(latin.text, /Café crème brûlée à la française/);
    assert.equal(latin.meta.charset, 'windows-1252');
    assert.equal(latin.meta.charsetSource, 'meta-tag');
    for (const d of docs) {
      assert.equal(d.meta.httpStatus, 200);
      assert.equal(d.meta.contentType, 'text/html');
      assert.match(d.id, /^urn:uuid:[0-9a-f-]{36}$/);
      assert.equal(d.meta.warcRecordId, d.id);
      assert.match(String(d.meta.source), /\/warc\/crawl-00000-\d{5}\.warc\.gz#\d+$/);
    }

    const got = skips.map((s) => [s.reason, s.input.replace(site.url, '')]).sort();
    assert.deepEqual(
      got,
      [
        ['body over maxBodyBytes', '/huge'],
        ['http status', '/missing'],
        ['mime-not-allowed', '/data.json'],
        ['redirect loop', '/loop-a'],
        ['robots: disallowed', '/private/secret'],
        ['timeout', '/slow'],
        ['too many redirects', '/redirect-chain/5'],
      ].sort(),
    );
    const s = (reason: string) => skips.find((x) => x.reason === reason)!.details!;
    assert.equal(s('timeout').attempts, 3);
    assert.equal(s('http status').status, 404);
    assert.deepEqual(s('redirect loop').chain, [u('/loop-a'), u('/loop-b')]);
    assert.equal(s('body over maxBodyBytes').limit, 1 << 20);

    // The WARC files: gzip members that node zlib (a standard gunzip) reads whole, WARC/1.1,
    // request+response pairs, digests that check out; and read.warc gives back the same docs.
    const files = readdirSync(join(dir, 'warc')).filter((f) => f.endsWith('.warc.gz'));
    assert.ok(files.length >= 3, 'segments rolled every 5 pages');
    let responses = 0;
    let requests = 0;
    for (const f of files) {
      const text = zlib.gunzipSync(readFileSync(join(dir, 'warc', f)));
      let p = 0;
      while (p < text.length) {
        const he = text.indexOf('\r\n\r\n', p);
        const head = text.toString('utf8', p, he);
        assert.match(head, /^WARC\/1\.1\r\n/);
        const len = Number(/\r\nContent-Length: (\d+)/.exec(head)![1]);
        const block = text.subarray(he + 4, he + 4 + len);
        assert.equal(text.toString('latin1', he + 4 + len, he + 8 + len), '\r\n\r\n');
        const blockDigest = /\r\nWARC-Block-Digest: (sha1:[A-Z2-7]+)/.exec(head)![1];
        assert.equal(blockDigest, 'sha1:' + base32(createHash('sha1').update(block).digest()));
        const type = /\r\nWARC-Type: (\w+)/.exec(head)![1];
        if (type === 'response') {
          responses++;
          const payload = block.subarray(block.indexOf('\r\n\r\n') + 4);
          assert.equal(/\r\nWARC-Payload-Digest: (sha1:[A-Z2-7]+)/.exec(head)![1], 'sha1:' + base32(createHash('sha1').update(payload).digest()));
        }
        if (type === 'request') {
          requests++;
          assert.match(head, /\r\nWARC-Concurrent-To: <urn:uuid:/);
          assert.match(block.toString(), /^GET \S+ HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\nUser-Agent: SluiceBot/);
        }
        p = he + 8 + len;
      }
    }
    const fetched = site.hits.filter((h) => h.path !== '/huge' && h.path !== '/slow').length;
    assert.equal(responses, fetched, 'every completed exchange is archived');
    assert.equal(requests, responses);
    const reread = await readSource(warc(join(dir, 'warc', '*.warc.gz')));
    const pages = reread.out.filter((d) => d.meta.httpStatus === 200);
    assert.deepEqual(pages.map((d) => d.id).sort(), docs.map((d) => d.id).sort());
    assert.deepEqual(pages.map((d) => d.meta.source).sort(), docs.map((d) => d.meta.source).sort());
    rmSync(dir, { recursive: true, force: true });
  } finally {
    await site.close();
  }
});

test('an interrupted crawl resumes without refetching, and yields the archived pages again', { timeout: 60_000 }, async () => {
  const routes: Record<string, Parameters<typeof serve>[0][string]> = {};
  for (let i = 0; i < 10; i++) {
    routes[`/p${i}`] = (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html><body>page ${i} <a href="/p${i + 1}">next</a></body></html>`);
    };
  }
  const site = await serve(routes);
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'crawl-resume-'));
  const options: CrawlOptions = { seeds: [site.url + '/p0'], allowPrivateNetworks: true, minDelayMs: 0, maxDepth: 20, concurrency: 1, checkpointEvery: 1, batchSize: 1 };
  try {
    // first run: stop after 4 pages (as a killed task would, without a graceful end)
    const ctx1 = localTaskContext({ dir });
    const src = crawl(options);
    const [part] = await src.plan({ workdir: dir, baseDir: dir, storage: ctx1.storage });
    const first: Doc[] = [];
    for await (const b of src.read(part!, ctx1)) {
      first.push(...b);
      if (first.length === 4) break;
    }
    ctx1.dispose();
    assert.deepEqual(
      first.map((d) => d.meta.url),
      [0, 1, 2, 3].map((i) => `${site.url}/p${i}`),
    );
    const hitsAfterFirst = site.hits.filter((h) => h.path !== '/robots.txt').map((h) => h.path);
    assert.deepEqual(hitsAfterFirst, ['/p0', '/p1', '/p2', '/p3']);

    // second run over the same state: the 4 archived pages come back from WARC, the rest is fetched
    const { docs } = await runCrawl(options, dir);
    assert.deepEqual(
      docs.map((d) => d.meta.url),
      [...Array(10).keys(), 10].filter((i) => i < 10).map((i) => `${site.url}/p${i}`),
    );
    assert.deepEqual(
      docs.slice(0, 4).map((d) => [d.id, d.text]),
      first.map((d) => [d.id, d.text]),
      'replayed docs are identical',
    );
    const pageHits = site.hits.filter((h) => h.path !== '/robots.txt').map((h) => h.path);
    assert.deepEqual(pageHits, [...Array(11).keys()].map((i) => `/p${i}`), 'no page fetched twice');
    const robots = site.hits.filter((h) => h.path === '/robots.txt').length;
    assert.equal(robots, 2, 'robots.txt is fetched again by the new run (it may have changed)');

    // a third run finds the crawl complete: the same docs, no request at all
    const before = site.hits.length;
    const again = await runCrawl(options, dir);
    assert.equal(site.hits.length, before);
    assert.deepEqual(
      again.docs.map((d) => d.id),
      docs.map((d) => d.id),
    );
    assert.deepEqual(again.skips.map((s) => [s.reason, s.input]), [['http status', `${site.url}/p10`]]);
    rmSync(dir, { recursive: true, force: true });
  } finally {
    await site.close();
  }
});

test('SSRF guard: loopback refused by default, after DNS too (localhost), recorded as an SSRF refusal; a crawl of refused seeds fails naming them', { timeout: 30_000 }, async () => {
  const site = await serve({
    '/': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>should not be fetched</html>');
    },
  });
  try {
    const port = new URL(site.url).port;
    for (const seed of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, `http://[::ffff:7f00:1]:${port}/x`]) {
      for (const respectRobots of [true, false]) {
        const { error, skips } = await failedCrawl({ seeds: [seed], minDelayMs: 0, retries: 0, respectRobots });
        // the guard refused the address, whether robots.txt or the page was the first request
        assert.deepEqual(
          skips.map((s) => [s.reason, s.input]),
          [[SSRF_BLOCKED, new URL(seed).href]],
          seed,
        );
        assert.match(String(skips[0]!.details!.message), /^refusing to connect to .*: loopback (127\.0\.0\.0\/8: 127\.0\.0\.1|::1\/128)/, seed);
        assert.match(error.message, /^crawl: no page became a doc; the seed was refused or failed:\n/);
        assert.ok(error.message.includes(`${new URL(seed).href}: ${SSRF_BLOCKED} — refusing to connect to`), error.message);
        assert.match(error.message, /allowPrivateNetworks \(true, or a list of CIDR ranges\) allows them/);
      }
    }
    const { skips } = await failedCrawl({ seeds: [`http://localhost:${port}/`], minDelayMs: 0, retries: 0, respectRobots: false });
    assert.match(String(skips[0]!.details!.message), /refusing to connect to localhost \((127\.0\.0\.1|::1)\)/);
    assert.equal(site.hits.length, 0, 'no request reached the server');
  } finally {
    await site.close();
  }
});

test('a redirect to a private address is refused on that hop', { timeout: 30_000 }, async () => {
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00:ec2::254', '::ffff:10.0.0.1', '::ffff:7f00:1']) {
    assert.equal(isBlockedAddress(ip), true, ip);
  }
  for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '93.184.216.34']) assert.equal(isBlockedAddress(ip), false, ip);
  // The site itself is allowed (127.0.0.1/32), its redirect to the metadata service is not.
  const site = await serve({
    '/': (_q, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    },
  });
  try {
    const { error, skips } = await failedCrawl({ seeds: [site.url + '/'], allowPrivateNetworks: ['127.0.0.1/32'], minDelayMs: 0, retries: 0, respectRobots: false, scope: 'any' });
    assert.deepEqual(
      skips.map((s) => [s.reason, s.input]),
      [[SSRF_BLOCKED, 'http://169.254.169.254/latest/meta-data/']],
    );
    assert.ok(error.message.includes(`http://169.254.169.254/latest/meta-data/ (redirected from ${site.url}/): ${SSRF_BLOCKED}`), error.message);
    assert.deepEqual(
      site.hits.map((h) => h.path),
      ['/'],
    );
  } finally {
    await site.close();
  }
});

test('a crawl whose every seed is refused or fails fails, naming each seed and why; a rerun tries the seeds again', { timeout: 30_000 }, async () => {
  const site = await serve({
    '/robots.txt': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('User-agent: *\nDisallow: /private/\n');
    },
    '/moved': (_q, res) => {
      res.writeHead(301, { location: '/gone' });
      res.end();
    },
  });
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'crawl-refused-'));
  try {
    const options: CrawlOptions = { seeds: [site.url + '/private/a', site.url + '/missing', site.url + '/moved'], allowPrivateNetworks: true, minDelayMs: 0, retries: 0 };
    const { error, skips } = await failedCrawl(options, dir);
    assert.deepEqual(
      skips.map((s) => [s.reason, s.input]),
      [
        ['robots: disallowed', `${site.url}/private/a`],
        ['http status', `${site.url}/missing`],
        ['http status', `${site.url}/gone`],
      ],
    );
    assert.equal(
      error.message,
      [
        'crawl: no page became a doc; all 3 seeds were refused or failed:',
        `  ${site.url}/private/a: robots: disallowed — HTTP 200`,
        `  ${site.url}/missing: http status — HTTP 404`,
        `  ${site.url}/gone (redirected from ${site.url}/moved): http status — HTTP 404`,
      ].join('\n'),
    );
    const first = site.hits.map((h) => h.path);
    // the failed crawl saved no finished state: running it again fetches again
    await failedCrawl(options, dir);
    assert.deepEqual(
      site.hits.map((h) => h.path),
      [...first, ...first],
    );
  } finally {
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('crawl options are validated with the key named', () => {
  assert.throws(() => crawl({ seeds: [] }), /crawl: config key 'seeds'/);
  assert.throws(() => crawl({ seeds: ['ftp://x/'] }), /crawl: config key 'seeds': not an http\(s\) URL/);
  assert.throws(() => crawl({ seeds: ['http://x/'], deny: ['('] }), /crawl: config key 'deny': invalid regular expression/);
  assert.throws(() => crawl({ seeds: ['http://x/'], maxPages: 0 }), /crawl: config key 'maxPages'/);
  assert.throws(() => crawl({ seeds: ['http://x/'], bogus: 1 } as never), /crawl: config key/);
  assert.throws(() => crawl({ seeds: ['http://x/'], allowPrivateNetworks: ['not-an-ip'] }), /crawl: config key 'allowPrivateNetworks'/);
});
