import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskAudit } from '../../engine/audit.ts';
import type { Doc, Manifest } from '../../engine/types.ts';
import { auditStage } from '../../audit/report.ts';
import { renderText } from '../../audit/text.ts';
import { LEGACY_DROP_REASONS } from '../../audit/reasons.ts';

const doc = (id: string, text: string): Doc => ({ id, text, meta: { url: `https://x.example/${id}` } });

/** Writes a stage directory whose drop log, samples and stats carry the drop reasons of before the convention. */
async function oldStyleStage(dir: string): Promise<Manifest> {
  const a = new TaskAudit(join(dir, '_audit'), 0);
  a.drop('dedup', doc('a2', 'same text'), 'exact-duplicate', undefined, { keptId: 'a1' });
  a.drop('dedup', doc('b2', 'other text'), 'exact-duplicate');
  // The same reason under its old and its new name: one row in the report.
  a.drop('dedup', doc('c2', 'third'), 'dedup.exactDuplicate');
  a.drop('clean', doc('n1', 'nulled'), 'map:null');
  a.drop('decon', doc('x1', 'contaminated'), 'contaminated:too-dirty', 12);
  a.stats('dedup').docsIn = 5;
  a.stats('dedup').docsOut = 2;
  await a.close();
  return {
    format: 'sluice.dataset/1',
    pipeline: 'old',
    stage: 'old',
    fingerprint: '0123456789abcdef',
    output: 'docs',
    tasks: 1,
    files: [],
    rows: 2,
    bytes: 0,
    stats: { operators: a.operators, skipped: {} },
  };
}

test('an old-style drop log reads with the current reason names (manifest, drop log and samples)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-old-reasons-'));
  try {
    const manifest = await oldStyleStage(dir);
    const want = {
      dedup: [['dedup.exactDuplicate', 3]],
      clean: [['map.null', 1]],
      decon: [['decontaminate.tooDirty', 1]],
    };
    // From the manifest (a complete stage) and from the drop log alone (a partial stage).
    for (const m of [manifest, undefined]) {
      const r = await auditStage({ name: 'old', dir, operators: [], manifest: m }, { texts: false });
      const got = Object.fromEntries(r.operators.map((o) => [o.name, o.reasons.map((x) => [x.reason, x.docs])]));
      assert.deepEqual(got, want, m ? 'from the manifest' : 'from the drop log');
      const dedup = r.operators.find((o) => o.name === 'dedup')!;
      assert.equal(dedup.reasons[0]!.seen, 3, 'samples of the old and new name are merged');
      assert.ok(dedup.reasons[0]!.samples.every((s) => s.reason === 'dedup.exactDuplicate'));
      assert.ok(dedup.reasons[0]!.bytes > 0, 'bytes per reason are merged too');
      assert.doesNotMatch(renderText([r]), /exact-duplicate|map:null|contaminated:/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every current drop reason follows <family>.<camelCase>', () => {
  for (const [old, now] of Object.entries(LEGACY_DROP_REASONS)) assert.match(now, /^[a-z][a-zA-Z0-9]*\.[a-z][a-zA-Z0-9]*$/, `${old} → ${now}`);
});
