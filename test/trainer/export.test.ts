/**
 * `sluice export`: GGUF loaded and run by llama.cpp itself (node-llama-cpp's prebuilt binary), and
 * the Hugging Face GPT-2 directory read back with numpy (a GPT-2 forward pass over the exported
 * tensors and config.json). Fixture: a tiny checkpoint written by the test (helpers/export-fixture.ts).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, readGgufFileInfo, type Llama } from 'node-llama-cpp';
import type { FullModelConfig } from '../../formats/model.ts';
import { f32ToF16 } from '../../formats/gguf.ts';
import { BpeTokenizer } from '../../operators/tokenize/bpe/tokenizer.ts';
import { readModelCheckpoint } from '../../trainer/checkpoint.ts';
import { exportCheckpoint } from '../../trainer/export/index.ts';
import { fixtureTokenizer, sluiceModel, writeFixtureCheckpoint } from './helpers/export-fixture.ts';
import { runMain } from '../helpers/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const tok = fixtureTokenizer();
const PROMPTS = ['The quick brown', "It's a truth", 'Numbers like 12', 'Sluice builds', 'To be, or not'];
const STEPS = 16;

let llamaP: Promise<Llama> | undefined;
// CPU only, never a source build: the test runs the prebuilt binary the package ships.
const llama = () => (llamaP ??= getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error }));
after(async () => (llamaP ? (await llamaP).dispose() : undefined));

/** llama.cpp's view of a GGUF file: its tokenization of each prompt, greedy continuation, first next-token log-probabilities. */
async function runLlama(path: string, prompts: string[]) {
  const model = await (await llama()).loadModel({ modelPath: path });
  // F32 KV cache and no flash attention: llama.cpp's default F16 cache would round K and V.
  const ctx = await model.createContext({ contextSize: 64, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32', threads: 1 });
  const out: Array<{ ids: number[]; greedy: number[]; logprobs: Map<number, number> }> = [];
  for (const p of prompts) {
    const ids = model.tokenize(p);
    const seq = ctx.getSequence();
    const greedy: number[] = [];
    for await (const t of seq.evaluate(ids, { temperature: 0 })) {
      greedy.push(t);
      if (greedy.length === STEPS) break;
    }
    await seq.clearHistory();
    let logprobs = new Map<number, number>();
    // temperature 1 with no top-k/top-p/min-p cut: the probabilities are the softmax of the logits.
    for await (const o of seq.evaluateWithMetadata(ids, { probabilities: true }, { temperature: 1, topK: 0, topP: 1, minP: 0 })) {
      logprobs = new Map([...o.probabilities].map(([t, pr]) => [t as number, Math.log(pr)]));
      break;
    }
    seq.dispose();
    out.push({ ids: [...ids], greedy, logprobs });
  }
  await ctx.dispose();
  await model.dispose();
  return out;
}

/** Exports `ckpt` as GGUF and checks llama.cpp against Sluice on the five prompts; returns the largest log-probability difference. */
async function checkGguf(ckpt: string, c: FullModelConfig, file: string, opts: { dtype?: 'f32' | 'f16'; minMargin: number }) {
  const r = await exportCheckpoint(ckpt, { format: 'gguf', out: file, ...(opts.dtype ? { dtype: opts.dtype } : {}) });
  assert.deepEqual(r.notes, []);
  const { tensors } = await readModelCheckpoint(ckpt);
  const sluice = await sluiceModel(c, tensors);
  try {
    const theirs = await runLlama(file, PROMPTS);
    let maxDiff = 0;
    for (const [i, p] of PROMPTS.entries()) {
      const ids = Array.from(tok.encode(p));
      assert.deepEqual(theirs[i]!.ids, ids, `llama.cpp tokenizes ${JSON.stringify(p)} as Sluice does`);
      const ours = sluice.greedy(ids, STEPS);
      // The check can only fail on a real difference: Sluice's top-1 beats its top-2 by more than
      // the float noise between the two implementations at every step.
      assert.ok(ours.minMargin > opts.minMargin, `prompt ${i}: Sluice's smallest top-1/top-2 margin ${ours.minMargin} ≤ ${opts.minMargin}`);
      assert.deepEqual(theirs[i]!.greedy, ours.tokens, `greedy continuation of ${JSON.stringify(p)}`);
      const lp = sluice.nextLogprobs(ids);
      assert.equal(theirs[i]!.logprobs.size, c.vocabSize);
      for (const [t, v] of theirs[i]!.logprobs) maxDiff = Math.max(maxDiff, Math.abs(v - lp[t]!));
    }
    return { result: r, maxDiff };
  } finally {
    sluice.dispose();
  }
}

test('export gguf: learned positions → llama.cpp gpt2; node-llama-cpp tokenizes and greedily continues 5 prompts exactly as Sluice', async (t) => {
  const ckpt = join(dir, 'learned');
  const c = await writeFixtureCheckpoint(ckpt, { contextLength: 64, layers: 2, dModel: 32, heads: 4 }, tok);
  const file = join(dir, 'learned.gguf');
  const { result, maxDiff } = await checkGguf(ckpt, c, file, { minMargin: 0.05 });
  assert.equal(result.gguf!.architecture, 'gpt2');
  t.diagnostic(`gpt2 f32: max |Δ log p| of the first token ${maxDiff.toExponential(2)}`);
  // Measured 4.1e-3 (logits spread ~±15 here): ggml evaluates GELU through an fp16 table.
  assert.ok(maxDiff < 0.02, `first-token log-probabilities differ by ${maxDiff}`);
  const info = await readGgufFileInfo(file);
  const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
  assert.equal(md.general!.architecture, 'gpt2');
  const tk = (md.tokenizer as { ggml: Record<string, unknown> }).ggml;
  assert.equal(tk.model, 'gpt2');
  assert.equal(tk.pre, 'gpt-2');
  assert.equal((tk.tokens as string[]).length, tok.vocabSize);
  assert.equal(tk.eos_token_id, tok.eotId);
  assert.equal(tk.bos_token_id, tok.eotId);
  assert.equal(tk.add_bos_token, false);
  assert.equal((tk.token_type as number[])[tok.eotId!], 3, 'end-of-text is a control token');
  assert.equal((tk.merges as string[]).length, tok.definition.merges!.length);
  assert.ok(!info.tensorInfo!.some((t) => t.name === 'output.weight'), 'a tied head is the token embedding');
});

test('export gguf: rotary, separate head, no biases, mlpRatio 3 → llama.cpp gptneox; the same 5 greedy continuations; --dtype f16 halves the matrices', async (t) => {
  const ckpt = join(dir, 'rotary');
  const c = await writeFixtureCheckpoint(ckpt, { contextLength: 64, layers: 2, dModel: 32, heads: 4, positions: 'rotary', tiedHead: false, bias: false, mlpRatio: 3 }, tok, 11);
  const file = join(dir, 'rotary.gguf');
  const { result, maxDiff } = await checkGguf(ckpt, c, file, { minMargin: 0.05 });
  assert.equal(result.gguf!.architecture, 'gptneox');
  t.diagnostic(`gptneox f32: max |Δ log p| of the first token ${maxDiff.toExponential(2)}`);
  assert.ok(maxDiff < 0.02, `first-token log-probabilities differ by ${maxDiff}`);
  const md = (await readGgufFileInfo(file)).metadata as unknown as Record<string, Record<string, unknown>>;
  assert.equal(md.gptneox!.use_parallel_residual, false);
  assert.equal((md.gptneox!.rope as Record<string, unknown>).dimension_count, 8);
  assert.equal(md.gptneox!.feed_forward_length, 96);

  const half = await checkGguf(ckpt, c, join(dir, 'rotary-f16.gguf'), { dtype: 'f16', minMargin: 0.05 });
  assert.ok(half.result.bytes < 0.6 * result.bytes, `f16 ${half.result.bytes} vs f32 ${result.bytes} bytes`);
  t.diagnostic(`gptneox f16: max |Δ log p| of the first token ${half.maxDiff.toExponential(2)}`);
  assert.ok(half.maxDiff < 0.05, `f16 first-token log-probabilities differ by ${half.maxDiff}`);
});

test('export gguf: rotary with a tied head → gptneox with output.weight a copy of the embedding; the same 5 greedy continuations', async () => {
  const ckpt = join(dir, 'rotary-tied');
  const c = await writeFixtureCheckpoint(ckpt, { contextLength: 64, layers: 2, dModel: 32, heads: 2, positions: 'rotary' }, tok, 8);
  const file = join(dir, 'rotary-tied.gguf');
  const { result, maxDiff } = await checkGguf(ckpt, c, file, { minMargin: 0.05 });
  assert.equal(result.gguf!.architecture, 'gptneox');
  assert.ok(maxDiff < 0.02, `first-token log-probabilities differ by ${maxDiff}`);
  const info = await readGgufFileInfo(file);
  const out = info.tensorInfo!.find((t) => t.name === 'output.weight')!;
  assert.deepEqual(out.dimensions.map(Number), [32, tok.vocabSize]);
});

/** Sluice's next-token log-probabilities after a few prefixes of each prompt, for the numpy reader. */
async function cases(ckpt: string, c: FullModelConfig) {
  const { tensors } = await readModelCheckpoint(ckpt);
  const s = await sluiceModel(c, tensors);
  try {
    return PROMPTS.map((p) => {
      const ids = Array.from(tok.encode(p));
      return { ids, logprobs: Array.from(s.nextLogprobs(ids)) };
    });
  } finally {
    s.dispose();
  }
}

function readBack(out: string, ckpt: string, cs: unknown) {
  const casesPath = join(out, '..', `${out.split('/').pop()}-cases.json`);
  writeFileSync(casesPath, JSON.stringify({ cases: cs }));
  const r = spawnSync('python3', [join(import.meta.dirname, 'helpers', 'read_hf_gpt2.py'), out, ckpt, casesPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as {
    metadata: Record<string, string>;
    names: string[];
    shapes: Record<string, number[]>;
    max_tensor_diff: number;
    extra: string[];
    zero_extra: boolean;
    max_logprob_diff: number;
    config: Record<string, unknown>;
    tokenizer_vocab: number;
  };
}

test('export safetensors (CLI): Hugging Face GPT-2 layout read back with numpy; a GPT-2 forward pass over it gives Sluice\'s log-probabilities', async (t) => {
  const ckpt = join(dir, 'hf-tied');
  const c = await writeFixtureCheckpoint(ckpt, { contextLength: 64, layers: 2, dModel: 32, heads: 4 }, tok, 3);
  const out = join(dir, 'hf-tied-out');
  const r = await runMain(['export', ckpt, '--format', 'safetensors', '--out', out], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote 6 files .* into .*hf-tied-out: config\.json, generation_config\.json, model\.safetensors, special_tokens_map\.json, tokenizer\.json, tokenizer_config\.json/);
  const back = readBack(out, ckpt, await cases(ckpt, c));
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.equal(back.max_tensor_diff, 0, 'tensors copied bit for bit');
  assert.deepEqual(back.extra, []);
  assert.ok(!back.names.includes('lm_head.weight'), 'tied head: no lm_head.weight');
  assert.deepEqual(back.shapes['transformer.h.1.attn.c_attn.weight'], [32, 96], 'Conv1D [in, out]');
  t.diagnostic(`numpy GPT-2 forward vs Sluice: max |Δ log p| ${back.max_logprob_diff.toExponential(2)}`);
  assert.ok(back.max_logprob_diff < 1e-4, `numpy GPT-2 vs Sluice: ${back.max_logprob_diff}`);
  const cfg = back.config;
  for (const [k, v] of Object.entries({ model_type: 'gpt2', vocab_size: tok.vocabSize, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 4, n_inner: 128, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, eos_token_id: tok.eotId, bos_token_id: tok.eotId })) assert.equal(cfg[k], v, `config.json ${k}`);
  assert.deepEqual(cfg.architectures, ['GPT2LMHeadModel']);
  assert.equal(back.tokenizer_vocab, tok.vocabSize);
  // The exported tokenizer.json is Sluice's own tokenizer, loadable and identical.
  const again = new BpeTokenizer((await import('../../operators/tokenize/bpe/hf-format.ts')).parseHfTokenizer(readFileSync(join(out, 'tokenizer.json'), 'utf8')));
  assert.equal(again.fingerprint, tok.fingerprint);
});

test('export safetensors: a separate head and no biases → lm_head.weight [vocab, d] and zero biases; the forward pass still matches', async () => {
  const ckpt = join(dir, 'hf-untied');
  const c = await writeFixtureCheckpoint(ckpt, { contextLength: 32, layers: 1, dModel: 16, heads: 2, tiedHead: false, bias: false, mlpRatio: 2 }, tok, 5);
  const out = join(dir, 'hf-untied-out');
  await exportCheckpoint(ckpt, { format: 'safetensors', out });
  const back = readBack(out, ckpt, await cases(ckpt, c));
  assert.deepEqual(back.shapes['lm_head.weight'], [tok.vocabSize, 16]);
  assert.equal(back.max_tensor_diff, 0);
  assert.equal(back.extra.length, 6 * 1 + 1, 'six biases per block and ln_f.bias');
  assert.ok(back.zero_extra);
  assert.equal(back.config.tie_word_embeddings, false);
  assert.equal(back.config.n_inner, 32);
  assert.ok(back.max_logprob_diff < 1e-4, `numpy GPT-2 vs Sluice: ${back.max_logprob_diff}`);
});

test('export: errors name what cannot be exported; usage errors exit 2', async () => {
  const rotary = join(dir, 'rotary-only');
  await writeFixtureCheckpoint(rotary, { contextLength: 16, layers: 1, dModel: 8, heads: 2, positions: 'rotary' }, tok);
  await assert.rejects(exportCheckpoint(rotary, { format: 'safetensors', out: join(dir, 'x') }), /model\.positions is 'rotary'; the Hugging Face GPT-2 layout has learned positions only \(export this model with --format gguf\)/);
  assert.ok(!existsSync(join(dir, 'x')));

  const noTok = join(dir, 'no-tokenizer');
  await writeFixtureCheckpoint(noTok, { vocabSize: 330, contextLength: 16, layers: 1, dModel: 8, heads: 2 }, null);
  await assert.rejects(exportCheckpoint(noTok, { format: 'gguf', out: join(dir, 'y.gguf') }), /records no tokenizer, and a GGUF file must embed one; pass --tokenizer/);
  assert.ok(!existsSync(join(dir, 'y.gguf')), 'nothing left behind');
  // --tokenizer supplies one (a tokenizer directory).
  const r = await exportCheckpoint(noTok, { format: 'gguf', out: join(dir, 'y.gguf'), tokenizer: join(dir, 'learned') });
  assert.equal(r.gguf!.vocab.size, 330, 'ids the tokenizer lacks are padded to the model vocabulary');
  assert.ok(statSync(join(dir, 'y.gguf')).size === r.bytes);

  const custom = join(dir, 'custom-pattern');
  const t = new BpeTokenizer({ ...tok.definition, pattern: '\\S+|\\s+' });
  await writeFixtureCheckpoint(custom, { contextLength: 16, layers: 1, dModel: 8, heads: 2 }, t);
  await assert.rejects(exportCheckpoint(custom, { format: 'gguf', out: join(dir, 'z.gguf') }), /pre-tokenisation pattern "\\\\S\+\|\\\\s\+" is not one llama\.cpp has built in/);

  const small = join(dir, 'small-vocab');
  await writeFixtureCheckpoint(small, { vocabSize: 100, contextLength: 16, layers: 1, dModel: 8, heads: 2 }, tok);
  await assert.rejects(exportCheckpoint(small, { format: 'gguf', out: join(dir, 'w.gguf') }), /the tokenizer has 320 ids but the model only 100 embedding rows/);

  // A checkpoint missing a tensor its config needs.
  const broken = join(dir, 'broken');
  await writeFixtureCheckpoint(broken, { contextLength: 16, layers: 1, dModel: 8, heads: 2 }, tok);
  const cfg = JSON.parse(readFileSync(join(broken, 'config.json'), 'utf8'));
  cfg.model.layers = 2;
  writeFileSync(join(broken, 'config.json'), JSON.stringify(cfg));
  await assert.rejects(exportCheckpoint(broken, { format: 'gguf', out: join(dir, 'v.gguf') }), /broken: tensor h\.1\.ln_1\.weight is missing/);

  const bad = await runMain(['export', rotary, '--format', 'onnx', '--out', 'x'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format must be gguf or safetensors \(got 'onnx'\)/);
  const noOut = await runMain(['export', rotary, '--format', 'gguf'], dir);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--out F is required/);
  const dtype = await runMain(['export', rotary, '--format', 'safetensors', '--dtype', 'f16', '--out', 'x'], dir);
  assert.equal(dtype.code, 2);
  const missing = await runMain(['export', join(dir, 'nope'), '--format', 'gguf', '--out', 'x.gguf'], dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope: not a model checkpoint \(no config\.json\)/);
});

test('export gguf: a word llama.cpp would tokenize differently is reported, and llama.cpp does tokenize it differently', async () => {
  // "abc" is a token, but the merge list (b c, a b, ab c) never builds it from its bytes: Sluice
  // looks whole words up first and gets [abc]; llama.cpp's gpt-2 pre-tokenizer only merges and
  // gets [a, bc].
  const tokens: Array<Uint8Array | undefined> = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const byte = (c: string) => c.charCodeAt(0);
  tokens[256] = Buffer.from('bc');
  tokens[257] = Buffer.from('ab');
  tokens[258] = Buffer.from('abc');
  const t = new BpeTokenizer({ name: 'odd', tokens, merges: [[byte('b'), byte('c')], [byte('a'), byte('b')], [257, byte('c')]], specials: { '<|endoftext|>': 259 }, pattern: 'gpt2', wholeTokenFirst: true });
  assert.deepEqual([...t.encode('abc')], [258]);
  const ckpt = join(dir, 'odd');
  await writeFixtureCheckpoint(ckpt, { contextLength: 16, layers: 1, dModel: 8, heads: 2 }, t);
  const r = await exportCheckpoint(ckpt, { format: 'gguf', out: join(dir, 'odd.gguf') });
  assert.equal(r.gguf!.vocab.differentTokens, 1);
  assert.deepEqual(r.notes, [`llama.cpp's tokenizer (pre-tokenizer gpt-2) encodes 1 vocabulary word(s) differently from Sluice's, e.g. "abc"; prompts holding them tokenize differently`]);
  const model = await (await llama()).loadModel({ modelPath: join(dir, 'odd.gguf'), vocabOnly: true });
  assert.deepEqual([...model.tokenize('abc')], [byte('a'), 256]);
  assert.deepEqual([...model.tokenize('ab bc')], [...t.encode('ab bc')], 'other words agree');
  await model.dispose();
});

test('gguf: f32ToF16 rounds as numpy float16 does (normals, subnormals, ties, overflow)', () => {
  assert.equal(f32ToF16(-0), 0x8000); // JSON has no -0
  const xs = [0, 1, -2.5, 65504, 65520, 1e6, 6.1e-5, 5.96e-8, 2.98e-8, 1e-9, 0.1, 1 / 3, 1.00048828125, 1.000732421875, 3.0e-6, -7.7e-6, 1234.567, Infinity, -Infinity];
  const r = spawnSync('python3', ['-c', 'import json,sys,numpy as np; print(json.dumps(np.array(json.loads(sys.argv[1]), dtype=np.float32).astype(np.float16).view(np.uint16).tolist()))', JSON.stringify(xs.map((x) => (Number.isFinite(x) ? x : x > 0 ? 1e39 : -1e39)))], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(xs.map(f32ToF16), JSON.parse(r.stdout));
});
