import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDocsParquet } from '../../../../engine/parquet.ts';
import { readSource } from '../../../../engine/testing.ts';
import type { Doc, Manifest } from '../../../../engine/types.ts';
import { read } from '../../../../operators/read/index.ts';
import { runCli, tempProject, writePipeline } from '../../../helpers/cli.ts';
import { dataPath, needData } from '../../../helpers/data.ts';

const skip = needData('dolma-testdata') || needData('cc-whirlwind');

test('plan: one part per file with size and version in the key; relative globs resolve against baseDir', { skip }, async () => {
  const src = read.warc('warc__sample-*.warc.gz');
  const parts = await src.plan({ workdir: '/tmp', baseDir: dataPath('dolma-testdata'), storage: (await import('../../../../engine/storage/index.ts')).storage });
  assert.deepEqual(
    parts.map((p) => p.uri),
    [dataPath('dolma-testdata', 'warc__sample-0000.warc.gz'), dataPath('dolma-testdata', 'warc__sample-0001.warc.gz')],
  );
  for (const p of parts) {
    const st = statSync(p.uri);
    assert.equal(p.size, st.size);
    assert.equal(p.key, `${p.uri}|${st.size}|${Math.floor(st.mtimeMs)}`);
  }
  assert.throws(() => read.warc([]), /read\.warc: expected a path/);
  assert.throws(() => read.warc('x.warc', { recordTypes: [] } as never), /read\.warc: config key 'recordTypes'/);
  assert.throws(() => read.warc('x.warc', { bogus: 1 } as never), /read\.warc: config key/);
});

test('batches hold at most batchSize docs', { skip }, async () => {
  const src = read.warc(dataPath('dolma-testdata', 'warc__sample-0000.warc.gz'), { batchSize: 5 });
  const parts = await src.plan({ workdir: '/tmp', baseDir: '/', storage: (await import('../../../../engine/storage/index.ts')).storage });
  const { localTaskContext } = await import('../../../../engine/testing.ts');
  const ctx = localTaskContext();
  const sizes: number[] = [];
  let progressDocs = 0;
  let progressBytes = 0;
  ctx.progress = { add: (d, b) => ((progressDocs += d), (progressBytes += b)), total() {}, note() {} };
  for await (const b of src.read(parts[0]!, ctx)) sizes.push(b.length);
  ctx.dispose();
  assert.deepEqual(sizes, [5, 5, 5, 5, 2]);
  assert.equal(progressDocs, 22);
  assert.equal(progressBytes, statSync(dataPath('dolma-testdata', 'warc__sample-0000.warc.gz')).size);
});

/** Serves one file; the first GET drops the connection after `dropAt` bytes; honours Range. */
function serveFile(path: string, dropAt: number): Promise<{ server: Server; url: string; requests: string[] }> {
  const body = readFileSync(path);
  const requests: string[] = [];
  let first = true;
  const server = createServer((req, res) => {
    const range = req.headers.range;
    requests.push(`${req.method} ${range ?? ''}`);
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': body.length, etag: '"v1"', 'accept-ranges': 'bytes' });
      return res.end();
    }
    if (range) {
      const start = Number(/bytes=(\d+)-/.exec(range)![1]);
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'accept-ranges': 'bytes' });
      return res.end(body.subarray(start));
    }
    res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    if (first) {
      first = false;
      res.write(body.subarray(0, dropAt), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sample.warc.gz`, requests })));
}

test('http(s) input: planned with HEAD, read with undici, resumed with Range after a dropped connection', { skip }, async () => {
  const file = dataPath('dolma-testdata', 'warc__sample-0001.warc.gz');
  const { server, url, requests } = await serveFile(file, 50_000);
  try {
    const local = await readSource(read.warc(file));
    const remote = await readSource(read.warc(url));
    assert.equal(remote.out.length, local.out.length);
    assert.deepEqual(
      remote.out.map((d) => d.id),
      local.out.map((d) => d.id),
    );
    assert.equal(remote.out[3]!.text, local.out[3]!.text);
    assert.equal(remote.out[0]!.meta.source, `${url}#${String(local.out[0]!.meta.source).split('#')[1]}`);
    assert.deepEqual(requests, ['HEAD ', 'GET ', 'GET bytes=50000-']);
  } finally {
    server.close();
  }
});

test('end to end: a pipeline stage over read.warc writes the docs as Parquet with skips counted', { skip }, async () => {
  const dir = tempProject();
  mkdirSync(join(dir, 'data'));
  copyFileSync(dataPath('cc-whirlwind', 'whirlwind.warc.gz'), join(dir, 'data', 'a.warc.gz'));
  copyFileSync(dataPath('pywb-sample-warcs', 'dupes.warc.gz'), join(dir, 'data', 'b.warc.gz'));
  writePipeline(dir, 'pipeline.ts', `export default pipeline({ name: 'warc', workdir: 'runs' }, (p) => { p.stage('pages', read.warc('data/*.warc.gz')); });`);
  const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { stages: Array<{ dir: string; tasks: number; docsOut: number }> };
  const stage = summary.stages[0]!;
  assert.equal(stage.tasks, 2);
  assert.equal(stage.docsOut, 2);
  const m = JSON.parse(readFileSync(join(stage.dir, 'manifest.json'), 'utf8')) as Manifest;
  assert.deepEqual(m.stats.skipped, { 'revisit record': 9, 'mime-not-allowed': 2 });
  const docs: Doc[] = [];
  for (const f of m.files) for await (const b of readDocsParquet(join(stage.dir, f.path))) docs.push(...b);
  assert.deepEqual(docs.map((d) => d.meta.url).sort(), ['http://example.com', 'https://an.wikipedia.org/wiki/Escopete']);
  assert.ok(docs.every((d) => String(d.meta.source).startsWith(join(dir, 'data'))));
});
