import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOperators } from '../../../engine/testing.ts';
import { hostOf, normalizeUrl, url } from '../../../operators/filter/url.ts';
import { doc } from './fixtures.ts';

async function reasons(options: Parameters<typeof url>[0], urls: Array<string | undefined>): Promise<string[]> {
  const docs = urls.map((u, i) => doc('text', String(i), u === undefined ? {} : { url: u }));
  const { out, audit } = await runOperators([url(options)], docs);
  return docs.map((d) => (out.some((o) => o.id === d.id) ? 'keep' : audit.drops.find((x) => x.id === d.id)!.reason));
}

test('url: domain blocklist blocks the domain and its subdomains only', async () => {
  assert.deepEqual(
    await reasons({ domains: ['bad.example'] }, ['https://bad.example/x', 'http://www.bad.example', 'https://news.bad.example/a?b', 'https://notbad.example/', 'https://good.example/bad.example']),
    ['url.domain', 'url.domain', 'url.domain', 'keep', 'keep'],
  );
});

test('url: exact-URL blocklist (scheme, www, trailing slash and fragment ignored)', async () => {
  assert.deepEqual(
    await reasons({ urls: ['https://site.example/page'] }, ['http://www.site.example/page/', 'https://site.example/page#top', 'https://site.example/page2']),
    ['url.url', 'url.url', 'keep'],
  );
});

test('url: banned words match whole URL tokens; sub-words match anywhere', async () => {
  assert.deepEqual(await reasons({ bannedWords: ['casino'] }, ['https://x.example/best-casino-bonus', 'https://x.example/casinos']), ['url.bannedWord', 'keep']);
  assert.deepEqual(await reasons({ bannedWords: ['casino'], maxBannedWords: 1 }, ['https://x.example/casino', 'https://casino.example/casino']), ['keep', 'url.bannedWord']);
  assert.deepEqual(await reasons({ bannedSubwords: ['casino'] }, ['https://x.example/online-casinos', 'https://x.example/cas-ino']), ['url.bannedSubword', 'url.bannedSubword']);
});

test('url: docs without a URL are kept by default, dropped on request', async () => {
  assert.deepEqual(await reasons({ domains: ['a.example'] }, [undefined]), ['keep']);
  assert.deepEqual(await reasons({ missingUrl: 'drop' }, [undefined, 'https://a.example']), ['url.missing', 'keep']);
});

test('url: lists load from files (comments and blank lines ignored, relative to the pipeline dir)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-url-'));
  try {
    writeFileSync(join(dir, 'domains.txt'), '# blocked\nspam.example\n\n  Other.Example  # trailing\n');
    writeFileSync(join(dir, 'words.txt'), 'viagra\n');
    const docs = ['https://spam.example/', 'https://a.other.example/', 'https://ok.example/viagra-now', 'https://ok.example/'].map((u, i) => doc('t', String(i), { url: u }));
    const prev = process.cwd();
    process.chdir(dir); // localTaskContext's baseDir is the cwd
    try {
      const { out, audit } = await runOperators([url({ domainsFile: 'domains.txt', bannedWordsFile: join(dir, 'words.txt') })], docs);
      assert.deepEqual(out.map((d) => d.id), ['3']);
      assert.deepEqual(audit.drops.map((d) => d.reason), ['url.domain', 'url.domain', 'url.bannedWord']);
    } finally {
      process.chdir(prev);
    }
    await assert.rejects(runOperators([url({ domainsFile: join(dir, 'missing.txt') })], [doc('t')]), /filter\.url: cannot read list file .*missing\.txt/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('url: host and URL normalisation', () => {
  assert.equal(hostOf('HTTPS://user@WWW.Example.COM:8080/x'), 'example.com');
  assert.equal(normalizeUrl('https://WWW.Example.com/A/?q=1#f'), 'example.com/A/?q=1');
});

test('url: a local list file content enters the fingerprint material (code)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-url-fp-'));
  try {
    const f = join(dir, 'd.txt');
    writeFileSync(f, 'a.example\n');
    const a = url({ domainsFile: f }).code;
    writeFileSync(f, 'b.example\n');
    const b = url({ domainsFile: f }).code;
    assert.ok(a && b && a !== b);
    assert.equal(url({ domains: ['x.example'] }).code, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
