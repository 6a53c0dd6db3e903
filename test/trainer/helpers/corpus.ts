/**
 * A small synthetic corpus for trainer tests: sentences of words drawn with a seeded PRNG from a
 * fixed word list, byte-level tokens (vocabulary 256). Its characters have strong sequential
 * structure, so a tiny GPT's loss falls well below the unigram entropy within a few dozen steps.
 */
import { writeFileSync } from 'node:fs';
import { encodeBin } from '../../../formats/bin.ts';

const WORDS = ['the', 'river', 'runs', 'through', 'a', 'quiet', 'valley', 'and', 'stones', 'shine', 'under', 'cold', 'water', 'while', 'birds', 'sing'];

/** `n` bytes of text. */
export function corpusBytes(n: number, seed = 1): Uint8Array {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const k = 3 + Math.floor(rand() * 5);
    const sentence = Array.from({ length: k }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ') + '.\n';
    parts.push(sentence);
    len += sentence.length;
  }
  return new Uint8Array(Buffer.from(parts.join('')).subarray(0, n));
}

/** Unigram entropy (nats) of a token sequence. */
export function unigramEntropy(tokens: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < tokens.length; i++) counts.set(tokens[i]!, (counts.get(tokens[i]!) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / tokens.length;
    h -= p * Math.log(p);
  }
  return h;
}

/** Writes the corpus as a `.bin` shard. */
export function writeCorpusShard(path: string, n: number, seed = 1): Uint8Array {
  const bytes = corpusBytes(n, seed);
  writeFileSync(path, encodeBin(Array.from(bytes)));
  return bytes;
}
