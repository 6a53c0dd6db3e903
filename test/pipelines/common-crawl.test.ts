import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createReadStream, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { runCli } from '../helpers/cli.ts';
import { REPO, dataPath, needData } from '../helpers/data.ts';
import { needS3, makeBucket } from '../helpers/s3.ts';
import { storage } from '../../engine/storage/index.ts';
import type { RunSummary } from '../../engine/runner.ts';

const WARC = dataPath('cc-whirlwind', 'whirlwind.warc.gz');
const PATHS = gzipSync('crawl-data/CC-MAIN-2024-22/segments/x/warc/whirlwind.warc.gz\n');
const s3skip = await needS3();

function check(r: { code: number | null; stdout: string; stderr: string }): RunSummary {
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const s = JSON.parse(r.stdout) as RunSummary;
  const names = s.stages.map((x) => x.stage);
  for (const n of ['warc', 'extract', 'filter', 'dedup', 'pii']) assert.ok(names.includes(n), `stage ${n} in ${names.join(', ')}`);
  const warc = s.stages.find((x) => x.stage === 'warc')!;
  assert.equal(warc.docsOut, 1, 'the one HTML response of the capture');
  assert.equal(s.stages.find((x) => x.stage === 'extract')!.docsOut, 1);
  return s;
}

test('pipelines/common-crawl.ts reads a real CC capture over HTTP (ranged GETs, a path list)', { skip: needData('cc-whirlwind') }, async () => {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/crawl-data/CC-MAIN-2024-22/warc.paths.gz') return void res.end(PATHS);
    if (url.endsWith('/whirlwind.warc.gz')) {
      const size = statSync(WARC).size;
      const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
      if (m) {
        const start = Number(m[1]);
        const end = m[2] ? Number(m[2]) : size - 1;
        res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1, 'accept-ranges': 'bytes' });
        return void createReadStream(WARC, { start, end }).pipe(res);
      }
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
      return void createReadStream(WARC).pipe(res);
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const workdir = mkdtempSync(join(tmpdir(), 'sluice-cc-'));
    const env = { CC_BASE: base, CC_FILES: '1', CC_WORKDIR: workdir };
    const r = await runCli(['run', 'pipelines/common-crawl.ts', '--json'], { cwd: REPO, env });
    check(r);
    // The README's audit command, with a what-if over the recorded scores.
    const a = await runCli(['audit', 'pipelines/common-crawl.ts', '--what-if', 'gopherQuality.minWords=100'], { cwd: REPO, env });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /gopherQuality/);
  } finally {
    server.close();
  }
});

test('pipelines/common-crawl.ts reads the same capture through the S3 test server', { skip: needData('cc-whirlwind') || s3skip }, async () => {
  const bucket = await makeBucket('cc');
  await storage.write(`s3://${bucket}/crawl-data/CC-MAIN-2024-22/warc.paths.gz`, PATHS);
  await storage.write(`s3://${bucket}/crawl-data/CC-MAIN-2024-22/segments/x/warc/whirlwind.warc.gz`, readFileSync(WARC));
  const r = await runCli(['run', 'pipelines/common-crawl.ts', '--json'], { cwd: REPO, env: { CC_BASE: `s3://${bucket}/`, CC_FILES: '1', CC_WORKDIR: `s3://${bucket}/work` } });
  check(r);
});
