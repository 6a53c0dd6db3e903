/**
 * Token width: the one rule every stage follows.
 *
 * - In a `Doc` (`doc.tokens`) and in doc datasets (the Parquet `tokens` column), token ids are
 *   always uint32: the round trip through a dataset is the identity, and a doc stage never needs to
 *   know the vocabulary to read its input.
 * - A store that narrows (token shards, the pack stage's output once written as shards, Megatron
 *   indexed datasets) decides its width once, from the tokenizer's vocabulary size (specials
 *   included), with {@link tokenDtype}: uint16 when every id fits (vocabSize ≤ 65,536), else
 *   uint32. {@link narrowTokens} converts and refuses ids that do not fit.
 */

/** Width of a narrowed token store. */
export type TokenDtype = 'uint16' | 'uint32';

/** A token array of either width (what a narrowed store holds). */
export type TokenIds = Uint16Array | Uint32Array;

/** Largest vocabulary whose ids fit in uint16. */
export const UINT16_VOCAB = 65536;

/** Bytes per token of each width. */
export const TOKEN_BYTES: Record<TokenDtype, 2 | 4> = { uint16: 2, uint32: 4 };

/** The width of a store for a tokenizer of `vocabSize` ids: uint16 when they fit, else uint32. */
export function tokenDtype(vocabSize: number): TokenDtype {
  if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new Error(`token width: vocabulary size must be a positive integer, got ${vocabSize}`);
  return vocabSize <= UINT16_VOCAB ? 'uint16' : 'uint32';
}

/** The width of an array. */
export function dtypeOf(tokens: TokenIds): TokenDtype {
  return tokens instanceof Uint16Array ? 'uint16' : 'uint32';
}

/**
 * `tokens` as `dtype`: the same array when it already has that width, else a converted copy.
 * Narrowing to uint16 throws when an id is ≥ 65,536 (it would wrap silently otherwise).
 */
export function narrowTokens(tokens: Uint32Array, dtype: TokenDtype): TokenIds {
  switch (dtype) {
    case 'uint32':
      return tokens;
    case 'uint16': {
      const out = new Uint16Array(tokens.length);
      for (let i = 0; i < tokens.length; i++) {
        const t = tokens[i]!;
        if (t >= UINT16_VOCAB) throw new Error(`token id ${t} at position ${i} does not fit uint16 (the vocabulary has at most ${UINT16_VOCAB} ids)`);
        out[i] = t;
      }
      return out;
    }
    default: {
      const never: never = dtype;
      throw new Error(`unknown token dtype ${String(never)}`);
    }
  }
}

/** Little-endian bytes of a token array (a view, no copy: every platform Node supports is little-endian). */
export function tokenBytes(tokens: TokenIds): Uint8Array {
  return new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength);
}

/** Little-endian uint32 token bytes as an aligned Uint32Array (a copy); throws on a length that is not a multiple of 4. */
export function uint32Tokens(bytes: Uint8Array, where = 'tokens'): Uint32Array {
  if (bytes.byteLength % 4) throw new Error(`${where}: ${bytes.byteLength} bytes is not a whole number of uint32 token ids`);
  return new Uint32Array(Uint8Array.prototype.slice.call(bytes).buffer);
}
