import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { REGISTRY, entry, type DatasetEntry } from '../../datasets/registry.ts';
import { fetchDataset, fetchFile, sha256File } from '../../datasets/fetch.ts';
import { corpus, loadRegisteredBenchmark, splitCorpus } from '../../datasets/load.ts';
import { readSource } from '../../engine/testing.ts';
import { SHARED_DATA, needData } from '../helpers/data.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'sluice-ds-'));

test('the registry covers the public benchmarks and corpora the issue names', () => {
  const names = REGISTRY.map((d) => d.name);
  for (const n of ['piqa', 'arc_easy', 'arc_challenge', 'openbook_qa', 'copa', 'commonsense_qa', 'winogrande', 'lambada_openai', 'mmlu', 'hellaswag', 'wikitext2', 'tinyshakespeare', 'cc-main-2024-22-warc-paths']) assert.ok(names.includes(n), n);
  for (const d of REGISTRY) {
    assert.ok(d.license && d.homepage.startsWith('https://'), d.name);
    for (const f of d.files) {
      assert.match(f.url, f.derive ? /^npm:@stdlib\/datasets-spam-assassin@/ : /^https:\/\//, `${d.name}: ${f.path}`);
      if (f.sha256) assert.match(f.sha256, /^[0-9a-f]{64}$/);
    }
  }
  assert.equal(entry('mmlu').files.length, 57);
  assert.throws(() => entry('nope'), /unknown dataset 'nope'; registered: piqa, /);
});

test('every pinned hash matches the offline mirror', { skip: needData() }, async () => {
  let n = 0;
  for (const d of REGISTRY)
    for (const f of d.files) {
      if (!f.sha256 || !existsSync(join(SHARED_DATA, f.path))) continue;
      assert.equal(await sha256File(join(SHARED_DATA, f.path)), f.sha256, f.path);
      n++;
    }
  assert.ok(n >= 127, `${n} files verified`);
});

test('offline with a mirror: benchmarks and corpora load with the right counts', { skip: needData('mc-eval') }, async () => {
  const opts = { mirror: SHARED_DATA, cache: tmp(), offline: true };
  const piqa = await loadRegisteredBenchmark('piqa', opts);
  assert.equal(piqa.items.length, 1838);
  assert.equal((await loadRegisteredBenchmark('arc_easy', opts)).items.length, 2376);
  assert.equal((await loadRegisteredBenchmark('mmlu_dev', opts)).items.length, 285);
  const { out } = await readSource(corpus('tinyshakespeare', opts));
  assert.ok(out.length > 5000, `${out.length} passages`);
  assert.equal(out[0]!.id, 'tinyshakespeare/input.txt#0');
  assert.match(out[0]!.text, /^First Citizen:/);
});

test('benchmarks derived from the npm mail corpus load offline, with pinned hashes', async () => {
  const opts = { cache: tmp(), offline: true };
  const mc = await loadRegisteredBenchmark('mail_subject_mc', opts);
  assert.equal(mc.items.length, 222);
  const first = mc.items[0]!;
  assert.ok(first.kind === 'choice' && first.choices.length === 4 && first.query.startsWith('Message: '));
  const cloze = await loadRegisteredBenchmark('mail_cloze', opts);
  assert.equal(cloze.items.length, 145);
  assert.equal(cloze.items[0]!.kind, 'cloze');
});

test('offline without a copy: a clear error naming the URL and the mirror path', async () => {
  const mirror = tmp();
  await assert.rejects(
    fetchDataset('copa', { mirror, cache: tmp(), offline: true }),
    (e: Error) => e.message.includes('https://raw.githubusercontent.com/mosaicml/llm-foundry/') && e.message.includes(join(mirror, 'mc-eval/llm-foundry/copa.jsonl')) && /downloads are off/.test(e.message),
  );
  await assert.rejects(fetchDataset('hellaswag', { cache: tmp(), offline: true }), /no pinned sha256; pass allowUnpinned/);
});

test('downloads into the cache through HTTP, verified by sha256; a mismatch is rejected', async () => {
  const body = Buffer.from('First line.\n\nSecond paragraph.\n');
  const server = createServer((req, res) => {
    if (req.url === '/ok.txt' || req.url === '/bad.txt') res.end(req.url === '/ok.txt' ? body : Buffer.from('tampered'));
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const sha = createHash('sha256').update(body).digest('hex');
    const ds: DatasetEntry = { name: 'local', title: 't', kind: 'corpus', license: 'MIT', homepage: 'https://example.org', files: [], corpus: { splitter: 'paragraphs' } };
    const cache = tmp();
    const path = await fetchFile(ds, { path: 'local/ok.txt', url: `http://127.0.0.1:${port}/ok.txt`, sha256: sha }, { cache });
    assert.equal(path, join(cache, 'local/ok.txt'));
    assert.deepEqual(readFileSync(path), body);
    // Second time: served from the cache (the server would now 404).
    assert.equal(await fetchFile(ds, { path: 'local/ok.txt', url: `http://127.0.0.1:${port}/gone.txt`, sha256: sha }, { cache }), path);
    await assert.rejects(fetchFile(ds, { path: 'local/bad.txt', url: `http://127.0.0.1:${port}/bad.txt`, sha256: sha }, { cache }), /download of .*bad\.txt failed \(sha256 [0-9a-f]{64} does not match the pinned/);
    assert.equal(existsSync(join(cache, 'local/bad.txt')), false, 'nothing half-written left');
    await assert.rejects(fetchFile(ds, { path: 'local/x.txt', url: `http://127.0.0.1:${port}/x.txt`, sha256: sha }, { cache }), /HTTP 404/);
  } finally {
    server.close();
  }
});

test('corpus splitters', () => {
  assert.deepEqual(splitCorpus('a b\n\n\nc\n \nd', 'paragraphs'), ['a b', 'c', 'd']);
  assert.deepEqual(splitCorpus(' = A = \n x \n = = B = = \n y \n = C = \n z', 'wikitext-articles'), ['= A = \n x \n = = B = = \n y', '= C = \n z']);
  assert.deepEqual(splitCorpus('x\n\ny\n', 'lines'), ['x', 'y']);
});
