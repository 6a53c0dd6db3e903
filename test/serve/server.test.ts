/**
 * `sluice serve` with the official `openai` client as a real client: models, completions, chat
 * (ChatML), SSE streaming, logprobs in both shapes, seeds, and OpenAI error objects; and the CLI
 * printing `listening on http://HOST:PORT` for `--port 0`. The model is a tiny GPT with its own
 * BPE tokenizer (test/trainer/helpers/tiny-model.ts); what the server answers must equal what
 * `openGenerator` generates directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { resolveTemplate, renderChat } from '../../operators/chat/template.ts';
import { chatFormat } from '../../serve/chat-format.ts';
import { startServer, type RunningServer } from '../../serve/server.ts';
import { openGenerator, type TextGenerator } from '../../trainer/generate/open.ts';
import { openScorer } from '../../trainer/scorer.ts';
import { startCli } from '../helpers/cli.ts';
import { tinyBpeCheckpoint } from '../trainer/helpers/tiny-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-serve-'));
let ck: string;
let gen: TextGenerator;
let server: RunningServer;
let client: OpenAI;

test.before(async () => {
  ck = await tinyBpeCheckpoint(dir, 'model');
  gen = await openGenerator(ck, { backend: 'tfjs' });
  server = await startServer({ generator: gen, name: 'tiny', chat: chatFormat(resolveTemplate('chatml'), '<|endoftext|>') });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: 'unused', maxRetries: 0 });
});
test.after(async () => {
  await server?.close();
  await gen?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('serve: models, completions with logprobs and seeds, streaming equals non-streaming', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'loopback by default, the bound port');
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['tiny']);

  const direct = await gen.generate('the dog ', { temperature: 0, maxTokens: 12, topLogprobs: 2 });
  const c = await client.completions.create({ model: 'tiny', prompt: 'the dog ', max_tokens: 12, temperature: 0, logprobs: 2 });
  assert.equal(c.object, 'text_completion');
  assert.equal(c.choices[0]!.text, direct.text);
  assert.ok(direct.text.length > 0);
  assert.equal(c.choices[0]!.finish_reason, direct.finishReason === 'length' ? 'length' : 'stop');
  const lp = c.choices[0]!.logprobs!;
  assert.deepEqual(lp.tokens, direct.tokens.map((t) => t.text));
  assert.equal(lp.tokens!.join(''), direct.text);
  assert.deepEqual(lp.token_logprobs, direct.tokens.map((t) => t.logprob));
  assert.deepEqual(lp.text_offset, direct.tokens.map((t) => t.offset));
  assert.ok(lp.top_logprobs!.every((d) => Object.keys(d).length === 2));
  assert.equal(c.usage!.prompt_tokens, direct.promptTokens);
  assert.equal(c.usage!.completion_tokens, direct.completionTokens);

  // echo with max_tokens 0 (how lm-evaluation-harness's local-completions scores a
  // log-likelihood): the prompt's token logprobs, equal to the eval scorer's, the first null.
  const ids = gen.encode('the dog ran to the pond.');
  const scorer = await openScorer(ck, { backend: 'tfjs' });
  const [ref] = await scorer.logprobs([ids]);
  await scorer.close();
  const echo = await client.completions.create({ model: 'tiny', prompt: ids, max_tokens: 0, echo: true, logprobs: 1, temperature: 0 });
  const el = echo.choices[0]!.logprobs!;
  assert.equal(echo.choices[0]!.text, 'the dog ran to the pond.');
  assert.equal(el.token_logprobs![0], null);
  assert.equal(el.tokens!.join(''), 'the dog ran to the pond.');
  el.token_logprobs!.slice(1).forEach((x, j) => assert.ok(Math.abs(x - ref![j]!) < 1e-5, `position ${j + 1}: ${x} vs ${ref![j]}`));
  assert.ok(el.top_logprobs!.slice(1).every((d) => Object.keys(d!).length === 1));
  // echo plus generated tokens: the text and the offsets run on from the prompt.
  const echo2 = await client.completions.create({ model: 'tiny', prompt: 'the dog ', max_tokens: 4, echo: true, logprobs: 0, temperature: 0 });
  const plain = await gen.generate('the dog ', { temperature: 0, maxTokens: 4 });
  assert.equal(echo2.choices[0]!.text, 'the dog ' + plain.text);
  assert.equal(echo2.choices[0]!.logprobs!.tokens!.length, gen.encode('the dog ').length + plain.tokens.length);
  assert.equal(echo2.choices[0]!.logprobs!.text_offset!.at(-plain.tokens.length), 'the dog '.length);

  // An empty prompt starts from end-of-text.
  const empty = await client.completions.create({ model: 'tiny', prompt: '', max_tokens: 3, temperature: 0 });
  assert.equal(empty.usage!.prompt_tokens, 1);
  assert.equal(empty.choices[0]!.text, (await gen.generate([gen.eotToken!], { temperature: 0, maxTokens: 3 })).text);

  // A seed fixes a sampled completion; n choices use seed, seed + 1, ….
  const s1 = await client.completions.create({ model: 'tiny', prompt: 'a bird ', max_tokens: 10, temperature: 1, seed: 11, n: 2 });
  const s2 = await client.completions.create({ model: 'tiny', prompt: 'a bird ', max_tokens: 10, temperature: 1, seed: 11, n: 2 });
  assert.deepEqual(s1.choices.map((x) => x.text), s2.choices.map((x) => x.text));
  assert.equal((await gen.generate('a bird ', { temperature: 1, seed: 12, maxTokens: 10 })).text, s1.choices[1]!.text);

  // Streaming: the chunks add up to the same text; usage comes last when asked for.
  const stream = await client.completions.create({ model: 'tiny', prompt: 'the dog ', max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    for (const ch of chunk.choices) {
      text += ch.text;
      finish = ch.finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, direct.text);
  assert.equal(finish, c.choices[0]!.finish_reason);
  assert.equal(usage!.completion_tokens, direct.completionTokens);
});

test('serve: chat completions through the ChatML template, logprobs/top_logprobs, streaming', async () => {
  const messages = [
    { role: 'system' as const, content: 'be brief' },
    { role: 'user' as const, content: 'the cat' },
  ];
  const prompt = renderChat(resolveTemplate('chatml'), messages, { addGenerationPrompt: true });
  assert.ok(prompt.endsWith('<|im_start|>assistant\n'));
  const direct = await gen.generate(gen.encodeChat(prompt), { temperature: 0, maxTokens: 10, topLogprobs: 3, stop: ['<|endoftext|>', '<|im_end|>'] });
  assert.ok(gen.encodeChat(prompt).includes(1), 'special-token strings in the rendered prompt become the specials');
  const r = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 3 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0]!.message.role, 'assistant');
  assert.equal(r.choices[0]!.message.content, direct.text);
  const content = r.choices[0]!.logprobs!.content!;
  assert.deepEqual(content.map((t) => t.token), direct.tokens.map((t) => t.text));
  assert.deepEqual(content.map((t) => t.logprob), direct.tokens.map((t) => t.logprob));
  assert.ok(content.every((t) => t.top_logprobs.length === 3 && t.top_logprobs[0]!.logprob >= t.top_logprobs[2]!.logprob));
  assert.deepEqual(content[0]!.bytes, direct.tokens[0]!.bytes);

  const stream = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 10, temperature: 0, stream: true, logprobs: true, top_logprobs: 1 });
  let text = '';
  let role: string | undefined;
  let tokens = 0;
  for await (const chunk of stream) {
    const d = chunk.choices[0];
    if (!d) continue;
    role ??= d.delta.role;
    text += d.delta.content ?? '';
    tokens += d.logprobs?.content?.length ?? 0;
  }
  assert.equal(role, 'assistant');
  assert.equal(text, direct.text);
  assert.equal(tokens, direct.tokens.length);
});

test('serve: errors are OpenAI error objects (unknown model, bad value, unsupported parameter, long prompt, unknown route)', async () => {
  await assert.rejects(client.completions.create({ model: 'nope', prompt: 'x' }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.status, 404);
    assert.equal(e.code, 'model_not_found');
    assert.equal(e.param, 'model');
    return true;
  });
  await assert.rejects(client.completions.create({ model: 'tiny', prompt: 'x', temperature: 5 }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.param, 'temperature');
    assert.equal(e.type, 'invalid_request_error');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], presence_penalty: 1 }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'unsupported_parameter');
  await assert.rejects(client.completions.create({ model: 'tiny', prompt: 'the cat sat on the mat. '.repeat(20) }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded');
  // A template that raises answers 400 naming the messages.
  const strict = join(dir, 'strict.jinja');
  writeFileSync(strict, "{% if messages[0]['role'] != 'user' %}{{ raise_exception('the first message must be the user\\'s') }}{% endif %}{{ messages[0]['content'] }}");
  const s2 = await startServer({ generator: gen, name: 'tiny', chat: chatFormat(resolveTemplate(strict)) });
  try {
    const c2 = new OpenAI({ baseURL: s2.baseURL, apiKey: 'unused', maxRetries: 0 });
    await assert.rejects(c2.chat.completions.create({ model: 'tiny', messages: [{ role: 'system', content: 'x' }] }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'messages' && /must be the user's/.test(e.message));
  } finally {
    await s2.close();
  }
  // Long prompts: truncate_prompt_tokens (vLLM's) keeps the last k; a server started with truncate 'left' keeps the last contextLength.
  const long = 'the cat sat on the mat. '.repeat(20);
  const cut = await client.completions.create({ model: 'tiny', prompt: long, max_tokens: 3, temperature: 0, truncate_prompt_tokens: 10 } as OpenAI.CompletionCreateParamsNonStreaming);
  assert.equal(cut.usage!.prompt_tokens, 10);
  assert.equal(cut.choices[0]!.text, (await gen.generate(gen.encode(long).slice(-10), { temperature: 0, maxTokens: 3 })).text);
  const s3 = await startServer({ generator: gen, name: 'tiny', truncate: 'left' });
  try {
    const c3 = new OpenAI({ baseURL: s3.baseURL, apiKey: 'unused', maxRetries: 0 });
    assert.equal((await c3.completions.create({ model: 'tiny', prompt: long, max_tokens: 1 })).usage!.prompt_tokens, gen.contextLength);
  } finally {
    await s3.close();
  }
  const res = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'unknown_url');
  const bad = await fetch(`${server.baseURL}/completions`, { method: 'POST', body: '{"model": "tiny", ' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_json');
});

test('sluice serve <stage dir> --port 0 prints listening on http://127.0.0.1:PORT and answers', async () => {
  // A train stage's directory: <workdir>/train/<fingerprint>/ with the manifest; the latest output is served, named after the stage.
  const out = join(dir, 'work', 'train', 'fp1');
  cpSync(ck, out, { recursive: true });
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ format: 'sluice.dataset/1', pipeline: 'p', stage: 'train', fingerprint: 'fp1' }));
  const { child, done } = startCli(['serve', join(dir, 'work', 'train'), '--port', '0', '--template', 'chatml'], { cwd: dir });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      void done.then((r) => reject(new Error(`sluice serve exited ${r.code}: ${r.stderr}`)));
    });
    const c = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    assert.deepEqual((await c.models.list()).data.map((m) => m.id), ['train']);
    const r = await c.chat.completions.create({ model: 'train', messages: [{ role: 'user', content: 'the dog' }], max_tokens: 4, temperature: 0 });
    assert.equal(r.choices[0]!.message.role, 'assistant');
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
  }
});
