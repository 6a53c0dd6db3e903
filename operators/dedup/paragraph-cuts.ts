/**
 * What both exact strategies of `dedup.paragraphs` share: the drop reasons of a unit kind, and
 * turning hash-sorted unit records into cuts (every record of a hash group after its first).
 */
import type { ExternalSorter, RecordColumns } from './extsort.ts';
import { type JsonBytes, jsonPiece } from './json-bytes.ts';
import type { CutReasons } from './spans.ts';
import type { UnitKind } from './units.ts';

const KEPT = jsonPiece('{"keptId":');
const KEPT_NULL = jsonPiece('{"keptId":null');
const GROUP = jsonPiece(',"group":"');
const UNIT = jsonPiece('","unit":');
const BLOOM = jsonPiece(',"bloom":true');
const START = jsonPiece(',"start":');
const END = jsonPiece(',"end":');
const CLOSE = jsonPiece('}');

/**
 * Starts a removed span's audit details in `json` (emptied first): `{"keptId":`, then the caller
 * writes the kept document's id as JSON, then `closeSpanDetails`. With `bloom`, the kept id is
 * `null` (unknown) and already written.
 */
export function openSpanDetails(json: JsonBytes, bloom = false): JsonBytes {
  return json.reset().raw(bloom ? KEPT_NULL : KEPT);
}

/**
 * Ends a removed span's audit details: `,"group":"<g0 g1 as 16 hex digits>","unit":u`, then
 * `,"bloom":true` for Bloom mode, `,"start":s,"end":e}`. Every strategy writes its spans' details
 * through these two, so the audit of one corpus is byte for byte the same whichever ran.
 */
export function closeSpanDetails(json: JsonBytes, g0: number, g1: number, unit: number, start: number, end: number, bloom = false): JsonBytes {
  json.raw(GROUP).hex32(g0).hex32(g1).raw(UNIT).int(unit);
  if (bloom) json.raw(BLOOM);
  return json.raw(START).int(start).raw(END).int(end).raw(CLOSE);
}

/** The drop reasons of a unit kind. */
export function paragraphReasons(unit: UnitKind): CutReasons {
  switch (unit.kind) {
    case 'line':
      return { span: 'dedup.duplicateLine', emptied: 'dedup.paragraphsEmptied' };
    case 'paragraph':
      return { span: 'dedup.duplicateParagraph', emptied: 'dedup.paragraphsEmptied' };
    case 'sentences':
      return { span: 'dedup.duplicateSentences', emptied: 'dedup.paragraphsEmptied' };
    default: {
      const never: never = unit;
      throw new Error(`unknown unit ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Walks unit records merged in key order `[hash × 4, file, row, unit]` (payload: the document's
 * id): the first record of each hash group is the first occurrence and is kept; every later one
 * is pushed to `cuts` keyed `[file, row, unit]` (partition = file) with the payload 8 bytes of
 * group hash (big-endian, for the audit's group id) then the kept document's id.
 */
export async function cutRepeats(merged: AsyncIterable<RecordColumns>, cuts: ExternalSorter): Promise<{ groups: number; repeats: number }> {
  // The current hash group (first four key words) and its first record's payload (the kept id).
  const cur = new Uint32Array(4);
  let started = false;
  let keeper = new Uint8Array(64);
  let keeperLen = 0;
  let pl: Uint8Array | null = null;
  const cutKey = new Uint32Array(3);
  let groups = 0;
  let repeats = 0;
  for await (const b of merged) {
    const keys = b.keys;
    for (let i = 0; i < b.count; i++) {
      const o = i * 7;
      if (!started || keys[o] !== cur[0] || keys[o + 1] !== cur[1] || keys[o + 2] !== cur[2] || keys[o + 3] !== cur[3]) {
        started = true;
        cur[0] = keys[o]!;
        cur[1] = keys[o + 1]!;
        cur[2] = keys[o + 2]!;
        cur[3] = keys[o + 3]!;
        const ps = b.payloadStart[i]!;
        keeperLen = b.payloadStart[i + 1]! - ps;
        if (keeperLen > keeper.length) keeper = new Uint8Array(keeperLen * 2);
        keeper.set(b.payloads.subarray(ps, ps + keeperLen));
        pl = null;
        groups++;
        continue;
      }
      repeats++;
      // The same payload for every repeat of the group: built once and shared by its records.
      if (!pl) {
        pl = new Uint8Array(8 + keeperLen);
        const dv = new DataView(pl.buffer);
        dv.setUint32(0, cur[0]!);
        dv.setUint32(4, cur[1]!);
        pl.set(keeper.subarray(0, keeperLen), 8);
      }
      cutKey[0] = keys[o + 4]!;
      cutKey[1] = keys[o + 5]!;
      cutKey[2] = keys[o + 6]!;
      if (cuts.push(cutKey[0], cutKey, pl)) await cuts.spillAll();
    }
  }
  await cuts.finish();
  return { groups, repeats };
}
