/**
 * `dedup.exact`: removes documents whose text (optionally normalised) is identical to an
 * earlier one. Key: the first 128 bits of SHA-256 of the (normalised) UTF-8 text. Keeps the
 * first document in input order: dataset file order (the upstream manifest's), then row.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import type { Doc, StageExpansion } from '../../engine/types.ts';
import { hashGroups, type GroupKey } from './hash-groups.ts';
import { toJson } from '../../engine/json.ts';

const normalizeSchema = z
  .object({
    lowercase: z.boolean().default(true),
    whitespace: z.boolean().default(true),
    punctuation: z.boolean().default(true),
    digits: z.boolean().default(true),
  })
  .strict();

const exactSchema = z
  .object({
    /** `true`: all four steps; `false`: the raw text; or pick steps. */
    normalize: z.union([z.boolean(), normalizeSchema]).default(false),
    /** Hash partitions = grouping tasks. */
    partitions: z.number().int().min(1).max(4096).default(4),
    bufferMB: z.number().min(0.001).max(4096).default(64),
    fanIn: z.number().int().min(2).max(4096).default(64),
    name: z.string().min(1).optional(),
  })
  .strict();

export type ExactOptions = z.input<typeof exactSchema>;
export type ExactNormalize = z.output<typeof normalizeSchema>;

const PUNCT = /[\p{P}\p{S}]/gu;
const DIGITS = /\p{Nd}/gu;
const WS = /\s+/gu;

/** Applies the selected normalisation steps (lowercase, strip punctuation/symbols, strip digits, collapse whitespace). */
export function normalizeForExact(text: string, n: ExactNormalize | false): string {
  if (!n) return text;
  let s = text;
  if (n.lowercase) s = s.toLowerCase();
  if (n.punctuation) s = s.replace(PUNCT, '');
  if (n.digits) s = s.replace(DIGITS, '');
  if (n.whitespace) s = s.replace(WS, ' ').trim();
  return s;
}

/** 128-bit SHA-256 prefix of a string as four u32 words. */
export function hash128(s: string): Uint32Array {
  const d = createHash('sha256').update(s, 'utf8').digest();
  return new Uint32Array([d.readUInt32BE(0), d.readUInt32BE(4), d.readUInt32BE(8), d.readUInt32BE(12)]);
}

/**
 * Exact-duplicate removal across the whole input. Options: `normalize` (default `false`;
 * `true` = lowercase, strip punctuation and symbols, strip digits, collapse whitespace),
 * `partitions` (grouping tasks, default 4), `bufferMB` (sort buffer per task, default 64).
 * Drops are `dedup.exactDuplicate` with `{ group, keptId, keptUrl }`.
 */
export function exact(options: ExactOptions = {}): StageExpansion {
  const cfg = parseConfig('dedup.exact', exactSchema, options);
  const norm: ExactNormalize | false = cfg.normalize === true ? { lowercase: true, whitespace: true, punctuation: true, digits: true } : cfg.normalize;
  return hashGroups({
    type: 'dedup.exact',
    name: cfg.name ?? 'dedup.exact',
    version: '1',
    config: toJson(cfg),
    reason: 'dedup.exactDuplicate',
    partitions: cfg.partitions,
    bufferMB: cfg.bufferMB,
    fanIn: cfg.fanIn,
    keyOf(doc: Doc): GroupKey {
      return { hash: hash128(normalizeForExact(typeof doc.text === 'string' ? doc.text : '', norm)), rank: [0, 0] };
    },
  });
}
