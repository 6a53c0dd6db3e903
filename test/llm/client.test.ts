/**
 * The shared model client against a real HTTP server (test/helpers/openai-server.ts): retry of
 * 429/5xx, Retry-After, non-retryable 4xx, the API key sent but never in errors, timeouts, the
 * concurrency limit, unparseable bodies, and the JSONL cache (re-run free, torn last line).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelClient, EndpointError } from '../../llm/client.ts';
import { ResponseCache, cacheKey } from '../../llm/cache.ts';
import { resolveEndpoint } from '../../llm/endpoint.ts';
import { retryAfterMs, backoffMs } from '../../llm/retry.ts';
import { startScriptedServer, chatCompletion } from '../helpers/openai-server.ts';

const req = { model: 'judge', messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 1 };
const KEY = 'sk-test-secret-0123456789';

test('429 then 503 then 200: retried, and the answer comes back', async () => {
  const srv = await startScriptedServer((_r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'slow down' } } } : n === 1 ? { status: 503, raw: 'upstream busy' } : { body: chatCompletion('m') }));
  const retries: string[] = [];
  const c = new ModelClient(resolveEndpoint({ baseUrl: srv.baseUrl, apiKey: KEY }), { baseMs: 1, onRetry: (_a, why) => retries.push(why) });
  try {
    const r = await c.chat(req);
    assert.ok(r.ok);
    assert.equal(r.value.choices[0]!.message.content, 'm');
    assert.equal(srv.seen.length, 3);
    assert.deepEqual(retries, ['HTTP 429: slow down', 'HTTP 503: upstream busy']);
    assert.equal(srv.seen[2]!.headers.authorization, `Bearer ${KEY}`);
    assert.equal(srv.seen[2]!.path, '/v1/chat/completions');
  } finally {
    await c.close();
    await srv.close();
  }
});

test('a 400 is not retried; the key the server echoes is redacted from the error', async () => {
  const srv = await startScriptedServer((r) => ({ status: 400, body: { error: { message: `bad request from ${r.headers.authorization}` } } }));
  const c = new ModelClient(resolveEndpoint({ baseUrl: srv.baseUrl, apiKey: KEY }), { baseMs: 1 });
  try {
    await assert.rejects(c.chat(req), (e: Error) => {
      assert.ok(e instanceof EndpointError);
      assert.equal(e.status, 400);
      assert.match(e.message, /HTTP 400: bad request from Bearer \*\*\*/);
      assert.ok(!e.message.includes(KEY));
      return true;
    });
    assert.equal(srv.seen.length, 1);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('retries exhausted and timeouts end in EndpointError naming the reason', async () => {
  const srv = await startScriptedServer(() => ({ hang: true }));
  const c = new ModelClient(resolveEndpoint({ baseUrl: srv.baseUrl }), { timeoutMs: 150, retries: 1, baseMs: 1 });
  try {
    await assert.rejects(c.chat(req), /failed after 2 attempts: timeout/);
    assert.equal(srv.seen.length, 2);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('at most `concurrency` requests in flight', async () => {
  const srv = await startScriptedServer(() => ({ body: chatCompletion('x'), delayMs: 30 }));
  const c = new ModelClient(resolveEndpoint({ baseUrl: srv.baseUrl }), { concurrency: 2 });
  try {
    const rs = await Promise.all(Array.from({ length: 6 }, () => c.chat(req)));
    assert.ok(rs.every((r) => r.ok));
    assert.equal(srv.maxInFlight, 2);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('a 200 whose body is not a chat completion comes back as unparseable, and is not cached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-llm-'));
  const cache = await ResponseCache.open(join(dir, 'c.jsonl'));
  const srv = await startScriptedServer((_r, n) => (n === 0 ? { raw: '<html>proxy error</html>' } : n === 1 ? { body: { object: 'list' } } : { body: chatCompletion('ok') }));
  const c = new ModelClient(resolveEndpoint({ baseUrl: srv.baseUrl }), { cache });
  try {
    const k = cacheKey({ q: 1 });
    const a = await c.chat(req, k);
    assert.deepEqual(a.ok ? null : a.reason, 'response body is not JSON');
    const b = await c.chat(req, k);
    assert.deepEqual(b.ok ? null : b.reason, "response has no 'choices'");
    const d = await c.chat(req, k);
    assert.ok(d.ok && !d.cached);
    assert.equal(cache.size, 1);
  } finally {
    await c.close();
    await srv.close();
  }
});

test('cache: a re-run makes no call; a torn last line is skipped and later entries stay readable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-llm-'));
  const path = join(dir, 'cache.jsonl');
  const srv = await startScriptedServer((r) => ({ body: chatCompletion(`echo ${r.body.messages[0].content}`) }));
  try {
    const run = async (keys: string[]) => {
      const cache = await ResponseCache.open(path);
      const c = new ModelClient(resolveEndpoint({ baseUrl: srv.baseUrl, apiKey: KEY }), { cache });
      const out = [];
      for (const k of keys) out.push(await c.chat({ ...req, messages: [{ role: 'user', content: k }] }, cacheKey({ k })));
      await c.close();
      return { cache, out };
    };
    const first = await run(['a', 'b']);
    assert.equal(srv.seen.length, 2);
    assert.ok(first.out.every((r) => r.ok && !r.cached));
    const second = await run(['a', 'b']);
    assert.equal(srv.seen.length, 2, 'a re-run is answered from the cache');
    assert.ok(second.out.every((r) => r.ok && r.cached));
    // A kill mid-append leaves a torn line with no newline.
    appendFileSync(path, '{"key":"abc","value":{"choi');
    const third = await run(['a', 'c']);
    assert.equal(third.cache.skippedLines, 1);
    assert.equal(srv.seen.length, 3, "only 'c' is asked");
    const fourth = await run(['a', 'b', 'c']);
    assert.equal(srv.seen.length, 3);
    assert.equal(fourth.cache.size, 3);
    assert.ok(!readFileSync(path, 'utf8').includes(KEY), 'the key is never written to the cache');
  } finally {
    await srv.close();
  }
});

test('Retry-After: seconds, HTTP date and retry-after-ms; backoff capped', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs({ 'retry-after': '7' }, now), 7000);
  assert.equal(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, now), 3000);
  assert.equal(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' }, now), 250);
  assert.equal(retryAfterMs({}, now), null);
  assert.equal(backoffMs(0, 7000, { maxMs: 5000 }), 5000);
  assert.equal(backoffMs(10, null, { baseMs: 100, maxMs: 1000 }, () => 1), 1000);
  assert.equal(backoffMs(2, null, { baseMs: 100 }, () => 0.5), 200);
});

test('endpoint: OPENAI_BASE_URL and OPENAI_API_KEY; a bare origin gets /v1; credentials in the URL are refused', () => {
  assert.deepEqual(resolveEndpoint({}, { OPENAI_BASE_URL: 'http://127.0.0.1:8000', OPENAI_API_KEY: 'k' }), { baseUrl: 'http://127.0.0.1:8000/v1', apiKey: 'k' });
  assert.deepEqual(resolveEndpoint({ baseUrl: 'https://api.example.com/v1/' }, {}), { baseUrl: 'https://api.example.com/v1' });
  assert.throws(() => resolveEndpoint({}, {}), /OPENAI_BASE_URL/);
  assert.throws(() => resolveEndpoint({ baseUrl: 'http://u:p@h/v1' }, {}), /OPENAI_API_KEY/);
  assert.throws(() => resolveEndpoint({ baseUrl: 'ftp://h' }, {}), /http and https/);
});
