/**
 * chat.tokenize / tokenizeChat: the whole rendering is encoded once and the loss mask comes from
 * character offsets of the rendered turns; masks per mode; truncation; audited drops.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatTokenize, tokenizeChat } from '../../../operators/chat/tokenize.ts';
import { resolveTemplate, type ChatTemplate } from '../../../operators/chat/template.ts';
import { loadEncoding } from '../../../operators/tokenize/bpe/tiktoken-format.ts';
import { runOperators } from '../../../engine/testing.ts';
import type { Doc } from '../../../engine/types.ts';
import { chatOf, type ChatMessage } from '../../../formats/chat.ts';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { BpeTrainer } from '../../../operators/tokenize/bpe/trainer.ts';
import { loadTokenizer, tokenizerFiles } from '../../../operators/tokenize/load.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const gpt2 = loadEncoding('gpt2');
const m = (role: ChatMessage['role'], content: string): ChatMessage => ({ role, content });
/** The text of the tokens the mask trains, runs joined by '|'. */
function trained(tokens: Uint32Array, mask: Uint8Array): string {
  const runs: number[][] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (!mask[i]) continue;
    if (i === 0 || !mask[i - 1]) runs.push([]);
    runs.at(-1)!.push(tokens[i]!);
  }
  return runs.map((r) => gpt2.decode(r)).join('|');
}

test('the mask comes from offsets in the whole rendering, where piecewise tokenisation differs', () => {
  // The generation prompt ends with a space: BPE merges it into the first word of the answer.
  const t: ChatTemplate = { name: 'plain', source: "{% for x in messages %}{{ x.role | capitalize }}: {{ x.content }}\n{% endfor %}{% if add_generation_prompt %}Assistant: {% endif %}" };
  const msgs = [m('user', 'hi'), m('assistant', 'Hello there')];
  const r = tokenizeChat(msgs, { tokenizer: gpt2, template: t });
  assert.equal(r.text, 'User: hi\nAssistant: Hello there\n');
  const prompt = 'User: hi\nAssistant: ';
  const piecewise = [...gpt2.encode(prompt), ...gpt2.encode(r.text.slice(prompt.length))];
  const whole = [...gpt2.encode(r.text)];
  assert.notDeepEqual(piecewise, whole, 'this case must be one where pieces and whole differ');
  assert.deepEqual([...r.tokens], whole);
  assert.equal(trained(r.tokens, r.lossMask), ' Hello there\n');
  assert.equal(gpt2.decode(r.tokens.filter((_, i) => !r.lossMask[i])), 'User: hi\nAssistant:');
});

test('mask modes on a multi-turn ChatML conversation', () => {
  const msgs = [m('system', 'Be brief.'), m('user', 'Hi'), m('assistant', 'Hello!'), m('user', 'Bye'), m('assistant', 'Ciao, ünïcode 👋')];
  const t = resolveTemplate('chatml');
  const run = (mask: 'assistant' | 'last' | 'completion' | 'none') => {
    const r = tokenizeChat(msgs, { tokenizer: gpt2, template: t, mask });
    assert.equal(r.tokens.length, r.lossMask.length);
    return trained(r.tokens, r.lossMask);
  };
  assert.equal(run('assistant'), 'Hello!<|im_end|>\n|Ciao, ünïcode 👋<|im_end|>\n');
  assert.equal(run('last'), 'Ciao, ünïcode 👋<|im_end|>\n');
  assert.equal(run('completion'), 'Ciao, ünïcode 👋<|im_end|>\n', 'the prompt runs to the last user turn');
  assert.equal(run('none'), '');
  // A completion of several messages (a tool call and its result): 'completion' trains all of them, 'last' only the final answer.
  const tool = [m('user', 'Weather?'), m('assistant', 'call get_weather'), m('tool', '12°C'), m('assistant', 'It is 12°C.')];
  const t2 = (mask: 'completion' | 'last', promptMessages?: number) => {
    const r = tokenizeChat(tool, { tokenizer: gpt2, template: t, mask, ...(promptMessages !== undefined ? { promptMessages } : {}) });
    return trained(r.tokens, r.lossMask);
  };
  assert.equal(t2('completion'), 'call get_weather<|im_end|>\n<|im_start|>tool\n12°C<|im_end|>\n<|im_start|>assistant\nIt is 12°C.<|im_end|>\n');
  assert.equal(t2('last'), 'It is 12°C.<|im_end|>\n');
  // A preference pair's prompt given explicitly (train.dpo's use): everything after it, here from the tool turn on.
  assert.equal(t2('completion', 3), 'It is 12°C.<|im_end|>\n');
  assert.equal(t2('completion', 2), '<|im_start|>tool\n12°C<|im_end|>\n<|im_start|>assistant\nIt is 12°C.<|im_end|>\n');
  assert.throws(() => t2('completion', 9), /promptMessages 9 is not between 0 and the 4 messages/);
  // A template without a generation prompt (Llama 2 style): the turn starts where the previous ones end.
  const noGen: ChatTemplate = { name: 'nogen', source: "{% for x in messages %}{% if x.role == 'user' %}[INST] {{ x.content }} [/INST]{% else %} {{ x.content }} </s>{% endif %}{% endfor %}" };
  const r = tokenizeChat([m('user', 'Q'), m('assistant', 'A')], { tokenizer: gpt2, template: noGen });
  assert.equal(trained(r.tokens, r.lossMask), ' A </s>');
});

const chatDoc = (id: string, messages: ChatMessage[]): Doc => ({ id, text: '', meta: { source: `chat.jsonl:${id}`, chat: { messages } } });

test('chat.tokenize: truncation right/left/drop, template raises and emptied masks are audited drops', async () => {
  const long = chatDoc('3', [m('user', 'one two three four five six seven eight nine ten'), m('assistant', 'eleven twelve')]);
  const ok = chatDoc('1', [m('user', 'Hi'), m('assistant', 'Yo')]);
  const whole = tokenizeChat(chatOf(long)!.messages, { tokenizer: gpt2, template: resolveTemplate('chatml') });
  const max = tokenizeChat(chatOf(ok)!.messages, { tokenizer: gpt2, template: resolveTemplate('chatml') }).tokens.length;
  const base = { tokenizer: 'gpt2', template: 'chatml', maxTokens: max } as const;
  assert.ok(whole.tokens.length - max > 8, 'the long conversation loses its answer to right truncation');

  const left = await runOperators([chatTokenize({ ...base, truncation: 'left' })], [ok, long]);
  assert.equal(left.out.length, 2);
  assert.deepEqual([...left.out[1]!.tokens!], [...whole.tokens.slice(-max)]);
  assert.deepEqual([...left.out[1]!.lossMask!], [...whole.lossMask.slice(-max)]);

  const right = await runOperators([chatTokenize({ ...base, truncation: 'right' })], [ok, long]);
  assert.deepEqual(right.out.map((d) => d.id), ['1']);
  assert.deepEqual(right.audit.drops.map((d) => [d.id, d.reason]), [['3', 'chat.noTrainedTokens']]);

  const drop = await runOperators([chatTokenize({ ...base, truncation: 'drop' })], [ok, long]);
  assert.deepEqual(drop.out.map((d) => d.id), ['1']);
  assert.deepEqual(drop.audit.drops.map((d) => [d.id, d.reason, d.score]), [['3', 'chat.tooLong', whole.tokens.length]]);

  const file = join(mkdtempSync(join(tmpdir(), 'sluice-chat-tok-')), 'strict.jinja');
  writeFileSync(file, "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}{% for x in messages %}{{ x.content }}{% endfor %}");
  const strict = await runOperators([chatTokenize({ tokenizer: 'gpt2', template: file })], [chatDoc('9', [m('assistant', 'first'), m('user', 'x')]), ok]);
  assert.deepEqual(strict.out.map((d) => d.id), ['1']);
  assert.equal(strict.audit.drops[0]!.reason, 'chat.templateRaised');
  assert.match(String(strict.audit.drops[0]!.details!.error), /raised: Conversation roles must alternate/);
  assert.equal(strict.audit.drops[0]!.details!.source, 'chat.jsonl:9');
  await assert.rejects(runOperators([chatTokenize(base)], [{ id: 'p', text: 'plain', meta: {} }]), /doc p has no meta.chat: read it with read.chat/);
  assert.throws(() => chatTokenize({ tokenizer: 'gpt2', template: 'chatml', mask: 'all' as never }), /mask/);
});

test("chat.tokenize uses the tokenizer's own chat template (tokenizer_config.json beside its files) over the template option", async () => {
  const trainer = new BpeTrainer({ vocabSize: 300, specials: ['<|endoftext|>', '<|turn|>'] });
  trainer.add('user assistant hello there general kenobi '.repeat(20));
  const tokDir = join(mkdtempSync(join(tmpdir(), 'sluice-chat-owntok-')), 'tok');
  mkdirSync(tokDir);
  for (const [name, data] of Object.entries(tokenizerFiles(trainer.train().definition))) writeFileSync(join(tokDir, name), data);
  writeFileSync(join(tokDir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|endoftext|>', chat_template: "{% for x in messages %}<|turn|>{{ x.role }}: {{ x.content }}{% if x.role == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|turn|>assistant: {% endif %}" }));
  const { out } = await runOperators([chatTokenize({ tokenizer: tokDir, template: 'chatml' })], [chatDoc('1', [m('user', 'hello there'), m('assistant', 'general kenobi')])]);
  const tok = await loadTokenizer(tokDir);
  const d = out[0]!;
  assert.equal(tok.decode(d.tokens!), '<|turn|>user: hello there<|turn|>assistant: general kenobi<|endoftext|>');
  assert.equal(d.tokens![0], tok.specials.get('<|turn|>'), 'the template\'s special is one token');
  // ' general' straddles the generation prompt's space and the answer: trained.
  assert.equal(tok.decode(d.tokens!.filter((_, i) => d.lossMask![i])), ' general kenobi<|endoftext|>');
});
