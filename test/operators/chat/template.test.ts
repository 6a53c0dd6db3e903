/**
 * Chat-template conformance: every published template in the shared data, and the built-ins,
 * rendered by renderChat and by Python Jinja2 configured as transformers configures it
 * (jinja2-render.py beside this file), byte for byte. All cases go to one Python process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILTIN_TEMPLATES, ChatTemplateError, renderChat, resolveTemplate, templateForTokenizer, type ChatTemplate } from '../../../operators/chat/template.ts';
import type { ChatMessage } from '../../../formats/chat.ts';
import { dataPath, needData } from '../../helpers/data.ts';
import { mulberry32 } from '../../../engine/random.ts';

const PY = '/usr/bin/python3';
const HARNESS = join(import.meta.dirname, 'jinja2-render.py');
const TEMPLATES = dataPath('post-training', 'chat-templates', 'chat_templates');

type Case = { template: string; messages: unknown[]; add_generation_prompt: boolean; bos_token: string; eos_token: string; tools?: unknown; label: string };
type Result = { ok: string } | { error: string };

function python(templates: Record<string, string>, cases: Case[]): Result[] {
  const r = spawnSync(PY, [HARNESS], { input: JSON.stringify({ templates, cases }), encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `python harness failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Result[];
}

function ours(t: ChatTemplate, c: Case): Result {
  try {
    return { ok: renderChat(t, c.messages as ChatMessage[], { addGenerationPrompt: c.add_generation_prompt, bosToken: c.bos_token, eosToken: c.eos_token, ...(c.tools ? { tools: c.tools } : {}) }) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const m = (role: string, content: string) => ({ role, content });
const sys = m('system', 'You are a helpful assistant.');
const u1 = m('user', 'Hello! How are you?');
const a1 = m('assistant', ' I am fine, thanks.\n');
const u2 = m('user', 'Write a haiku\r\n\r\nabout rain.');
const a2 = m('assistant', 'Rain taps the window\n\nsoft grey\u00a0hours');
// Non-ASCII, and the whitespace on which Python's str.strip and JS's trim disagree (U+FEFF, U+0085, U+001F).
const uNa = m('user', ' Grüße aus Köln — 東京 🌧️ naïve cafe\u0301 שלום \u200b\u3000\x85');
const aNa = m('assistant', '\x1fÇa va ! 你好 👍🏽\ufeff');
const CONVERSATIONS: Record<string, unknown[]> = {
  single: [u1],
  system: [sys, u1],
  multiTurn: [u1, a1, u2, a2],
  systemMultiTurn: [sys, u1, a1, u2, a2, u1],
  nonAscii: [sys, uNa, aNa],
  assistantFirst: [a1, u1], // most templates raise_exception on this
};
const TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'Météo du jour', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];

function casesFor(name: string): Case[] {
  const out: Case[] = [];
  for (const [label, messages] of Object.entries(CONVERSATIONS))
    for (const agp of [false, true]) out.push({ template: name, messages, add_generation_prompt: agp, bos_token: '<s>', eos_token: '</s>', label: `${label}${agp ? '+gen' : ''}` });
  if (/tools/.test(BUILTIN_TEMPLATES[name as keyof typeof BUILTIN_TEMPLATES] ?? '') || /qwen|granite/.test(name))
    out.push({ template: name, messages: [sys, u1], add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>', tools: TOOLS, label: 'tools' });
  return out;
}

test('every published chat template renders byte-identical to Python Jinja2 as transformers configures it', { skip: needData('post-training', 'chat-templates') }, () => {
  const templates: Record<string, string> = {};
  for (const f of readdirSync(TEMPLATES).filter((f) => f.endsWith('.jinja')).sort()) {
    const src = readFileSync(join(TEMPLATES, f), 'utf8');
    templates[f] = src;
    // The collection's README installs each template with indentation and newlines removed: that form too.
    templates[`${f} (compact)`] = src.replaceAll('    ', '').replaceAll('\n', '');
  }
  for (const [k, v] of Object.entries(BUILTIN_TEMPLATES)) templates[`builtin:${k}`] = v;
  assert.equal(Object.keys(templates).length, 18 * 2 + 3);
  const cases = Object.keys(templates).flatMap(casesFor);
  const ref = python(templates, cases);
  const failures: string[] = [];
  let raised = 0;
  for (const [i, c] of cases.entries()) {
    const got = ours({ name: c.template, source: templates[c.template]! }, c);
    const want = ref[i]!;
    if ('error' in want) {
      raised++;
      if (!('error' in got)) failures.push(`${c.template} ${c.label}: Python raised (${want.error}), we rendered ${JSON.stringify(got.ok)}`);
      else if (/TemplateError: /.test(want.error) && !got.error.includes(want.error.replace(/^TemplateError: /, ''))) failures.push(`${c.template} ${c.label}: messages differ: ${want.error} vs ${got.error}`);
    } else if (!('ok' in got) || got.ok !== want.ok) failures.push(`${c.template} ${c.label}:\n  python ${JSON.stringify(want.ok)}\n  ours   ${JSON.stringify('ok' in got ? got.ok : got.error)}`);
  }
  assert.deepEqual(failures, []);
  assert.ok(cases.length > 450, `${cases.length} cases`);
  assert.ok(raised >= 30, `the role-alternation checks raised in ${raised} cases`);
});

test('the Jinja behaviours where @huggingface/jinja differs from Jinja2 render as Python does', () => {
  const snippets: Record<string, string> = {
    trim: "{{ '\ufeffx\ufeff' | trim }}|{{ '\x1fx\x85 ' | trim }}|{{ 'xxabxx' | trim('x') }}",
    strip: "{{ '  ab  '.strip() }}|{{ 'xxabxx'.strip('x') }}|{{ '  ab'.lstrip() }}|{{ 'ab  '.rstrip() }}|{{ '\ufeffa'.strip() }}|{{ '\x85a\x85'.strip() }}",
    capitalize: "{{ 'hELLO wORLD' | capitalize }}|{{ 'hELLO'.capitalize() }}|{{ 'ßa' | capitalize }}|{{ 'ǆemal' | capitalize }}",
    title: "{{ 'hello wORLD élan 3d (x-ray' | title }}|{{ 'ab-cd 3d they\\'re'.title() }}",
    print: "{{ true }}|{{ none }}|{{ false }}|{{ 1.5 }}|{{ 4 / 2 }}|{{ [1, 'a', none, true] }}|{{ {'a': 1, 'b': [\"it's\"]} }}|{{ ('a', 2) }}",
    loopBools: "{% for x in messages %}{{ loop.first }}{{ loop.last }};{% endfor %}{{ 'role' in messages[0] }}",
    namespace: "{% set ns = namespace(found=false) %}{% for x in messages %}{% if x.role == 'system' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}",
    lengthIndex: "{{ '👍🏽a' | length }}|{{ '😀b'[1] }}|{{ '😀b'[-2] }}|{{ messages[0].content | length }}",
    concat: "{{ 'a' ~ 1 ~ none ~ true ~ 2.5 }}",
    stringFilter: "{{ none | string }}|{{ true | string }}|{{ [1] | string }}",
    crlf: 'a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n',
    strftime: "{{ strftime_now('%d %b %Y, %A %B %j %y') }}",
    undefinedPrint: '[{{ nope }}][{{ messages[0].nope }}]',
  };
  const messages = [m('system', 'Ünïcode 👍🏽')];
  const cases = Object.keys(snippets).map((t) => ({ template: t, messages, add_generation_prompt: false, bos_token: '', eos_token: '', label: t }));
  const before = cases.map((c) => ours({ name: c.template, source: snippets[c.template]! }, c));
  const ref = python(snippets, cases);
  const after = cases.map((c) => ours({ name: c.template, source: snippets[c.template]! }, c));
  for (const [i, c] of cases.entries()) {
    // strftime_now reads the clock: either side of the Python run must agree (a date change between is the only slack).
    const agree = JSON.stringify(before[i]) === JSON.stringify(ref[i]) || JSON.stringify(after[i]) === JSON.stringify(ref[i]);
    assert.ok(agree, `${c.label}:\n  python ${JSON.stringify(ref[i])}\n  ours   ${JSON.stringify(after[i])}`);
  }
});

test('whitespace control (trim_blocks, lstrip_blocks, -, +, comments, raw, literals spanning lines) matches Jinja2 on 600 seeded random templates', () => {
  const seed = Number(process.env.SLUICE_JINJA_SEED ?? 16);
  const rnd = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const ws = () => pick(['', ' ', '  ', '\t', '\n', ' \n', '\n  ', '\n\n', '  \n  ', '\r\n']);
  const open = () => pick(['{%', '{%-', '{%+']);
  const close = () => pick(['%}', '-%}', '+%}']);
  const sign = () => pick(['', '-', '+']);
  const pieces = [
    () => `${ws()}${open()} if true ${close()}${ws()}x${ws()}${open()} endif ${close()}${ws()}`,
    () => `${ws()}{{${pick(['', '-'])} 'v' ${pick(['', '-'])}}}${ws()}`,
    () => `${ws()}{#${sign()} c ${sign()}#}${ws()}`,
    () => `${ws()}${open()} for i in range(2) ${close()}${ws()}{{ i }}${ws()}${open()} endfor ${close()}${ws()}`,
    // A literal holding what the library's regex pre-pass mistook for tag ends and line-start tags.
    () => `${ws()}${open()} set y = 'a %}\n  {% b' ${close()}${ws()}{{ y }}`,
    () => `${ws()}${open()} raw ${close()}${ws()}{{ r }}${ws()}${open()} endraw ${close()}${ws()}`,
    () => `t${ws()}{{ {'a': {'b': 1}}['a']['b'] }}`,
  ];
  const templates: Record<string, string> = {};
  for (let k = 0; k < 600; k++) templates[`t${k}`] = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(pieces)()).join('');
  const cases = Object.keys(templates).map((t) => ({ template: t, messages: [], add_generation_prompt: false, bos_token: '', eos_token: '', label: t }));
  const ref = python(templates, cases);
  let same = 0;
  for (const [i, c] of cases.entries()) {
    const got = ours({ name: c.template, source: templates[c.template]! }, c);
    const want = ref[i]!;
    // Jinja2 rejects `{% raw +%}`; so must we (the library names it an unknown statement).
    if ('error' in want) assert.ok('error' in got, `seed ${seed} ${c.template} ${JSON.stringify(templates[c.template])}: Python raised ${want.error}, we rendered ${JSON.stringify(got)}`);
    else {
      assert.deepEqual(got, want, `seed ${seed} ${c.template} ${JSON.stringify(templates[c.template])}`);
      same++;
    }
  }
  assert.ok(same > 500, `${same} rendered`);
});

test('what the library cannot do fails loudly instead of rendering differently', () => {
  // Measured against Jinja2: each of these renders there; the library rejects it (never renders it differently).
  const unsupported = ['{{ 1e3 }}', "{{ '<a>' | e }}", '{{ (1,) }}', '{% raw +%}x{% endraw %}', "{% for i in [1, 2] %}{{ loop.cycle('a', 'b') }}{% endfor %}", "{{ '%d' | format(3) }}", "{{ '%s!' % 'hi' }}", "{{ [' a '] | map('trim') | list }}", "{{ ['x'] | select('equalto', 'x') | list }}", "{{ 'banana'.count('a') }}", "{{ '-' * 3 }}", "{% for c in 'ab' %}{{ c }}{% endfor %}"];
  const py = python(Object.fromEntries(unsupported.map((src, i) => [`u${i}`, src])), unsupported.map((_, i) => ({ template: `u${i}`, messages: [], add_generation_prompt: false, bos_token: '', eos_token: '', label: `u${i}` })));
  // All but `{% raw +%}` (which Jinja2 rejects too) render in Python.
  assert.deepEqual(py.map((r) => 'ok' in r), unsupported.map((src) => !src.includes('raw +%}')));
  for (const src of unsupported) {
    assert.throws(() => renderChat({ name: 'snippet', source: src }, []), ChatTemplateError, src);
  }
});

test('renderChat: raise_exception is a ChatTemplateError naming the template; opts reach the template', () => {
  const t = resolveTemplate('chatml');
  assert.equal(renderChat(t, [m('user', 'hi')] as ChatMessage[], { addGenerationPrompt: true }), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  const strict: ChatTemplate = { name: 'strict', source: "{% if messages[0].role != 'user' %}{{ raise_exception('first turn must be the user\\'s') }}{% endif %}ok" };
  assert.throws(() => renderChat(strict, [m('assistant', 'x')] as ChatMessage[]), (e: unknown) => e instanceof ChatTemplateError && e.raised && /chat template 'strict' raised: first turn must be the user's/.test(e.message));
  const vars: ChatTemplate = { name: 'vars', source: '{{ bos_token }}|{{ eos_token }}|{{ tools | length }}|{{ date }}|{{ documents }}' };
  assert.equal(renderChat(vars, [], { bosToken: '<b>', eosToken: '<e>', tools: [1, 2], extra: { date: 'today' } }), '<b>|<e>|2|today|None');
  assert.throws(() => renderChat(vars, [], { extra: { messages: [] } }), /extra variable 'messages'/);
  assert.throws(() => renderChat({ name: 'bad', source: '{% if %}' }, []), (e: unknown) => e instanceof ChatTemplateError && !e.raised && /'bad' does not parse/.test(e.message));
});

test('resolveTemplate and templateForTokenizer: built-ins, .jinja files, tokenizer_config.json; a tokenizer\'s own template wins', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chat-template-'));
  writeFileSync(join(dir, 'mine.jinja'), '{% for x in messages %}[{{ x.content }}]{% endfor %}\n');
  assert.equal(renderChat(resolveTemplate(join(dir, 'mine.jinja')), [m('user', 'a')] as ChatMessage[]), '[a]');
  const tokDir = join(dir, 'tok');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(tokDir);
  writeFileSync(join(tokDir, 'tokenizer_config.json'), JSON.stringify({ bos_token: { content: '<|begin|>' }, eos_token: '<|end|>', chat_template: '{{ bos_token }}{% for x in messages %}{{ x.content }}{{ eos_token }}{% endfor %}' }));
  const own = await templateForTokenizer(tokDir, 'chatml');
  assert.equal(renderChat(own, [m('user', 'q')] as ChatMessage[]), '<|begin|>q<|end|>');
  assert.equal(renderChat(resolveTemplate(join(tokDir, 'tokenizer_config.json')), [m('user', 'q')] as ChatMessage[]), '<|begin|>q<|end|>');
  // chat_template.jinja beside it wins over the config's string, keeping the config's tokens,
  // also when the config has no template (transformers' newer layout).
  writeFileSync(join(tokDir, 'chat_template.jinja'), '{{ bos_token }}J{{ messages | length }}');
  assert.equal(renderChat(await templateForTokenizer(tokDir), []), '<|begin|>J0');
  writeFileSync(join(tokDir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|b2|>' }));
  assert.equal(renderChat(await templateForTokenizer(tokDir), []), '<|b2|>J0');
  assert.equal((await templateForTokenizer('cl100k_base', 'zephyr')).name, 'zephyr');
  await assert.rejects(templateForTokenizer('cl100k_base'), /has no chat template/);
  assert.throws(() => resolveTemplate('no-such-template'), /not a built-in \(chatml, llama-3, zephyr\) and no such file/);
  writeFileSync(join(dir, 'empty.json'), '{}');
  assert.throws(() => resolveTemplate(join(dir, 'empty.json')), /has no chat_template/);
});
