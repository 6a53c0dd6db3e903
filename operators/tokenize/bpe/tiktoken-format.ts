/**
 * tiktoken vocabularies: `.tiktoken` rank files (`<base64 bytes> <rank>` per line), and the
 * OpenAI encodings shipped as data by the `tiktoken` npm package (`encoders/<name>.json`, whose
 * `bpe_ranks` is `! <first rank> <base64> <base64> …` with consecutive ranks).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BpeTokenizer, type BpeDefinition } from './tokenizer.ts';

/** The encodings `loadEncoding` knows. */
export const ENCODINGS = ['gpt2', 'r50k_base', 'p50k_base', 'p50k_edit', 'cl100k_base', 'o200k_base', 'o200k_harmony'] as const;
export type EncodingName = (typeof ENCODINGS)[number];

/** True when `name` is one of {@link ENCODINGS}. */
export function isEncodingName(name: string): name is EncodingName {
  return (ENCODINGS as readonly string[]).includes(name);
}

/** Parses a `.tiktoken` rank file into tokens indexed by rank. `source` names it in errors. */
export function parseTiktoken(text: string, source = '.tiktoken'): Array<Uint8Array | undefined> {
  const tokens: Array<Uint8Array | undefined> = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (!line.trim()) continue;
    const sp = line.indexOf(' ');
    const rank = Number(line.slice(sp + 1));
    if (sp <= 0 || !Number.isInteger(rank) || rank < 0) throw new Error(`${source}:${lineNo}: expected '<base64> <rank>', got ${JSON.stringify(line.slice(0, 80))}`);
    tokens[rank] = Buffer.from(line.slice(0, sp), 'base64');
  }
  return tokens;
}

/** Serialises tokens (indexed by rank) as a `.tiktoken` rank file. */
export function serializeTiktoken(tokens: Array<Uint8Array | undefined>): string {
  const lines: string[] = [];
  tokens.forEach((b, rank) => {
    if (b) lines.push(`${Buffer.from(b).toString('base64')} ${rank}`);
  });
  return lines.join('\n') + '\n';
}

/** Parses the `bpe_ranks` string of the tiktoken package's encoder JSON. */
export function parsePackedRanks(packed: string, source: string): Array<Uint8Array | undefined> {
  const parts = packed.split(/[ \n]+/);
  const tokens: Array<Uint8Array | undefined> = [];
  let rank = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '!') {
      rank = Number(parts[++i]);
      if (!Number.isInteger(rank)) throw new Error(`${source}: bad rank offset ${parts[i]}`);
      continue;
    }
    if (p) tokens[rank++] = Buffer.from(p, 'base64');
  }
  return tokens;
}

/** o200k_harmony's specials (as defined by Python tiktoken): o200k_base's plus the chat markers. */
function harmonySpecials(): Record<string, number> {
  const s: Record<string, number> = {
    '<|startoftext|>': 199998,
    '<|endoftext|>': 199999,
    '<|reserved_200000|>': 200000,
    '<|reserved_200001|>': 200001,
    '<|return|>': 200002,
    '<|constrain|>': 200003,
    '<|reserved_200004|>': 200004,
    '<|channel|>': 200005,
    '<|start|>': 200006,
    '<|end|>': 200007,
    '<|message|>': 200008,
    '<|reserved_200009|>': 200009,
    '<|reserved_200010|>': 200010,
    '<|reserved_200011|>': 200011,
    '<|call|>': 200012,
  };
  for (let i = 200013; i < 201088; i++) s[`<|reserved_${i}|>`] = i;
  s['<|endofprompt|>'] = 200018;
  return s;
}

const loaded = new Map<string, BpeTokenizer>();
const require = createRequire(import.meta.url);

/** The definition of a named OpenAI encoding, read from the tiktoken package's data files. */
export function encodingDefinition(name: EncodingName): BpeDefinition {
  const file = name === 'o200k_harmony' ? 'o200k_base' : name;
  const path = require.resolve(`tiktoken/encoders/${file}.json`);
  const json = JSON.parse(readFileSync(path, 'utf8')) as { pat_str: string; special_tokens: Record<string, number>; bpe_ranks: string };
  const specials = name === 'o200k_harmony' ? harmonySpecials() : json.special_tokens;
  return { name, tokens: parsePackedRanks(json.bpe_ranks, path), specials, pattern: json.pat_str };
}

/** Loads (once per process) a named OpenAI encoding from the tiktoken package's data files. */
export function loadEncoding(name: EncodingName): BpeTokenizer {
  let t = loaded.get(name);
  if (!t) {
    t = new BpeTokenizer(encodingDefinition(name));
    loaded.set(name, t);
  }
  return t;
}
