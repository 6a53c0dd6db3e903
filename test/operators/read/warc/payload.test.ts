import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { decideCharset, decodeText, metaCharset } from '../../../../operators/read/warc/charset.ts';
import { docFromRecord, type DocOptions } from '../../../../operators/read/warc/doc.ts';
import { decodeContent, dechunk, HttpError, parseContentType, parseHttp } from '../../../../operators/read/warc/http.ts';
import type { Fields } from '../../../../operators/read/warc/record.ts';

test('HTTP parsing: status, repeated headers, continuation lines, chunked bodies', () => {
  const m = parseHttp(Buffer.from('HTTP/1.1 404 Not Found\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Long: one\r\n two\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n'));
  assert.equal(m.status, 404);
  assert.deepEqual(m.headers.get('set-cookie'), ['a=1', 'b=2']);
  assert.deepEqual(m.headers.get('x-long'), ['one two']);
  assert.equal(m.payload.toString(), 'hello world');
  assert.deepEqual(m.warnings, []);
  const lf = parseHttp(Buffer.from('HTTP/1.0 200 OK\nContent-Type: text/plain\n\nbody'));
  assert.equal(lf.payload.toString(), 'body');
  assert.throws(() => parseHttp(Buffer.from('garbage line\r\n\r\nbody')), HttpError);
  const req = parseHttp(Buffer.from('GET /x HTTP/1.1\r\nHost: a\r\n\r\n'));
  assert.equal(req.status, undefined);
  assert.equal(req.startLine, 'GET /x HTTP/1.1');
});

test('dechunk rejects what is not chunked and tolerates a missing last chunk', () => {
  assert.equal(dechunk(Buffer.from('<html>not chunked</html>')), undefined);
  assert.equal(dechunk(Buffer.from('ff\r\nshort'))?.toString(), undefined);
  assert.equal(dechunk(Buffer.from('3\r\nabc\r\n'))?.toString(), 'abc');
});

test('content codings are decoded, capped, and unknown ones are errors', () => {
  const text = Buffer.from('payload '.repeat(100));
  assert.deepEqual(decodeContent(zlib.gzipSync(text), 'gzip', 1 << 20), text);
  assert.deepEqual(decodeContent(zlib.deflateSync(text), 'deflate', 1 << 20), text);
  assert.deepEqual(decodeContent(zlib.deflateRawSync(text), 'deflate', 1 << 20), text);
  assert.deepEqual(decodeContent(zlib.brotliCompressSync(text), 'br', 1 << 20), text);
  assert.deepEqual(decodeContent(zlib.gzipSync(zlib.deflateSync(text)), 'deflate, gzip', 1 << 20), text);
  assert.throws(() => decodeContent(zlib.gzipSync(text), 'gzip', 100), /cannot decode/);
  assert.throws(() => decodeContent(text, 'compress', 1 << 20), /unsupported Content-Encoding 'compress'/);
  assert.deepEqual(parseContentType('Text/HTML; Charset="ISO-8859-1"'), { mime: 'text/html', charset: 'ISO-8859-1' });
});

test('charset decision: BOM, HTTP header, <meta>, detection, default', () => {
  const latin = Buffer.from('<p>caf\xe9 cr\xe8me br\xfbl\xe9e</p>', 'latin1');
  assert.deepEqual(decideCharset(Buffer.from('\ufeffhi'), 'iso-8859-1', true), { charset: 'utf-8', source: 'bom' });
  assert.deepEqual(decideCharset(latin, 'ISO-8859-1', true), { charset: 'windows-1252', source: 'http-header' });
  const meta = Buffer.concat([Buffer.from('<html><head><meta charset="koi8-r"></head>'), Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4])]);
  assert.deepEqual(decideCharset(meta, undefined, true), { charset: 'koi8-r', source: 'meta-tag' });
  assert.equal(decodeText(meta.subarray(meta.length - 6), 'koi8-r'), 'Привет');
  assert.equal(metaCharset(Buffer.from('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">')), 'Shift_JIS');
  // an unknown declared label falls through, and is recorded
  assert.deepEqual(decideCharset(Buffer.from('plain ascii'), 'x-no-such-charset', true), { charset: 'utf-8', source: 'detected', rejected: 'x-no-such-charset' });
  const sjis = new Uint8Array(Buffer.from('8eaf92e882cc8ace82e882cd82b182cc90a28a4582cc93fa97708c9182c582b7814281', 'hex'));
  const d = decideCharset(Buffer.concat([sjis, sjis, sjis]), undefined, false);
  assert.equal(d.source, 'detected');
  assert.equal(d.charset, 'shift_jis');
});

const opts: DocOptions = { mimeTypes: ['text/html'], maxBytes: 1 << 20 };
function fields(o: Record<string, string>): Fields {
  return new Map(Object.entries(o).map(([k, v]) => [k.toLowerCase(), [v]]));
}

test('docFromRecord: ids, meta, MIME filter, content-encoding and sniffing', () => {
  const html = Buffer.from('<!doctype html><title>x</title>');
  const block = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n\r\n'), zlib.gzipSync(html)]);
  const f = fields({ 'WARC-Type': 'response', 'WARC-Target-URI': '<http://a.example/>', 'WARC-Record-ID': '<urn:uuid:1>', 'WARC-Date': '2024-01-01T00:00:00Z', 'Content-Type': 'application/http; msgtype=response' });
  const b = docFromRecord(f, block, 'f.warc#0', opts);
  assert.equal(b.kind, 'doc');
  if (b.kind !== 'doc') return;
  assert.equal(b.doc.id, 'urn:uuid:1');
  assert.equal(b.doc.text, html.toString());
  assert.deepEqual(b.doc.meta, {
    url: 'http://a.example/',
    source: 'f.warc#0',
    warcRecordId: 'urn:uuid:1',
    warcType: 'response',
    warcDate: '2024-01-01T00:00:00Z',
    crawlDate: '2024-01-01T00:00:00Z',
    contentType: 'text/html',
    httpStatus: 200,
    charset: 'utf-8',
    charsetSource: 'http-header',
  });
  const png = docFromRecord(f, Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG'), 'f.warc#9', opts);
  assert.deepEqual(png.kind === 'skip' && [png.reason, png.details.contentType], ['mime-not-allowed', 'image/png']);
  // no Content-Type: sniffed; no record id: URL + content hash, stable
  const noType = fields({ 'WARC-Type': 'response', 'WARC-Target-URI': 'http://b/', 'Content-Type': 'application/http' });
  const s1 = docFromRecord(noType, Buffer.from('HTTP/1.1 200 OK\r\n\r\n<html><body>hi</body></html>'), 'x#1', opts);
  const s2 = docFromRecord(noType, Buffer.from('HTTP/1.1 200 OK\r\n\r\n<html><body>hi</body></html>'), 'x#2', opts);
  assert.ok(s1.kind === 'doc' && s2.kind === 'doc');
  if (s1.kind === 'doc' && s2.kind === 'doc') {
    assert.equal(s1.doc.meta.contentType, 'text/html');
    assert.match(s1.doc.id, /^sha1:[0-9a-f]{40}$/);
    assert.equal(s1.doc.id, s2.doc.id);
  }
  const bad = docFromRecord(f, Buffer.from('not http at all'), 'x#3', opts);
  assert.deepEqual(bad.kind === 'skip' && bad.reason, 'http: invalid status line');
});
