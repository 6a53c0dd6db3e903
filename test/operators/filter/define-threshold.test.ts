import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli, SLUICE, tempProject, writePipeline } from '../../helpers/cli.ts';
import { REPO } from '../../helpers/data.ts';
import { createOperator, ConfigError, defineThresholdFilter, runOperators } from '../../../index.ts';
import type { Doc, Operator } from '../../../engine/types.ts';
import { rule, rulesFor, toggleRule } from '../../../operators/filter/rules.ts';
import { inspectPipeline } from '../../../engine/inspect.ts';
import { auditStage } from '../../../audit/report.ts';
import { preparePipelineImport } from '../../../engine/modules/pipeline-imports.ts';

/** The threshold-filter example of docs/operators.md, exactly as printed (only the import path is Sluice's file). */
const EXAMPLE = /```ts\n(import \{ defineThresholdFilter \} from 'sluice';[\s\S]*?)```/.exec(readFileSync(join(REPO, 'docs', 'operators.md'), 'utf8'))![1]!;

type Digits = (options?: { mode?: 'drop' | 'annotate'; name?: string; maxDigitShare?: number | null }) => Operator;

const TEXTS = ['no digits here at all', 'call 555 0100 now', '2024-01-01 12:00:00', 'a1b2c3d4e5', 'plain words only'];
const share = (t: string) => (t.match(/\d/g)?.length ?? 0) / t.length;
const docs = (): Doc[] => TEXTS.map((text, i) => ({ id: `d${i}`, text, meta: { url: `https://x.example/${i}` } }));

let dir = '';
let digits: Digits;
before(async () => {
  dir = tempProject('sluice-doc-filter-');
  writeFileSync(join(dir, 'digits.ts'), EXAMPLE.replace("from 'sluice'", `from ${JSON.stringify(SLUICE)}`));
  // A user's TypeScript module imported into this process, as a pipeline is: tsx and the resolve
  // hook are registered when the process lacks them (npm test runs compiled tests, without tsx).
  await preparePipelineImport(join(dir, 'digits.ts'));
  ({ digits } = (await import(pathToFileURL(join(dir, 'digits.ts')).href)) as { digits: Digits });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the docs example is about ten lines', () => {
  assert.ok(EXAMPLE.trim().split('\n').length <= 11, EXAMPLE);
});

test('the docs example filters with a <family>.<ruleKey> reason and records every score', async () => {
  const { out, audit } = await runOperators([digits({ maxDigitShare: 0.2 })], docs());
  const dropped = TEXTS.filter((t) => share(t) > 0.2);
  assert.deepEqual(out.map((d) => d.text), TEXTS.filter((t) => share(t) <= 0.2));
  assert.deepEqual(audit.drops.map((d) => [d.doc.text, d.reason]), dropped.map((t) => [t, 'digits.maxDigitShare']));
  // (A drop also records the violated rule's value as `score`, as every built-in filter does.)
  assert.deepEqual(audit.scores.filter((s) => s.key !== 'score').map((s) => [s.operator, s.key, s.value, s.kept]), TEXTS.map((t) => ['digits', 'digitShare', share(t), share(t) <= 0.2]));
  // The default threshold, and null switching the rule off.
  assert.equal((await runOperators([digits()], docs())).out.length, TEXTS.filter((t) => share(t) <= 0.3).length);
  assert.equal((await runOperators([digits({ maxDigitShare: null })], docs())).out.length, TEXTS.length);
});

test('the docs example has built-in parity: annotate mode, instance names, registry, what-if rules', async () => {
  const { out, audit } = await runOperators([digits({ mode: 'annotate', name: 'd2', maxDigitShare: 0.2 })], docs());
  assert.equal(out.length, TEXTS.length);
  assert.equal(audit.drops.length, 0);
  const q = out[2]!.meta.quality as Record<string, Record<string, unknown>>;
  assert.deepEqual(q.d2, { digitShare: share(TEXTS[2]!), score: share(TEXTS[2]!), pass: false, reason: 'digits.maxDigitShare' });
  assert.equal((createOperator('filter.digits', { maxDigitShare: 0.5 }) as Operator).type, 'filter.digits');
  assert.deepEqual(rulesFor('filter.digits', digits({ maxDigitShare: 0.25 }).config), [{ config: 'maxDigitShare', score: 'digitShare', bound: 'max', reason: 'digits.maxDigitShare', threshold: 0.25 }]);
  // A misspelt key is an error naming it (JavaScript callers; TypeScript rejects it at compile time).
  assert.throws(() => digits({ maxDigitShares: 0.2 } as never), (e: unknown) => e instanceof ConfigError && /maxDigitShares/.test(e.message));
});

test('the docs example in a pipeline: sluice audit histograms it and answers --what-if', async () => {
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'docs.jsonl'), TEXTS.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join('\n') + '\n');
  const file = writePipeline(
    dir,
    'pipeline.ts',
    `import { digits } from './digits.ts';
export default pipeline({ name: 'digits', workdir: 'runs' }, (p) => {
  p.stage('clean', p.stage('load', read.jsonl('data/*.jsonl')), [digits()]);
});`,
  );
  const r = await runCli(['run', file], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const prev = process.cwd();
  process.chdir(dir);
  try {
    const s = (await inspectPipeline(file)).stages.find((x) => x.name === 'clean')!;
    const a = await auditStage({ name: s.name, dir: s.dir, operators: s.operators, manifest: s.manifest }, { whatIf: ['digits.maxDigitShare=0.5'] });
    const op = a.operators.find((o) => o.name === 'digits')!;
    assert.equal(op.type, 'filter.digits');
    assert.deepEqual(op.reasons.map((x) => [x.reason, x.docs]), [['digits.maxDigitShare', TEXTS.filter((t) => share(t) > 0.3).length]]);
    assert.deepEqual(op.scores[0]!.thresholds.map((t) => [t.config, t.bound, t.value]), [['maxDigitShare', 'max', 0.3]]);
    assert.equal(op.scores[0]!.count, TEXTS.length);
    const w = a.whatIf[0]!;
    assert.equal(w.droppedAfter, TEXTS.filter((t) => share(t) > 0.5).length);
    assert.equal(w.droppedBefore, TEXTS.filter((t) => share(t) > 0.3).length);
  } finally {
    process.chdir(prev);
  }
});

test('rule keys are checked: by the compiler, and at run time for JavaScript callers', () => {
  const def = {
    type: 'filter.testLength',
    version: '1',
    scores: ['chars', 'lines'],
    rules: { minChars: { score: 'chars', bound: 'min', default: 3 }, noNewlines: { score: 'lines', toggle: true, default: false, reason: 'multiLine' } },
    measure: (d: Doc) => ({ chars: d.text.length, lines: d.text.split('\n').length - 1 }),
  } as const;
  const f = defineThresholdFilter(def);
  f({ minChars: 2, noNewlines: true });
  // Compile-time checks (`npx tsc --noEmit` fails when one of these compiles); never called.
  const _compileErrors = () => {
    // @ts-expect-error: a misspelt option key does not compile.
    f({ minChar: 2 });
    // @ts-expect-error: a toggle takes a boolean.
    f({ noNewlines: 1 });
    // @ts-expect-error: a rule over a score that is not declared does not compile.
    defineThresholdFilter({ ...def, type: 'filter.testLength2', rules: { minChars: { score: 'char', bound: 'min', default: 3 } } });
    // @ts-expect-error: measure must return every declared score.
    defineThresholdFilter({ ...def, type: 'filter.testLength3', measure: (d: Doc) => ({ chars: d.text.length }) });
  };
  void _compileErrors;

  // The same mistakes from JavaScript: errors that name them.
  assert.throws(() => defineThresholdFilter({ ...def, type: 'filter.testLength4', rules: { minChars: { score: 'char', bound: 'min', default: 3 } } } as never), /rule 'minChars' bounds score 'char', which is not in scores \(chars, lines\)/);
  assert.throws(() => defineThresholdFilter({ ...def, type: 'filter.testLength5', rules: { minChars: { score: 'chars', bound: 'min', default: 3, reason: 'too-short' } } } as never), /reason 'too-short' must be lower camelCase/);
  assert.throws(() => f({ minChar: 2 } as never), (e: unknown) => e instanceof ConfigError && /Unrecognized key: "minChar"/.test(e.message));
});

test('a measure that leaves out a score a rule needs fails instead of switching the rule off', async () => {
  const f = defineThresholdFilter({
    type: 'filter.testMissing',
    version: '1',
    scores: ['a', 'b'],
    rules: { maxB: { score: 'b', bound: 'max', default: 0 } },
    measure: () => ({ a: 1 }) as never,
  });
  await assert.rejects(runOperators([f()], docs()), /filter\.testMissing: measure returned no number for score 'b' \(doc d0\); rule 'maxB' needs it/);
  const toggles = defineThresholdFilter({
    type: 'filter.testToggle',
    version: '1',
    scores: ['lines'],
    rules: { noNewlines: { score: 'lines', toggle: true, default: true, reason: 'multiLine' } },
    measure: (d) => ({ lines: d.text.split('\n').length - 1 }),
  });
  const { out, audit } = await runOperators([toggles()], [{ id: 'a', text: 'one', meta: {} }, { id: 'b', text: 'one\ntwo', meta: {} }]);
  assert.deepEqual(out.map((d) => d.id), ['a']);
  assert.equal(audit.drops[0]!.reason, 'testToggle.multiLine');
  assert.equal((await runOperators([toggles({ noNewlines: false })], [{ id: 'b', text: 'one\ntwo', meta: {} }])).out.length, 1);
});

test('rule() and toggleRule(): a misspelt config key is a compile error and a run-time error, not a rule switched off', () => {
  const config = { minWords: 50, loremIpsum: true };
  assert.deepEqual(rule(config, 'minWords', 'words', 'min', 'gopher.minWords'), { config: 'minWords', score: 'words', bound: 'min', reason: 'gopher.minWords', threshold: 50 });
  assert.equal(toggleRule(config, 'loremIpsum', 'loremIpsum', 'c4.loremIpsum').threshold, 0);
  const _compileErrors = () => {
    // @ts-expect-error: 'minWord' is not a key of the config.
    rule(config, 'minWord', 'words', 'min', 'gopher.minWords');
    // @ts-expect-error: 'lorem' is not a key of the config.
    toggleRule(config, 'lorem', 'loremIpsum', 'c4.loremIpsum');
  };
  void _compileErrors;
  assert.throws(() => rule(config, 'minWord' as never, 'words', 'min', 'gopher.minWords'), /rule 'gopher\.minWords': config has no key 'minWord' \(it has: minWords, loremIpsum\)/);
  assert.throws(() => toggleRule(config, 'lorem' as never, 'loremIpsum', 'c4.loremIpsum'), /config has no key 'lorem'/);
});
