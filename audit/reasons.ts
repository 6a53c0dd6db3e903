/**
 * Drop reasons follow one convention, `<family>.<camelCase>` (`gopher.minWords`,
 * `dedup.exactDuplicate`, `decontaminate.tooDirty`). Four styles existed before it; drop logs,
 * samples and manifests written then still carry the old names, so everything that reads an
 * audit maps them to the current ones first: an old run and a new one report the same reason
 * under the same name, and a what-if compares like with like.
 */

/** Old drop reason → its current name. */
export const LEGACY_DROP_REASONS: Readonly<Record<string, string>> = Object.freeze({
  rejected: 'filter.rejected',
  'map:null': 'map.null',
  'exact-duplicate': 'dedup.exactDuplicate',
  'near-duplicate': 'dedup.nearDuplicate',
  'duplicate-url': 'dedup.duplicateUrl',
  'no-tokens': 'shard.noTokens',
  'contaminated:too-dirty': 'decontaminate.tooDirty',
  'contaminated:no-clean-piece': 'decontaminate.noCleanPiece',
});

/** The current name of a drop reason read from an audit file (unchanged when it is current). */
export function currentReason(reason: string): string {
  return Object.hasOwn(LEGACY_DROP_REASONS, reason) ? LEGACY_DROP_REASONS[reason]! : reason;
}

/** A per-reason count map with old names merged into the current ones (a new object). */
export function currentReasonCounts(counts: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!counts) return counts;
  const out: Record<string, number> = {};
  for (const [r, n] of Object.entries(counts)) {
    const k = currentReason(r);
    out[k] = (out[k] ?? 0) + n;
  }
  return out;
}
