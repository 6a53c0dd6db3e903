/**
 * Every WARC/WET/ARC file under ../shared/data reads: record counts, known fields, and each
 * malformed file of warcio's test data gives skips with reasons (or a clear error), never a crash.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { test } from 'node:test';
import { readSource } from '../../../../engine/testing.ts';
import type { Doc } from '../../../../engine/types.ts';
import { SegmentReader } from '../../../../operators/read/warc/bytes.ts';
import { segments } from '../../../../operators/read/warc/gzip.ts';
import { field, parseWarc } from '../../../../operators/read/warc/record.ts';
import { arc, warc, wet } from '../../../../operators/read/warc/source.ts';
import { dataPath, needData } from '../../../helpers/data.ts';

const ALL_TYPES = ['warcinfo', 'request', 'response', 'resource', 'metadata', 'revisit', 'conversion'];

/** Counts of every record type in a WARC file, straight from the parser. */
async function recordTypes(path: string): Promise<{ types: Record<string, number>; skips: string[] }> {
  const r = new SegmentReader(segments(createReadStream(path))[Symbol.asyncIterator]());
  const types: Record<string, number> = {};
  const skips: string[] = [];
  for await (const ev of parseWarc(r)) {
    if (ev.kind === 'skip') skips.push(ev.skip.reason);
    else {
      const t = field(ev.record.fields, 'warc-type') ?? '?';
      types[t] = (types[t] ?? 0) + 1;
    }
  }
  return { types, skips };
}

function reasons(skips: Array<{ reason: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of skips) out[s.reason] = (out[s.reason] ?? 0) + 1;
  return out;
}

const ESCOPETE_RESPONSE = 'urn:uuid:2aabeff2-67f5-4608-8466-e87c6296e2b6';

test('cc-whirlwind: WARC, WARC.gz, WET and WAT agree on the one capture', { skip: needData('cc-whirlwind') }, async () => {
  const docs: Doc[] = [];
  for (const f of ['whirlwind.warc', 'whirlwind.warc.gz']) {
    const { out, audit } = await readSource(warc(dataPath('cc-whirlwind', f)));
    assert.deepEqual(audit.skips, []);
    assert.equal(out.length, 1);
    docs.push(out[0]!);
    assert.deepEqual(await recordTypes(dataPath('cc-whirlwind', f)), { types: { warcinfo: 1, request: 1, response: 1, metadata: 1 }, skips: [] });
  }
  const [plain, gz] = docs as [Doc, Doc];
  assert.equal(plain.id, ESCOPETE_RESPONSE);
  assert.equal(gz.id, plain.id);
  assert.equal(gz.text, plain.text);
  assert.equal(plain.meta.url, 'https://an.wikipedia.org/wiki/Escopete');
  assert.equal(plain.meta.warcRecordId, ESCOPETE_RESPONSE);
  assert.equal(plain.meta.warcDate, '2024-05-18T01:58:10Z');
  assert.equal(plain.meta.contentType, 'text/html');
  assert.equal(plain.meta.httpStatus, 200);
  assert.equal(plain.meta.charset, 'utf-8');
  assert.equal(plain.meta.charsetSource, 'http-header');
  assert.match(plain.text, /^<!DOCTYPE html>/);
  assert.match(plain.text, /Escopete/);
  // the locator points at the record: the plain file's byte offset, the gz member's offset
  assert.equal(plain.meta.source, `${dataPath('cc-whirlwind', 'whirlwind.warc')}#1375`);
  assert.equal(gz.meta.source, `${dataPath('cc-whirlwind', 'whirlwind.warc.gz')}#1023`);

  for (const f of ['whirlwind.warc.wet', 'whirlwind.warc.wet.gz']) {
    const { out, audit } = await readSource(wet(dataPath('cc-whirlwind', f)));
    assert.deepEqual(audit.skips, []);
    assert.equal(out.length, 1);
    const d = out[0]!;
    assert.deepEqual(d.meta.languages, ['spa']);
    assert.equal(d.meta.warcRefersTo, ESCOPETE_RESPONSE, 'WET record joins to the WARC response');
    assert.equal(d.meta.url, plain.meta.url);
    assert.equal(d.meta.contentType, 'text/plain');
    assert.match(d.text, /^Escopete/);
  }
  const wat = await readSource(warc(dataPath('cc-whirlwind', 'whirlwind.warc.wat.gz'), { recordTypes: ['metadata'], mimeTypes: ['application/json'] }));
  assert.equal(wat.out.length, 1);
  const envelope = JSON.parse(wat.out[0]!.text) as { Envelope: { 'WARC-Header-Metadata': Record<string, string> } };
  assert.equal(envelope.Envelope['WARC-Header-Metadata']['WARC-Target-URI'], plain.meta.url);
});

test('dolma-testdata: 82 records of a wget crawl, <…>-wrapped target URIs cleaned', { skip: needData('dolma-testdata') }, async () => {
  let records = 0;
  for (const f of ['warc__sample-0000.warc.gz', 'warc__sample-0001.warc.gz']) {
    const { types, skips } = await recordTypes(dataPath('dolma-testdata', f));
    assert.deepEqual(skips, []);
    records += Object.values(types).reduce((a, b) => a + b, 0);
  }
  assert.equal(records, 82);
  const { out, audit } = await readSource(warc(dataPath('dolma-testdata', 'warc__sample-*.warc.gz')));
  assert.equal(out.length, 37);
  assert.deepEqual(reasons(audit.skips), {});
  assert.ok(out.every((d) => typeof d.meta.url === 'string' && /^https?:\/\/[^<>\s]+$/.test(d.meta.url)), 'URLs are unwrapped');
  assert.ok(out.every((d) => d.meta.httpStatus === 200 && d.meta.contentType === 'text/html'));
  assert.equal(new Set(out.map((d) => d.id)).size, out.length, 'ids are unique');
  assert.ok(out.some((d) => d.meta.url === 'https://creativecommons.org/'));
});

test('pywb-sample-warcs: 343 iana records, 123 revisits skipped and counted, MIME filter', { skip: needData('pywb-sample-warcs') }, async () => {
  const iana = dataPath('pywb-sample-warcs', 'iana.warc.gz');
  const { types, skips } = await recordTypes(iana);
  assert.deepEqual(skips, []);
  assert.equal(Object.values(types).reduce((a, b) => a + b, 0), 343);
  assert.equal(types.revisit, 123);
  const html = await readSource(warc(iana));
  assert.equal(types.response, 48);
  assert.equal(html.out.length, 20);
  assert.deepEqual(reasons(html.audit.skips), { 'revisit record': 123, 'mime-not-allowed': 28 });
  assert.ok(html.out.every((d) => d.meta.contentType === 'text/html'));
  const all = await readSource(warc(iana, { mimeTypes: '*' }));
  assert.equal(all.out.length, types.response);
  const mimes = new Set(all.out.map((d) => d.meta.contentType));
  for (const m of ['text/html', 'text/css', 'image/svg+xml']) assert.ok(mimes.has(m), `has ${m}`);
  // the chunked-declared but stored de-chunked iana.org page is kept, with a warning
  const home = html.out.find((d) => d.meta.url === 'http://www.iana.org/')!;
  assert.match(home.text, /^<!doctype html>/);
  assert.deepEqual(home.meta.warnings, ['http: body declared chunked is not; kept as received']);

  const dupes = await readSource(warc(dataPath('pywb-sample-warcs', 'dupes.warc.gz'), { mimeTypes: '*' }));
  assert.equal(dupes.out.length, 3);
  assert.deepEqual(reasons(dupes.audit.skips), { 'revisit record': 9 });
  for (const f of ['example-wget-1-14.warc.gz', 'example-wpull.warc.gz']) {
    const { out, audit } = await readSource(warc(dataPath('pywb-sample-warcs', f)));
    assert.equal(out.length, 1, f);
    assert.deepEqual(audit.skips, []);
    assert.equal(out[0]!.meta.url, 'http://example.com/');
    assert.match(out[0]!.text, /<title>Example Domain<\/title>/);
    assert.equal(out[0]!.meta.charsetSource, 'meta-tag');
  }
});

test('warc-misc: the cc_net WET sample (LF-only, lengths counted in characters) gives its 3 docs', { skip: needData('warc-misc') }, async () => {
  const { out, audit } = await readSource(wet(dataPath('warc-misc', 'ccnet-sample.warc.wet')));
  assert.deepEqual(audit.skips, []);
  assert.deepEqual(
    out.map((d) => d.meta.url),
    ['http://sample_english.com', 'http://sample_chinese.zh', 'http://sample_russian.ru'],
  );
  assert.match(out[0]!.text, /^Famous Mark Twain Quotes\n/);
  assert.match(out[1]!.text, /^馬克·吐溫名言\n/);
  assert.match(out[2]!.text, /^Цитаты знаменитого Марка Твена\n/);
  for (const d of out) {
    assert.equal(d.meta.charset, 'utf-8');
    assert.ok(!d.text.endsWith('\n\n'), 'the record separator is not part of the text');
    assert.equal((d.meta.warnings as string[]).length, 1);
  }
});

test('warcio-testdata: edge cases read, malformed records skipped with their reason', { skip: needData('warcio-testdata') }, async () => {
  const p = (f: string) => dataPath('warcio-testdata', f);
  const read = async (src: ReturnType<typeof warc>) => {
    const { out, audit } = await readSource(src);
    return { out, skips: reasons(audit.skips) };
  };
  let r = await read(warc(p('example.warc')));
  assert.equal(r.out.length, 1);
  assert.deepEqual(r.skips, { 'revisit record': 1 });
  const gz = await read(warc(p('example.warc.gz')));
  assert.equal(gz.out[0]!.id, r.out[0]!.id);
  assert.equal(gz.out[0]!.text, r.out[0]!.text);

  // whole-file gzip (one member holding every record): records located inside the member
  r = await read(warc(p('example-bad-non-chunked.warc.gz')));
  assert.equal(r.out.length, 1);
  assert.deepEqual(r.skips, { 'revisit record': 1 });
  assert.match(String(r.out[0]!.meta.source), /#0\+1197$/);
  assert.match(r.out[0]!.text, /Example Domain/, 'gzip Content-Encoding decoded');
  r = await read(warc(p('example-bad.warc.gz.bad')));
  assert.equal(r.out.length, 2);
  assert.deepEqual(r.skips, { 'revisit record': 1 });

  r = await read(warc(p('example-iana.org-chunked.warc')));
  assert.equal(r.out.length, 1);
  assert.match(r.out[0]!.text, /^<!doctype html>/);
  assert.ok(!/\r\n[0-9a-f]{1,6}\r\n/.test(r.out[0]!.text), 'chunk sizes removed');
  assert.equal(r.out[0]!.meta.warnings, undefined);

  // gzip members that do not align with records
  r = await read(warc(p('example-wrong-chunks.warc.gz'), { recordTypes: ['response', 'request'], mimeTypes: '*' }));
  assert.deepEqual(r.out.map((d) => d.meta.warcType), ['response', 'request']);
  assert.equal(r.out[1]!.meta.source, `${p('example-wrong-chunks.warc.gz')}#1130+4`);

  // a truncated response whose Content-Length runs into the next record: skipped, the next one read
  const trunc = await recordTypes(p('example-trunc.warc'));
  assert.deepEqual(trunc.types, { warcinfo: 2, request: 1 });
  assert.deepEqual(trunc.skips, ['warc: block not followed by a record separator (wrong Content-Length?)']);

  r = await read(warc(p('example-wget-bad-target-uri.warc.gz')));
  assert.equal(r.out[0]!.meta.url, 'http://example.com/');
  r = await read(warc(p('example-resource.warc.gz'), { recordTypes: ['resource'] }));
  assert.equal(r.out.length, 1);
  assert.equal(r.out[0]!.meta.url, 'http://example.com/');
  r = await read(warc(p('example-space-in-target-uri.warc.gz'), { recordTypes: ['resource'], mimeTypes: '*' }));
  assert.equal(r.out[0]!.meta.url, 'file:///example with spaces.png');
  assert.equal(r.out[0]!.meta.contentType, 'image/png');
  r = await read(warc(p('example-digest.warc')));
  assert.equal(r.out.length, 0); // request records only
  assert.deepEqual(r.skips, {});
  r = await read(warc(p('post-test.warc.gz')));
  assert.equal(r.out.length, 0);
  assert.deepEqual(r.skips, { 'mime-not-allowed': 3 });

  // ARC
  const a1 = await read(arc(p('example.arc')));
  const a2 = await read(arc(p('example.arc.gz')));
  assert.equal(a1.out.length, 1);
  assert.equal(a1.out[0]!.id, a2.out[0]!.id, 'ARC ids (URL + content hash) do not depend on compression');
  assert.equal(a1.out[0]!.meta.warcDate, '2014-02-16T05:02:21Z');
  assert.equal(a1.out[0]!.meta.httpStatus, 200);
  r = await read(arc(p('example-space-in-url.arc')));
  assert.equal(r.out[0]!.meta.url, 'http://example.com/index.cfm?FuseAction=Email&EmailTitle=Examples%20From%20The%20Live%20Web&IsPopUp=False');
  r = await read(arc(p('bad.arc')));
  assert.equal(r.out.length, 0);
  assert.deepEqual(r.skips, { 'arc: invalid record length': 3, 'mime-not-allowed': 1 });

  // a file that is not a WARC at all is an error naming it
  await assert.rejects(readSource(warc(dataPath('warcio-testdata', 'LICENSE'))), (e: Error) => e.message.includes('LICENSE') && /is not a WARC file/.test(e.message));
  await assert.rejects(readSource(warc(p('no-such-file.warc.gz'))), /read\.warc: input '.*no-such-file\.warc\.gz' matches no file/);
});

test('every record type can be asked for; nothing is lost across the whole shared corpus', { skip: needData('pywb-sample-warcs') }, async () => {
  const { out } = await readSource(warc(dataPath('pywb-sample-warcs', '*.warc.gz'), { recordTypes: ALL_TYPES, mimeTypes: '*' }));
  let total = 0;
  for (const f of ['dupes.warc.gz', 'example-wget-1-14.warc.gz', 'example-wpull.warc.gz', 'iana.warc.gz']) {
    const { types } = await recordTypes(dataPath('pywb-sample-warcs', f));
    total += Object.values(types).reduce((a, b) => a + b, 0);
  }
  // revisit records without a payload still become docs when asked for (their block is the HTTP head)
  assert.equal(out.length, total);
});
