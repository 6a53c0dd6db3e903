/**
 * Generative evals (lm-eval's generate_until): the GSM8K filters and exact_match against Python's
 * own `re` running lm-eval's RegexFilter and HF evaluate's exact_match; prompts with few-shot and
 * chat formatting; a tiny GPT end to end; and MMLU's per-item vs per-subject averages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFilters, buildPrompt, evaluateGenerative, exactMatch, GSM8K, parseGenerativeJsonl, type GenerativeTask } from '../../evals/generate-until.ts';
import { scoreBenchmark } from '../../evals/multiple-choice.ts';
import { renderChat, resolveTemplate } from '../../operators/chat/template.ts';
import { openGenerator } from '../../trainer/generate/open.ts';
import type { Benchmark, ChoiceItem } from '../../formats/benchmarks.ts';
import { BigramScorer } from './helpers/bigram-scorer.ts';
import { tinyBpeCheckpoint } from '../trainer/helpers/tiny-model.ts';
import { evalTaskContext } from './helpers/eval-context.ts';
import type { Dataset, Manifest } from '../../engine/types.ts';
import { evaluate } from '../../evals/stage.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-genuntil-'));
let ck: string;
test.before(async () => {
  ck = await tinyBpeCheckpoint(dir, 'm');
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const RESPONSES = [
  'Natalia sold 48/2 = 24 clips in May.\n#### 72',
  'The answer is $1,234.50.',
  'So she has 5 apples and 3 pears, 8 in all.',
  '#### -3.5 and then #### 7',
  'no numbers here',
  'It costs $5.',
  '12',
];
const TARGETS = ['Natalia sold 48 clips.\n#### 72', 'x #### 1234.50', 'in all #### 8', '#### -3.5', '#### 0', '#### 5', '#### 12'];

// lm-eval's RegexFilter (filters/extraction.py) and HF evaluate's exact_match, in Python.
const PY = String.raw`
import json, re, string, sys
cases = json.load(sys.stdin)
def regex_filter(resp, pattern, group_select=0, fallback='[invalid]'):
    match = re.compile(pattern).findall(resp)
    if match:
        match = match[group_select]
        if isinstance(match, tuple):
            match = [m for m in match if m]
            match = match[0] if match else fallback
        return match.strip()
    return fallback
def exact_match(p, r, ignore_case, ignore_punctuation, regexes):
    for s in regexes:
        p = re.sub(s, '', p); r = re.sub(s, '', r)
    if ignore_case: p = p.lower(); r = r.lower()
    if ignore_punctuation:
        t = str.maketrans('', '', string.punctuation); p = p.translate(t); r = r.translate(t)
    return int(p == r)
out = []
for resp, target in zip(cases['responses'], cases['targets']):
    row = {}
    for f in cases['filters']:
        a = resp
        for s in f['steps']:
            if s['function'] == 'regex':
                a = regex_filter(a, s['regexPattern'], s.get('groupSelect', 0))
        row[f['name']] = [a, exact_match(a, target, True, False, cases['ignore'])]
    out.append(row)
print(json.dumps(out))
`;

test('GSM8K strict-match and flexible-extract filters and exact_match agree with Python re (lm-eval, HF evaluate)', () => {
  const r = spawnSync('python3', ['-c', PY], { input: JSON.stringify({ responses: RESPONSES, targets: TARGETS, filters: GSM8K.filters, ignore: GSM8K.exactMatch.regexesToIgnore }), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as Array<Record<string, [string, number]>>;
  const got = RESPONSES.map((resp, i) => Object.fromEntries(GSM8K.filters.map((f) => {
    const a = applyFilters([resp], f.steps)[0]!;
    return [f.name, [a, exactMatch(a, TARGETS[i]!, GSM8K.exactMatch)]];
  })));
  assert.deepEqual(got, want);
  // The cases cover both outcomes of both filters.
  assert.deepEqual(got.map((g) => g['strict-match']![1]), [1, 0, 0, 1, 0, 0, 0]);
  assert.deepEqual(got.map((g) => g['flexible-extract']![1]), [1, 1, 1, 0, 0, 1, 1]);
});

test('generate_until prompts: few-shot text, one chat turn, or multi-turn few-shot', () => {
  const skipped: string[] = [];
  const items = parseGenerativeJsonl([JSON.stringify({ question: 'q1?', answer: 'a #### 1' }), 'not json', JSON.stringify({ input: 'Q: q2\nA:', target: '2' }), JSON.stringify({ x: 1 })].join('\n'), 'tiny', (s) => skipped.push(`${s.source}: ${s.reason}`));
  assert.equal(items.length, 2);
  assert.deepEqual(skipped.map((x) => x.split(':').slice(0, 2).join(':')), ['tiny:2', 'tiny:4']);
  assert.equal(items[0]!.input, 'Question: q1?\nAnswer:');
  assert.equal(buildPrompt(GSM8K, items[1]!, [items[0]!]), 'Question: q1?\nAnswer: a #### 1\n\nQ: q2\nA:');
  const t = resolveTemplate('chatml');
  const chat = { render: (m: Parameters<typeof renderChat>[1]) => renderChat(t, m, { addGenerationPrompt: true }) };
  assert.equal(buildPrompt(GSM8K, items[1]!, [items[0]!], chat), '<|im_start|>user\nQuestion: q1?\nAnswer: a #### 1\n\nQ: q2\nA:<|im_end|>\n<|im_start|>assistant\n');
  assert.equal(
    buildPrompt(GSM8K, items[1]!, [items[0]!], { ...chat, fewshotAsMultiturn: true, systemInstruction: 'Solve.' }),
    '<|im_start|>system\nSolve.<|im_end|>\n<|im_start|>user\nQuestion: q1?\nAnswer:<|im_end|>\n<|im_start|>assistant\na #### 1<|im_end|>\n<|im_start|>user\nQ: q2\nA:<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('generate_until with a tiny GPT: greedy until a stop string, filters, exact match per filter', async () => {
  const g = await openGenerator(ck, { backend: 'tfjs' });
  try {
    // The model's own greedy first word is the target of item 0, so one filter scores 1 there.
    const first = await g.generate('the dog', { temperature: 0, maxTokens: 8, stop: [' '] });
    const task: GenerativeTask = {
      name: 'words',
      until: [' '],
      maxGenToks: 8,
      filters: [
        { name: 'word', steps: [{ function: 'regex', regexPattern: '([a-z]+)' }, { function: 'take_first' }] },
        { name: 'digits', steps: [{ function: 'regex', regexPattern: '([0-9]+)' }, { function: 'take_first' }] },
      ],
      exactMatch: { ignoreCase: true },
    };
    const items = [
      { id: 'w/0', index: 0, input: 'the dog', target: first.text },
      { id: 'w/1', index: 1, input: 'the cat', target: 'zebra' },
    ];
    const r = await evaluateGenerative(g, task, items);
    assert.equal(r.n, 2);
    assert.equal(r.items[0]!.response, first.text);
    assert.ok(!r.items[1]!.response.includes(' '), 'cut at the stop string');
    assert.equal(r.items[0]!.exactMatch.word, first.text.match(/^[a-z]+$/) ? 1 : 0);
    assert.equal(r.items[0]!.filtered.digits, '[invalid]');
    assert.equal(r.metrics['exact_match,word']!.value, (r.items[0]!.exactMatch.word! + r.items[1]!.exactMatch.word!) / 2);
    assert.equal(r.metrics['exact_match,digits']!.value, 0);
    // Context longer than the window: cut from the left to context − max_gen_toks (48 − 8).
    const input = 'x'.repeat(60) + 'the dog';
    assert.ok(g.encode(input).length > 48);
    const long = await evaluateGenerative(g, task, [{ id: 'l', index: 0, input, target: '' }]);
    const direct = await g.generate(g.encode(input).slice(-40), { temperature: 0, maxTokens: 8, stop: [' '] });
    assert.equal(long.items[0]!.response, direct.text);
  } finally {
    await g.close();
  }
});

test('MMLU: acc over items and acc_subject_avg over subjects, both reported; average picks the primary', async () => {
  const scorer = new BigramScorer('the answer is blue. the sky is blue. grass is green. '.repeat(20), 64);
  const item = (subject: string, i: number, gold: number): ChoiceItem => ({ kind: 'choice', benchmark: 'mmlu', id: `${subject}/${i}`, index: i, source: 'x', query: `Question: what colour ${i}?\nAnswer:`, question: `what colour ${i}?`, choices: ['blue', 'green', 'red', 'pink'], gold, subject });
  // Subject a: 3 items, b: 1 item.
  const items = [item('a', 0, 0), item('a', 1, 0), item('a', 2, 2), item('b', 3, 3)];
  items.forEach((x, i) => (x.index = i));
  const bench: Benchmark = { name: 'mmlu', format: 'mmlu', items } as Benchmark;
  const r = await scoreBenchmark(scorer, bench, { method: 'text', average: 'subject' });
  const acc = r.items.map((s) => s.acc);
  const a = (acc[0]! + acc[1]! + acc[2]!) / 3;
  assert.equal(r.metrics.acc!.value, acc.reduce((x, y) => x + y, 0) / 4);
  assert.equal(r.metrics.acc_subject_avg!.value, (a + acc[3]!) / 2);
  assert.notEqual(r.metrics.acc!.value, r.metrics.acc_subject_avg!.value, 'the fixture makes them differ');
  assert.ok('acc_norm_subject_avg' in r.metrics);
  const { primaryMetric } = await import('../../evals/multiple-choice.ts');
  assert.equal(primaryMetric(r), 'acc_subject_avg');
  assert.equal(primaryMetric(await scoreBenchmark(scorer, bench, { method: 'text' })), 'acc');
});

test('the evaluate stage scores generative benchmarks: scores.json, the summary line, skipped lines audited', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-genstage-'));
  try {
    const bench = join(dir, 'mc.jsonl');
    writeFileSync(bench, JSON.stringify({ query: 'the cat sat on the', choices: ['mat', 'pond'], gold: 0 }) + '\n');
    const gsm = join(dir, 'gsm.jsonl');
    writeFileSync(gsm, [JSON.stringify({ question: 'the dog', answer: 'ran #### 3' }), '{broken', JSON.stringify({ question: 'a bird', answer: 'sang #### 4' })].join('\n') + '\n');
    const model: Dataset = { stage: 'model', dir: ck, manifest: { format: 'sluice.dataset/1', pipeline: 'p', stage: 'model', fingerprint: 'fp', output: 'artifact', tasks: 1, files: [], rows: 0, bytes: 0, stats: { operators: {}, skipped: {} } } as Manifest, files: () => [], readDocs: () => (async function* () {})() };
    const outDir = join(dir, 'eval');
    mkdirSync(outDir);
    const { ctx, base, info } = evalTaskContext(outDir, new Map([['model', model]]));
    const skips: string[] = [];
    ctx.audit.skip = (source: string, reason: string) => void skips.push(`${source}: ${reason}`);
    const stage = evaluate({ kind: 'stage', name: 'model', pipeline: 'p' }, { benchmarks: [{ path: bench }], generative: [{ path: gsm, maxGenToks: 6, chatTemplate: 'chatml' }], scorerOptions: { backend: 'tfjs' } });
    await stage.run(ctx);
    base.dispose();
    const scores = JSON.parse(readFileSync(join(outDir, 'scores.json'), 'utf8')) as { generative: Array<{ benchmark: string; chat: boolean; n: number; metrics: Record<string, { value: number }> }>; generativeItems: Array<{ items: Array<{ prompt: string; response: string }> }> };
    assert.equal(scores.generative[0]!.benchmark, 'gsm');
    assert.equal(scores.generative[0]!.n, 2);
    assert.equal(scores.generative[0]!.chat, true);
    assert.deepEqual(Object.keys(scores.generative[0]!.metrics), ['exact_match,strict-match', 'exact_match,flexible-extract']);
    assert.equal(scores.generativeItems[0]!.items[0]!.prompt, '<|im_start|>user\nQuestion: the dog\nAnswer:<|im_end|>\n<|im_start|>assistant\n');
    // The same greedy generation directly.
    const g = await openGenerator(ck, { backend: 'tfjs' });
    const direct = await g.generate(g.encodeChat(scores.generativeItems[0]!.items[0]!.prompt), { temperature: 0, maxTokens: 6, stop: GSM8K.until });
    await g.close();
    assert.equal(scores.generativeItems[0]!.items[0]!.response, direct.text);
    assert.match(String(info.summary), /gsm \[generate_until, chat\]: exact_match,strict-match 0\.0+ ± /);
    assert.equal(skips.length, 1);
    assert.match(skips[0]!, /^gsm:2: invalid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
