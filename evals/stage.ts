/**
 * The eval stage: `p.stage('eval', evaluate(model, { benchmarks, contamination: { against } }))`.
 *
 * One barrier task that (1) scores the model on the benchmarks (multiple choice, partial, cloze;
 * MMLU-format benchmarks by answer text and by letter, side by side), on perplexity texts and on
 * the held-out shard split, and (2) scans the training data stages for benchmark n-grams and
 * writes the contamination report with scores on all vs clean items. Outputs (artifact):
 * `scores.json`, `contamination.json`, `contamination.md`, `contamination.html`; the manifest
 * `info` carries the summary and the task log prints the table next to the scores.
 *
 * The model comes through the `TokenScorer` interface only: by default `openScorer(dataset)` of
 * `trainer/scorer.ts` (the trainer's checkpoint: tfjs in-process, torch via subprocess); pass
 * `scorer` to use another. `model: null` runs the contamination check alone.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { CustomStage, CustomTaskContext, Dataset, Json, StageRef } from '../engine/types.ts';
import { loadBenchmark, type Benchmark, type BenchmarkFormat } from '../operators/read/benchmarks.ts';
import { scoreBenchmark, type ChoiceMethod, type McResult } from './multiple-choice.ts';
import { heldOutLoss, perplexity, type HeldOutResult, type PerplexityResult } from './perplexity.ts';
import type { TokenScorer } from './scorer.ts';
import type { ChatFormatting, GenerativeResult } from './generate-until.ts';
import { buildIndex, type IndexFields, type NgramOption, type NgramUnit } from '../formats/contamination/ngram-index.ts';
import { ContaminationScanner, type DirtyRule } from './contamination/scan.ts';
import { contaminationReport, fmtScore, reportMarkdown, tableMarkdown, type ContaminationReport } from './contamination/report.ts';
import { reportHtml } from './contamination/html.ts';
import { isShardManifest, shardManifest, type ShardManifest } from '../formats/shards.ts';
import { readBin } from '../formats/bin.ts';
import type { OpenScorerOptions } from '../trainer/scorer.ts';
import { toJson } from '../engine/json.ts';
import { readInputText } from '../operators/read/open.ts';
import { judgeFingerprint, resolveJudgeOptions, runJudgeEval, type JudgeEvalOptions } from './judge/stage.ts';

/** A benchmark to evaluate: a file (or MMLU directory) in one of the loader formats. */
export interface BenchmarkSpec {
  /** File path (relative to the pipeline file's directory) or MMLU CSV directory. */
  path: string;
  format?: BenchmarkFormat;
  name?: string;
  /** PIQA labels file. */
  labels?: string;
  /** Prompt methods for choice items (default `['text']`; MMLU CSV: `['text', 'letter']`). */
  methods?: ChoiceMethod[];
  /** Few-shot examples (default 0). */
  fewshot?: number;
  /** Score only the first `limit` items (the contamination check always covers all). */
  limit?: number;
  /**
   * MMLU (subject-tagged items): the primary average, `item` (default: every question weighs the
   * same) or `subject` (every subject weighs the same). Both are reported (`acc`, `acc_subject_avg`).
   */
  average?: 'item' | 'subject';
}

/**
 * A generative benchmark (lm-eval `generate_until`, evals/generate-until.ts): a JSONL file of
 * GSM8K `{question, answer}` or `{input, target}` items, scored by greedy generation.
 */
export interface GenerativeSpec {
  /** JSONL file (relative to the working directory at declaration). */
  path: string;
  /** Name in the scores (default: the file name without extension). */
  name?: string;
  /** `gsm8k` (default): lm-eval's GSM8K task (until, max_gen_toks 256, strict-match and flexible-extract). */
  task?: 'gsm8k';
  /** Overrides the task's stop strings. */
  until?: string[];
  /** Overrides the task's most new tokens. */
  maxGenToks?: number;
  /** Few-shot examples (default 0), drawn from `fewshotPath` (default: the benchmark without the item). */
  fewshot?: number;
  fewshotPath?: string;
  /** Score only the first `limit` items. */
  limit?: number;
  /**
   * `--apply_chat_template`: a chat template (built-in name, Jinja file or tokenizer_config.json;
   * `tokenizer`: the model tokenizer's own). Default: plain text prompts.
   */
  chatTemplate?: string;
  /** Few-shot examples as user/assistant turns (`--fewshot_as_multiturn`; default false). */
  fewshotAsMultiturn?: boolean;
  /** A system message first (`--system_instruction`). */
  systemInstruction?: string;
}

/** Perplexity text: a UTF-8 file, one document per blank-line-separated block or the whole file. */
export interface PerplexitySpec {
  name: string;
  path: string;
  /** `file` (default): the whole file is one document; `paragraph`: blocks separated by blank lines. */
  split?: 'file' | 'paragraph';
  /** Score at most this many documents. */
  limit?: number;
}

/** Contamination options of the eval stage. */
export interface ContaminationOptions {
  /** Training data stages to scan: doc datasets (text) or `shard.tokens` stages (token ids). */
  against: StageRef[];
  /**
   * N: `auto` (default: per benchmark, the 5th percentile of item length clipped to [8, 13], GPT-3
   * appendix C; token mode counts tokens) or a number for every benchmark.
   */
  ngram?: NgramOption;
  /** Text indexed: `both` (default: question, each choice, passage on their own and concatenated), `question` or `answer`. */
  fields?: IndexFields;
  /** Dirty needs a field whose matched n-grams carry this share of its IDF mass (default 0.5; 0: any overlap, GPT-3). */
  minIdfShare?: number;
  /** Answer-proximity window in units after a question match (default 50; 0: off). */
  answerWindow?: number;
  minLength?: number;
  maxItems?: number;
  /** Ignore n-grams in more than this many training docs (default 10). */
  maxDocs?: number;
  /** Dirty rule (default any overlap). */
  rule?: DirtyRule;
}

export interface EvaluateOptions {
  /** Benchmarks to score (may be empty when `judge` is given). */
  benchmarks?: BenchmarkSpec[];
  /** Generative benchmarks (greedy generation, exact match after answer extraction). */
  generative?: GenerativeSpec[];
  perplexity?: PerplexitySpec[];
  /** A `shard.tokens` stage whose validation split gives the held-out loss. */
  heldOut?: StageRef;
  /** Held-out tokens scored at most (default 1,000,000). */
  heldOutTokens?: number;
  contamination?: ContaminationOptions;
  /** Opens the model as a scorer (default: `openScorer` of `trainer/scorer.ts` with `scorerOptions`). */
  scorer?: (model: Dataset, ctx: CustomTaskContext) => Promise<TokenScorer>;
  /** Options of the trainer's `openScorer` (backend `tfjs` | `torch`, tokenizer override, torch device). */
  scorerOptions?: Omit<OpenScorerOptions, 'signal' | 'storage'>;
  /** Few-shot seed (default 1234). */
  seed?: number;
  /** Instance name (default `evaluate`). */
  name?: string;
  /**
   * The LLM judge (AlpacaEval's weighted_alpaca_eval_gpt4_turbo protocol, evals/judge/): the model's
   * answers judged pairwise against a baseline; writes `annotations.json`, `model_outputs.json`,
   * `judge-run.json`.
   */
  judge?: JudgeEvalOptions;
}

/** sha256 of a file, or of a directory's files (names and contents), for the fingerprint. */
function contentHash(path: string): string {
  const h = createHash('sha256');
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new Error(`evaluate: benchmark file ${path} does not exist`);
  if (st.isDirectory()) {
    for (const f of readdirSync(path).sort()) {
      h.update(f + '\0');
      const p = join(path, f);
      if (statSync(p).isFile()) h.update(readFileSync(p));
    }
  } else h.update(readFileSync(path));
  return h.digest('hex').slice(0, 16);
}

const refsOf = (xs: Array<StageRef | undefined | null>) => xs.filter((x): x is StageRef => !!x);

/**
 * The eval stage over a trained model (`model`, the trainer stage's ref; `null` for a
 * contamination-only check). Benchmark paths resolve against the working directory at
 * declaration; their contents enter the fingerprint, so editing a benchmark re-runs the stage.
 */
export function evaluate(model: StageRef | null, opts: EvaluateOptions): CustomStage {
  if (!opts || ((!Array.isArray(opts.benchmarks) || opts.benchmarks.length === 0) && !opts.judge)) throw new Error(`evaluate: 'benchmarks' must list at least one benchmark (or give 'judge')`);
  const base = process.cwd();
  const judge = opts.judge ? resolveJudgeOptions(opts.judge, base) : undefined;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const benchmarks = (opts.benchmarks ?? []).map((b) => ({ ...b, path: abs(b.path), ...(b.labels ? { labels: abs(b.labels) } : {}) }));
  const ppl = (opts.perplexity ?? []).map((p) => ({ ...p, path: abs(p.path) }));
  const gen = (opts.generative ?? []).map((g) => ({ ...g, path: abs(g.path), ...(g.fewshotPath ? { fewshotPath: abs(g.fewshotPath) } : {}) }));
  const against = opts.contamination?.against ?? [];
  const config: Json = {
    benchmarks: benchmarks.map((b) => toJson({ ...b, sha256: contentHash(b.path) })),
    perplexity: ppl.map((p) => toJson({ ...p, sha256: contentHash(p.path) })),
    ...(gen.length ? { generative: gen.map((g) => toJson({ ...g, sha256: contentHash(g.path), ...(g.fewshotPath ? { fewshotSha256: contentHash(g.fewshotPath) } : {}) })) } : {}),
    heldOut: opts.heldOut?.name ?? null,
    heldOutTokens: opts.heldOutTokens ?? 1_000_000,
    // Defaults resolved, so the fingerprint names the method even when the options are left out.
    contamination: opts.contamination
      ? toJson({ ...opts.contamination, ngram: opts.contamination.ngram ?? 'auto', fields: opts.contamination.fields ?? 'both', minIdfShare: opts.contamination.minIdfShare ?? 0.5, answerWindow: opts.contamination.answerWindow ?? 50, against: against.map((r) => r.name) })
      : null,
    model: model?.name ?? null,
    scorerOptions: opts.scorerOptions ? toJson({ backend: opts.scorerOptions.backend ?? null, torch: opts.scorerOptions.torch ?? null, tokenizer: opts.scorerOptions.tokenizer ? 'custom' : null }) : null,
    seed: opts.seed ?? 1234,
    // Only present with a judge, so the fingerprints of judge-less eval stages are unchanged.
    ...(judge ? { judge: judgeFingerprint(judge) } : {}),
  };
  const name = opts.name ?? 'evaluate';
  return {
    kind: 'custom',
    type: 'evaluate',
    name,
    version: '1',
    config,
    functions: opts.scorer || judge?.serve ? { ...(opts.scorer ? { scorer: opts.scorer } : {}), ...(judge?.serve ? { serve: judge.serve } : {}) } : undefined,
    inputs: refsOf([model, ...against, opts.heldOut, judge && typeof judge.checkpoint === 'object' ? judge.checkpoint : undefined]),
    output: 'artifact',
    async run(ctx) {
      const openModel = (ds: Dataset, c: CustomTaskContext) => (opts.scorer ? opts.scorer(ds, c) : defaultScorer(ds, c, opts.scorerOptions));
      const loaded: Benchmark[] = [];
      for (const b of benchmarks) {
        loaded.push(await loadBenchmark(b.path, { format: b.format, name: b.name, labels: b.labels, onSkip: (s) => ctx.audit.skip(s.source, s.reason) }));
      }
      // 1. Scores.
      const results: McResult[] = [];
      const generative: GenerativeResult[] = [];
      const texts: Record<string, Omit<PerplexityResult, 'perDoc'>> = {};
      let held: HeldOutResult | null = null;
      let scorer: TokenScorer | undefined;
      let report: ContaminationReport | null = null;
      let judged: Awaited<ReturnType<typeof runJudgeEval>> | null = null;
      // The model stays open through the contamination check: token-level n-grams need its tokenizer.
      try {
        if (model && (benchmarks.length > 0 || ppl.length > 0 || opts.heldOut || opts.contamination)) {
          const modelDs = await ctx.dataset(model);
          scorer = await openModel(modelDs, ctx);
          for (const [i, b] of loaded.entries()) {
            const spec = benchmarks[i]!;
            const methods = b.items[0]?.kind === 'choice' ? (spec.methods ?? (b.format === 'mmlu' ? ['text', 'letter'] : ['text'])) : ['text' as const];
            for (const method of methods) {
              ctx.progress.note(`${b.name} (${method})`);
              const r = await scoreBenchmark(scorer, b, { method, fewshot: spec.fewshot, limit: spec.limit, seed: opts.seed, average: spec.average });
              results.push(r);
              ctx.log(`eval ${b.name} [${r.method}${r.fewshot ? `, ${r.fewshot}-shot` : ''}]: ${Object.entries(r.metrics).map(([k, v]) => `${k} ${fmtScore(v.value)} ± ${fmtScore(v.stderr)}`).join(', ')} (n=${r.n})`);
            }
          }
          for (const p of ppl) {
            // Through the shared opener: gzip/zstd by magic bytes, UTF-16/32 by byte-order mark.
            const { text: raw, invalidAt } = await readInputText(p.path);
            if (invalidAt !== null) throw new Error(`evaluate: perplexity text ${p.path} is not valid UTF-8 at byte ${invalidAt}`);
            let docs = p.split === 'paragraph' ? raw.split(/\n\s*\n/).filter((d) => d.trim()) : [raw];
            if (p.limit !== undefined) docs = docs.slice(0, p.limit);
            const { perDoc: _, ...r } = await perplexity(scorer, docs);
            texts[p.name] = r;
            ctx.log(`eval ${p.name}: word_perplexity ${r.word_perplexity.value.toFixed(3)}, byte_perplexity ${r.byte_perplexity.value.toFixed(4)}, bits_per_byte ${r.bits_per_byte.value.toFixed(4)}`);
          }
          if (gen.length) {
            ctx.progress.note('generative benchmarks');
            generative.push(...(await runGenerative(modelDs, gen, opts, ctx)));
          }
          if (opts.heldOut) {
            const m = shardManifest(await ctx.dataset(opts.heldOut));
            if (m.val.length === 0) throw new Error(`evaluate: shard stage '${opts.heldOut.name}' has no validation split (valFraction 0)`);
            held = await heldOutLoss(scorer, shardTokens(ctx, m, 'val'), { maxTokens: opts.heldOutTokens });
            ctx.log(`eval held-out (${opts.heldOut.name} val): loss ${held.loss.toFixed(4)} over ${held.tokens} tokens`);
          }
        }
        // 2. Contamination.
        if (opts.contamination && against.length) {
          const c = opts.contamination;
          const datasets = await Promise.all(against.map((r) => ctx.dataset(r)));
          const isShards = datasets.map((d) => isShardManifest(d.manifest.info));
          if (isShards.some((x) => x !== isShards[0])) throw new Error(`evaluate: contamination.against mixes doc datasets and token shard stages (${against.map((r, i) => `${r.name}: ${isShards[i] ? 'shards' : 'docs'}`).join(', ')}); declare two eval stages`);
          const unit: NgramUnit = isShards[0] ? 'tokens' : 'words';
          let encode: ((t: string) => number[]) | undefined;
          if (unit === 'tokens') {
            const s = scorer;
            if (!s) throw new Error('evaluate: scanning token shards needs the model (its tokenizer encodes the benchmarks)');
            encode = (t) => s.encode(t);
            ctx.log(`contamination: token-level n-grams (N=${c.ngram ?? 'auto'}) over shards`);
          }
          const index = buildIndex(loaded, { ngram: c.ngram, fields: c.fields, minLength: c.minLength, maxItems: c.maxItems, unit, encode });
          const scanner = new ContaminationScanner(index, { maxDocs: c.maxDocs, rule: c.rule, minIdfShare: c.minIdfShare, answerWindow: c.answerWindow });
          for (const [i, ds] of datasets.entries()) {
            scanner.addSource(`${ds.manifest.pipeline}/${ds.stage}@${ds.manifest.fingerprint}`);
            if (unit === 'tokens') {
              for (const split of ['train', 'val'] as const) {
                for await (const doc of shardDocs(ctx, shardManifest(ds), split)) scanner.scanTokens(doc.id, doc.tokens);
              }
            } else {
              await scanner.scanDocs(ds.readDocs(undefined, { batchSize: 512 }), (docs, bytes) => ctx.progress.add(docs, bytes));
            }
            ctx.log(`contamination: scanned ${against[i]!.name} (${scanner.docs} docs, ${(scanner.bytes / 1e6).toFixed(1)} MB so far)`);
          }
          report = contaminationReport(scanner.result(), results, `Train–test contamination: ${ctx.pipeline}/${ctx.stage}`);
          await ctx.writeFile('contamination.json', JSON.stringify(report, null, 1) + '\n', report.rows.length);
          await ctx.writeFile('contamination.md', reportMarkdown(report));
          await ctx.writeFile('contamination.html', reportHtml(report));
          ctx.log(`contamination (${report.method.ruleText}; N=${report.method.ngram}; corpus ${report.corpus.fingerprint}):\n${tableMarkdown(report)}`);
        }
      } finally {
        await scorer?.close();
      }
      if (judge) judged = await runJudgeEval(judge, model ? await ctx.dataset(model) : null, ctx);
      const scores = {
        model: model?.name ?? null,
        benchmarks: results.map((r) => ({ benchmark: r.benchmark, method: r.method, fewshot: r.fewshot, n: r.n, metrics: r.metrics })),
        ...(generative.length ? { generative: generative.map((r) => ({ benchmark: r.benchmark, method: r.method, fewshot: r.fewshot, chat: r.chat, n: r.n, metrics: r.metrics })) } : {}),
        perplexity: texts,
        heldOut: held,
      };
      await ctx.writeFile('scores.json', JSON.stringify({ ...scores, items: results.map((r) => ({ benchmark: r.benchmark, method: r.method, items: r.items })), ...(generative.length ? { generativeItems: generative.map((r) => ({ benchmark: r.benchmark, items: r.items })) } : {}) }) + '\n', results.length);
      // One paragraph for the end-of-run summary: each score, then GPT-3's contamination table.
      const summary = [
        ...results.map((r) => `${r.benchmark} [${r.method}${r.fewshot ? `, ${r.fewshot}-shot` : ''}]: ${Object.entries(r.metrics).map(([k, v]) => `${k} ${fmtScore(v.value)} ± ${fmtScore(v.stderr)}`).join(', ')} (n=${r.n})`),
        ...generative.map((r) => genLine(r)),
        ...(held ? [`held-out loss ${held.loss.toFixed(4)} nats/token (perplexity ${held.perplexity.toFixed(2)}, ${held.tokens.toLocaleString("en-US")} tokens)`] : []),
        ...(report ? ['', `contamination (${report.method.ruleText}; N=${report.method.ngram}):`, tableMarkdown(report)] : []),
        ...(judged ? [`judge ${judged.judge} (${judged.protocol}): ${judged.generator} vs ${judged.baseline}, ${judged.judged} judged, ${judged.unparseable} unparseable, ${judged.skipped.length} skipped (annotations.json)`] : []),
      ].join('\n');
      ctx.setInfo({
        summary,
        scores: JSON.parse(JSON.stringify(scores)) as Json,
        ...(judged ? { judge: toJson(judged) } : {}),
        contamination: report ? report.rows.map((r) => ({ benchmark: r.benchmark, metric: r.metric, total: r.total, dirty: r.dirty, dirtyPct: r.dirtyPct, scoreAll: r.scoreAll, scoreClean: r.scoreClean, relDiff: r.relDiff })) : null,
      });
    },
  };
}

const genLine = (r: GenerativeResult) => `${r.benchmark} [generate_until${r.fewshot ? `, ${r.fewshot}-shot` : ''}${r.chat ? ', chat' : ''}]: ${Object.entries(r.metrics).map(([k, v]) => `${k} ${fmtScore(v.value)} ± ${fmtScore(v.stderr)}`).join(', ')} (n=${r.n})`;

/**
 * Scores the generative benchmarks: the model opened for generation (`openGenerator`, the
 * scorer options' backend and device), each file read, its task's prompts generated greedily.
 */
async function runGenerative(model: Dataset, specs: GenerativeSpec[], opts: EvaluateOptions, ctx: CustomTaskContext): Promise<GenerativeResult[]> {
  const { openGenerator } = await import('../trainer/generate/open.ts');
  const { resolveTemplate, templateForTokenizer, renderChat } = await import('../operators/chat/template.ts');
  const { evaluateGenerative, GSM8K, parseGenerativeJsonl } = await import('./generate-until.ts');
  const so = opts.scorerOptions ?? {};
  const g = await openGenerator(model, { backend: so.backend, tfjs: so.tfjs, torch: so.torch, signal: ctx.signal });
  const out: GenerativeResult[] = [];
  try {
    for (const spec of specs) {
      const name = spec.name ?? basename(spec.path).replace(/\.jsonl?$/, '');
      const read = async (path: string) => {
        const { text, invalidAt } = await readInputText(path);
        if (invalidAt !== null) throw new Error(`evaluate: generative benchmark ${path} is not valid UTF-8 at byte ${invalidAt}`);
        return parseGenerativeJsonl(text, name, (s) => ctx.audit.skip(s.source, s.reason));
      };
      const items = await read(spec.path);
      const pool = spec.fewshotPath ? await read(spec.fewshotPath) : undefined;
      const task = { ...GSM8K, name, ...(spec.until ? { until: spec.until } : {}), ...(spec.maxGenToks !== undefined ? { maxGenToks: spec.maxGenToks } : {}) };
      let chat: ChatFormatting | undefined;
      if (spec.chatTemplate) {
        const tokSpec = g.meta.tokenizer === '.' ? model.dir : g.meta.tokenizer;
        const t = spec.chatTemplate === 'tokenizer' ? await templateForTokenizer(tokSpec ?? '') : resolveTemplate(spec.chatTemplate);
        chat = { render: (m) => renderChat(t, m, { addGenerationPrompt: true }), fewshotAsMultiturn: spec.fewshotAsMultiturn, systemInstruction: spec.systemInstruction };
      }
      const r = await evaluateGenerative(g, task, items, { fewshot: spec.fewshot, fewshotPool: pool, seed: opts.seed, chat, limit: spec.limit, onProgress: (d, n) => ctx.progress.note(`${name} ${d}/${n}`) });
      out.push(r);
      ctx.log(`eval ${genLine(r)}`);
    }
  } finally {
    await g.close();
  }
  return out;
}

/** The trainer's scorer for a model stage (imported lazily: it loads tfjs). */
async function defaultScorer(model: Dataset, ctx: CustomTaskContext, options: EvaluateOptions['scorerOptions']): Promise<TokenScorer> {
  const { openScorer } = await import('../trainer/scorer.ts');
  return openScorer(model, { ...options, signal: ctx.signal });
}

/** The token stream of a shard split (.bin layout), shard after shard. */
async function* shardTokens(ctx: CustomTaskContext, m: ShardManifest, split: 'train' | 'val'): AsyncIterable<Uint16Array | Uint32Array> {
  if (m.layout !== 'bin') throw new Error(`evaluate: shard layout '${m.layout}' is not supported here; use layout 'bin'`);
  for (const s of m[split]) yield readBin(await ctx.storage.read(s.uri), s.uri).tokens;
}

/**
 * The documents of a shard split: each shard's token stream cut at its document-boundary index
 * (`.docs`); ids are `<shard path>#<token offset>`. Packed sequences are shuffled across shards,
 * so a document may appear as pieces; n-grams spanning a sequence boundary are not seen.
 */
async function* shardDocs(ctx: CustomTaskContext, m: ShardManifest, split: 'train' | 'val'): AsyncIterable<{ id: string; tokens: Uint16Array | Uint32Array }> {
  if (m.layout !== 'bin') throw new Error(`evaluate: shard layout '${m.layout}' is not supported for token-level contamination; use layout 'bin'`);
  for (const s of m[split]) {
    const { tokens } = readBin(await ctx.storage.read(s.uri), s.uri);
    let starts: Uint32Array = new Uint32Array([0]);
    if (s.docs) {
      const base = s.uri.slice(0, s.uri.length - s.path.length);
      const raw = await ctx.storage.read(base + s.docs);
      starts = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    }
    const cuts = [...starts, tokens.length].filter((x, i, a) => i === 0 || x > a[i - 1]!);
    if (cuts[0] !== 0) cuts.unshift(0);
    for (let k = 0; k + 1 < cuts.length; k++) yield { id: `${s.path}#${cuts[k]}`, tokens: tokens.subarray(cuts[k]!, cuts[k + 1]!) };
  }
}

