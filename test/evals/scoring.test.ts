import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BigramScorer } from './helpers/bigram-scorer.ts';
import { rollingWindows, perplexity, countWords, heldOutLoss } from '../../evals/perplexity.ts';
import { scoreBenchmark, fewshotPrefix } from '../../evals/multiple-choice.ts';
import { encodePair, loglikelihoods, scoringWindows } from '../../evals/loglikelihood.ts';
import { loadBenchmark, type Benchmark } from '../../operators/read/benchmarks.ts';
import { meanStderr } from '../../evals/stats.ts';
import { dataPath, needData } from '../helpers/data.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);
const TRAIN = 'the cat sat on the mat. the dog sat on the log. a cat and a dog.\n';

test('rolling windows are lm-evaluation-harness\'s disjoint windows from EOT', () => {
  // get_rolling_token_windows([0..9], prefix=-1, max_seq_len=4, context_len=1) + make_disjoint_window.
  const w = rollingWindows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 99, 4);
  assert.deepEqual(w, [
    { tokens: [99, 0, 1, 2, 3], predict: 4 },
    { tokens: [3, 4, 5, 6, 7], predict: 4 },
    { tokens: [5, 6, 7, 8, 9], predict: 2 },
  ]);
  assert.deepEqual(rollingWindows([5, 6], 99, 4), [{ tokens: [99, 5, 6], predict: 2 }]);
  assert.deepEqual(rollingWindows([], 99, 4), []);
  // Every token is predicted exactly once.
  for (const n of [1, 7, 16, 17, 33]) {
    const toks = Array.from({ length: n }, (_, i) => i);
    assert.equal(rollingWindows(toks, 99, 16).reduce((s, x) => s + x.predict, 0), n);
  }
});

test('perplexity: word/byte perplexity and bits per byte equal the hand-computed bigram values', async () => {
  const m = new BigramScorer(TRAIN, 8);
  const docs = ['the cat sat.', ' a dog on the mat\n and the log ', 'été'];
  const r = await perplexity(m, docs);
  // A bigram model conditions on one token, and every window has ≥ 1 context token, so the
  // windowed sum equals the whole-sequence sum from EOT.
  let ll = 0, words = 0, bytes = 0;
  for (const d of docs) {
    ll += m.llOf(256, m.encode(d));
    words += d.split(/\s+/).length;
    bytes += Buffer.byteLength(d);
  }
  assert.equal(countWords(' a dog on the mat\n and the log '), 10); // re.split keeps the empty ends
  assert.equal(r.words, words);
  assert.equal(r.bytes, bytes);
  assert.equal(r.docs, 3);
  close(r.loglikelihood, ll);
  close(r.word_perplexity.value, Math.exp(-ll / words));
  close(r.byte_perplexity.value, Math.exp(-ll / bytes));
  close(r.bits_per_byte.value, -ll / (bytes * Math.LN2));
  assert.ok(r.bits_per_byte.stderr > 0 && Number.isFinite(r.bits_per_byte.stderr));
  // Independent of the window size for a bigram model.
  const r2 = await perplexity(new BigramScorer(TRAIN, 3), docs);
  close(r2.loglikelihood, ll);
});

test('held-out loss: mean per-token NLL over context-sized chunks', async () => {
  const m = new BigramScorer(TRAIN, 4);
  const toks = m.encode('the cat sat on the log');
  const r = await heldOutLoss(m, [toks.slice(0, 7), toks.slice(7)]);
  // Chunks of 5 tokens; each predicts its last 4 from the token before.
  let nll = 0, n = 0;
  for (let s = 0; s < toks.length; s += 5) {
    const c = toks.slice(s, s + 5);
    for (let j = 1; j < c.length; j++) {
      nll -= m.lp(c[j - 1]!, c[j]!);
      n++;
    }
  }
  assert.equal(r.tokens, n);
  close(r.loss, nll / n);
});

test('encodePair moves trailing context whitespace into the continuation; empty context is EOT', () => {
  const m = new BigramScorer(TRAIN);
  assert.deepEqual(encodePair(m, 'ab ', 'c'), { context: [97, 98], continuation: [32, 99] });
  assert.deepEqual(encodePair(m, '', 'x'), { context: [256], continuation: [120] });
});

function tinyBench(): Benchmark {
  return {
    name: 'tiny',
    format: 'mc',
    path: '(memory)',
    skipped: [],
    items: [
      { kind: 'choice', benchmark: 'tiny', id: 'tiny/0', index: 0, source: 'x:1', query: 'Where did the cat sit?', question: 'Where did the cat sit?', choices: ['on the mat', 'zzqx'], gold: 0 },
      { kind: 'choice', benchmark: 'tiny', id: 'tiny/1', index: 1, source: 'x:2', query: 'What sat on the log?', question: 'What sat on the log?', choices: ['the dog', 'the cat and the dog sat'], gold: 1 },
      { kind: 'choice', benchmark: 'tiny', id: 'tiny/2', index: 2, source: 'x:3', query: 'Pick one', question: 'Pick one', choices: ['qqqq', 'a cat'], gold: 0 },
    ],
  };
}

test('multiple choice: acc and acc_norm from ll(" " + choice | query), exactly', async () => {
  const m = new BigramScorer(TRAIN, 64);
  const b = tinyBench();
  const r = await scoreBenchmark(m, b);
  assert.equal(r.method, 'text');
  let acc = 0, accNorm = 0;
  const accs: number[] = [];
  for (const [k, it] of b.items.entries()) {
    assert.ok(it.kind === 'choice');
    const q = m.encode(it.query);
    const lls = it.choices.map((c) => m.llOf(q[q.length - 1]!, m.encode(' ' + c)));
    r.items[k]!.lls.forEach((v, i) => close(v, lls[i]!));
    const pred = lls.indexOf(Math.max(...lls));
    const norm = lls.map((l, i) => l / [...it.choices[i]!].length);
    const predN = norm.indexOf(Math.max(...norm));
    assert.equal(r.items[k]!.pred, pred);
    accs.push(pred === it.gold ? 1 : 0);
    acc += pred === it.gold ? 1 : 0;
    accNorm += predN === it.gold ? 1 : 0;
  }
  close(r.metrics.acc!.value, acc / 3);
  close(r.metrics.acc_norm!.value, accNorm / 3);
  close(r.metrics.acc!.stderr, meanStderr(accs));
  // The long gold choice of item 1 loses on raw ll and wins normalised: acc and acc_norm differ.
  assert.notEqual(r.items[1]!.acc, r.items[1]!.accNorm);
});

test('letter method: MMLU prompt with " A"/" B" continuations, reported under its own name', async () => {
  const m = new BigramScorer(TRAIN);
  const b = tinyBench();
  const it = b.items[0]!;
  assert.ok(it.kind === 'choice');
  it.subject = 'cat_facts';
  const r = await scoreBenchmark(m, b, { method: 'letter', limit: 1 });
  assert.equal(r.method, 'letter');
  const prompt = 'The following are multiple choice questions (with answers) about cat facts.\n\nWhere did the cat sit?\nA. on the mat\nB. zzqx\nAnswer:';
  const last = m.encode(prompt).at(-1)!;
  close(r.items[0]!.lls[0]!, m.llOf(last, m.encode(' A')));
  close(r.items[0]!.lls[1]!, m.llOf(last, m.encode(' B')));
});

test('k-shot prompts are seeded, exclude the item, and render gold answers', () => {
  const b = tinyBench();
  const p1 = fewshotPrefix(b.items[0]!, b.items, 2, 7, 'text');
  const p2 = fewshotPrefix(b.items[0]!, b.items, 2, 7, 'text');
  assert.equal(p1, p2);
  assert.ok(!p1.includes('Where did the cat sit?'));
  assert.ok(p1.includes('What sat on the log? the cat and the dog sat'));
  assert.ok(p1.includes('Pick one qqqq'));
  assert.ok(p1.endsWith('\n\n'));
  assert.throws(() => fewshotPrefix(b.items[0]!, b.items, 3, 7, 'text'), /pool has 2/);
});

test('Winogrande partial scoring and LAMBADA cloze (perplexity, greedy acc)', { skip: needData('mc-eval/llm-foundry/winogrande.jsonl') }, async () => {
  const m = new BigramScorer(readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').slice(0, 200_000), 64);
  const w = await loadBenchmark(dataPath('mc-eval/llm-foundry/winogrande.jsonl'));
  const rw = await scoreBenchmark(m, w, { limit: 20 });
  assert.equal(rw.method, 'partial');
  assert.deepEqual(Object.keys(rw.metrics), ['acc']);
  for (const s of rw.items) {
    const it = w.items[s.index]!;
    assert.ok(it.kind === 'partial');
    const lls = it.contexts.map((c) => m.llOf(m.encode(c).at(-1)!, m.encode(' ' + it.continuation)));
    s.lls.forEach((v, i) => close(v, lls[i]!));
  }
  const l = await loadBenchmark(dataPath('mc-eval/llm-foundry/lambada_openai.jsonl'));
  const before = m.argmaxCalls;
  const rl = await scoreBenchmark(m, l, { limit: 30 });
  assert.ok(m.argmaxCalls > before, 'cloze items ask for the argmax');
  assert.equal(rl.method, 'cloze');
  const lls = rl.items.map((s) => s.lls[0]!);
  close(rl.metrics.perplexity!.value, Math.exp(-lls.reduce((a, b) => a + b, 0) / lls.length));
  assert.ok('acc' in rl.metrics);
  // Greedy: a continuation is greedy only if each byte is the bigram argmax after the previous one.
  const it0 = l.items[0]!;
  assert.ok(it0.kind === 'cloze');
  const [am] = m.argmax([[...m.encode(it0.context), ...m.encode(' ' + it0.continuation)]]);
  const cont = m.encode(' ' + it0.continuation);
  const greedy = cont.every((t, j) => am![am!.length - cont.length + j] === t);
  assert.equal(rl.items[0]!.acc, greedy ? 1 : 0);
});

test('ARC-Easy (50 items) with a bigram model of tinyshakespeare: acc equals a direct computation', { skip: needData('mc-eval/llm-foundry/arc_easy.jsonl') }, async () => {
  const m = new BigramScorer(readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8'), 256);
  const b = await loadBenchmark(dataPath('mc-eval/llm-foundry/arc_easy.jsonl'));
  const r = await scoreBenchmark(m, b, { limit: 50 });
  assert.equal(m.argmaxCalls, 0, 'choice items need no argmax over the vocabulary');
  let correct = 0;
  for (const it of b.items.slice(0, 50)) {
    assert.ok(it.kind === 'choice');
    const last = m.encode(it.query).at(-1)!;
    const lls = it.choices.map((c) => m.llOf(last, m.encode(' ' + c)));
    if (lls.indexOf(Math.max(...lls)) === it.gold) correct++;
  }
  assert.equal(r.n, 50);
  close(r.metrics.acc!.value, correct / 50);
});

test('a continuation longer than the context is scored in consecutive windows', async () => {
  // A bigram model needs one token of context, so windowed scoring must equal the direct sum.
  const m = new BigramScorer(TRAIN, 4);
  const [r] = await loglikelihoods(m, [{ context: 'a', continuation: 'bcdefghij' }]);
  const ctx = m.encode('a');
  const cont = m.encode('abcdefghij').slice(ctx.length);
  assert.ok(cont.length > 4, 'the continuation is longer than the context');
  assert.equal(r!.tokens, cont.length);
  close(r!.ll, m.llOf(ctx.at(-1)!, cont));
  assert.deepEqual(
    scoringWindows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 4).map((w) => [w.seq, w.predict]),
    [
      [[0, 1, 2, 3, 4], 4],
      [[4, 5, 6, 7, 8], 4],
      [[5, 6, 7, 8, 9], 1],
    ],
  );
});
