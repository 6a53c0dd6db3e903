/**
 * A judge run end to end over real HTTP: the first instructions of AlpacaEval's evaluation set and
 * its real prompt, a generator and a judge served by a small node:http server (the judge prefers
 * the longer answer with P = 0.8, given as top_logprobs). Checks the preferences come back in the
 * baseline = 1 / model = 2 frame whatever order the judge saw, the AlpacaEval record fields, that a
 * re-run makes no call, that a run aborted midway resumes with only the missing calls, and that
 * an unreadable judge answer is recorded as such.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath, needData } from '../../helpers/data.ts';
import { runCli, startCli } from '../../helpers/cli.ts';
import { startScriptedServer, chatCompletion, type SeenRequest } from '../../helpers/openai-server.ts';
import { runJudge } from '../../../evals/judge/run.ts';

const skip = needData('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json');
const BASELINE = dataPath('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json');
const TEMPLATE = dataPath('alpaca-eval', 'alpaca_eval_clf.txt');
const N = 10;

const isJudge = (r: SeenRequest) => r.body.max_tokens === 1 && r.body.logprobs === true;

/** The two outputs the judge is shown, as m and M. */
function shown(r: SeenRequest): [string, string] {
  const text: string = r.body.messages[1].content;
  const grab = (id: string) => new RegExp(`"model_identifier": "${id}",\\s*"output": """([\\s\\S]*?)"""\\n`).exec(text)![1]!;
  return [grab('m'), grab('M')];
}

/** Generator: a short answer. Judge: prefers the longer shown output with P = 0.8; `odd` answers for some instructions. */
function handler(odd?: (r: SeenRequest) => unknown) {
  return (r: SeenRequest) => {
    if (!isJudge(r)) return { body: chatCompletion(`Short answer to: ${r.body.messages.at(-1).content.slice(0, 30)}`) };
    const special = odd?.(r);
    if (special) return { body: special };
    const [m, M] = shown(r);
    const win = m.length >= M.length ? 'm' : 'M';
    const lose = win === 'm' ? 'M' : 'm';
    return { body: chatCompletion(win, [[win, Math.log(0.8)], [lose, Math.log(0.2)], ['The', -9]]) };
  };
}

test('judge run: generated answers judged against the baseline, order unswapped, AlpacaEval records; a re-run is free', { skip }, async () => {
  const srv = await startScriptedServer(handler());
  const cache = join(mkdtempSync(join(tmpdir(), 'sluice-judge-')), 'c.jsonl');
  const opts = { baseline: BASELINE, template: TEMPLATE, judge: { endpoint: srv.baseUrl, model: 'tiny-judge' }, model: { endpoint: srv.baseUrl, model: 'tiny-model' }, limit: N, seed: 3, cache };
  try {
    const r = await runJudge(opts);
    assert.equal(r.annotations.length, N);
    assert.equal(srv.seen.filter(isJudge).length, N);
    assert.equal(srv.seen.length, 2 * N);
    // The baseline (GPT-4 Turbo) answers are longer than "Short answer to: …": the judge prefers it, P = 0.8, in either order.
    for (const a of r.annotations) assert.ok(Math.abs(a.preference! - 1.2) < 1e-9, `${a.preference}`);
    assert.ok(r.summary.modelFirst > 0 && r.summary.modelFirst < N, `both orders used (${r.summary.modelFirst} model-first)`);
    // The judge saw the model first exactly for those instructions.
    const judged = srv.seen.filter(isJudge);
    const modelFirstSeen = judged.filter((q) => shown(q)[0].startsWith('Short answer')).length;
    assert.equal(modelFirstSeen, r.summary.modelFirst);
    const real = JSON.parse(readFileSync(dataPath('alpaca-eval', 'annotations', 'claude-2', 'annotations.json'), 'utf8'))[0];
    assert.deepEqual(Object.keys(r.annotations[0]!).sort(), Object.keys(real).sort());
    assert.equal(r.annotations[0]!.generator_1, 'gpt4_1106_preview');
    assert.equal(r.annotations[0]!.generator_2, 'tiny-model');
    assert.equal(r.annotations[0]!.dataset, real.dataset);
    assert.ok(['m', 'M'].includes(r.annotations[0]!.raw_completion!.message.content!));
    assert.deepEqual(r.summary.byMethod, { logprobs: N, text: 0 });
    // Re-run: nothing asked.
    const again = await runJudge(opts);
    assert.equal(srv.seen.length, 2 * N);
    assert.equal(again.summary.cacheHits, 2 * N);
    assert.deepEqual(again.annotations.map((a) => a.preference), r.annotations.map((a) => a.preference));
    // Another seed changes the order, so the judge is asked again.
    await runJudge({ ...opts, seed: 4 });
    assert.ok(srv.seen.filter(isJudge).length > N);
  } finally {
    await srv.close();
  }
});

test('judge run: aborted midway, the next run asks only what is missing', { skip }, async () => {
  const ac = new AbortController();
  let answered = 0;
  const base = handler();
  const srv = await startScriptedServer((r) => {
    if (isJudge(r) && !ac.signal.aborted) {
      if (answered === 4) {
        ac.abort(new Error('killed'));
        return { hang: true };
      }
      answered++;
    }
    return base(r);
  });
  const cache = join(mkdtempSync(join(tmpdir(), 'sluice-judge-')), 'c.jsonl');
  const opts = { baseline: BASELINE, template: TEMPLATE, judge: { endpoint: srv.baseUrl, model: 'tiny-judge' }, model: { endpoint: srv.baseUrl, model: 'tiny-model' }, limit: N, cache, concurrency: 1 };
  try {
    await assert.rejects(runJudge({ ...opts, signal: ac.signal }), /killed/);
    const before = srv.seen.filter(isJudge).length;
    assert.equal(before, 5);
    const r = await runJudge(opts);
    assert.equal(srv.seen.filter(isJudge).length - before, N - 4, 'only the 6 unanswered judgements are asked');
    assert.equal(r.annotations.filter((a) => a.preference !== null).length, N);
  } finally {
    await srv.close();
  }
});

test('judge run: unreadable answers are recorded with their reason; the text fallback is unswapped too', { skip }, async () => {
  const odd = (r: SeenRequest) => {
    const ins: string = r.body.messages[1].content;
    if (ins.includes('"""What are the names of some famous actors')) return chatCompletion('I think both are good');
    const [m] = shown(r);
    // No logprobs: the answer names the model's output by its label.
    return chatCompletion(m.startsWith('Short answer') ? 'm' : 'M');
  };
  const srv = await startScriptedServer(handler(odd));
  const cache = join(mkdtempSync(join(tmpdir(), 'sluice-judge-')), 'c.jsonl');
  try {
    const r = await runJudge({ baseline: BASELINE, template: TEMPLATE, judge: { endpoint: srv.baseUrl, model: 'j' }, model: { endpoint: srv.baseUrl, model: 'g' }, limit: 4, cache });
    const bad = r.annotations.filter((a) => a.preference === null);
    assert.equal(bad.length, 1);
    assert.match(bad[0]!.parse_error!, /no log-probabilities, and the answer "I think both are good"/);
    assert.ok(r.annotations.filter((a) => a.preference !== null).every((a) => a.preference === 2 && a.parse_error === undefined));
    assert.deepEqual(r.summary.byMethod, { logprobs: 0, text: 3 });
    assert.equal(r.summary.unparseable, 1);
  } finally {
    await srv.close();
  }
});

test('sluice judge run --outputs: writes annotations.json, model_outputs.json, judge-run.json', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-judge-cli-'));
  const baseline = JSON.parse(readFileSync(BASELINE, 'utf8')).slice(0, 3);
  const outputs = baseline.slice(0, 2).map((b: { instruction: string }) => ({ instruction: b.instruction, output: 'x'.repeat(5000), generator: 'verbose-model' }));
  writeFileSync(join(dir, 'outputs.json'), JSON.stringify(outputs));
  const srv = await startScriptedServer(handler());
  try {
    const res = await runCli(['judge', 'run', '--baseline', BASELINE, '--template', TEMPLATE, '--judge-endpoint', srv.baseUrl, '--judge-model', 'j', '--outputs', join(dir, 'outputs.json'), '--limit', '3', '--cache', join(dir, 'c.jsonl'), '--out', join(dir, 'out'), '--json'], { cwd: dir, env: { OPENAI_API_KEY: 'sk-never-printed-123' } });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(!(res.stdout + res.stderr).includes('sk-never-printed-123'));
    const summary = JSON.parse(res.stdout);
    assert.equal(summary.judged, 2);
    assert.equal(summary.skipped.length, 1);
    assert.match(summary.skipped[0].reason, /not in .*outputs\.json/);
    const ann = JSON.parse(readFileSync(join(dir, 'out', 'annotations.json'), 'utf8'));
    // The model's 5,000-character answers are the longer ones: preferred with P = 0.8.
    assert.equal(ann.length, 2);
    for (const a of ann) assert.ok(Math.abs(a.preference - 1.8) < 1e-9, `${a.preference}`);
    assert.equal(ann[0].generator_2, 'verbose-model');
    assert.equal(JSON.parse(readFileSync(join(dir, 'out', 'model_outputs.json'), 'utf8')).length, 2);
    assert.equal(srv.seen[0]!.headers.authorization, 'Bearer sk-never-printed-123');
    const bad = await runCli(['judge', 'run', '--baseline', BASELINE], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--template is required/);
  } finally {
    await srv.close();
  }
});

test('judge run: a call that fails for good stops the run; what was answered stays cached', { skip }, async () => {
  const base = handler();
  let judged = 0;
  const srv = await startScriptedServer((r) => {
    if (isJudge(r) && ++judged === 3) return { status: 401, body: { error: { message: 'Incorrect API key provided' } } };
    return base(r);
  });
  const cache = join(mkdtempSync(join(tmpdir(), 'sluice-judge-')), 'c.jsonl');
  try {
    await assert.rejects(runJudge({ baseline: BASELINE, template: TEMPLATE, judge: { endpoint: srv.baseUrl, model: 'j' }, model: { endpoint: srv.baseUrl, model: 'g' }, limit: N, cache, concurrency: 1 }), /HTTP 401: Incorrect API key provided/);
    assert.equal(srv.seen.filter(isJudge).length, 3, 'no judge call after the failure');
  } finally {
    await srv.close();
  }
});

test('judge run: a request refused for its content (400, over the context length) is recorded for that item; the run goes on', { skip }, async () => {
  const base = handler();
  let judged = 0;
  const srv = await startScriptedServer((r) => {
    if (isJudge(r) && ++judged === 2) return { status: 400, body: { error: { message: "This model's maximum context length is 48 tokens", code: 'context_length_exceeded' } } };
    return base(r);
  });
  const cache = join(mkdtempSync(join(tmpdir(), 'sluice-judge-')), 'c.jsonl');
  try {
    const opts = { baseline: BASELINE, template: TEMPLATE, judge: { endpoint: srv.baseUrl, model: 'j' }, model: { endpoint: srv.baseUrl, model: 'g' }, limit: 4, cache, concurrency: 1 };
    const r = await runJudge(opts);
    const bad = r.annotations.filter((a) => a.preference === null);
    assert.equal(bad.length, 1);
    assert.match(bad[0]!.parse_error!, /^the endpoint rejected the request: .*HTTP 400: This model's maximum context length is 48 tokens/);
    assert.equal(r.summary.judged, 3);
    // Not cached: a re-run asks for that one again (and now gets an answer).
    const again = await runJudge(opts);
    assert.equal(again.summary.judged, 4);
    assert.equal(again.summary.calls, 1);
  } finally {
    await srv.close();
  }
});

test('sluice judge run killed with SIGKILL mid-run: the next run asks only what the cache lacks', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-judge-kill-'));
  const baseline = JSON.parse(readFileSync(BASELINE, 'utf8')).slice(0, N);
  writeFileSync(join(dir, 'outputs.json'), JSON.stringify(baseline.map((b: { instruction: string }) => ({ instruction: b.instruction, output: 'short', generator: 'm' }))));
  const base = handler();
  let answered = 0;
  let hold = true;
  let onFifth: () => void = () => {};
  const fifth = new Promise<void>((ok) => (onFifth = ok));
  const srv = await startScriptedServer((r) => {
    if (hold && answered === 4) {
      onFifth();
      return { hang: true };
    }
    answered++;
    return base(r);
  });
  const args = ['judge', 'run', '--baseline', BASELINE, '--template', TEMPLATE, '--judge-endpoint', srv.baseUrl, '--judge-model', 'j', '--outputs', join(dir, 'outputs.json'), '--limit', String(N), '--concurrency', '1', '--cache', join(dir, 'c.jsonl'), '--out', join(dir, 'out'), '--json'];
  try {
    const run = startCli(args, { cwd: dir });
    await fifth;
    process.kill(-run.child.pid!, 'SIGKILL');
    const killed = await run.done;
    assert.equal(killed.signal, 'SIGKILL');
    const stored = readFileSync(join(dir, 'c.jsonl'), 'utf8').split('\n').filter(Boolean).length;
    // Concurrency 1: each answer is on disk before the next request goes out.
    assert.equal(stored, 4);
    hold = false;
    const before = srv.seen.length;
    const res = await runCli(args, { cwd: dir });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(srv.seen.length - before, N - stored, 'only the judgements the cache lacks are asked');
    const summary = JSON.parse(res.stdout);
    assert.equal(summary.judged, N);
    assert.equal(summary.cacheHits, stored);
  } finally {
    await srv.close();
  }
});
