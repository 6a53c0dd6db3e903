/**
 * The eval stage against a real trained model: a tiny GPT trained by the trainer (tfjs) for a few
 * steps on byte tokens, opened through the trainer's `openScorer`; held-out loss over `.bin` val
 * shards; token-level contamination over `.bin` train shards with a document index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainModel } from '../../trainer/api.ts';
import { openScorer } from '../../trainer/scorer.ts';
import { type ShardManifest } from '../../formats/shards.ts';
import { binHeader } from '../../formats/bin.ts';
import { evalTaskContext } from './helpers/eval-context.ts';
import type { Dataset, Json, Manifest } from '../../engine/types.ts';
import { evaluate } from '../../evals/stage.ts';
import type { ContaminationReport } from '../../evals/contamination/report.ts';
import { heldOutLoss, perplexity } from '../../evals/perplexity.ts';

const bytes = { encode: (t: string) => Uint8Array.from(Buffer.from(t, 'utf8')), eotId: 10 };
const ref = (name: string) => ({ kind: 'stage' as const, name, pipeline: 'p' });

function dataset(stage: string, dir: string, info?: Record<string, Json>): Dataset {
  const manifest: Manifest = { format: 'sluice.dataset/1', pipeline: 'p', stage, fingerprint: `fp-${stage}`, output: 'artifact', tasks: 1, files: [], rows: 0, bytes: 0, stats: { operators: {}, skipped: {} }, ...(info ? { info } : {}) };
  return { stage, dir, manifest, files: () => [], readDocs: () => (async function* () {})() };
}

function writeShard(dir: string, name: string, tokens: Uint8Array, starts: number[]) {
  const t = Uint16Array.from(tokens);
  writeFileSync(join(dir, `${name}.bin`), Buffer.concat([binHeader(t.length, 'uint16'), Buffer.from(t.buffer)]));
  writeFileSync(join(dir, `${name}.docs`), Buffer.from(Uint32Array.from(starts).buffer));
  return { uri: join(dir, `${name}.bin`), path: `${name}.bin`, docs: `${name}.docs`, sequences: 1, tokens: t.length, bytes: 0, sha256: '' };
}

test('evaluate with a trained tiny GPT: MC scores, held-out loss and token-level contamination over shards', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-eval-model-'));
  try {
    // Train on byte tokens of a small fixed text (20 steps, context 32).
    const text = 'the cat sat on the mat. the dog sat on the log. a cat and a dog ran to the pond.\n'.repeat(200);
    const trainBin = join(dir, 'train-corpus.bin');
    const tt = Uint16Array.from(Buffer.from(text));
    writeFileSync(trainBin, Buffer.concat([binHeader(tt.length, 'uint16'), Buffer.from(tt.buffer)]));
    const run = await trainModel({ model: { vocabSize: 256, contextLength: 32, layers: 1, dModel: 16, heads: 2 }, steps: 20, batchSize: 4, evalEvery: 20, evalBatches: 1, optimizer: { lr: 1e-2 }, data: { train: [trainBin], eotToken: 10 }, outDir: join(dir, 'model') });
    // Shards: a val shard of held-out text; a train shard of two docs, the second with a planted item.
    const bench = join(dir, 'bench.jsonl');
    const question = 'Which animal sat on the log near the quiet pond in the story?';
    writeFileSync(bench, JSON.stringify({ query: `Question: ${question}`, choices: ['the dog', 'the cat'], gold: 0 }) + '\n' + JSON.stringify({ query: 'Question: What did the cat sit on?', choices: ['the mat', 'the log'], gold: 0 }) + '\n');
    const held = Buffer.from('a dog and a cat sat on the mat by the pond.\n'.repeat(4));
    const doc1 = Buffer.from('the dog ran. ');
    const doc2 = Buffer.from(`notes: ${question} the dog. end`);
    const shardDir = join(dir, 'shards');
    (await import('node:fs')).mkdirSync(shardDir);
    const val = writeShard(shardDir, 'val-00000', held, [0]);
    const tr = writeShard(shardDir, 'train-00000', Buffer.concat([doc1, doc2]), [0, doc1.length]);
    const sm: ShardManifest = { format: 'sluice.tokens/1', layout: 'bin', dtype: 'uint16', seqLen: 32, vocabSize: 256, eotToken: 10, tokenizer: { name: 'bytes', fingerprint: 'x' }, shuffle: false, seed: 0, valFraction: 0.5, docs: 3, inputTokens: 0, droppedTokens: 0, sequences: { train: 1, val: 1 }, tokens: { train: tr.tokens, val: val.tokens }, train: [tr], val: [val] };
    const datasets = new Map<string, Dataset>([
      ['model', dataset('model', run.checkpoint)],
      ['shards', dataset('shards', shardDir, sm as unknown as Record<string, Json>)],
    ]);
    const pplFile = join(dir, 'ppl.txt');
    writeFileSync(pplFile, 'the cat sat on the log.\n\n\na dog ran to the mat and the pond.\n\nnot scored\n');
    const outDir = join(dir, 'eval');
    (await import('node:fs')).mkdirSync(outDir);
    const { ctx, base, info, logs } = evalTaskContext(outDir, datasets);
    const stage = evaluate(ref('model'), {
      benchmarks: [{ path: bench }],
      heldOut: ref('shards'),
      perplexity: [{ name: 'ppl-text', path: pplFile, split: 'paragraph', limit: 2 }],
      contamination: { against: [ref('shards')], ngram: 24, minLength: 40 },
      scorerOptions: { backend: 'tfjs', tokenizer: bytes },
    });
    await stage.run(ctx);
    base.dispose();
    // Scores equal a direct computation through the same checkpoint.
    const scorer = await openScorer(run.checkpoint, { backend: 'tfjs', tokenizer: bytes });
    const scores = JSON.parse(readFileSync(join(outDir, 'scores.json'), 'utf8')) as { heldOut: { loss: number; tokens: number }; items: Array<{ items: Array<{ lls: number[] }> }> };
    const direct = await heldOutLoss(scorer, [Uint16Array.from(held)]);
    const ppl = (scores as unknown as { perplexity: Record<string, { docs: number; bits_per_byte: { value: number }; word_perplexity: { value: number } }> }).perplexity['ppl-text']!;
    const pd = await perplexity(scorer, ['the cat sat on the log.', 'a dog ran to the mat and the pond.']);
    assert.equal(ppl.docs, 2);
    assert.ok(Math.abs(ppl.bits_per_byte.value - pd.bits_per_byte.value) < 1e-9);
    assert.ok(Math.abs(ppl.word_perplexity.value - pd.word_perplexity.value) < 1e-6);
    assert.ok(Math.abs(scores.heldOut.loss - direct.loss) < 1e-9, `${scores.heldOut.loss} vs ${direct.loss}`);
    assert.equal(scores.heldOut.tokens, direct.tokens);
    const q = [...Buffer.from(`Question: ${question}`)];
    const cont = [...Buffer.from(' the dog')];
    const [lp] = await scorer.logprobs([[...q, ...cont].slice(-33)]);
    const ll = Array.from(lp!.slice(lp!.length - cont.length)).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(scores.items[0]!.items[0]!.lls[0]! - ll) < 1e-6);
    await scorer.close();
    // Token-level contamination: the planted question is found in train doc 2 (offset = doc1 length).
    const rep = JSON.parse(readFileSync(join(outDir, 'contamination.json'), 'utf8')) as ContaminationReport;
    assert.equal(rep.method.unit, 'tokens');
    assert.deepEqual(rep.benchmarks[0]!.dirtyIds, ['bench/0']);
    assert.equal(rep.benchmarks[0]!.items.find((i) => i.dirty)!.sources[0]!.id, `train-00000.bin#${doc1.length}`);
    assert.ok(logs.some((l) => l.includes('| bench | acc (text) | 24 | 2 | 1 | 50.00% |')), logs.join('\n'));
    assert.ok(logs.some((l) => /eval held-out \(shards val\): loss \d/.test(l)));
    assert.equal((info.contamination as Array<{ dirty: number }>)[0]!.dirty, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
