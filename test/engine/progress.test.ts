/**
 * The progress counts a task reports (what the TTY bar and the log lines show): each doc once.
 * Sources that report their own progress (read.warc, crawl) and the engine both used to add
 * every source batch, so the bar showed twice the docs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SLUICE, tempProject } from '../helpers/cli.ts';
import { serve, type Site } from '../operators/crawl/site.ts';
import { openRuntime } from '../../engine/runner.ts';
import { runTask } from '../../engine/task.ts';

/** An uncompressed WARC of `n` HTML response records. */
function warc(n: number): string {
  const recs: string[] = [];
  for (let i = 0; i < n; i++) {
    const http = `HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Page ${i} of the progress test.</p></body></html>`;
    const head = [
      'WARC/1.0',
      'WARC-Type: response',
      `WARC-Target-URI: https://progress.example/${i}`,
      'WARC-Date: 2024-01-01T00:00:00Z',
      `WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-${String(i).padStart(12, '0')}>`,
      'Content-Type: application/http; msgtype=response',
      `Content-Length: ${Buffer.byteLength(http)}`,
    ];
    recs.push(`${head.join('\r\n')}\r\n\r\n${http}\r\n\r\n`);
  }
  return recs.join('');
}

let dir = '';
let site: Site;
const PAGES = 6;
before(async () => {
  const routes: Parameters<typeof serve>[0] = {};
  for (let i = 0; i < PAGES; i++) {
    routes[`/p${i}`] = (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><body><p>Page ${i}.</p>${i + 1 < PAGES ? `<a href="/p${i + 1}">next</a>` : ''}</body></html>`);
    };
  }
  site = await serve(routes);
  dir = tempProject('sluice-progress-');
  writeFileSync(join(dir, 'pages.warc'), warc(7));
  writeFileSync(join(dir, 'docs.jsonl'), Array.from({ length: 9 }, (_, i) => JSON.stringify({ text: `doc ${i}` })).join('\n') + '\n');
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read, crawl } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'progress', workdir: ${JSON.stringify(join(dir, 'runs'))} }, (p) => {
  p.stage('warc', read.warc(${JSON.stringify(join(dir, 'pages.warc'))}, { batchSize: 3 }));
  p.stage('jsonl', read.jsonl(${JSON.stringify(join(dir, 'docs.jsonl'))}));
  p.stage('pages', crawl({ seeds: [${JSON.stringify(`${site.url}/p0`)}], allowPrivateNetworks: true, maxDepth: 50 }));
});
`,
  );
});
after(async () => {
  await site.close();
  rmSync(dir, { recursive: true, force: true });
});

async function counted(stage: string): Promise<{ docs: number; bytes: number; docsOut: number }> {
  const rt = await openRuntime(join(dir, 'pipeline.ts'));
  const seen = { docs: 0, bytes: 0 };
  const { marker } = await runTask(rt, stage, 0, { progress: (d, b) => ((seen.docs += d), (seen.bytes += b)) });
  return { ...seen, docsOut: marker.stats.docsOut };
}

test('read.warc: progress counts each doc once, and the input bytes against the file size', async () => {
  const c = await counted('warc');
  assert.equal(c.docsOut, 7);
  assert.equal(c.docs, 7);
  assert.equal(c.bytes, statSync(join(dir, 'pages.warc')).size);
});

test('crawl: progress counts each fetched page once', async () => {
  const c = await counted('pages');
  assert.equal(c.docsOut, PAGES);
  assert.equal(c.docs, PAGES);
});

test('a source that reports no progress is counted by the engine', async () => {
  const c = await counted('jsonl');
  assert.equal(c.docsOut, 9);
  assert.equal(c.docs, 9);
  assert.ok(c.bytes > 0);
});
