/** Writes a judge run's files: `annotations.json`, `model_outputs.json`, `judge-run.json` (each atomically). */
import { storage } from '../../engine/storage/index.ts';
import type { JudgeRunResult } from './run.ts';

/** The three files of a run, by name, as AlpacaEval lays them out (JSON arrays, indented). */
export function judgeRunFiles(r: JudgeRunResult): Record<string, string> {
  return {
    'annotations.json': JSON.stringify(r.annotations, null, 2) + '\n',
    'model_outputs.json': JSON.stringify(r.modelOutputs, null, 2) + '\n',
    'judge-run.json': JSON.stringify(r.summary, null, 2) + '\n',
  };
}

/** Writes the run's files into `dir` (local or s3://); each file appears complete or not at all. */
export async function writeJudgeRun(dir: string, r: JudgeRunResult): Promise<void> {
  for (const [name, text] of Object.entries(judgeRunFiles(r))) await storage.write(storage.join(dir, name), text);
}
