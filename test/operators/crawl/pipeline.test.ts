/**
 * crawl() as a pipeline stage (the quickstart's shape): crawl a local site, extract.html() the
 * pages; then kill -9 a crawl mid-way and run again: it continues without refetching.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDocsParquet } from '../../../engine/parquet.ts';
import type { Doc, Manifest } from '../../../engine/types.ts';
import { REPO } from '../../helpers/data.ts';
import { runCli, startCli, tempProject } from '../../helpers/cli.ts';
import { serve, type Site } from './site.ts';
import { writeFileSync } from 'node:fs';

async function docsOf(dir: string): Promise<{ docs: Doc[]; manifest: Manifest }> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const docs: Doc[] = [];
  for (const f of manifest.files) for await (const b of readDocsParquet(join(dir, f.path))) docs.push(...b);
  return { docs, manifest };
}

/** A chain of `n` pages, each linking the next, with an article body extract.html keeps. */
function chainSite(n: number): Promise<Site> {
  const routes: Parameters<typeof serve>[0] = {};
  for (let i = 0; i < n; i++) {
    routes[`/p${i}`] = (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const next = i + 1 < n ? `<a href="/p${i + 1}">next page</a>` : '';
      res.end(
        `<!doctype html><html lang="en"><head><title>Page ${i}</title></head><body><nav><a href="/p0">home</a></nav>` +
          `<article><h1>Page number ${i}</h1><p>This is the body of page ${i}. It has a few sentences so that the extractor keeps it as main content. ` +
          `The crawler found it by following links from the first page of the chain.</p></article>${next}<footer>footer text</footer></body></html>`,
      );
    };
  }
  return serve(routes);
}

function writeCrawlPipeline(dir: string, seed: string, extra: string): void {
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, crawl, extract } from ${JSON.stringify(join(REPO, 'index.ts'))};
export default pipeline({ name: 'crawl-e2e', workdir: 'runs' }, (p) => {
  const pages = p.stage('pages', crawl({ seeds: [${JSON.stringify(seed)}], allowPrivateNetworks: true, maxDepth: 50, ${extra} }));
  p.stage('text', pages, [extract.html()]);
});
`,
  );
}

test('pipeline: crawl() then extract.html(); docs keep url, contentType and httpStatus', { timeout: 120_000 }, async () => {
  const site = await chainSite(5);
  try {
    const dir = tempProject();
    writeCrawlPipeline(dir, site.url + '/p0', 'minDelayMs: 0');
    const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { stages: Array<{ stage: string; dir: string; docsOut: number }> };
    const pages = summary.stages[0]!;
    const text = summary.stages[1]!;
    const raw = await docsOf(pages.dir);
    assert.deepEqual(
      raw.docs.map((d) => d.meta.url),
      [0, 1, 2, 3, 4].map((i) => `${site.url}/p${i}`),
    );
    for (const d of raw.docs) {
      assert.equal(d.meta.contentType, 'text/html');
      assert.equal(d.meta.httpStatus, 200);
      assert.match(d.text, /^<!doctype html>/);
    }
    const extracted = await docsOf(text.dir);
    assert.equal(extracted.docs.length, 5);
    for (const d of extracted.docs) {
      assert.match(d.text, /This is the body of page \d/);
      assert.ok(!d.text.includes('footer text'), 'boilerplate removed by extract.html');
      assert.ok(!d.text.includes('<'), 'no markup left');
    }
    // the WARC files sit in the crawl stage's output directory
    const warcs = readFileSync(join(pages.dir, 'manifest.json'), 'utf8');
    assert.ok(warcs.length > 0);
    const { readdirSync } = await import('node:fs');
    assert.ok(readdirSync(join(pages.dir, 'warc')).some((f) => /^crawl-00000-\d{5}\.warc\.gz$/.test(f)));
  } finally {
    await site.close();
  }
});

test('pipeline: kill -9 during a crawl, run again: it resumes without refetching archived pages', { timeout: 180_000 }, async () => {
  const n = 16;
  const site = await chainSite(n);
  try {
    const dir = tempProject();
    writeCrawlPipeline(dir, site.url + '/p0', 'minDelayMs: 60, concurrency: 1, checkpointEvery: 1');
    const { child, done } = startCli(['run', 'pipeline.ts', '--workers', '1'], { cwd: dir });
    const pageHits = () => site.hits.filter((h) => h.path !== '/robots.txt');
    const deadline = Date.now() + 60_000;
    while (pageHits().length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    process.kill(-child.pid!, 'SIGKILL');
    const killed = await done;
    assert.equal(killed.signal, 'SIGKILL');
    const before = pageHits().length;
    assert.ok(before >= 6 && before < n, `killed mid-crawl (${before} pages fetched)`);

    const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { stages: Array<{ dir: string }> };
    const { docs } = await docsOf(summary.stages[0]!.dir);
    assert.deepEqual(
      docs.map((d) => d.meta.url),
      [...Array(n).keys()].map((i) => `${site.url}/p${i}`),
      'every page once, in crawl order',
    );
    const paths = pageHits().map((h) => h.path);
    const counts = new Map<string, number>();
    for (const p of paths) counts.set(p, (counts.get(p) ?? 0) + 1);
    const twice = [...counts].filter(([, c]) => c > 1).map(([p]) => p);
    // at most the one page that was in flight (fetched, not yet committed) when the task died
    assert.ok(twice.length <= 1, `refetched: ${twice.join(', ')}`);
    assert.equal(counts.size, n);
  } finally {
    await site.close();
  }
});
