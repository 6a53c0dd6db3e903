/** `sluice classify train|predict|eval`: fastText-compatible supervised classifiers outside a pipeline. */
import { once } from 'node:events';
import type { Command } from '../command.ts';
import { subcommands, UsageError } from '../command.ts';
import { intOption, parse } from '../args.ts';
import { lines } from '../../operators/read/lines.ts';
import { loadFastText } from '../../operators/classify/fasttext/model.ts';
import { trainFastText, type Example } from '../../operators/classify/fasttext/train.ts';
import { readLabeled, type SkippedLine } from '../../operators/classify/fasttext/data.ts';
import { evaluate } from '../../operators/classify/fasttext/score.ts';
import { formatG6 } from '../../operators/classify/fasttext/format.ts';
import { LOSS, type LossName } from '../../operators/classify/fasttext/args.ts';

const USAGE = `sluice classify train --in F --out model.bin [--epoch N] [--lr F] [--wordNgrams N] [--dim N]
                      [--bucket N] [--minCount N] [--loss softmax] [--minn N] [--maxn N] [--seed N]
sluice classify predict --model F [--k N] [--threshold F] < lines
sluice classify eval --model F --in F [--threshold F] [--json]

train    Trains a supervised fastText classifier and writes it in fastText's .bin format (the
         fasttext CLI and Python package load it). Input: fastText's format (\`__label__x text\`
         per line) or JSONL ({"text": …, "label": …}); gzip/zstd detected. Lines without a label
         are skipped and counted. Hyper-parameters and defaults are fastText's (supervised):
           --epoch 5  --lr 0.1  --wordNgrams 1  --dim 100  --bucket 2000000  --minCount 1
         (training runs in fasttext.wasm, whose 2 GiB heap caps bucket × dim × 4 at 450 MiB: the
         default bucket is lowered to fit, with a note; a larger --bucket is an error)
           --loss softmax (| hs | ova | ns)  --minn 0  --maxn 0  --seed 0
         Integer labels (e.g. FineWeb-Edu 0–5 scores) make a score model: \`eval\` then reports
         the expected score's Pearson r and F1 at score ≥ 3.
predict  Reads lines on stdin; prints the k most probable labels of each with their probability,
         \`__label__x prob [__label__y prob …]\`, as \`fasttext predict-prob\` does.
           --k 1 (--k=-1: every label)  --threshold 0 (lowest probability printed)
eval     Accuracy, per-label precision/recall/F1 and the confusion matrix on labeled data; for a
         score model also Pearson r and P/R/F1 of expected score ≥ --threshold (default 3).

Any .bin or quantized .ftz model from fastText loads (e.g. lid.176.ftz, DCLM's or Dolma's).

Examples:
  sluice classify train --in train.txt --out model.bin --epoch 25 --wordNgrams 2
  echo 'some text' | sluice classify predict --model model.bin --k 2
  sluice classify eval --model model.bin --in test.jsonl`;

function numOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number (got '${v}')`);
  return n;
}

async function out(s: string): Promise<void> {
  if (!process.stdout.write(s)) await once(process.stdout, 'drain');
}

function reportSkips(skipped: SkippedLine[], total: number): void {
  if (!total) return;
  const first = skipped.map((s) => `line ${s.line}: ${s.reason}`).join('; ');
  process.stderr.write(`skipped ${total} line(s)${total > skipped.length ? ` (first ${skipped.length})` : ''}: ${first}\n`);
}

async function collect(path: string): Promise<{ examples: Example[]; skipped: SkippedLine[]; nskipped: number }> {
  const skipped: SkippedLine[] = [];
  let nskipped = 0;
  const examples: Example[] = [];
  for await (const e of readLabeled(path, (s) => {
    nskipped++;
    if (skipped.length < 5) skipped.push(s);
  }))
    examples.push(e);
  return { examples, skipped, nskipped };
}

async function train(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, {
    in: { type: 'string' }, out: { type: 'string' }, epoch: { type: 'string' }, lr: { type: 'string' }, wordNgrams: { type: 'string' },
    dim: { type: 'string' }, bucket: { type: 'string' }, minCount: { type: 'string' }, loss: { type: 'string' }, minn: { type: 'string' },
    maxn: { type: 'string' }, seed: { type: 'string' },
  });
  if (!v.in || !v.out) throw new UsageError('train needs --in and --out');
  if (v.loss !== undefined && !(v.loss in LOSS)) throw new UsageError(`--loss must be one of ${Object.keys(LOSS).join(', ')} (got '${v.loss}')`);
  const { examples, skipped, nskipped } = await collect(v.in);
  reportSkips(skipped, nskipped);
  const t0 = performance.now();
  const model = await trainFastText(examples, {
    epoch: intOption('epoch', v.epoch), lr: numOption('lr', v.lr), wordNgrams: intOption('wordNgrams', v.wordNgrams), dim: intOption('dim', v.dim),
    bucket: intOption('bucket', v.bucket, 0), minCount: intOption('minCount', v.minCount), loss: v.loss as LossName | undefined,
    minn: intOption('minn', v.minn, 0), maxn: intOption('maxn', v.maxn, 0), seed: intOption('seed', v.seed, 0),
    onNote: (note) => process.stderr.write(`note: ${note}\n`),
  });
  await model.save(v.out);
  process.stderr.write(`trained on ${examples.length} examples in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${model.labels.length} labels, ${model.dict.nwords} words → ${v.out}\n`);
  return 0;
}

async function predict(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { model: { type: 'string' }, k: { type: 'string' }, threshold: { type: 'string' } });
  if (!v.model) throw new UsageError('predict needs --model');
  const model = loadFastText(v.model);
  const k = v.k === '-1' ? -1 : (intOption('k', v.k) ?? 1);
  const threshold = numOption('threshold', v.threshold) ?? 0;
  const dec = new TextDecoder();
  let buf = '';
  // fastText gives an unterminated last line no `</s>`: each line is predicted when the next
  // arrives, the last one once stdin ends and its final byte is known.
  let lastByte = -1;
  async function* tracked(): AsyncGenerator<Buffer> {
    for await (const c of process.stdin as AsyncIterable<Buffer>) {
      if (c.length) lastByte = c[c.length - 1]!;
      yield c;
    }
  }
  const emit = async (text: string, eos: boolean) => {
    buf += model.predict(text, k, threshold, eos).map((p) => `__label__${p.label} ${formatG6(p.prob)}`).join(' ') + '\n';
    if (buf.length > 1 << 16) {
      await out(buf);
      buf = '';
    }
  };
  let held: string | undefined;
  for await (const l of lines(tracked())) {
    if (held !== undefined) await emit(held, true);
    held = l.data ? dec.decode(l.data) : '';
  }
  if (held !== undefined) await emit(held, lastByte === 0x0a);
  if (buf) await out(buf);
  return 0;
}

async function evalCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { model: { type: 'string' }, in: { type: 'string' }, threshold: { type: 'string' }, json: { type: 'boolean' } });
  if (!v.model || !v.in) throw new UsageError('eval needs --model and --in');
  const model = loadFastText(v.model);
  const { examples, skipped, nskipped } = await collect(v.in);
  reportSkips(skipped, nskipped);
  const e = evaluate(model, examples, numOption('threshold', v.threshold) ?? 3);
  if (v.json) {
    await out(JSON.stringify(e, null, 2) + '\n');
    return 0;
  }
  const f = (x: number) => x.toFixed(4);
  const rows = [`examples ${e.n}  accuracy ${f(e.accuracy)}${e.unknownLabels ? `  (${e.unknownLabels} with a label the model lacks)` : ''}`];
  if (e.score) rows.push(`score: pearson ${f(e.score.pearson)}  at ≥ ${e.score.threshold}: precision ${f(e.score.precision)} recall ${f(e.score.recall)} F1 ${f(e.score.f1)}`);
  rows.push('', 'label\tprecision\trecall\tF1\tsupport');
  for (const c of e.perLabel) rows.push(`${c.label}\t${f(c.precision)}\t${f(c.recall)}\t${f(c.f1)}\t${c.support}`);
  if (e.labels.length <= 20) {
    rows.push('', `confusion (rows: true, columns: predicted)`, `\t${e.labels.join('\t')}`);
    e.confusion.forEach((r, i) => rows.push(`${e.labels[i]}\t${r.join('\t')}`));
  }
  await out(rows.join('\n') + '\n');
  return 0;
}

/** `sluice classify <sub-command>`. */
export const classifyCommand: Command = subcommands(USAGE, { train, predict, eval: evalCommand });
