/**
 * `classify.annotate` against a real HTTP endpoint (test/helpers/openai-server.ts): FineWeb-Edu's
 * prompt goes out with the document in it, the score comes back into meta, unreadable answers are
 * dropped with their reason (never guessed), the sample is deterministic, and a re-run is answered
 * from the cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOperators } from '../../../engine/testing.ts';
import { classify } from '../../../operators/classify/index.ts';
import { inSample } from '../../../operators/classify/annotate.ts';
import { FINEWEB_EDU_PROMPT, parseScore } from '../../../operators/classify/edu-prompt.ts';
import { startScriptedServer, chatCompletion, type SeenRequest } from '../../helpers/openai-server.ts';

const docs = [
  { id: 'a', text: 'Photosynthesis turns light into chemical energy. Exercise: name its two products.', meta: {} },
  { id: 'b', text: 'BUY CHEAP WATCHES NOW', meta: {} },
  { id: 'c', text: 'The water cycle: evaporation, condensation, precipitation.', meta: {} },
  { id: 'd', text: 'gibberish that confuses the annotator', meta: {} },
  { id: 'e', text: 'Fractions: one half equals two quarters.', meta: {} },
];

/** Scores by keyword, like a (very) small annotator; one document gets an answer with no score, one an out-of-range score. */
function annotator(r: SeenRequest) {
  const prompt: string = r.body.messages[0].content;
  const extract = prompt.slice(prompt.indexOf('The extract:\n') + 13, prompt.indexOf('\n\nAfter examining'));
  if (extract.startsWith('gibberish')) return { body: chatCompletion('I cannot judge this extract.') };
  if (extract.includes('Fractions')) return { body: chatCompletion('Very educational.\nEducational score: 9') };
  const score = /Exercise/.test(extract) ? 4 : /water/.test(extract) ? 3 : 0;
  return { body: chatCompletion(`The extract is what it is. Educational score: ${score - 1}\n\nOn reflection:\nEducational score: **${score}**`) };
}

test('classify.annotate: FineWeb-Edu prompt out, scores in; unparseable answers dropped with their reason; a re-run is free', async () => {
  const srv = await startScriptedServer(annotator);
  const cache = join(mkdtempSync(join(tmpdir(), 'sluice-annotate-')), 'c.jsonl');
  try {
    const op = () => classify.annotate({ endpoint: srv.baseUrl, model: 'tiny', cache });
    const { out, audit } = await runOperators([op()], docs);
    assert.deepEqual(out.map((d) => [d.id, d.meta.eduScore]), [['a', 4], ['b', 0], ['c', 3]]);
    assert.match(String(out[0]!.meta.eduScoreAnswer), /Educational score: \*\*4\*\*/);
    assert.deepEqual(audit.drops.map((d) => [d.id, d.reason, d.details?.reason]).sort(), [
      ['d', 'annotate.unparseable', 'no match of /Educational score:\\s*\\**\\s*(\\d+)/ in the answer'],
      ['e', 'annotate.unparseable', 'score 9 is outside 0–5'],
    ]);
    assert.deepEqual(audit.scores.map((s) => [s.id, s.key, s.value]).sort(), [['a', 'eduScore', 4], ['b', 'eduScore', 0], ['c', 'eduScore', 3]]);
    // The prompt sent: FineWeb-Edu's, with the document in place of {text}, greedy.
    const sent = srv.seen[0]!.body;
    assert.equal(sent.model, 'tiny');
    assert.equal(sent.temperature, 0);
    assert.equal(sent.messages[0].content, FINEWEB_EDU_PROMPT.template.replace('{text}', docs[0]!.text));
    assert.equal(srv.seen.length, 5);
    const again = await runOperators([op()], docs);
    assert.equal(srv.seen.length, 5, 'the re-run is answered from the cache');
    assert.deepEqual(again.out.map((d) => d.meta.eduScore), [4, 0, 3]);
  } finally {
    await srv.close();
  }
});

test('classify.annotate: a deterministic sample; the others dropped as notSampled', async () => {
  const many = Array.from({ length: 200 }, (_, i) => ({ id: `doc-${i}`, text: `water ${i}`, meta: {} }));
  const srv = await startScriptedServer(annotator);
  const cache = join(mkdtempSync(join(tmpdir(), 'sluice-annotate-')), 'c.jsonl');
  try {
    const { out, audit } = await runOperators([classify.annotate({ endpoint: srv.baseUrl, model: 'tiny', sample: 0.25, seed: 1, cache, concurrency: 8 })], many);
    assert.equal(out.length + audit.drops.length, 200);
    assert.ok(out.length > 30 && out.length < 70, `${out.length} sampled of 200`);
    assert.equal(srv.seen.length, out.length);
    assert.ok(audit.drops.every((d) => d.reason === 'annotate.notSampled'));
    assert.deepEqual(out.map((d) => d.id), many.filter((d) => inSample(d.id, 0.25, 1)).map((d) => d.id));
    assert.ok(srv.maxInFlight <= 8);
  } finally {
    await srv.close();
  }
});

test('classify.annotate: bad config and a missing endpoint are errors naming the key', () => {
  assert.throws(() => classify.annotate({ endpoint: 'http://127.0.0.1:9/v1', model: '' }), /classify.annotate: config key 'model'/);
  assert.throws(() => classify.annotate({ endpoint: 'http://127.0.0.1:9/v1', model: 'm', sample: 0 }), /config key 'sample'/);
  assert.throws(() => classify.annotate({ endpoint: 'http://127.0.0.1:9/v1', model: 'm', prompt: { name: 'x', template: 'no placeholder', scorePattern: '(\\d)', min: 0, max: 1 } }), /config key 'prompt/);
  const saved = process.env.OPENAI_BASE_URL;
  delete process.env.OPENAI_BASE_URL;
  try {
    assert.throws(() => classify.annotate({ model: 'm' }), /OPENAI_BASE_URL/);
  } finally {
    if (saved !== undefined) process.env.OPENAI_BASE_URL = saved;
  }
  assert.deepEqual(parseScore('Educational score: 3', FINEWEB_EDU_PROMPT), { ok: true, score: 3 });
});
