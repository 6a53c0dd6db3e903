/**
 * AlpacaEval's file formats: `model_outputs.json` (a JSON array of `{instruction, output,
 * generator, dataset}`; the baseline file has the 805 instructions of the evaluation set) and
 * `annotations.json` (a JSON array with one record per instruction: `instruction`, `output_1` and
 * `generator_1` for the baseline, `output_2` and `generator_2` for the model, `dataset`,
 * `annotator`, `preference` (1 = baseline, 2 = model, fractional from log-probabilities; null when
 * the judge's answer could not be parsed), `price_per_example`, `time_per_example` and
 * `raw_completion`, the judge's choice as received). Field names are those of the real annotation
 * files AlpacaEval publishes, so its Python tools read what Sluice writes.
 */
import { readFile } from 'node:fs/promises';
import type { ChatChoice } from '../../llm/types.ts';

/** One entry of a `model_outputs.json`. */
export interface ModelOutput {
  instruction: string;
  output: string;
  generator: string;
  dataset?: string;
}

/** One record of AlpacaEval's `annotations.json`. */
export interface Annotation {
  instruction: string;
  output_1: string;
  generator_1: string;
  dataset: string | null;
  output_2: string;
  generator_2: string;
  annotator: string;
  /** 1 = `output_1` (baseline) preferred … 2 = `output_2` (model) preferred; null = unparseable. */
  preference: number | null;
  /** Unknown for a self-hosted judge: null. */
  price_per_example: number | null;
  /** Seconds the judge call took; 0 when answered from the cache. */
  time_per_example: number;
  raw_completion: ChatChoice | null;
  /** Sluice's addition, only on unparseable records: why no preference was read. */
  parse_error?: string;
}

/**
 * Reads a `model_outputs.json`: a JSON array of objects with string `instruction` and `output`.
 * Throws naming the file and the first bad entry; `generator` defaults to `fallbackGenerator`.
 */
export async function readModelOutputs(path: string, fallbackGenerator?: string): Promise<ModelOutput[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not a JSON file (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array of {instruction, output, generator}`);
  return data.map((r: unknown, i): ModelOutput => {
    const o = r as Partial<ModelOutput> | null;
    if (!o || typeof o.instruction !== 'string' || typeof o.output !== 'string') throw new Error(`${path}: entry ${i} has no string 'instruction' and 'output'`);
    const generator = typeof o.generator === 'string' ? o.generator : fallbackGenerator;
    if (!generator) throw new Error(`${path}: entry ${i} has no 'generator' (name the model)`);
    return { instruction: o.instruction, output: o.output, generator, ...(typeof o.dataset === 'string' ? { dataset: o.dataset } : {}) };
  });
}
