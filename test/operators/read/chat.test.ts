/**
 * read.chat / read.preferences: every format, bad records skipped and recorded with file, line
 * and field, identical pairs and empty prompts dropped with a reason; the shared real data.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSource } from '../../../engine/testing.ts';
import { chatOf, preferenceOf } from '../../../formats/chat.ts';
import { read } from '../../../operators/read/index.ts';
import { dataPath, needData } from '../../helpers/data.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-read-chat-'));
const file = (name: string, lines: unknown[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return p;
};

test('read.chat: messages, alpaca (and Self-Instruct instances), sharegpt, hh; bad records skipped with file, line and field', async () => {
  const messages = file('messages.jsonl', [
    { id: 'a', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }], lang: 'en' },
    { messages: [{ role: 'user', content: 'only a question' }] },
    { messages: [{ role: 'user', content: 'Q' }, { role: 'bot', content: 'A' }] },
    { messages: [{ role: 'user', content: 'Q' }, { role: 'assistant' }] },
    '{not json',
    { conversation: [] },
  ]);
  const { out, audit } = await readSource(read.chat(messages));
  assert.deepEqual(out.map((d) => d.id), ['a']);
  assert.deepEqual(chatOf(out[0]!)!.messages.map((m) => m.role), ['system', 'user', 'assistant']);
  assert.equal(out[0]!.text, 'system: S\n\nuser: Q\n\nassistant: A');
  assert.equal(out[0]!.meta.lang, 'en');
  assert.equal(out[0]!.meta.source, 'messages.jsonl:1'.replace('messages', join(dir, 'messages')));
  assert.deepEqual(audit.skips.map((s) => [s.input.replace(dir + '/', ''), s.reason]), [
    ['messages.jsonl:2', 'chat.noAssistantTurn'],
    ['messages.jsonl:3', 'chat.unknownRole'],
    ['messages.jsonl:4', 'chat.missingField'],
    ['messages.jsonl:5', 'invalid JSON'],
    ['messages.jsonl:6', 'chat.missingField'],
  ]);
  assert.match(String(audit.skips[1]!.details!.error), /messages\.jsonl line 3: field 'messages\[1\]\.role' is "bot", not one of system, user, assistant, tool/);
  assert.equal(audit.skips[1]!.details!.field, 'messages[1].role');
  assert.match(String(audit.skips[2]!.details!.error), /line 4: field 'messages\[1\]\.content' is missing/);
  assert.match(String(audit.skips[0]!.details!.error), /line 2: the conversation in 'messages' has no assistant turn/);

  const alpaca = file('alpaca.jsonl', [
    { instruction: 'Translate', input: 'chat', output: 'cat', system: 'Be exact.' },
    { instruction: 'Say hi', output: 'hi' },
    { id: 's1', instruction: 'Add', instances: [{ input: '1+1', output: '2' }, { input: '', output: '0' }] },
    { instruction: 'No answer' },
  ]);
  const al = await readSource(read.chat(alpaca, { format: 'alpaca' }));
  assert.deepEqual(al.out.map((d) => chatOf(d)!.messages.map((m) => `${m.role}=${m.content}`).join(' ')), [
    'system=Be exact. user=Translate\n\nchat assistant=cat',
    'user=Say hi assistant=hi',
    'user=Add\n\n1+1 assistant=2',
    'user=Add assistant=0',
  ]);
  assert.deepEqual(al.out.slice(2).map((d) => d.id), ['s1#0', 's1#1']);
  assert.deepEqual(al.audit.skips.map((s) => [s.reason, s.details!.field]), [['chat.missingField', 'output']]);

  const sharegpt = file('sharegpt.jsonl', [
    { conversations: [{ from: 'system', value: 'S' }, { from: 'human', value: 'Q' }, { from: 'gpt', value: 'A' }] },
    { conversations: [{ from: 'human', value: 'Q' }, { from: 'robot', value: 'A' }] },
  ]);
  const sg = await readSource(read.chat(sharegpt, { format: 'sharegpt' }));
  assert.deepEqual(chatOf(sg.out[0]!)!.messages.map((m) => m.role), ['system', 'user', 'assistant']);
  assert.deepEqual(sg.audit.skips.map((s) => [s.reason, s.details!.field]), [['chat.unknownRole', 'conversations[1].from']]);

  const hh = file('hh.jsonl', [{ chosen: '\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Bye\n\nAssistant: Ciao', rejected: 'x' }, { text: 'no turns here' }]);
  const h = await readSource(read.chat(hh, { format: 'hh' }));
  assert.deepEqual(chatOf(h.out[0]!)!.messages, [{ role: 'user', content: 'Hi there' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Bye' }, { role: 'assistant', content: 'Ciao' }]);
  assert.deepEqual(h.audit.skips.map((s) => s.reason), ['chat.notTranscript']);

  // A file of which nothing can be read fails, naming it.
  await assert.rejects(readSource(read.chat(file('none.jsonl', [{ messages: [] }]))), /read\.chat .*none\.jsonl: no record could be read: 1 record\(s\) skipped \(chat\.noAssistantTurn ×1\)/);
});

test('read.preferences: TRL explicit and implicit prompts (strings or messages), hh; identical and empty-prompt pairs dropped', async () => {
  const trl = file('trl.jsonl', [
    { prompt: 'Capital of France?', chosen: 'Paris', rejected: 'Lyon' },
    { prompt: [{ role: 'user', content: 'Q' }], chosen: [{ role: 'assistant', content: 'good' }], rejected: [{ role: 'assistant', content: 'bad' }] },
    { chosen: [{ role: 'user', content: 'Q2' }, { role: 'assistant', content: 'yes' }], rejected: [{ role: 'user', content: 'Q2' }, { role: 'assistant', content: 'no' }] },
    { prompt: 'Same?', chosen: 'same', rejected: 'same' },
    { prompt: '  ', chosen: 'a', rejected: 'b' },
    { prompt: 'Q', chosen: 'a' },
    { chosen: [{ role: 'user', content: 'x' }], rejected: [{ role: 'assistant', content: 'x' }] },
  ]);
  const { out, audit } = await readSource(read.preferences(trl));
  const pairs = out.map((d) => preferenceOf(d)!);
  assert.equal(out.length, 3);
  assert.deepEqual(pairs[0], { prompt: [{ role: 'user', content: 'Capital of France?' }], chosen: [{ role: 'assistant', content: 'Paris' }], rejected: [{ role: 'assistant', content: 'Lyon' }] });
  assert.deepEqual(pairs[2]!.prompt, [{ role: 'user', content: 'Q2' }]);
  assert.deepEqual([pairs[2]!.chosen[0]!.content, pairs[2]!.rejected[0]!.content], ['yes', 'no']);
  assert.equal(out[0]!.text, 'user: Capital of France?\n\nassistant: Paris');
  assert.deepEqual(audit.drops.map((d) => [d.reason, String(d.details!.source).replace(dir + '/', '')]), [['preferences.identical', 'trl.jsonl:4'], ['preferences.emptyPrompt', 'trl.jsonl:5'], ['preferences.emptyPrompt', 'trl.jsonl:7']]);
  assert.deepEqual(audit.skips.map((s) => [s.reason, s.details!.field]), [['preferences.missingField', 'rejected']]);
  assert.match(String(audit.skips[0]!.details!.error), /trl\.jsonl line 6: field 'rejected' is missing/);

  const hh = file('hh-pairs.jsonl', [
    { chosen: '\n\nHuman: Q\n\nAssistant: A1\n\nHuman: Q2\n\nAssistant: good', rejected: '\n\nHuman: Q\n\nAssistant: A1\n\nHuman: Q2\n\nAssistant: bad' },
    { chosen: '\n\nHuman: Q\n\nAssistant: same', rejected: '\n\nHuman: Q\n\nAssistant: same' },
    { chosen: '\n\nHuman: Q\n\nAssistant: x' },
  ]);
  const h = await readSource(read.preferences(hh, { format: 'hh' }));
  assert.deepEqual(preferenceOf(h.out[0]!)!.prompt.map((m) => m.content), ['Q', 'A1', 'Q2']);
  assert.deepEqual(h.audit.drops.map((d) => d.reason), ['preferences.identical']);
  assert.deepEqual(h.audit.skips.map((s) => [s.reason, s.details!.field]), [['preferences.missingField', 'rejected']]);
});

test('read.chat and read.preferences on the shared data: hh-rlhf harmless-base, Alpaca seed tasks, AlpacaEval outputs (a JSON array)', { skip: needData('post-training') || needData('alpaca-eval') }, async () => {
  const pairs = await readSource(read.preferences(dataPath('post-training', 'hh-rlhf-harmless-base', 'test.jsonl.gz'), { format: 'hh' }));
  assert.equal(pairs.out.length, 2312);
  assert.equal(pairs.audit.drops.length + pairs.audit.skips.length, 0);
  // Every prompt ends with the human's turn; answers differ.
  assert.ok(pairs.out.every((d) => preferenceOf(d)!.prompt.at(-1)!.role === 'user'));
  const seeds = await readSource(read.chat(dataPath('post-training', 'alpaca-seed-tasks', 'seed_tasks.jsonl'), { format: 'alpaca' }));
  assert.equal(seeds.out.length, 175);
  assert.equal(seeds.out[0]!.id, 'seed_task_0');
  assert.equal(seeds.out[0]!.meta.name, 'breakfast_suggestion');
  const evalSet = await readSource(read.chat(dataPath('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json'), { format: 'alpaca' }));
  assert.equal(evalSet.out.length, 805);
  assert.equal(evalSet.out[0]!.meta.generator, 'gpt4_1106_preview');
  assert.match(String(evalSet.out[804]!.meta.source), /model_outputs\.json\[804\]$/);
});
