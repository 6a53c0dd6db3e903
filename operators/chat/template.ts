/**
 * Chat templates: rendering a conversation to the exact text a model was trained on.
 *
 * A template is Jinja, exactly as Hugging Face `tokenizer_config.json` files carry it
 * (`chat_template`). Rendering follows `transformers`' `apply_chat_template`: Jinja2 with
 * trim_blocks, lstrip_blocks, loopcontrols, `raise_exception`, `strftime_now`, transformers'
 * `tojson`, and `messages`, `tools`, `documents`, `add_generation_prompt`, `bos_token`,
 * `eos_token` in the context (operators/chat/jinja.ts says how, and what is measured).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { storage as defaultStorage } from '../../engine/storage/index.ts';
import type { StorageLike } from '../../engine/types.ts';
import type { ChatMessage } from '../../formats/chat.ts';
import { compileJinja, TemplateRaised, type CompiledJinja } from './jinja.ts';

export type { ChatMessage } from '../../formats/chat.ts';

/** A chat template: its Jinja source and where it came from; a tokenizer's template also carries its bos/eos tokens. */
export interface ChatTemplate {
  /** A built-in's name, or the file it was read from. */
  name: string;
  /** Jinja source. */
  source: string;
  /** The tokenizer's `bos_token`, when the template came from its `tokenizer_config.json`. */
  bosToken?: string;
  /** The tokenizer's `eos_token`, likewise. */
  eosToken?: string;
}

/** Options of {@link renderChat}. */
export interface RenderOptions {
  /** Append the assistant header so a model continues as the assistant (default false). */
  addGenerationPrompt?: boolean;
  /** `bos_token` in the template (default: the template's own, else ''). */
  bosToken?: string;
  /** `eos_token` in the template (default: the template's own, else ''). */
  eosToken?: string;
  /** `tools` in the template (default none: Python's `None`). */
  tools?: unknown;
  /** Further template variables, as `apply_chat_template(**kwargs)` passes them. */
  extra?: Record<string, unknown>;
}

/** A template failed: it raised (`raise_exception`, `raised` true) or could not be parsed or evaluated. */
export class ChatTemplateError extends Error {
  constructor(
    message: string,
    readonly raised: boolean,
  ) {
    super(message);
    this.name = 'ChatTemplateError';
  }
}

/**
 * The built-in templates, written by this project. They render the common published formats
 * (ChatML; Llama 3's header tokens; Zephyr's `<|role|>` turns closed by the eos token) and raise
 * on nothing: reading validates roles.
 */
export const BUILTIN_TEMPLATES: Readonly<Record<'chatml' | 'llama-3' | 'zephyr', string>> = {
  chatml: [
    "{%- for message in messages %}",
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}",
    "{%- endfor %}",
    "{%- if add_generation_prompt %}",
    "{{- '<|im_start|>assistant\\n' }}",
    "{%- endif %}",
  ].join('\n'),
  'llama-3': [
    "{{- bos_token }}",
    "{%- for message in messages %}",
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}",
    "{%- endfor %}",
    "{%- if add_generation_prompt %}",
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}",
    "{%- endif %}",
  ].join('\n'),
  zephyr: [
    "{%- for message in messages %}",
    "{{- '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}",
    "{%- endfor %}",
    "{%- if add_generation_prompt %}",
    "{{- '<|assistant|>\\n' }}",
    "{%- endif %}",
  ].join('\n'),
};

const compiled = new Map<string, CompiledJinja>();

function compile(t: ChatTemplate): CompiledJinja {
  let c = compiled.get(t.source);
  if (!c) {
    try {
      c = compileJinja(t.source);
    } catch (e) {
      throw new ChatTemplateError(`chat template '${t.name}' does not parse: ${(e as Error).message}`, false);
    }
    if (compiled.size > 256) compiled.clear();
    compiled.set(t.source, c);
  }
  return c;
}

const RESERVED = new Set(['messages', 'tools', 'documents', 'add_generation_prompt']);

/**
 * Renders `messages` with `template`, byte-identical to transformers'
 * `tokenizer.apply_chat_template(messages, tokenize=False, …)` with the same bos/eos tokens.
 * Throws {@link ChatTemplateError} naming the template when it raises or fails.
 */
export function renderChat(template: ChatTemplate, messages: readonly ChatMessage[], opts: RenderOptions = {}): string {
  const extra = opts.extra ?? {};
  for (const k of Object.keys(extra)) if (RESERVED.has(k)) throw new Error(`renderChat: extra variable '${k}' is set by renderChat itself`);
  const context = {
    messages,
    tools: opts.tools ?? null,
    documents: null,
    add_generation_prompt: opts.addGenerationPrompt ?? false,
    bos_token: opts.bosToken ?? template.bosToken ?? '',
    eos_token: opts.eosToken ?? template.eosToken ?? '',
    ...extra,
  };
  const c = compile(template);
  try {
    return c.render(context);
  } catch (e) {
    if (e instanceof TemplateRaised) throw new ChatTemplateError(`chat template '${template.name}' raised: ${e.message}`, true);
    throw new ChatTemplateError(`chat template '${template.name}' failed: ${(e as Error).message}`, false);
  }
}

/** A token in `tokenizer_config.json`: a string, or an AddedToken object with `content`. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** What a `tokenizer_config.json` says about chat: its template source (if any) and its bos/eos tokens. */
function readTokenizerConfig(text: string, where: string): { source?: string; bosToken?: string; eosToken?: string } {
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message})`);
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error(`${where}: not a JSON object`);
  const c = cfg as Record<string, unknown>;
  let source: string | undefined;
  const ct = c.chat_template;
  if (typeof ct === 'string') source = ct;
  else if (Array.isArray(ct)) {
    const d = ct.find((x) => x && typeof x === 'object' && (x as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
    if (!d || typeof d.template !== 'string') throw new Error(`${where}: chat_template is a list without a 'default' entry`);
    source = d.template;
  } else if (ct !== undefined && ct !== null) throw new Error(`${where}: chat_template is neither a string nor a list of {name, template}`);
  const bos = tokenText(c.bos_token);
  const eos = tokenText(c.eos_token);
  return { ...(source !== undefined ? { source } : {}), ...(bos !== undefined ? { bosToken: bos } : {}), ...(eos !== undefined ? { eosToken: eos } : {}) };
}

/**
 * The template in a `tokenizer_config.json` text: `chat_template` as a string, or as a list of
 * `{name, template}` (the one named `default`), with the config's bos/eos tokens; undefined when
 * it has none.
 */
export function templateFromTokenizerConfig(text: string, where: string): ChatTemplate | undefined {
  const { source, ...tokens } = readTokenizerConfig(text, where);
  return source === undefined ? undefined : { name: where, source, ...tokens };
}

/**
 * A template by built-in name (`chatml`, `llama-3`, `zephyr`) or local file: a `.json` file is a
 * `tokenizer_config.json` (its `chat_template`, `bos_token`, `eos_token`), any other file is the
 * Jinja source. The template is parsed here, so a syntax error surfaces before any data is read.
 */
export function resolveTemplate(nameOrFile: string): ChatTemplate {
  let t: ChatTemplate | undefined;
  if (Object.hasOwn(BUILTIN_TEMPLATES, nameOrFile)) t = { name: nameOrFile, source: BUILTIN_TEMPLATES[nameOrFile as keyof typeof BUILTIN_TEMPLATES] };
  else if (existsSync(nameOrFile) && statSync(nameOrFile).isFile()) {
    const text = readFileSync(nameOrFile, 'utf8');
    if (nameOrFile.endsWith('.json')) {
      t = templateFromTokenizerConfig(text, nameOrFile);
      if (!t) throw new Error(`${nameOrFile}: has no chat_template`);
    } else t = { name: nameOrFile, source: text };
  } else throw new Error(`chat template '${nameOrFile}': not a built-in (${Object.keys(BUILTIN_TEMPLATES).join(', ')}) and no such file`);
  compile(t);
  return t;
}

/** sha256 of a template's source and tokens: what enters a stage fingerprint. */
export function templateDigest(t: ChatTemplate): string {
  return createHash('sha256').update(JSON.stringify([t.source, t.bosToken ?? null, t.eosToken ?? null])).digest('hex');
}

/**
 * The template to use with a tokenizer: the tokenizer's own when its directory (or the directory
 * of its `tokenizer.json`) has `chat_template.jinja` or a `tokenizer_config.json` with a
 * `chat_template` — a tokenizer's own template wins — else `fallback` (a built-in name, a file,
 * or a template). Encoding names (`cl100k_base`, …) have no template. Throws when neither exists.
 */
export async function templateForTokenizer(tokenizerSpec: string, fallback?: string | ChatTemplate, store: StorageLike = defaultStorage): Promise<ChatTemplate> {
  const spec = tokenizerSpec.replace(/\/+$/, '');
  const dir = /\.(json|tiktoken)$/.test(spec) ? spec.split('/').slice(0, -1).join('/') || '.' : spec;
  // An encoding name (`gpt2`, `cl100k_base`) is no directory and has no template.
  if (spec.includes('/') || (await store.exists(dir))) {
    const cfgUri = store.join(dir, 'tokenizer_config.json');
    const cfg = (await store.exists(cfgUri)) ? readTokenizerConfig(Buffer.from(await store.read(cfgUri)).toString('utf8'), cfgUri) : {};
    const jinjaUri = store.join(dir, 'chat_template.jinja');
    const { source, ...tokens } = cfg;
    // transformers' newer layout keeps the template in chat_template.jinja, the tokens in the config.
    const t: ChatTemplate | undefined = (await store.exists(jinjaUri))
      ? { name: jinjaUri, source: Buffer.from(await store.read(jinjaUri)).toString('utf8'), ...tokens }
      : source !== undefined
        ? { name: cfgUri, source, ...tokens }
        : undefined;
    if (t) {
      compile(t);
      return t;
    }
  }
  if (fallback === undefined) throw new Error(`tokenizer '${tokenizerSpec}' has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json): give a template (${Object.keys(BUILTIN_TEMPLATES).join(', ')} or a file)`);
  return typeof fallback === 'string' ? resolveTemplate(fallback) : fallback;
}
