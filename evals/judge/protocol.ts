/**
 * AlpacaEval 2's pairwise judge protocol, `weighted_alpaca_eval_gpt4_turbo` (tatsu-lab/alpaca_eval:
 * `src/alpaca_eval/evaluators_configs/weighted_alpaca_eval_gpt4_turbo/configs.yaml` and its
 * `alpaca_eval_clf.txt` prompt; the parser is `logprob_parser` in `src/alpaca_eval/completion_parsers.py`):
 *
 * - the prompt is a ChatML text (`<|im_start|>role … <|im_end|>` blocks) turned into chat messages,
 *   with `{instruction}`, `{output_1}` and `{output_2}` filled in;
 * - the judge answers one token (`max_tokens: 1`, `temperature: 1`) with `logprobs` and
 *   `top_logprobs: 5`; the labels are `m` (the first output) and `M` (the second);
 * - the preference in the judge's order is `2 − P(m)` with `P(m) = p(m) / (p(m) + p(M))` from the
 *   top log-probabilities (a label absent from them counts as probability 0; neither present: no
 *   preference), so 1 means the first output wins and 2 the second;
 * - which output the judge sees first is randomised per instruction, and a preference given on
 *   swapped outputs is mapped back (`3 − p`), so `output_1` is always the baseline.
 *
 * Where the endpoint returns no log-probabilities (some servers do not), the fallback parser reads
 * the answer text: exactly `m` or `M` (surrounding whitespace ignored) gives 1 or 2; anything else
 * is unparseable and recorded with its reason, never turned into a preference.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRole } from '../../formats/chat.ts';
import { isChatRole } from '../../formats/chat.ts';
import type { ChatChoice, ChatRequest } from '../../llm/types.ts';

/** The name AlpacaEval gives this protocol (its evaluator config). */
export const PROTOCOL = 'weighted_alpaca_eval_gpt4_turbo';

/** Judge decoding settings of the protocol's config. */
export const JUDGE_DECODING = { max_tokens: 1, temperature: 1, logprobs: true, top_logprobs: 5 } as const;

/** The two labels: the first shown output, the second shown output. */
export const LABELS = { first: 'm', second: 'M' } as const;

const FIELDS = ['instruction', 'output_1', 'output_2'] as const;

/** The filled-in fields of the judge prompt. */
export type PromptFields = Record<(typeof FIELDS)[number], string>;

/**
 * A ChatML prompt template (AlpacaEval's format) as chat messages: each `<|im_start|>ROLE\n…<|im_end|>`
 * block is one message, its content trimmed. Throws when the text has no block, a block is not
 * closed, a role is unknown, or a placeholder is missing.
 */
export function parseChatmlTemplate(text: string, source = 'template'): ChatMessage[] {
  const body = text.trim();
  const blocks = body.split('<|im_start|>');
  if (blocks[0]!.trim() !== '') throw new Error(`${source}: text before the first <|im_start|>`);
  if (blocks.length < 2) throw new Error(`${source}: no <|im_start|>ROLE … <|im_end|> block (AlpacaEval's ChatML prompt format)`);
  const messages: ChatMessage[] = [];
  for (const [i, b] of blocks.slice(1).entries()) {
    const nl = b.indexOf('\n');
    const end = b.indexOf('<|im_end|>');
    if (nl < 0 || end < 0 || end < nl) throw new Error(`${source}: block ${i + 1} is not 'ROLE\\n… <|im_end|>'`);
    const role = b.slice(0, nl).trim();
    if (!isChatRole(role)) throw new Error(`${source}: block ${i + 1} has unknown role '${role}'`);
    if (b.slice(end + '<|im_end|>'.length).trim() !== '') throw new Error(`${source}: text after <|im_end|> in block ${i + 1}`);
    messages.push({ role: role as ChatRole, content: b.slice(nl + 1, end).trim() });
  }
  const all = messages.map((m) => m.content).join('\n');
  for (const f of FIELDS) if (!all.includes(`{${f}}`)) throw new Error(`${source}: placeholder {${f}} is missing`);
  return messages;
}

/**
 * The messages with `{instruction}`, `{output_1}` and `{output_2}` replaced in one pass (text that
 * itself contains `{output_2}` is not substituted again; other braces, like the JSON-looking ones
 * of AlpacaEval's prompt, stay as they are).
 */
export function fillPrompt(template: ChatMessage[], fields: PromptFields): ChatMessage[] {
  return template.map((m) => ({ role: m.role, content: m.content.replace(/\{(instruction|output_1|output_2)\}/g, (_, k: keyof PromptFields) => fields[k]) }));
}

/** The chat request the protocol sends to the judge. */
export function judgeRequest(model: string, messages: ChatMessage[]): ChatRequest {
  return { model, messages, ...JUDGE_DECODING };
}

/**
 * Whether the judge sees the model's output first for this instruction: one bit of
 * sha256(`seed`, instruction), so the order is random across instructions, fixed for a seed, and
 * independent of the outputs themselves (a re-run with new outputs keeps each instruction's order).
 */
export function modelFirst(seed: number, instruction: string): boolean {
  return (createHash('sha256').update(`${seed}\0${instruction}`).digest()[0]! & 1) === 1;
}

/** A judge answer read as a preference in the judge's own order, or why it cannot be. */
export type ParsedJudgement = { ok: true; preference: number; method: 'logprobs' | 'text' } | { ok: false; reason: string };

/**
 * The preference (1 = first shown output, 2 = second; fractional from log-probabilities) from the
 * first token's `top_logprobs`, else (no log-probabilities at all) from the answer text.
 */
export function parseJudgement(choice: ChatChoice): ParsedJudgement {
  const first = choice.logprobs?.content?.[0];
  if (first && Array.isArray(first.top_logprobs) && first.top_logprobs.length > 0) {
    const lp = new Map<string, number>();
    for (const t of first.top_logprobs) {
      if ((t.token === LABELS.first || t.token === LABELS.second) && typeof t.logprob === 'number' && !lp.has(t.token)) lp.set(t.token, t.logprob);
    }
    if (lp.size === 0) return { ok: false, reason: `neither '${LABELS.first}' nor '${LABELS.second}' among the top log-probabilities (${first.top_logprobs.map((t) => JSON.stringify(t.token)).join(', ')})` };
    const a = lp.get(LABELS.first) ?? -Infinity;
    const b = lp.get(LABELS.second) ?? -Infinity;
    // P(m) = e^a / (e^a + e^b), computed stably.
    const hi = Math.max(a, b);
    const pm = Math.exp(a - hi) / (Math.exp(a - hi) + Math.exp(b - hi));
    return { ok: true, preference: 2 - pm, method: 'logprobs' };
  }
  const text = choice.message?.content;
  if (typeof text !== 'string') return { ok: false, reason: 'no log-probabilities and no answer text' };
  const t = text.trim();
  if (t === LABELS.first) return { ok: true, preference: 1, method: 'text' };
  if (t === LABELS.second) return { ok: true, preference: 2, method: 'text' };
  return { ok: false, reason: `no log-probabilities, and the answer ${JSON.stringify(t.slice(0, 80))} is not '${LABELS.first}' or '${LABELS.second}'` };
}

/** A preference given with the outputs swapped, mapped back to baseline = 1, model = 2. */
export function unswap(preference: number, swapped: boolean): number {
  return swapped ? 3 - preference : preference;
}
