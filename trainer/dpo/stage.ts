/**
 * `train.dpo(pairs, { from, ref?, beta = 0.1, loss = 'sigmoid', … })`: preference optimisation as
 * pipeline stages, used as `p.stage('dpo', train.dpo(pairs, { from: sftModel }))`. It declares two:
 *
 * - `<name>.ref`: tokenizes the preference docs (chat template, response mask), splits them by
 *   pair into training and held-out sets, groups them into micro-batches, and computes the
 *   reference model's log-probabilities of every chosen and rejected response. Its fingerprint
 *   covers the pairs, the two models, the template, the tokenizer, the micro-batches and the
 *   backend, not β, the loss or anything else about training: re-running DPO with another β or
 *   loss reuses it.
 * - `<name>`: the DPO training (trainer/dpo/api.ts), resumable task by task, writing the policy
 *   checkpoint (with the tokenizer's files, so `evaluate` and further stages need nothing else),
 *   `metrics.jsonl` and `report.html` (loss and reward-margin curves). Its manifest `info` holds
 *   `reward_accuracy_before` and `reward_accuracy_after` on the held-out pairs, which
 *   `sluice run --json` reports under the stage (`stages[].info`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CustomStage, Json, PipelineBuilder, StageExpansion, StageOptions, StageRef } from '../../engine/types.ts';
import { toJson } from '../../engine/json.ts';
import { preferenceOf } from '../../formats/chat.ts';
import { resolveTemplate, templateDigest, templateForTokenizer } from '../../operators/chat/template.ts';
import { loadTokenizer } from '../../operators/tokenize/load.ts';
import { readModelCheckpoint } from '../checkpoint.ts';
import { copyTokenizerFiles, loopArgs, publishDir } from '../stage-output.ts';
import type * as DpoApi from './api.ts';
import { decodePairSet, encodePairSet, layoutPairs, PAIR_FILES, type TokenizedPair } from './data.ts';
import { dpoProgressNote } from './metrics.ts';
import { resolveDpoRun, resolveReference, type DpoTrainOptions } from './options.ts';
import { tokenizePair, type PairTruncation } from './pairs.ts';

/** The DPO training code (tfjs and torch backends, report), loaded by the task that runs it, not by every process that loads the pipeline. */
export const dpoApi = (): Promise<typeof DpoApi> => import('./api.ts');

/** Options of `train.dpo`. */
export interface DpoStageOptions extends DpoTrainOptions {
  /** The policy's starting model: a `train` / `train.sft` stage, or a checkpoint directory. */
  from: StageRef | string;
  /** The reference model (default: `from`). */
  ref?: StageRef | string;
  /** Chat template when the tokenizer has none of its own: `chatml`, `llama-3`, `zephyr` or a file. */
  template?: string;
  /** Tokenizer (files or encoding name); default: the one `from`'s checkpoint records. */
  tokenizer?: string;
  /** Sequences over the context length + 1: `left` (default) keeps the end, `right` the start, `drop` drops the pair (audited). */
  truncation?: PairTruncation;
}

/** What the `<name>` stage records in its manifest. */
export type DpoStageInfo = {
  backend: string;
  loss: string;
  beta: number;
  steps: number;
  pairs: number;
  finalLoss: number;
  tokenizer: string | null;
  /** Held-out pairs, before training (the starting model) and after: `sluice run --json` shows them under the stage (`stages[].info`). */
  reward_accuracy_before: number | null;
  reward_accuracy_after: number | null;
  reward_margin_before: number | null;
  reward_margin_after: number | null;
  heldout_dpo_loss_before: number | null;
  heldout_dpo_loss_after: number | null;
  summary: string;
};

const REF_VERSION = '1';
const DPO_VERSION = '1';

type ModelSpec = StageRef | string;

/** A model for a fingerprint: a stage by name (its own fingerprint enters through `refs`), or a path with a digest of its files. */
function modelDescriptor(m: ModelSpec): Json {
  if (typeof m !== 'string') return { stage: m.name };
  if (m.startsWith('s3://')) return { path: m };
  const dir = m.replace(/^file:\/\//, '');
  const cfg = join(dir, 'config.json');
  const st = join(dir, 'model.safetensors');
  if (!existsSync(cfg) || !existsSync(st)) throw new Error(`train.dpo: ${m} is not a model checkpoint (needs config.json and model.safetensors)`);
  const s = statSync(st);
  return { path: m, digest: createHash('sha256').update(readFileSync(cfg)).update(`${s.size}:${s.mtimeMs}`).digest('hex').slice(0, 16) };
}

function checkModel(m: unknown, what: string): ModelSpec {
  if (typeof m === 'string' && m) return m;
  if (m && typeof m === 'object' && (m as StageRef).kind === 'stage') return m as StageRef;
  throw new Error(`train.dpo: ${what} must be a train stage's ref or a checkpoint directory, got ${JSON.stringify(m)}`);
}

/** `train.dpo(pairs, options)`: see the module comment. */
export function dpo(pairs: StageRef, options: DpoStageOptions): StageExpansion<DpoStageInfo> & { inputs: StageRef[] } {
  if (!pairs || pairs.kind !== 'stage') throw new Error('train.dpo: the first argument must be a stage of preference docs (read.preferences)');
  if (!options || typeof options !== 'object') throw new Error('train.dpo: options { from, … } are required');
  const from = checkModel(options.from, 'from');
  const ref = checkModel(options.ref ?? from, 'ref');
  const truncation = options.truncation ?? 'left';
  if (!['left', 'right', 'drop'].includes(truncation)) throw new Error(`train.dpo: truncation must be 'left', 'right' or 'drop', got ${JSON.stringify(truncation)}`);
  const fallback = options.template === undefined ? undefined : resolveTemplate(options.template);
  const refOpts = resolveReference(options);
  // Everything about training is checked now (steps may depend on the pair count: 1 is a placeholder).
  resolveDpoRun(options, 1);
  const { from: _f, ref: _r, template: _t, tokenizer: _k, truncation: _u, ...trainOpts } = options;
  const stageRefs = (ms: ModelSpec[]) => ms.filter((m): m is StageRef => typeof m !== 'string').filter((m, i, a) => a.findIndex((x) => x.name === m.name) === i);
  const modelDir = async (ctx: { dataset(r: StageRef): Promise<{ dir: string }> }, m: ModelSpec) => (typeof m === 'string' ? m : (await ctx.dataset(m)).dir);

  const referenceStage = (): CustomStage<{ [k: string]: Json }, [StageRef]> => ({
    kind: 'custom',
    type: 'train.dpo.ref',
    name: 'train.dpo.ref',
    version: REF_VERSION,
    config: toJson({
      from: modelDescriptor(from),
      ref: modelDescriptor(ref),
      template: options.template ?? null,
      tokenizer: options.tokenizer ?? null,
      truncation,
      batchSize: refOpts.batchSize,
      heldout: refOpts.heldout,
      seed: refOpts.seed,
      backend: refOpts.backend,
      ...(refOpts.backend === 'tfjs' ? { tfjsBackend: refOpts.tfjs.backend } : { torch: { device: refOpts.torch.device ?? 'auto', dtype: refOpts.torch.dtype ?? null, compile: refOpts.torch.compile ?? null } }),
    }),
    ...(fallback ? { code: templateDigest(fallback) } : {}),
    inputs: [pairs],
    refs: stageRefs([from, ref]),
    output: 'artifact',
    async run(ctx) {
      const fromDir = await modelDir(ctx, from);
      const refDir = await modelDir(ctx, ref);
      const fromCk = await readModelCheckpoint(fromDir);
      const refCk = refDir === fromDir ? fromCk : await readModelCheckpoint(refDir);
      if (refCk.meta.model.vocabSize !== fromCk.meta.model.vocabSize) throw new Error(`train.dpo: the reference model's vocabulary (${refCk.meta.model.vocabSize}) differs from the policy's (${fromCk.meta.model.vocabSize})`);
      const tokSpec = options.tokenizer ?? (fromCk.meta.tokenizer === '.' ? fromDir : fromCk.meta.tokenizer);
      if (!tokSpec) throw new Error(`train.dpo: the checkpoint ${fromDir} records no tokenizer; pass { tokenizer }`);
      const tokenizer = await loadTokenizer(tokSpec, ctx.storage);
      const template = await templateForTokenizer(tokSpec, fallback, ctx.storage);
      const maxTokens = Math.min(fromCk.meta.model.contextLength, refCk.meta.model.contextLength) + 1;
      ctx.log(`train.dpo: tokenizer ${tokenizer.name}, template ${template.name}, at most ${maxTokens} tokens per sequence (truncation ${truncation})`);
      const tokenized: TokenizedPair[] = [];
      const seen = new Set<string>();
      let docs = 0;
      for await (const batch of ctx.inputs[0].readDocs()) {
        for (const doc of batch) {
          docs++;
          const pref = preferenceOf(doc);
          if (!pref) throw new Error(`train.dpo: doc ${doc.id}${doc.meta.source ? ` (${doc.meta.source})` : ''} has no meta.preference: read the pairs with read.preferences`);
          if (seen.has(doc.id)) {
            ctx.audit.drop('train.dpo.ref', doc, 'dpo.duplicateId');
            continue;
          }
          const out = tokenizePair(pref, { tokenizer, template, maxTokens, truncation });
          if ('drop' in out) {
            ctx.audit.drop('train.dpo.ref', doc, out.drop, undefined, { source: String(doc.meta.source ?? doc.id), ...out.details });
            continue;
          }
          seen.add(doc.id);
          tokenized.push({ id: doc.id, ...out });
        }
      }
      if (!tokenized.length) throw new Error(`train.dpo: none of the ${docs} preference docs is usable (see the audit: sluice audit)`);
      const laid = layoutPairs(tokenized, { maxTokens, batchSize: refOpts.batchSize, heldout: refOpts.heldout, seed: refOpts.seed });
      const set = await (await dpoApi()).dpoReference(laid, { dir: refDir, ...refCk }, { backend: refOpts.backend, tfjs: refOpts.tfjs, torch: refOpts.torch, tmpDir: ctx.tmpDir, log: (m) => ctx.log(m) });
      const files = encodePairSet(set);
      for (const k of Object.keys(PAIR_FILES) as Array<keyof typeof PAIR_FILES>) await ctx.writeFile(PAIR_FILES[k], files[k], k === 'header' ? set.header.pairs.length : 0);
      const nHeld = set.header.heldoutBatches.reduce((s, b) => s + b.length, 0);
      ctx.setInfo({
        pairs: set.header.pairs.length,
        trainPairs: set.header.pairs.length - nHeld,
        heldoutPairs: nHeld,
        dropped: docs - set.header.pairs.length,
        tokenizer: tokSpec,
        template: template.name,
        summary: `${set.header.pairs.length.toLocaleString('en-US')} pairs (${nHeld.toLocaleString('en-US')} held out), ${(docs - set.header.pairs.length).toLocaleString('en-US')} dropped; reference log-probabilities from ${refDir} (${refOpts.backend})`,
      });
    },
  });

  const trainStage = (refStage: StageRef): CustomStage<DpoStageInfo, [StageRef]> => ({
    kind: 'custom',
    type: 'train.dpo',
    name: 'train.dpo',
    version: DPO_VERSION,
    config: toJson({ ...trainOpts, from: modelDescriptor(from) }),
    inputs: [refStage],
    refs: stageRefs([from]),
    output: 'artifact',
    async run(ctx) {
      const [ds] = ctx.inputs;
      const read = async (f: string) => ctx.storage.read(ctx.storage.join(ds.dir, f));
      const set = decodePairSet({ header: await read(PAIR_FILES.header), tokens: await read(PAIR_FILES.tokens), mask: await read(PAIR_FILES.mask) }, ds.dir);
      const fromDir = await modelDir(ctx, from);
      const out = join(ctx.tmpDir, 'out');
      const steps = resolveDpoRun(trainOpts, set.header.train.length).steps;
      const r = await (await dpoApi()).trainDpo({
        ...trainOpts,
        set,
        from: fromDir,
        ...loopArgs(ctx, out),
        onMetrics: (m) => ctx.progress.note(dpoProgressNote(m, steps)),
      });
      // The tokenizer travels with the checkpoint, as the train stage's does.
      const meta = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { tokenizer: string | null };
      if (meta.tokenizer === '.') await copyTokenizerFiles(ctx, fromDir);
      await publishDir(ctx, out);
      const b = r.before;
      const a = r.after;
      ctx.setInfo({
        backend: r.backend,
        loss: r.loss,
        beta: r.beta,
        steps: r.steps,
        pairs: r.pairs,
        finalLoss: r.finalLoss,
        tokenizer: meta.tokenizer,
        reward_accuracy_before: b?.rewardAccuracy ?? null,
        reward_accuracy_after: a?.rewardAccuracy ?? null,
        reward_margin_before: b?.rewardMargin ?? null,
        reward_margin_after: a?.rewardMargin ?? null,
        heldout_dpo_loss_before: b?.loss ?? null,
        heldout_dpo_loss_after: a?.loss ?? null,
        summary: `${r.loss} (β ${r.beta}, ${r.backend}), ${r.steps} steps over ${r.pairs.toLocaleString('en-US')} pairs: final loss ${r.finalLoss.toFixed(4)}; held-out reward accuracy ${b ? b.rewardAccuracy.toFixed(3) : '—'} → ${a ? a.rewardAccuracy.toFixed(3) : '—'}, reward margin ${b ? b.rewardMargin.toFixed(4) : '—'} → ${a ? a.rewardMargin.toFixed(4) : '—'}`,
      });
    },
  });

  return {
    kind: 'expansion',
    type: 'train.dpo',
    name: 'train.dpo',
    version: DPO_VERSION,
    config: toJson({ ...trainOpts, from: modelDescriptor(from), ref: modelDescriptor(ref), template: options.template ?? null, tokenizer: options.tokenizer ?? null, truncation }),
    inputs: [pairs],
    expand(p: PipelineBuilder, name: string, _inputs: StageRef[], stageOptions: StageOptions): StageRef<DpoStageInfo> {
      const refStage = p.stage(`${name}.ref`, referenceStage(), undefined, stageOptions);
      return p.stage(name, trainStage(refStage), undefined, stageOptions);
    },
  };
}
