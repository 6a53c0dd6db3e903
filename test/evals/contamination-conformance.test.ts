/**
 * Conformance of the contamination check (issue 19) on real data: 200 MMLU test items and 200
 * ARC-Challenge items leaked into tinyshakespeare chunks in five formats (label between question
 * and answer, answer first, case and whitespace, question alone, options reordered).
 * Goals: ≥ 99% of leaked items found, each with its host doc as provenance; ≤ 1% of the other
 * items of the same benchmarks flagged; `filter.decontaminate` removes every span the report
 * flags (a re-scan of its output finds nothing dirty).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildIndex, ContaminationScanner, contaminationReport, reportMarkdown } from '../../evals/contamination/index.ts';
import { leakCorpus, LEAK_FORMATS } from '../helpers/contamination-leaks.ts';
import { dataPath, needData } from '../helpers/data.ts';
import { decontaminate } from '../../operators/filter/decontaminate.ts';
import { runOperators } from '../../engine/testing.ts';

const skip = needData('mc-eval') || needData('tinyshakespeare');

test('leaked MMLU and ARC items in five formats: ≥ 99% found with provenance, ≤ 1% of the others flagged', { skip }, async () => {
  const { benches, docs, leaks } = await leakCorpus(200);
  const idx = buildIndex(benches);
  const s = new ContaminationScanner(idx);
  for (const d of docs) s.scanText(d.id, d.text, d.url);
  const r = s.result();
  const items = new Map(r.benchmarks.flatMap((b) => b.items.map((i) => [i.id, i] as const)));
  const leaked = new Set(leaks.map((l) => l.item));
  const missed = leaks.filter((l) => {
    const it = items.get(l.item);
    return !(it?.dirty && it.sources.some((src) => src.id === l.doc) && it.field !== '');
  });
  const byFormat = LEAK_FORMATS.map((f) => `${f} ${leaks.filter((l) => l.format === f).length - missed.filter((l) => l.format === f).length}/${leaks.filter((l) => l.format === f).length}`);
  const total = r.benchmarks.reduce((n, b) => n + b.total, 0);
  const flagged = [...items.values()].filter((i) => i.dirty && !leaked.has(i.id));
  console.log(`# leaks found: ${leaks.length - missed.length}/${leaks.length} (${byFormat.join(', ')}); missed: ${missed.map((l) => `${l.item} (${l.format})`).join(', ')}; unleaked flagged: ${flagged.length}/${total - leaked.size}`);
  assert.ok(leaks.length - missed.length >= 0.99 * leaks.length, `found ${leaks.length - missed.length}/${leaks.length}`);
  assert.ok(flagged.length <= 0.01 * (total - leaked.size), `${flagged.length} unleaked items flagged`);
  // The report says which field matched and the item's score.
  const md = reportMarkdown(contaminationReport(r));
  assert.match(md, /\| Item \| Score \| Field matched \| Answer near \|/);
  assert.match(md, /\| question \|/);
});

test('filter.decontaminate and the report never disagree: every flagged item is cut from its host, a re-scan of the output is clean', { skip }, async () => {
  const { benches, docs, leaks } = await leakCorpus(40);
  const idx = buildIndex(benches);
  const s = new ContaminationScanner(idx);
  for (const d of docs) s.scanText(d.id, d.text, d.url);
  const dirty = s.result().benchmarks.flatMap((b) => b.items.filter((i) => i.dirty));
  assert.ok(dirty.length >= 0.99 * leaks.length);
  const op = decontaminate({ benchmarks: [dataPath('mc-eval', 'mmlu/test'), dataPath('mc-eval', 'llm-foundry/arc_challenge.jsonl')] });
  const { out, audit } = await runOperators([op], docs.map((d) => ({ id: d.id, text: d.text, meta: { url: d.url } })));
  // Items the filter cut, per host doc (pieces carry them in meta, dropped docs in the audit).
  const cut = new Map<string, Set<string>>();
  const note = (doc: string, items: unknown) => {
    let set = cut.get(doc);
    if (!set) cut.set(doc, (set = new Set()));
    for (const it of items as string[]) set.add(it);
  };
  for (const d of out) {
    const m = d.meta.decontaminated as { from: string; items: string[] } | undefined;
    if (m) note(m.from, m.items);
  }
  for (const dr of audit.drops) note(dr.id, dr.details?.items ?? []);
  for (const it of dirty) for (const src of it.sources) assert.ok(cut.get(src.id)?.has(it.id), `report flags ${it.id} in ${src.id}; the filter did not cut it there`);
  const again = new ContaminationScanner(idx); // the scanner only reads its index
  for (const d of out) again.scanText(d.id, d.text);
  const still = again.result().benchmarks.flatMap((b) => b.items.filter((i) => i.dirty).map((i) => i.id));
  assert.deepEqual(still, []);
});
