import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOperators } from '../../../engine/testing.ts';
import { createOperator } from '../../../engine/operator.ts';
import { filter } from '../../../operators/filter/index.ts';
import { cutSpans } from '../../../operators/filter/decontaminate.ts';
import { dataPath, needData } from '../../helpers/data.ts';

const words = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}`).join(' ');
const filler = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i % 10}`).join(' ');

function benchFile(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-decon-'));
  const file = join(dir, 'bench.jsonl');
  writeFileSync(file, [JSON.stringify({ query: `Question: ${words(14, 'q')}`, choices: ['alpha beta', 'gamma delta'], gold: 0 }), JSON.stringify({ query: words(20, 'z'), choices: ['x', 'y'], gold: 1 })].join('\n') + '\n');
  return { dir, file };
}

test('cutSpans removes each match with its window and keeps the rest in order', () => {
  assert.deepEqual(cutSpans('0123456789abcdefghij', [[5, 7], [15, 16]], 2), ['012', '9abc', 'ij']);
  assert.deepEqual(cutSpans('0123456789', [[0, 10]], 5), []);
});

test('decontaminate: clean docs pass, matched spans ±200 chars are cut, short pieces and too-dirty docs go, with audit', async () => {
  const { dir, file } = benchFile();
  try {
    const op = filter.decontaminate({ benchmarks: [file] });
    const clean = { id: 'clean', text: filler(100, 'c'), meta: { url: 'https://e.org/clean' } };
    const before = filler(200, 'b'), after = filler(150, 'a');
    const leak = { id: 'leak', text: `${before}\n${words(14, 'Q').toUpperCase()} alpha beta\n${after}`, meta: { url: 'https://e.org/leak' } };
    const short = { id: 'short', text: `intro ${words(14, 'q')} alpha beta outro`, meta: {} };
    const many = { id: 'many', text: Array.from({ length: 12 }, (_, i) => `${filler(250, `m${i}x`)} ${words(20, "z")}`).join("\n") + " " + filler(250, "end"), meta: {} };
    const { out, audit } = await runOperators([op], [clean, leak, short, many]);
    assert.deepEqual(out.map((d) => d.id), ['clean', 'leak#0', 'leak#1']);
    const [p0, p1] = [out[1]!, out[2]!];
    assert.ok(before.startsWith(p0.text) && p0.text.length === before.length + 1 - 200, `piece 0 is the text up to 200 chars before the match (${p0.text.length})`);
    assert.ok(after.endsWith(p1.text) && p1.text.length === after.length + 1 - 200);
    assert.ok(!p0.text.includes('q0') && !p1.text.includes('Q13'));
    assert.deepEqual(p0.meta.decontaminated, { from: 'leak', piece: 0, pieces: 2, removedChars: leak.text.length - p0.text.length - p1.text.length, items: ['bench/0'] });
    assert.equal(p0.meta.url, 'https://e.org/leak');
    assert.deepEqual(audit.drops.map((d) => [d.id, d.reason]), [['short', 'decontaminate.noCleanPiece'], ['many', 'decontaminate.tooDirty']]);
    assert.deepEqual(audit.drops[1]!.details, { items: ['bench/1'], spans: 12, pieces: 13 });
    assert.deepEqual(audit.scores.map((s) => [s.id, s.key, s.kept]), [['leak', 'removedChars', true], ['short', 'removedChars', false], ['many', 'removedChars', false]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decontaminate is registered for sluice apply and validates its config', () => {
  assert.throws(() => createOperator('filter.decontaminate', {}), /filter\.decontaminate: config key 'benchmarks'/);
  assert.throws(() => createOperator('filter.decontaminate', { benchmarks: ['x.jsonl'], window: -1 }), /config key 'window'/);
  assert.equal(createOperator('filter.decontaminate', { benchmarks: ['x.jsonl'] }).type, 'filter.decontaminate');
});

test('decontaminating tinyshakespeare with a planted ARC item removes exactly that span', { skip: needData('tinyshakespeare') || needData('mc-eval') }, async () => {
  const { readFileSync } = await import('node:fs');
  const text = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').slice(0, 20000);
  const arc = readFileSync(dataPath('mc-eval/llm-foundry/arc_challenge.jsonl'), 'utf8').split('\n')[0]!;
  const item = JSON.parse(arc) as { query: string; choices: string[] };
  const planted = `${text.slice(0, 10000)}\n${item.query.replace(/^Question: /, '')} ${item.choices.join(' / ')}\n${text.slice(10000)}`;
  const op = filter.decontaminate({ benchmarks: [dataPath('mc-eval/llm-foundry/arc_challenge.jsonl')] });
  const { out } = await runOperators([op], [{ id: 'ts', text: planted, meta: {} }, { id: 'orig', text, meta: {} }]);
  assert.deepEqual(out.map((d) => d.id), ['ts#0', 'ts#1', 'orig']);
  // The match starts at the planted question (or a few words into it); 200 chars before it go too.
  const q = planted.indexOf(item.query.replace(/^Question: /, ''));
  assert.ok(out[0]!.text.length <= q - 200 && out[0]!.text.length >= q - 200 - 2, `${out[0]!.text.length} vs ${q - 200}`);
  assert.equal(out[0]!.text, planted.slice(0, out[0]!.text.length));
  assert.deepEqual((out[0]!.meta.decontaminated as { items: string[] }).items, ['arc_challenge/0']);
});

test('decontaminate checks every text field of chat and preference docs (rejected answers too) and drops a contaminated one whole', async () => {
  const { dir, file } = benchFile();
  try {
    const op = filter.decontaminate({ benchmarks: [file] });
    const msg = (role: string, content: string) => ({ role, content });
    const leaked = words(14, 'q');
    const chat = (id: string, user: string, answer: string) => ({ id, text: `user: ${user}\n\nassistant: ${answer}`, meta: { chat: { messages: [msg('system', 'Be brief.'), msg('user', user), msg('assistant', answer)] } } });
    // A pair whose text (prompt + chosen) is clean but whose rejected answer holds the benchmark item.
    const pair = { id: 'pair', text: 'user: tell me\n\nassistant: fine', meta: { preference: { prompt: [msg('user', 'tell me')], chosen: [msg('assistant', 'fine')], rejected: [msg('assistant', `Question: ${leaked} alpha beta`)] } } };
    const cleanPair = { id: 'cleanPair', text: 'user: tell me\n\nassistant: fine', meta: { preference: { prompt: [msg('user', 'tell me')], chosen: [msg('assistant', 'fine')], rejected: [msg('assistant', 'not fine')] } } };
    const { out, audit } = await runOperators([op], [chat('clean', 'hello there', 'hi'), chat('leak', `Question: ${leaked}`, 'alpha beta'), pair, cleanPair]);
    assert.deepEqual(out.map((d) => d.id), ['clean', 'cleanPair']);
    assert.equal(out[0]!.meta.decontaminated, undefined);
    assert.deepEqual(audit.drops.map((d) => [d.id, d.reason, d.details!.fields, d.details!.items]), [
      ['leak', 'decontaminate.contaminatedChat', ['messages[1]', 'messages[2]'], ['bench/0']], // the item's question and answer span two turns
      ['pair', 'decontaminate.contaminatedChat', ['rejected[0]'], ['bench/0']],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
