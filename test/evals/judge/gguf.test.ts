/**
 * The local GGUF judge (llm/gguf.ts): a GGUF written by `sluice export` from a tiny GPT the test
 * builds, run by llama.cpp through node-llama-cpp, checked against Sluice's own scorer (tfjs) on
 * the same prompt tokens, and used by `sluice judge run --judge-gguf`.
 *
 * The model's weights are drawn, then built so the labels `m` and `M` lead its next-token
 * distribution at every position (the head's columns for them point along ln_f's bias, the other
 * columns are scaled down), with a random part that makes P(m) differ from prompt to prompt. So
 * the judge's top_logprobs hold both labels and every preference comes from the logprob parser.
 * Tolerance 5e-3 on log-probabilities: llama.cpp evaluates GELU through an fp16 table and keeps an
 * F16 KV cache by default (the export tests measured 4.1e-3 with the table alone).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fullModelConfig, type FullModelConfig } from '../../../formats/model.ts';
import { tokenizerFiles } from '../../../operators/tokenize/load.ts';
import { BUILTIN_TEMPLATES, resolveTemplate } from '../../../operators/chat/template.ts';
import { writeModelCheckpoint } from '../../../trainer/checkpoint.ts';
import { Rng } from '../../../trainer/tfjs/rng.ts';
import { chatFormat } from '../../../serve/chat-format.ts';
import { GgufClient } from '../../../llm/gguf.ts';
import { EndpointError } from '../../../llm/client.ts';
import { fillPrompt, modelFirst, parseChatmlTemplate, unswap } from '../../../evals/judge/protocol.ts';
import type { ChatMessage } from '../../../formats/chat.ts';
import { fixtureTokenizer, fixtureWeights, sluiceModel } from '../../trainer/helpers/export-fixture.ts';
import { runMain } from '../../helpers/main.ts';
import { tempProject, writePipeline } from '../../helpers/cli.ts';
import { REPO } from '../../helpers/data.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import { evaluate } from '../../../index.ts';

const TOL = 5e-3;
const dir = mkdtempSync(join(tmpdir(), 'sluice-gguf-judge-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const tok = fixtureTokenizer();
const label = (s: string) => {
  const ids = [...tok.encode(s)];
  assert.equal(ids.length, 1, `'${s}' is one token`);
  return ids[0]!;
};
const M_LOWER = label('m');
const M_UPPER = label('M');
const JUDGE_PROMPT = '<|im_start|>user\n{instruction}? m: {output_1} M: {output_2}<|im_end|>';
const INSTRUCTIONS = ['cat', 'dog', 'bird', 'fox'];
const EOT_TEXT = Buffer.from(tok.tokenBytes(tok.eotId!)).toString('utf8');

let c: FullModelConfig;
let weights: ReturnType<typeof fixtureWeights>;
let gguf = '';
let noTemplate = '';
let sluice: Awaited<ReturnType<typeof sluiceModel>>;

/** The drawn fixture weights with the head built so `m` and `M` lead (see the module comment). */
function judgeWeights(cfg: FullModelConfig): ReturnType<typeof fixtureWeights> {
  const w = fixtureWeights(cfg, 5);
  const d = cfg.dModel;
  const V = cfg.vocabSize;
  const rng = new Rng(17);
  const u = Float32Array.from({ length: d }, () => rng.normal());
  const norm = Math.hypot(...u);
  for (let i = 0; i < d; i++) u[i]! /= norm;
  w.get('ln_f.bias')!.data.set(u.map((x) => 6 * x));
  const head = w.get('lm_head.weight')!.data; // [d, V]
  for (let i = 0; i < d; i++) {
    for (let v = 0; v < V; v++) head[i * V + v]! *= 0.3;
    head[i * V + M_LOWER] = 3 * u[i]! + 0.5 * rng.normal();
    head[i * V + M_UPPER] = 3 * u[i]! + 0.5 * rng.normal();
  }
  return w;
}

before(async () => {
  c = fullModelConfig({ vocabSize: tok.vocabSize, contextLength: 128, layers: 2, dModel: 32, heads: 4, tiedHead: false });
  weights = judgeWeights(c);
  const ck = join(dir, 'tiny-judge');
  mkdirSync(ck, { recursive: true });
  for (const [f, text] of Object.entries(tokenizerFiles(tok.definition))) writeFileSync(join(ck, f), text);
  // The tokenizer's own chat template: `sluice export` embeds it as tokenizer.chat_template.
  writeFileSync(join(ck, 'chat_template.jinja'), BUILTIN_TEMPLATES.chatml);
  await writeModelCheckpoint(ck, { format: 'sluice.gpt/1', model: c, backend: 'tfjs', step: 0, tokens: 0, finalLoss: null, valLoss: null, eotToken: tok.eotId!, tokenizer: '.' }, weights);
  gguf = join(dir, 'tiny-judge.gguf');
  const r = await runMain(['export', ck, '--format', 'gguf', '--out', gguf], dir);
  assert.equal(r.code, 0, r.stderr);
  sluice = await sluiceModel(c, weights);
  // A checkpoint whose tokenizer has no chat template: its GGUF has none either.
  const nt = join(dir, 'no-template');
  mkdirSync(nt, { recursive: true });
  for (const [f, text] of Object.entries(tokenizerFiles(tok.definition))) writeFileSync(join(nt, f), text);
  const small = fullModelConfig({ vocabSize: tok.vocabSize, contextLength: 64, layers: 1, dModel: 8, heads: 2 });
  await writeModelCheckpoint(nt, { format: 'sluice.gpt/1', model: small, backend: 'tfjs', step: 0, tokens: 0, finalLoss: null, valLoss: null, eotToken: tok.eotId!, tokenizer: '.' }, fixtureWeights(small, 1));
  noTemplate = join(dir, 'no-template.gguf');
  assert.equal((await runMain(['export', nt, '--format', 'gguf', '--out', noTemplate], dir)).code, 0);
});
after(() => sluice?.dispose());

/** Sluice's side: the chat prompt rendered as `sluice serve` renders it, its token ids, and the next-token log-probabilities. */
function sluiceNext(messages: ChatMessage[]): { ids: number[]; lp: Float32Array } {
  const text = chatFormat(resolveTemplate('chatml'), EOT_TEXT).render(messages);
  const ids = Array.from(tok.encode(text, { allowedSpecial: 'all' }));
  return { ids, lp: sluice.nextLogprobs(ids) };
}

const judgeMessages = (instruction: string, first: string, second: string) => fillPrompt(parseChatmlTemplate(JUDGE_PROMPT), { instruction, output_1: first, output_2: second });

test("GgufClient: the GGUF's chat template, Sluice's prompt tokens, a greedy one-token answer, top_logprobs as Sluice's scorer gives them", async (t) => {
  const client = await GgufClient.open({ path: gguf, gpu: false, threads: 1 });
  try {
    assert.equal(client.model, 'tiny-judge');
    const tpl = await client.template();
    assert.equal(tpl.source, BUILTIN_TEMPLATES.chatml, 'the template is the one sluice export embedded');
    assert.match(tpl.name, /tokenizer\.chat_template/);
    let maxDiff = 0;
    const pms = new Set<string>();
    for (const w of INSTRUCTIONS) {
      const messages = judgeMessages(w, `the ${w}`, `a ${w} ran`);
      const ours = sluiceNext(messages);
      assert.deepEqual(await client.promptTokens(messages), ours.ids, 'llama.cpp is given the tokens Sluice encodes');
      const r = await client.chat({ model: 'tiny-judge', messages, max_tokens: 1, temperature: 1, logprobs: true, top_logprobs: 5 });
      assert.ok(r.ok && !r.cached);
      const choice = r.value.choices[0]!;
      const top = choice.logprobs!.content![0]!.top_logprobs;
      assert.equal(choice.logprobs!.content!.length, 1);
      assert.equal(top.length, 5);
      // Greedy: the answer is the most likely token.
      assert.equal(choice.message.content, top[0]!.token);
      assert.equal(choice.finish_reason, 'length');
      assert.deepEqual(new Set(top.slice(0, 2).map((x) => x.token)), new Set(['m', 'M']), 'the built head makes m and M lead');
      for (const x of top) {
        assert.ok(x.bytes, `token ${JSON.stringify(x.token)} has bytes`);
        const ids = [...Array(c.vocabSize).keys()].filter((i) => Buffer.from(tok.tokenBytes(i)).equals(Buffer.from(x.bytes!)));
        assert.equal(ids.length, 1, `one id has the bytes of ${JSON.stringify(x.token)}`);
        maxDiff = Math.max(maxDiff, Math.abs(x.logprob - ours.lp[ids[0]!]!));
      }
      pms.add((ours.lp[M_LOWER]! - ours.lp[M_UPPER]!).toFixed(2));
    }
    t.diagnostic(`max |Δ log p| of the top-5 vs Sluice (tfjs): ${maxDiff.toExponential(2)}`);
    assert.ok(maxDiff < TOL, `top_logprobs differ from Sluice's by ${maxDiff}`);
    assert.ok(pms.size > 1, 'P(m) differs between prompts');
    // A prompt over the context is refused as an endpoint refuses it, and the client goes on.
    const long = judgeMessages('cat '.repeat(200), 'a', 'b');
    await assert.rejects(client.chat({ model: 'x', messages: long, max_tokens: 1 }), (e: unknown) => e instanceof EndpointError && e.requestRejected && e.code === 'context_length_exceeded' && /maximum context length is 128 tokens; the prompt has \d+/.test(e.message));
    const again = await client.chat({ model: 'x', messages: judgeMessages('cat', 'a', 'b'), max_tokens: 1 });
    assert.ok(again.ok);
    assert.equal(again.value.choices[0]!.logprobs, null, 'no logprobs unless asked');
  } finally {
    await client.close();
  }
});

test('sluice judge run --judge-gguf: annotations.json with preferences = 2 − P(m) from Sluice\'s log-probabilities, unswapped; a re-run is answered from the cache', async () => {
  const template = join(dir, 'tiny-judge.txt');
  writeFileSync(template, JUDGE_PROMPT);
  const baseline = join(dir, 'baseline.json');
  writeFileSync(baseline, JSON.stringify(INSTRUCTIONS.map((w) => ({ instruction: w, output: `the ${w}`, generator: 'base', dataset: 'tiny' }))));
  const outputs = join(dir, 'outputs.json');
  writeFileSync(outputs, JSON.stringify(INSTRUCTIONS.map((w) => ({ instruction: w, output: `a ${w} ran`, generator: 'tiny-model' }))));
  const out = join(dir, 'run');
  const args = ['judge', 'run', '--baseline', baseline, '--template', template, '--judge-gguf', gguf, '--outputs', outputs, '--out', out, '--cache', join(dir, 'cache.jsonl'), '--seed', '3', '--judge-threads', '1', '--json'];
  // The repository as working directory: node-llama-cpp tests its binary in a child process that
  // inherits node's --import tsx, which resolves from there.
  const r = await runMain(args, process.cwd());
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { judge: string; judged: number; unparseable: number; byMethod: { logprobs: number }; calls: number; modelFirst: number };
  assert.equal(s.judge, 'tiny-judge');
  assert.equal(s.judged, INSTRUCTIONS.length);
  assert.equal(s.byMethod.logprobs, INSTRUCTIONS.length);
  assert.equal(s.calls, INSTRUCTIONS.length);
  assert.ok(s.modelFirst > 0 && s.modelFirst < INSTRUCTIONS.length, 'both orders occur with seed 3');
  const ann = JSON.parse(readFileSync(join(out, 'annotations.json'), 'utf8')) as Array<{ instruction: string; output_1: string; output_2: string; generator_2: string; annotator: string; preference: number }>;
  assert.equal(ann.length, INSTRUCTIONS.length);
  for (const a of ann) {
    assert.equal(a.annotator, 'weighted_alpaca_eval_gpt4_turbo/tiny-judge');
    assert.equal(a.generator_2, 'tiny-model');
    const swapped = modelFirst(3, a.instruction);
    const { lp } = sluiceNext(swapped ? judgeMessages(a.instruction, a.output_2, a.output_1) : judgeMessages(a.instruction, a.output_1, a.output_2));
    const pm = 1 / (1 + Math.exp(lp[M_UPPER]! - lp[M_LOWER]!));
    assert.ok(Math.abs(a.preference - unswap(2 - pm, swapped)) < TOL, `${a.instruction}: preference ${a.preference} vs Sluice's ${unswap(2 - pm, swapped)}`);
  }
  const again = await runMain(args, process.cwd());
  assert.equal(again.code, 0, again.stderr);
  const s2 = JSON.parse(again.stdout) as { calls: number; cacheHits: number };
  assert.equal(s2.calls, 0);
  assert.equal(s2.cacheHits, INSTRUCTIONS.length);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'annotations.json'), 'utf8')).map((a: { preference: number }) => a.preference), ann.map((a) => a.preference));
});

test('--judge-gguf: a GGUF without a chat template is a clear error (from its header); the flag excludes --judge-endpoint', async () => {
  const file = noTemplate;
  await assert.rejects(GgufClient.open({ path: file, gpu: false }), /no-template\.gguf: has no tokenizer\.chat_template; give a chat template/);
  const bad = await runMain(['judge', 'run', '--baseline', 'b', '--template', 't', '--judge-gguf', file, '--judge-endpoint', 'http://127.0.0.1:1/v1', '--outputs', 'o', '--out', 'x'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--judge-serve, --judge-endpoint and --judge-gguf exclude each other/);
});

test('evaluate(null, { judge: { gguf, chatTemplate } }) in `sluice run`: a GGUF without a template judges with the one given, annotations.json written; the GGUF is in the fingerprint', async () => {
  const template = join(dir, 'tiny-judge.txt');
  writeFileSync(template, JUDGE_PROMPT);
  const baseline = join(dir, 'baseline-eval.json');
  writeFileSync(baseline, JSON.stringify(INSTRUCTIONS.slice(0, 2).map((w) => ({ instruction: w, output: `the ${w}`, generator: 'base' }))));
  const outputs = join(dir, 'outputs-eval.json');
  writeFileSync(outputs, JSON.stringify(INSTRUCTIONS.slice(0, 2).map((w) => ({ instruction: w, output: `a ${w} sat`, generator: 'm2' }))));
  const proj = tempProject('sluice-gguf-eval-');
  // Without chatTemplate this GGUF is refused (test above); with it, the stage runs.
  const judge = { gguf: { path: noTemplate, threads: 1 }, chatTemplate: 'chatml', template, baseline, outputs, cache: join(proj, 'cache.jsonl') };
  const pipelineFile = writePipeline(proj, 'pipeline.ts', `import { evaluate } from ${JSON.stringify(join(REPO, 'index.ts'))};
export default pipeline({ name: 'ggufjudge', workdir: ${JSON.stringify(join(proj, 'runs'))} }, (p) => { p.stage('eval', evaluate(null, { judge: ${JSON.stringify(judge)} })); });`);
  try {
    // The repository as working directory, as above.
    const r = await runMain(['run', pipelineFile, '--json'], process.cwd());
    assert.equal(r.code, 0, r.stderr);
    const ev = (JSON.parse(r.stdout) as RunSummary).stages.find((s) => s.stage === 'eval')!;
    const ann = JSON.parse(readFileSync(join(ev.dir, 'annotations.json'), 'utf8')) as Array<{ annotator: string; preference: number | null; parse_error?: string; raw_completion: { logprobs: { content: Array<{ top_logprobs: unknown[] }> } } }>;
    assert.equal(ann.length, 2);
    for (const a of ann) {
      assert.equal(a.annotator, 'weighted_alpaca_eval_gpt4_turbo/no-template');
      // A drawn (not built) model: m or M may be missing from its top 5, which is recorded as such.
      if (a.preference === null) assert.match(a.parse_error!, /neither 'm' nor 'M' among the top log-probabilities/);
      else assert.ok(a.preference >= 1 && a.preference <= 2);
      assert.equal(a.raw_completion.logprobs.content[0]!.top_logprobs.length, 5);
    }
    const info = JSON.parse(readFileSync(join(ev.dir, 'manifest.json'), 'utf8')).info.judge as { judge: string; judged: number; unparseable: number };
    assert.equal(info.judge, 'no-template');
    assert.equal(info.judged + info.unparseable, 2);
    const st = evaluate(null, { judge });
    assert.match(JSON.stringify((st.config as { judge: { gguf: { file: string } } }).judge.gguf.file), /^"[0-9a-f]{16}"$/);
    assert.throws(() => evaluate(null, { judge: { ...judge, endpoint: 'http://127.0.0.1:1/v1' } }), /judge\.checkpoint, judge\.endpoint and judge\.gguf exclude each other/);
    assert.throws(() => evaluate(null, { judge: { ...judge, gguf: join(dir, 'nope.gguf') } }), /judge\.gguf .*nope\.gguf: no such file/);
    assert.throws(() => evaluate(null, { judge: { ...judge, gguf: { path: '' } } }), /judge\.gguf must be a \.gguf file path or \{ path/);
  } finally {
    rmSync(proj, { recursive: true, force: true });
  }
});
