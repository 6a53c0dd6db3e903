/**
 * `mix({ sources, target, seed, by })`: draws from several upstream stages into one dataset,
 * as Llama 3's token-measured mix or Dolma's mixer do. Use it as a stage input:
 *
 * ```ts
 * const m = p.stage('mix', mix({ sources: [{ input: web, weight: 0.7 }, { input: code, weight: 0.3 }], target: 10_000_000, by: 'tokens' }));
 * p.stage('shards', m, shard.tokens({ tokenizer: tok }));
 * ```
 *
 * One task (a barrier) in two passes: pass 1 reads each source's per-document units, pass 2
 * streams every source file again and writes each drawn document as many times as the plan
 * (plan.ts) says, copies next to each other. Copy `j` of a document keeps its text and tokens,
 * gets `meta.mixSource` (the source stage), `meta.mixRepeat = j` (0 for the first copy) and, for
 * j > 0, the id `<id>#r<j>` so ids stay unique. Memory: about 12 bytes per source document (counts and
 * copies). The output depends only on the inputs, the config and the seed.
 *
 * Units (`by`): `docs` (1 per document), `bytes` (UTF-8 bytes of the text), `tokens` (length of
 * the document's `tokens` column: sources must be encoded first, e.g. `tokenize.encode`; a
 * document without tokens fails the stage naming the source and document, because counting
 * tokens with a second tokenizer here could disagree with the one the shards use).
 *
 * The manifest's `info.mix` records the mixture (requested vs realised weights, units, docs,
 * tokens, bytes and repeats per source); `sluice status` shows it.
 */
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import { toJson } from '../../engine/json.ts';
import type { CustomStage, CustomTaskContext, Doc, StageRef } from '../../engine/types.ts';
import { planMixture, type SourcePlan } from './plan.ts';

/** One source of a mixture: an upstream stage with a relative `weight` or a number of `epochs`. */
export type MixSource = { input: StageRef; weight: number; epochs?: never } | { input: StageRef; epochs: number; weight?: never };

/** Options of {@link mix}. */
export interface MixOptions {
  /** The sources; each names its upstream stage once. */
  sources: MixSource[];
  /** Size of the mixture in units of `by` (required when any source has a weight). */
  target?: number;
  /** Seed of the without-replacement samples (default 0). */
  seed?: number;
  /** The unit of `target` and of the weights (default `tokens`). */
  by?: 'tokens' | 'bytes' | 'docs';
}

/** Per-source record in the manifest's `info.mix.sources`. (A type alias, not an interface, so it is `Json`.) */
export type MixSourceInfo = {
  input: string;
  requestedWeight: number;
  realisedWeight: number;
  requestedUnits: number;
  units: number;
  docs: number;
  uniqueDocs: number;
  tokens: number;
  bytes: number;
  /** Full passes over the source, and the largest copy count of any document. */
  fullPasses: number;
  maxRepeat: number;
  /** Documents drawn beyond their first copy. */
  repeats: number;
  sourceDocs: number;
  sourceUnits: number;
};

/** `info.mix` of a `mix()` stage's manifest. */
export type MixInfo = {
  by: 'tokens' | 'bytes' | 'docs';
  target: number | null;
  seed: number;
  units: number;
  sources: MixSourceInfo[];
};

/** The manifest info of a `mix()` stage. */
export type MixStageInfo = { mix: MixInfo };

const refSchema = z.object({ kind: z.literal('stage'), name: z.string(), pipeline: z.string() });
const sourceSchema = z.union([
  z.object({ input: refSchema, weight: z.number().positive().finite() }).strict(),
  z.object({ input: refSchema, epochs: z.number().positive().finite() }).strict(),
]);
const schema = z
  .object({
    sources: z.array(sourceSchema).min(1),
    target: z.number().positive().finite().optional(),
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    by: z.enum(['tokens', 'bytes', 'docs']).default('tokens'),
  })
  .strict();

const enc = new TextEncoder();

/** Units of a document under `by`; throws for `tokens` on a document without tokens. */
export function unitsOf(doc: Doc, by: 'tokens' | 'bytes' | 'docs', source: string): number {
  switch (by) {
    case 'docs':
      return 1;
    case 'bytes':
      return Buffer.byteLength(doc.text, 'utf8');
    case 'tokens':
      if (!doc.tokens) throw new Error(`mix: by 'tokens' needs encoded documents, but source '${source}' document '${doc.id}' has no tokens (run tokenize.encode on it first, or use by: 'bytes')`);
      return doc.tokens.length;
    default: {
      const never: never = by;
      throw new Error(`mix: unknown unit ${String(never)}`);
    }
  }
}

/** Declares a mixture stage (see the module comment). Defaults: `seed` 0, `by` `tokens`. */
export function mix(options: MixOptions): CustomStage<MixStageInfo> {
  const c = parseConfig('mix', schema, options);
  const names = c.sources.map((s) => s.input.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`mix: source '${dup}' is listed twice; give it one weight`);
  if (c.sources.some((s) => 'weight' in s) && c.target === undefined) throw new Error(`mix: 'target' is required when a source has a weight (it counts ${c.by})`);
  const inputs = c.sources.map((s) => s.input as StageRef);
  return {
    kind: 'custom',
    type: 'mix',
    name: 'mix',
    version: '1',
    config: toJson(c),
    inputs,
    output: 'docs',
    taskCount: () => 1,
    run: (ctx) => runMix(ctx, c),
  };
}

async function runMix(ctx: CustomTaskContext<MixStageInfo>, c: z.output<typeof schema>): Promise<void> {
  // Pass 1: per-document units of every source.
  const counts: number[][] = [];
  for (const [i, ds] of ctx.inputs.entries()) {
    const units: number[] = [];
    for await (const batch of ds.readDocs()) {
      for (const d of batch) units.push(unitsOf(d, c.by, ds.stage));
      ctx.progress.add(batch.length, 0);
    }
    counts[i] = units;
  }
  const plans = planMixture(
    c.sources.map((s, i) => ({ counts: counts[i]!, ...('weight' in s ? { weight: s.weight } : { epochs: s.epochs }) })),
    c.target,
    c.seed,
  );
  // Pass 2: write the drawn copies, one output file per source file.
  const infos: MixSourceInfo[] = [];
  let part = 0;
  for (const [i, ds] of ctx.inputs.entries()) {
    const plan = plans[i]!;
    const acc = { tokens: 0, bytes: 0, unique: 0, maxRepeat: 0 };
    let row = 0;
    for (const file of ds.files()) {
      const out = async function* (): AsyncIterable<Doc[]> {
        for await (const batch of ds.readDocs([file])) {
          const docs: Doc[] = [];
          for (const d of batch) {
            const k = plan.copies[row++]!;
            if (!k) continue;
            acc.unique++;
            acc.maxRepeat = Math.max(acc.maxRepeat, k);
            const bytes = enc.encode(d.text).length;
            for (let j = 0; j < k; j++) {
              docs.push({ ...d, id: j ? `${d.id}#r${j}` : d.id, meta: { ...d.meta, mixSource: ds.stage, mixRepeat: j } });
              acc.tokens += d.tokens?.length ?? 0;
              acc.bytes += bytes;
            }
          }
          if (docs.length) yield docs;
        }
      };
      await ctx.writeDocs(`part-${String(part++).padStart(5, '0')}.parquet`, out());
    }
    infos.push(sourceInfo(ds.stage, plan, acc));
  }
  const totalRequested = plans.reduce((a, p) => a + p.requested, 0);
  const totalRealised = plans.reduce((a, p) => a + p.realised, 0);
  for (const [i, p] of plans.entries()) {
    infos[i]!.requestedWeight = totalRequested ? p.requested / totalRequested : 0;
    infos[i]!.realisedWeight = totalRealised ? p.realised / totalRealised : 0;
  }
  ctx.setInfo({ mix: { by: c.by, target: c.target ?? null, seed: c.seed, units: totalRealised, sources: infos } });
}

function sourceInfo(input: string, p: SourcePlan, acc: { tokens: number; bytes: number; unique: number; maxRepeat: number }): MixSourceInfo {
  return {
    input,
    requestedWeight: 0,
    realisedWeight: 0,
    requestedUnits: p.requested,
    units: p.realised,
    docs: p.docs,
    uniqueDocs: acc.unique,
    tokens: acc.tokens,
    bytes: acc.bytes,
    fullPasses: p.fullPasses,
    maxRepeat: acc.maxRepeat,
    repeats: p.docs - acc.unique,
    sourceDocs: p.copies.length,
    sourceUnits: p.total,
  };
}
