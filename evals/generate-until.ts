/**
 * Generative evaluation as lm-evaluation-harness's `generate_until`:
 * - the prompt is the few-shot examples (`doc_to_text + target_delimiter + doc_to_target`, joined
 *   by `fewshot_delimiter`) then the item's `doc_to_text`; with a chat template
 *   (`--apply_chat_template`), the same text as one user turn, or with `fewshotAsMultiturn` each
 *   example as a user turn and an assistant turn (`--fewshot_as_multiturn`), then the generation
 *   prompt;
 * - the context is cut from the left to `contextLength − maxGenToks` tokens (lm-eval's HF model;
 *   the whole context when that is under one token);
 * - greedy decoding until any `until` string (or end-of-text), at most `maxGenToks` tokens, the
 *   response cut before the first `until` string;
 * - filter pipelines over the responses (`regex` with `group_select` and a fallback of
 *   `[invalid]`, `take_first`), each scored by `exact_match` with `ignore_case`,
 *   `ignore_punctuation` and `regexes_to_ignore` as Hugging Face `evaluate`'s exact_match.
 *
 * {@link GSM8K} is lm-eval's `gsm8k` task: `Question: …\nAnswer:`, until `Question:`, `</s>`,
 * `<|im_end|>`, strict-match (`#### (\-?[0-9\.\,]+)`) and flexible-extract (the last number).
 * Python regular expressions are translated: a leading inline flag group (`(?s)`, `(?i)`, `(?m)`)
 * becomes the JS flag; `findall` returns the groups as Python does.
 */
import type { ChatMessage } from '../formats/chat.ts';
import type { GenerateOptions, Generation } from '../trainer/generate/generate.ts';
import { mean, meanStderr, sampleShots, type Estimate } from './stats.ts';

/** One generative item: the `doc_to_text` prompt and the `doc_to_target` reference. */
export interface GenItem {
  id: string;
  index: number;
  /** The prompt text of the item (`doc_to_text`). */
  input: string;
  /** The reference answer (`doc_to_target`). */
  target: string;
}

/** One filter step (lm-eval's `filter_list[].filter[]`). */
export type FilterStep = { function: 'regex'; regexPattern: string; groupSelect?: number; fallback?: string } | { function: 'take_first' };

/** A named filter pipeline (lm-eval's `filter_list[]`). */
export interface FilterPipeline {
  name: string;
  steps: FilterStep[];
}

/** `exact_match` options (Hugging Face `evaluate`). */
export interface ExactMatchOptions {
  ignoreCase?: boolean;
  ignorePunctuation?: boolean;
  /** Python regexes removed (every occurrence) from prediction and reference before comparing. */
  regexesToIgnore?: string[];
}

/** A generative task: its items' formatting, generation and scoring. */
export interface GenerativeTask {
  name: string;
  /** Stop strings (`generation_kwargs.until`). */
  until: string[];
  /** Most new tokens (`max_gen_toks`, lm-eval's default 256). */
  maxGenToks: number;
  filters: FilterPipeline[];
  exactMatch: ExactMatchOptions;
  /** Between a few-shot example's text and its target (default `' '`). */
  targetDelimiter?: string;
  /** Between few-shot examples (default `'\n\n'`). */
  fewshotDelimiter?: string;
}

/** lm-evaluation-harness's `gsm8k` task (lm_eval/tasks/gsm8k/gsm8k.yaml, version 3.0). */
export const GSM8K: GenerativeTask = {
  name: 'gsm8k',
  until: ['Question:', '</s>', '<|im_end|>'],
  maxGenToks: 256,
  filters: [
    { name: 'strict-match', steps: [{ function: 'regex', regexPattern: '#### (\\-?[0-9\\.\\,]+)' }, { function: 'take_first' }] },
    { name: 'flexible-extract', steps: [{ function: 'regex', groupSelect: -1, regexPattern: '(-?[$0-9.,]{2,})|(-?[0-9]+)' }, { function: 'take_first' }] },
  ],
  exactMatch: { ignoreCase: true, ignorePunctuation: false, regexesToIgnore: [',', '\\$', '(?s).*#### ', '\\.$'] },
};

/** Chat formatting (`--apply_chat_template`): renders messages with the generation prompt. */
export interface ChatFormatting {
  render(messages: ChatMessage[]): string;
  /** Few-shot examples as alternating user/assistant turns (default false: one user turn). */
  fewshotAsMultiturn?: boolean;
  /** A system message first (lm-eval's `--system_instruction`). */
  systemInstruction?: string;
}

/** What the eval needs of a model (a `TextGenerator` fits). */
export interface GenerativeModel {
  contextLength: number;
  encode(text: string): number[];
  encodeChat(text: string): number[];
  generate(prompt: ArrayLike<number>, opts: GenerateOptions): Promise<Generation>;
}

/** Options of {@link evaluateGenerative}. */
export interface GenerativeOptions {
  /** Few-shot examples (default 0). */
  fewshot?: number;
  /** Few-shot pool (default: the items, never the item itself). */
  fewshotPool?: GenItem[];
  /** Few-shot sampling seed (default 1234, lm-eval's). */
  seed?: number;
  chat?: ChatFormatting;
  /** Score only the first `limit` items. */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

/** One item's outcome. */
export interface GenItemResult {
  id: string;
  prompt: string;
  response: string;
  target: string;
  /** Filter name → the filtered answer. */
  filtered: Record<string, string>;
  /** Filter name → exact match (0/1). */
  exactMatch: Record<string, number>;
}

/** A task's outcome: `exact_match,<filter>` per filter pipeline. */
export interface GenerativeResult {
  benchmark: string;
  method: 'generate_until';
  fewshot: number;
  chat: boolean;
  n: number;
  metrics: Record<string, Estimate>;
  items: GenItemResult[];
}

/** A Python regex as a JS RegExp: a leading inline-flag group becomes flags; `g` added. */
export function pyRegex(pattern: string, extraFlags = ''): RegExp {
  let p = pattern;
  let flags = new Set(extraFlags.split('').filter(Boolean));
  const m = /^\(\?([aiLmsux]+)\)/.exec(p);
  if (m) {
    p = p.slice(m[0].length);
    for (const f of m[1]!) {
      if (f === 'i' || f === 'm' || f === 's') flags.add(f);
      else if (f !== 'a' && f !== 'u') throw new Error(`regex ${JSON.stringify(pattern)}: inline flag (?${f}) has no JavaScript equivalent`);
    }
  }
  flags = new Set([...flags, 'g']);
  return new RegExp(p, [...flags].join(''));
}

/** Python's `re.findall`: full matches without groups, the group with one, tuples with several. */
export function findall(re: RegExp, s: string): Array<string | string[]> {
  const out: Array<string | string[]> = [];
  for (const m of s.matchAll(re)) {
    if (m.length === 1) out.push(m[0]);
    else if (m.length === 2) out.push(m[1] ?? '');
    else out.push(m.slice(1).map((x) => x ?? ''));
  }
  return out;
}

/** lm-eval's RegexFilter on one response. */
export function regexFilter(resp: string, pattern: string, groupSelect = 0, fallback = '[invalid]'): string {
  const matches = findall(pyRegex(pattern), resp);
  if (!matches.length) return fallback;
  const i = groupSelect < 0 ? matches.length + groupSelect : groupSelect;
  let match = matches[i];
  if (match === undefined) return fallback;
  if (Array.isArray(match)) {
    const nonEmpty = match.filter((x) => x);
    if (!nonEmpty.length) return fallback;
    match = nonEmpty[0]!;
  }
  return match.trim();
}

/** Runs a filter pipeline over one item's responses (lm-eval applies each step to the list). */
export function applyFilters(responses: string[], steps: FilterStep[]): string[] {
  let rs = responses;
  for (const s of steps) {
    switch (s.function) {
      case 'regex':
        rs = rs.map((r) => regexFilter(r, s.regexPattern, s.groupSelect, s.fallback));
        break;
      case 'take_first':
        rs = rs.slice(0, 1);
        break;
      default: {
        const never: never = s;
        throw new Error(`unknown filter ${JSON.stringify(never)}`);
      }
    }
  }
  return rs;
}

const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** Hugging Face `evaluate`'s exact_match for one prediction: 1 or 0. */
export function exactMatch(pred: string, ref: string, o: ExactMatchOptions = {}): number {
  let p = pred;
  let r = ref;
  for (const s of o.regexesToIgnore ?? []) {
    const re = pyRegex(s);
    p = p.replace(re, '');
    r = r.replace(re, '');
  }
  if (o.ignoreCase) {
    p = p.toLowerCase();
    r = r.toLowerCase();
  }
  if (o.ignorePunctuation) {
    p = p.replace(PUNCTUATION, '');
    r = r.replace(PUNCTUATION, '');
  }
  return p === r ? 1 : 0;
}

/** The few-shot examples of an item: k drawn with a seeded PRNG (`seed + index`) from the pool without it. */
function fewshotExamples(item: GenItem, pool: GenItem[], k: number, seed: number): GenItem[] {
  if (k <= 0) return [];
  return sampleShots(pool.filter((p) => p.id !== item.id), k, seed, item.index, item.id);
}

/** The prompt text of an item (see the module comment). */
export function buildPrompt(task: GenerativeTask, item: GenItem, shots: GenItem[], chat?: ChatFormatting): string {
  const td = task.targetDelimiter ?? ' ';
  const fd = task.fewshotDelimiter ?? '\n\n';
  const labeled = shots.map((s) => s.input + td + s.target).join(fd);
  const plain = shots.length ? labeled + fd + item.input : item.input;
  if (!chat) return plain;
  const messages: ChatMessage[] = chat.systemInstruction ? [{ role: 'system', content: chat.systemInstruction }] : [];
  if (chat.fewshotAsMultiturn) {
    for (const s of shots) messages.push({ role: 'user', content: s.input }, { role: 'assistant', content: s.target });
    messages.push({ role: 'user', content: item.input });
  } else messages.push({ role: 'user', content: plain });
  return chat.render(messages);
}

/** Scores a generative task with a model; see the module comment for the definitions. */
export async function evaluateGenerative(model: GenerativeModel, task: GenerativeTask, items: GenItem[], opts: GenerativeOptions = {}): Promise<GenerativeResult> {
  const k = opts.fewshot ?? 0;
  const seed = opts.seed ?? 1234;
  const pool = opts.fewshotPool ?? items;
  const todo = opts.limit !== undefined ? items.slice(0, opts.limit) : items;
  const out: GenItemResult[] = [];
  const budget = model.contextLength - task.maxGenToks;
  for (const item of todo) {
    const prompt = buildPrompt(task, item, fewshotExamples(item, pool, k, seed), opts.chat);
    let ids = opts.chat ? model.encodeChat(prompt) : model.encode(prompt);
    ids = ids.slice(-(budget >= 1 ? budget : model.contextLength));
    const g = await model.generate(ids, { temperature: 0, maxTokens: task.maxGenToks, stop: task.until });
    const filtered: Record<string, string> = {};
    const em: Record<string, number> = {};
    for (const f of task.filters) {
      const answer = applyFilters([g.text], f.steps)[0] ?? '';
      filtered[f.name] = answer;
      em[f.name] = exactMatch(answer, item.target, task.exactMatch);
    }
    out.push({ id: item.id, prompt, response: g.text, target: item.target, filtered, exactMatch: em });
    opts.onProgress?.(out.length, todo.length);
  }
  const metrics: Record<string, Estimate> = {};
  for (const f of task.filters) {
    const xs = out.map((r) => r.exactMatch[f.name]!);
    metrics[`exact_match,${f.name}`] = { value: mean(xs), stderr: meanStderr(xs) };
  }
  return { benchmark: task.name, method: 'generate_until', fewshot: k, chat: !!opts.chat, n: out.length, metrics, items: out };
}

/**
 * Items of a generative benchmark file (JSONL): GSM8K's `{question, answer}` (prompt
 * `Question: <question>\nAnswer:`, target the answer) or `{input, target}`. A malformed line is
 * skipped and reported through `onSkip` with its reason.
 */
export function parseGenerativeJsonl(text: string, name: string, onSkip?: (s: { source: string; reason: string }) => void): GenItem[] {
  const items: GenItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const source = `${name}:${i + 1}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      onSkip?.({ source, reason: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    let input: unknown;
    let target: unknown;
    if (typeof o.question === 'string' && typeof o.answer === 'string') {
      input = `Question: ${o.question}\nAnswer:`;
      target = o.answer;
    } else {
      input = o.input;
      target = o.target;
    }
    if (typeof input !== 'string' || typeof target !== 'string') {
      onSkip?.({ source, reason: 'needs string fields {question, answer} or {input, target}' });
      return;
    }
    items.push({ id: `${name}/${items.length}`, index: items.length, input, target });
  });
  return items;
}
