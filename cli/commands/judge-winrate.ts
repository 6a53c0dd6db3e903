/**
 * `sluice judge winrate` and `sluice judge difficulty`: AlpacaEval's win rate and
 * length-controlled win rate of judge annotations, and instruction difficulty by a joint fit over
 * models (dispatched by judge.ts).
 */
import { writeFileSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { ANNOTATION_FORMATS, readAnnotations, type AnnotationFormat } from '../../evals/judge/annotations.ts';
import { GAMED_LAMBDA, GLM_NAMES, type GlmName } from '../../evals/judge/glm.ts';
import { judgeWinRate } from '../../evals/judge/report.ts';
import { fitDifficulty, difficultyCsv, gamedBaselineFiles, readAnnotationDir, readDifficultyCsv } from '../../evals/judge/difficulty.ts';
import { judgeHtml } from '../../evals/judge/html.ts';

/** Writes through a temporary file and a rename, so a crash never leaves half a file. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export const WINRATE_USAGE = `sluice judge winrate --annotations F.json [options]

AlpacaEval's win rate and length-controlled win rate of one model's judge annotations
(AlpacaEval's annotations.json: output_1 = baseline, output_2 = model, preference 1 … 2).

  --annotations F.json   the annotations (required)
  --format alpaca_eval   input format (default alpaca_eval, the only one)
  --glm NAME             length_controlled_v1 (default): tanh of the standardised length
                         difference + instruction difficulty + not-gamed-baseline term, with
                         λ regularisation towards the gamed baselines; or minimal: length term
                         and bias only
  --difficulty F.csv     instruction difficulty from \`sluice judge difficulty\` (required by
                         length_controlled_v1)
  --gamed F.json|none    annotations of a gamed baseline (the baseline's own outputs made shorter
                         or longer); repeatable. Default: the folders beside the model's whose
                         name is the baseline's with verbose/concise (AlpacaEval's
                         gpt4_1106_preview_verbose, _concise), else none. gpt4_gamed is not one
  --lambda X             weight of the gamed-baseline rows, shared among them (default ${GAMED_LAMBDA})
  --html FILE            also write the judge.html report
  --json                 print JSON: win_rate, standard_error, length_controlled_winrate,
                         lc_standard_error, n, and the details`;

export const DIFFICULTY_USAGE = `sluice judge difficulty --annotations DIR --out F.csv [--json]

Instruction difficulty by AlpacaEval's joint fit over models: DIR holds <model>/annotations.json
for each model; one L1 logistic regression with a length slope and a bias per model and a term per
instruction (C by 5-fold CV). Writes index,instruction,instruction_difficulty.`;

/** `sluice judge winrate`. */
export async function winrate(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    annotations: { type: 'string' },
    format: { type: 'string' },
    glm: { type: 'string' },
    difficulty: { type: 'string' },
    gamed: { type: 'string', multiple: true },
    lambda: { type: 'string' },
    html: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return (console.log(WINRATE_USAGE), 0);
  if (!values.annotations) throw new UsageError('--annotations F.json is required');
  const format = (values.format ?? 'alpaca_eval') as AnnotationFormat;
  if (!ANNOTATION_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${ANNOTATION_FORMATS.join(', ')} (got '${values.format}')`);
  const glm = (values.glm ?? 'length_controlled_v1') as GlmName;
  if (!GLM_NAMES.includes(glm)) throw new UsageError(`--glm must be one of ${GLM_NAMES.join(', ')} (got '${values.glm}')`);
  const lambda = values.lambda === undefined ? GAMED_LAMBDA : Number(values.lambda);
  if (!(lambda >= 0)) throw new UsageError(`--lambda must be a number ≥ 0 (got '${values.lambda}')`);
  if (glm === 'length_controlled_v1' && !values.difficulty) throw new UsageError('--glm length_controlled_v1 needs --difficulty F.csv: build it with `sluice judge difficulty --annotations DIR --out F.csv`');
  const set = readAnnotations(values.annotations, format);
  let gamedPaths: string[];
  if (values.gamed?.length) gamedPaths = values.gamed.includes('none') ? [] : values.gamed;
  else {
    // AlpacaEval's gamed baselines are `<baseline>_verbose` / `<baseline>_concise` beside the model's folder; gpt4_gamed is not one.
    const baseline = set.annotations[0]?.generator1 ?? '';
    gamedPaths = glm === 'length_controlled_v1' ? gamedBaselineFiles(dirname(dirname(resolve(values.annotations))), baseline) : [];
  }
  const gamed = gamedPaths.map((p) => readAnnotations(p).annotations);
  const difficulty = values.difficulty ? readDifficultyCsv(values.difficulty) : undefined;
  const result = judgeWinRate(set, { glm, difficulty, gamed, lambda, gamedPaths });
  if (values.html) writeAtomic(values.html, judgeHtml(result, set));
  for (const s of set.skipped) console.error(`skipped record ${s.index}: ${s.reason}`);
  if (values.json) console.log(JSON.stringify(result.summary, null, 2));
  else {
    const s = result.summary;
    console.log(`${s.model} vs ${s.baseline} (${s.n} judged, ${s.n_dropped} without a preference)`);
    console.log(`win rate               ${s.win_rate.toFixed(2)} ± ${s.standard_error.toFixed(2)}`);
    console.log(`length-controlled (${s.glm}) ${s.length_controlled_winrate.toFixed(2)} ± ${s.lc_standard_error.toFixed(2)}`);
  }
  return 0;
}

/** `sluice judge difficulty`. */
export async function difficulty(argv: string[]): Promise<number> {
  const { values } = parse(argv, { annotations: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return (console.log(DIFFICULTY_USAGE), 0);
  if (!values.annotations) throw new UsageError('--annotations DIR is required');
  if (!values.out) throw new UsageError('--out F.csv is required');
  const sets = readAnnotationDir(values.annotations);
  const fit = fitDifficulty(sets);
  writeAtomic(values.out, difficultyCsv(fit.instructions));
  for (const s of fit.skipped) console.error(`skipped record ${s.index} of ${s.model}: ${s.reason}`);
  const summary = { out: values.out, models: fit.models, instructions: fit.instructions.length, C: fit.C, not_gamed_baseline: fit.notGamed, skipped: fit.skipped.length };
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(`${fit.instructions.length} instructions from ${fit.models.length} models (C = ${fit.C.toPrecision(3)}) → ${values.out}`);
  return 0;
}
