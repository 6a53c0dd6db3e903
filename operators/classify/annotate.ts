/**
 * `classify.annotate({ endpoint, model, prompt, sample, … })`: labels from an LLM, for distilling a
 * quality classifier (FineWeb-Edu's recipe: an LLM scores a sample of pages 0–5, a small classifier
 * learns those scores). Each sampled document is sent to an OpenAI-compatible endpoint with a
 * scoring prompt (default: FineWeb-Edu's educational-value prompt, edu-prompt.ts) and the score read
 * from the answer lands in `meta[key]` (default `eduScore`), with the answer in `meta[key + 'Answer']`.
 *
 * - Sampling is deterministic: a document is in the sample when sha256(seed, id) falls below
 *   `sample`; the others are dropped with reason `annotate.notSampled`.
 * - An answer with no readable score is dropped with reason `annotate.unparseable`, the reason and
 *   the answer's start in the audit details: never guessed. A request the endpoint refuses for its
 *   content (400/413/422, e.g. over the model's context length) drops the document with reason
 *   `annotate.rejected` and the endpoint's message; other failures (bad key, outage) fail the task.
 * - Calls go through the shared model client (llm/client.ts): limited concurrency, retry with
 *   backoff on 429/5xx, and the JSONL response cache, so re-running a stage (or resuming a killed
 *   one) asks only for documents not yet scored.
 *
 * The endpoint address, concurrency and cache path are transport settings: they are not in the
 * fingerprint (the model, prompt, sample and decoding settings are).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Doc, Json, Operator } from '../../engine/types.ts';
import { toJson } from '../../engine/json.ts';
import { EndpointError, ModelClient } from '../../llm/client.ts';
import { ResponseCache, cacheKey, defaultCachePath } from '../../llm/cache.ts';
import { resolveEndpoint } from '../../llm/endpoint.ts';
import type { ChatRequest } from '../../llm/types.ts';
import { FINEWEB_EDU_PROMPT, parseScore, type ScorePrompt } from './edu-prompt.ts';

const TYPE = 'classify.annotate';

const PromptSchema = z
  .object({
    name: z.string().min(1),
    template: z.string().includes('{text}', { message: "must contain '{text}' where the document goes" }),
    scorePattern: z.string().min(1),
    min: z.number(),
    max: z.number(),
  })
  .strict();

const Config = z
  .object({
    /** Model name sent to the endpoint. */
    model: z.string().min(1),
    /** `fineweb-edu` (default) or a custom scoring prompt. */
    prompt: z.union([z.literal('fineweb-edu'), PromptSchema]).default('fineweb-edu'),
    /** Fraction of documents scored, in (0, 1] (default 1). */
    sample: z.number().gt(0).max(1).default(1),
    /** Seed of the sample (default 0). */
    seed: z.number().int().default(0),
    /** Meta key of the score (default `eduScore`). */
    key: z.string().min(1).default('eduScore'),
    /** Characters of the document put in the prompt, from its start (default 10,000). */
    maxChars: z.number().int().positive().default(10_000),
    /** Longest answer in tokens (default 256: a 100-word justification and the score). */
    maxTokens: z.number().int().positive().default(256),
    /** Sampling temperature (default 0: greedy, reproducible). */
    temperature: z.number().min(0).default(0),
    /** Instance name (default `classify.annotate`). */
    name: z.string().min(1).optional(),
  })
  .strict();

/** Options of `classify.annotate`: the fingerprinted config plus transport settings. */
export type AnnotateOptions = z.input<typeof Config> & {
  /** Base URL of the endpoint (default `OPENAI_BASE_URL`; `OPENAI_API_KEY` is sent). */
  endpoint?: string;
  /** Requests in flight per task (default 4). */
  concurrency?: number;
  /** Response cache file (default `<SLUICE_CACHE or ~/.cache/sluice>/llm/responses.jsonl`). */
  cache?: string;
  /** Per-attempt timeout in ms (default 120,000) and retries (default 6). */
  timeoutMs?: number;
  retries?: number;
};

/** True when `id` is in the sample: sha256(seed, id) read as a fraction of 2^48 is below `fraction`. */
export function inSample(id: string, fraction: number, seed: number): boolean {
  if (fraction >= 1) return true;
  const h = createHash('sha256').update(`${seed}\0${id}`).digest();
  return h.readUIntBE(0, 6) / 2 ** 48 < fraction;
}

/** Scores a sample of documents with an LLM (see the module comment). */
export function annotate(options: AnnotateOptions): Operator {
  const { endpoint, concurrency, cache, timeoutMs, retries, ...rest } = options ?? ({} as AnnotateOptions);
  const c = parseConfig(TYPE, Config, rest);
  const prompt: ScorePrompt = c.prompt === 'fineweb-edu' ? FINEWEB_EDU_PROMPT : c.prompt;
  try {
    new RegExp(prompt.scorePattern);
  } catch (e) {
    throw new Error(`${TYPE}: config key 'prompt.scorePattern': ${(e as Error).message}`);
  }
  // Resolved now, so a missing endpoint is an error at pipeline load, not in a task.
  const ep = resolveEndpoint({ baseUrl: endpoint });
  const name = c.name ?? TYPE;
  return {
    kind: 'operator',
    type: TYPE,
    name,
    version: '1',
    config: toJson({ ...c, prompt }),
    async *process(input, ctx) {
      const store = await ResponseCache.open(cache ?? defaultCachePath());
      const client = new ModelClient(ep, { concurrency: concurrency ?? 4, timeoutMs, retries, cache: store, signal: ctx.signal, onRetry: (n, why, ms) => ctx.log(`${name}: retry ${n} in ${(ms / 1000).toFixed(1)} s: ${why}`) });
      try {
        for await (const batch of input) {
          const scored = await Promise.all(
            batch.map(async (doc): Promise<Doc | null> => {
              if (!inSample(doc.id, c.sample, c.seed)) {
                ctx.audit.drop(name, doc, 'annotate.notSampled');
                return null;
              }
              const text = doc.text.length > c.maxChars ? doc.text.slice(0, c.maxChars) : doc.text;
              const req: ChatRequest = { model: c.model, messages: [{ role: 'user', content: prompt.template.replace('{text}', () => text) }], max_tokens: c.maxTokens, temperature: c.temperature, seed: 0 };
              let res;
              try {
                res = await client.chat(req, cacheKey({ kind: 'annotate', ...req }));
              } catch (e) {
                // Refused for its content (e.g. longer than the model's context): this doc only.
                if (!(e instanceof EndpointError && e.requestRejected)) throw e;
                ctx.audit.drop(name, doc, 'annotate.rejected', undefined, { reason: e.message });
                return null;
              }
              const answer = res.ok ? res.value.choices[0]!.message.content : null;
              const parsed = !res.ok ? { ok: false as const, reason: res.reason } : typeof answer !== 'string' ? { ok: false as const, reason: 'the answer has no text' } : parseScore(answer, prompt);
              if (!parsed.ok) {
                ctx.audit.drop(name, doc, 'annotate.unparseable', undefined, { reason: parsed.reason, answer: (answer ?? (res.ok ? '' : res.body)).slice(0, 300) });
                return null;
              }
              ctx.audit.score(name, c.key, doc, parsed.score, true);
              return { ...doc, meta: { ...doc.meta, [c.key]: parsed.score, [`${c.key}Answer`]: answer as Json } };
            }),
          );
          const out = scored.filter((d): d is Doc => d !== null);
          if (out.length) yield out;
        }
      } finally {
        await client.close();
        await store.flush();
      }
    },
  };
}

registerOperator(TYPE, 'score a sample of docs with an LLM (FineWeb-Edu 0–5 prompt by default) into meta[key]', (config) => annotate(config as AnnotateOptions));
