/**
 * End-to-end conformance with AlpacaEval's own judgements: claude-2's real outputs are judged by a
 * server that replays the real GPT-4 Turbo completions from claude-2's published annotations
 * (mirrored, m ↔ M, when Sluice shows the pair in the other order than AlpacaEval did). Every
 * preference Sluice writes must equal AlpacaEval's: the prompt fill, order, parse and unswap
 * together. `JUDGE_REPLAY_N` sets how many instructions (default 120; all 805: `JUDGE_REPLAY_N=805`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath, needData } from '../../helpers/data.ts';
import { startScriptedServer } from '../../helpers/openai-server.ts';
import { runJudge } from '../../../evals/judge/run.ts';
import { parseJudgement } from '../../../evals/judge/protocol.ts';
import type { ChatChoice } from '../../../llm/types.ts';

const skip = needData('alpaca-eval', 'annotations', 'claude-2', 'annotations.json');
const N = Number(process.env.JUDGE_REPLAY_N ?? 120);

interface Real {
  instruction: string;
  output_1: string;
  output_2: string;
  preference: number;
  raw_completion: ChatChoice | null;
}

/** The choice with the labels m and M exchanged (what the judge would say with the outputs swapped). */
function mirror(c: ChatChoice): ChatChoice {
  const flip = (t: string) => (t === 'm' ? 'M' : t === 'M' ? 'm' : t);
  const content = c.logprobs!.content!.map((x) => ({ ...x, token: flip(x.token), top_logprobs: x.top_logprobs.map((t) => ({ ...t, token: flip(t.token) })) }));
  return { ...c, message: { ...c.message, content: flip(c.message.content ?? '') }, logprobs: { content } };
}

test(`replaying AlpacaEval's judge on claude-2 reproduces its preferences (${N} instructions)`, { skip }, async () => {
  const real = (JSON.parse(readFileSync(dataPath('alpaca-eval', 'annotations', 'claude-2', 'annotations.json'), 'utf8')) as Real[]).filter((r) => r.raw_completion);
  const byInstruction = new Map(real.map((r) => [r.instruction, r]));
  const baseline = JSON.parse(readFileSync(dataPath('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json'), 'utf8')) as Array<{ instruction: string }>;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-replay-'));
  // The evaluation set: the first N baseline instructions that have a real raw completion.
  const subset = baseline.filter((b) => byInstruction.has(b.instruction)).slice(0, N);
  writeFileSync(join(dir, 'baseline.json'), JSON.stringify(subset));
  writeFileSync(join(dir, 'outputs.json'), JSON.stringify(subset.map((b) => ({ instruction: b.instruction, output: byInstruction.get(b.instruction)!.output_2, generator: 'claude-2' }))));
  const srv = await startScriptedServer((q) => {
    const prompt: string = q.body.messages[1].content;
    const ins = /"instruction": """([\s\S]*?)""",\n}/.exec(prompt)![1]!;
    const r = byInstruction.get(ins)!;
    const raw = r.raw_completion!;
    const p = parseJudgement(raw);
    assert.ok(p.ok);
    const theySwapped = Math.abs(p.preference - r.preference) > 1e-9;
    // Sluice's order: the model's output shown first when it comes first in the prompt.
    const weSwapped = prompt.indexOf(`"""${r.output_2}"""`) < prompt.indexOf(`"""${r.output_1}"""`);
    const choice = theySwapped === weSwapped ? raw : mirror(raw);
    return { body: { id: 'replay', object: 'chat.completion', model: 'gpt-4-1106-preview', choices: [choice] } };
  });
  try {
    const res = await runJudge({ baseline: join(dir, 'baseline.json'), template: dataPath('alpaca-eval', 'alpaca_eval_clf.txt'), judge: { endpoint: srv.baseUrl, model: 'gpt-4-1106-preview' }, model: { outputs: join(dir, 'outputs.json') }, cache: join(dir, 'c.jsonl'), concurrency: 8 });
    assert.equal(res.annotations.length, subset.length);
    assert.equal(res.summary.unparseable, 0);
    let maxErr = 0;
    for (const a of res.annotations) maxErr = Math.max(maxErr, Math.abs(a.preference! - byInstruction.get(a.instruction)!.preference));
    assert.ok(maxErr < 1e-9, `largest difference ${maxErr}`);
    assert.ok(res.summary.modelFirst > 0 && res.summary.modelFirst < subset.length);
  } finally {
    await srv.close();
  }
});
