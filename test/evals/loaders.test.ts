import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBenchmark, detectFormat, parseBenchmarkArg, benchmarkName, stripPromptLabels } from '../../operators/read/benchmarks.ts';
import { dataPath, needData } from '../helpers/data.ts';

test('llm-foundry {query, choices, gold}: ARC-Easy loads all 2,376 items', { skip: needData('mc-eval/llm-foundry/arc_easy.jsonl') }, async () => {
  const b = await loadBenchmark(dataPath('mc-eval/llm-foundry/arc_easy.jsonl'));
  assert.equal(b.format, 'mc');
  assert.equal(b.name, 'arc_easy');
  assert.equal(b.items.length, 2376);
  assert.equal(b.skipped.length, 0);
  const it = b.items[1]!;
  assert.equal(it.kind, 'choice');
  if (it.kind !== 'choice') return;
  assert.equal(it.query, 'Question: Which piece of safety equipment is used to keep mold spores from entering the respiratory system?');
  assert.equal(it.question, 'Which piece of safety equipment is used to keep mold spores from entering the respiratory system?');
  assert.deepEqual(it.choices, ['safety goggles', 'breathing mask', 'rubber gloves', 'lead apron']);
  assert.equal(it.gold, 1);
  assert.equal(it.id, 'arc_easy/1');
  assert.match(it.source, /arc_easy\.jsonl:2$/);
});

test('official PIQA with labels: 1,838 items whose gold equals llm-foundry\'s copy', { skip: needData('mc-eval/piqa/valid.jsonl') }, async () => {
  const p = await loadBenchmark(dataPath('mc-eval/piqa/valid.jsonl'));
  const f = await loadBenchmark(dataPath('mc-eval/llm-foundry/piqa.jsonl'));
  assert.equal(p.format, 'piqa');
  assert.equal(p.name, 'piqa-valid');
  assert.equal(p.items.length, 1838);
  assert.equal(f.items.length, 1838);
  for (let i = 0; i < 1838; i++) {
    const a = p.items[i]!, b = f.items[i]!;
    assert.ok(a.kind === 'choice' && b.kind === 'choice');
    assert.equal(a.gold, b.gold, `item ${i}`);
  }
  const first = p.items[0]!;
  assert.ok(first.kind === 'choice');
  assert.equal(first.query, "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  assert.equal(first.question, "How do I ready a guinea pig cage for it's new occupants?");
});

test('MMLU CSV directories: dev 285 and test 14,042 items with subjects', { skip: needData('mc-eval/mmlu/dev') }, async () => {
  const dev = await loadBenchmark(dataPath('mc-eval/mmlu/dev'));
  const tst = await loadBenchmark(dataPath('mc-eval/mmlu/test'));
  assert.equal(dev.format, 'mmlu');
  assert.equal(dev.name, 'mmlu-dev');
  assert.equal(dev.items.length, 285);
  assert.equal(tst.items.length, 14042);
  assert.equal(dev.skipped.length + tst.skipped.length, 0);
  const it = dev.items[1]!;
  assert.ok(it.kind === 'choice');
  assert.equal(it.subject, 'abstract_algebra');
  assert.equal(it.id, 'abstract_algebra/1');
  assert.equal(it.question, 'Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. Statement 2 | If H and K are subgroups of G then HK is a subgroup of G.');
  assert.deepEqual(it.choices, ['True, True', 'False, False', 'True, False', 'False, True']);
  assert.equal(it.gold, 1);
  assert.equal(new Set(dev.items.map((i) => (i.kind === 'choice' ? i.subject : ''))).size, 57);
});

test('Winogrande partial items and LAMBADA cloze items', { skip: needData('mc-eval/llm-foundry/winogrande.jsonl') }, async () => {
  const w = await loadBenchmark(dataPath('mc-eval/llm-foundry/winogrande.jsonl'));
  assert.equal(w.format, 'winogrande');
  const it = w.items[0]!;
  assert.ok(it.kind === 'partial');
  assert.deepEqual(it.contexts, ['Sarah was a much better surgeon than Maria so Sarah', 'Sarah was a much better surgeon than Maria so Maria']);
  assert.equal(it.continuation, 'always got the easier cases.');
  assert.equal(it.gold, 1);
  const l = await loadBenchmark(dataPath('mc-eval/llm-foundry/lambada_openai.jsonl'));
  assert.equal(l.format, 'lambada');
  assert.equal(l.items.length, 5153);
  const c = l.items[0]!;
  assert.ok(c.kind === 'cloze');
  assert.equal(c.continuation, 'signs');
});

test('malformed records are skipped with their reason and line; format errors name the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-loaders-'));
  try {
    const f = join(dir, 'bad.jsonl');
    writeFileSync(f, ['{"query":"Q1","choices":["a","b"],"gold":1}', '{not json', '{"query":"Q2","choices":["a"],"gold":0}', '', '{"query":"Q3","choices":["a","b"],"gold":5}', '{"query":"Q4","choices":["x","y","z"],"gold":"2"}'].join('\n'));
    const seen: string[] = [];
    const b = await loadBenchmark(f, { onSkip: (s) => seen.push(s.source) });
    assert.equal(b.items.length, 2);
    assert.deepEqual(b.items.map((i) => i.id), ['bad/0', 'bad/1']);
    assert.deepEqual(b.skipped.map((s) => s.source), [`${f}:2`, `${f}:3`, `${f}:5`]);
    assert.match(b.skipped[0]!.reason, /invalid JSON/);
    assert.match(b.skipped[1]!.reason, /at least 2 strings/);
    assert.match(b.skipped[2]!.reason, /out of range for 2 choices/);
    assert.deepEqual(seen, b.skipped.map((s) => s.source));
    const csv = join(dir, 'x_test.csv');
    writeFileSync(csv, 'question,choice0,choice1,answer\n"Is ""this"", with a comma, fine?",yes,no,A\nshort,row\nQ,a,b,7\n');
    const m = await loadBenchmark(csv);
    assert.equal(m.items.length, 1);
    const q = m.items[0]!;
    assert.ok(q.kind === 'choice');
    assert.equal(q.question, 'Is "this", with a comma, fine?');
    assert.equal(q.gold, 0);
    assert.equal(q.subject, 'x');
    assert.deepEqual(m.skipped.map((s) => s.reason), ['expected 4 columns, got 2', "'answer' 7 is out of range for 2 choices"]);
    const bad = join(dir, 'h.csv');
    writeFileSync(bad, 'a,b,c\n1,2,3\n');
    await assert.rejects(loadBenchmark(bad), /h\.csv: expected the header/);
    await assert.rejects(loadBenchmark(join(dir, 'missing.jsonl')), /missing\.jsonl: no such file/);
    const odd = join(dir, 'odd.jsonl');
    writeFileSync(odd, '{"foo":1}\n');
    await assert.rejects(detectFormat(odd), /cannot guess the format from keys \[foo\]/);
    await assert.rejects(loadBenchmark(join(dir, 'p.jsonl'), { format: 'piqa' }), /labels file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FILE[:format] arguments, default names and prompt labels', () => {
  assert.deepEqual(parseBenchmarkArg('a/piqa.jsonl:mc'), { path: 'a/piqa.jsonl', format: 'mc' });
  assert.deepEqual(parseBenchmarkArg('s3://b/x.jsonl'), { path: 's3://b/x.jsonl' });
  assert.equal(benchmarkName('/d/piqa/valid.jsonl'), 'piqa-valid');
  assert.equal(benchmarkName('/d/arc_easy.jsonl'), 'arc_easy');
  assert.equal(stripPromptLabels('Question: dresser\n'), 'dresser');
  assert.equal(stripPromptLabels('Q: Why?\nA:'), 'Why?');
  assert.equal(stripPromptLabels('The man turned on the faucet, therefore'), 'The man turned on the faucet, therefore');
});
