/**
 * The judge protocol against AlpacaEval's own material: the real prompt parses into its chat
 * messages, and on every real annotation with a raw completion (12 leaderboard models) the
 * preference Sluice reads from the logprobs is AlpacaEval's, in one of the two orders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dataPath, needData } from '../../helpers/data.ts';
import { fillPrompt, modelFirst, parseChatmlTemplate, parseJudgement, unswap } from '../../../evals/judge/protocol.ts';
import type { ChatChoice } from '../../../llm/types.ts';

const skip = needData('alpaca-eval', 'annotations');

test("AlpacaEval's prompt: a system and a user message; fields filled once, other braces kept", { skip }, () => {
  const msgs = parseChatmlTemplate(readFileSync(dataPath('alpaca-eval', 'alpaca_eval_clf.txt'), 'utf8'));
  assert.deepEqual(msgs.map((m) => m.role), ['system', 'user']);
  assert.match(msgs[0]!.content, /^You are a highly efficient assistant/);
  const filled = fillPrompt(msgs, { instruction: 'Say {output_2}', output_1: 'A', output_2: 'B' });
  assert.match(filled[1]!.content, /"instruction": """Say \{output_2\}""",/);
  assert.match(filled[1]!.content, /"model_identifier": "m",\n\s+"output": """A"""/);
  assert.match(filled[1]!.content, /"model_identifier": "M",\n\s+"output": """B"""/);
  assert.ok(filled[1]!.content.startsWith('I require a leaderboard'));
  assert.throws(() => parseChatmlTemplate('<|im_start|>user\n{instruction} {output_1}<|im_end|>', 't'), /\{output_2\} is missing/);
  assert.throws(() => parseChatmlTemplate('<|im_start|>robot\nx<|im_end|>', 't'), /unknown role 'robot'/);
  assert.throws(() => parseChatmlTemplate('no blocks here', 't'), /text before the first/);
});

test('logprob preference equals AlpacaEval’s on every real annotation (up to the order swap)', { skip }, () => {
  let n = 0;
  for (const model of readdirSync(dataPath('alpaca-eval', 'annotations'))) {
    const recs = JSON.parse(readFileSync(dataPath('alpaca-eval', 'annotations', model, 'annotations.json'), 'utf8')) as Array<{ preference: number; raw_completion: ChatChoice | null }>;
    for (const r of recs) {
      if (!r.raw_completion) continue;
      const p = parseJudgement(r.raw_completion);
      assert.ok(p.ok, `${model}: ${JSON.stringify(r.raw_completion).slice(0, 200)}`);
      const err = Math.min(Math.abs(unswap(p.preference, false) - r.preference), Math.abs(unswap(p.preference, true) - r.preference));
      assert.ok(err < 1e-6, `${model}: ours ${p.preference}, theirs ${r.preference}`);
      n++;
    }
  }
  assert.ok(n > 8000, `checked ${n} annotations`);
});

test('fallback parser: text m/M without logprobs; anything else is unparseable, with its reason', () => {
  const choice = (content: string | null, top?: Array<[string, number]>): ChatChoice => ({ index: 0, finish_reason: 'stop', message: { role: 'assistant', content }, logprobs: top ? { content: [{ token: top[0]![0], logprob: top[0]![1], top_logprobs: top.map(([token, logprob]) => ({ token, logprob })) }] } : null });
  assert.deepEqual(parseJudgement(choice(' m\n')), { ok: true, preference: 1, method: 'text' });
  assert.deepEqual(parseJudgement(choice('M')), { ok: true, preference: 2, method: 'text' });
  const bad = parseJudgement(choice('Model m is better'));
  assert.ok(!bad.ok && /is not 'm' or 'M'/.test(bad.reason));
  const none = parseJudgement(choice('The', [['The', -0.1], ['Based', -3]]));
  assert.ok(!none.ok && /neither 'm' nor 'M'/.test(none.reason));
  // Only M among the top: P(m) = 0, preference 2.
  assert.deepEqual(parseJudgement(choice('M', [['M', -0.01], ['The', -5]])), { ok: true, preference: 2, method: 'logprobs' });
  const p = parseJudgement(choice('m', [['m', Math.log(0.6)], ['M', Math.log(0.2)]]));
  assert.ok(p.ok && Math.abs(p.preference - 1.25) < 1e-12);
});

test('order: fixed by seed and instruction, about half swapped', () => {
  const ins = Array.from({ length: 400 }, (_, i) => `instruction ${i}`);
  const a = ins.map((s) => modelFirst(7, s));
  assert.deepEqual(a, ins.map((s) => modelFirst(7, s)));
  const swapped = a.filter(Boolean).length;
  assert.ok(swapped > 160 && swapped < 240, `${swapped} of 400`);
  assert.notDeepEqual(a, ins.map((s) => modelFirst(8, s)));
});
