import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject } from '../helpers/cli.ts';
import { dataPath, needData } from '../helpers/data.ts';
import type { ContaminationReport } from '../../evals/contamination/report.ts';

test('sluice contamination: PIQA (llm-foundry) against the official PIQA file, JSON and HTML', { skip: needData('mc-eval') }, async () => {
  const dir = tempProject();
  const html = join(dir, 'report.html');
  const r = await runCli(['contamination', '--benchmark', `${dataPath('mc-eval/llm-foundry/piqa.jsonl')}:mc`, '--against', dataPath('mc-eval/piqa/valid.jsonl'), '--json', '--html', html], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as ContaminationReport;
  assert.equal(rep.rows[0]!.benchmark, 'piqa');
  assert.equal(rep.rows[0]!.total, 1838);
  assert.ok(rep.rows[0]!.dirty >= 1820);
  assert.equal(rep.method.ngram, 'auto');
  assert.equal(rep.rows[0]!.ngram, rep.method.ngrams.piqa);
  assert.ok(rep.rows[0]!.ngram >= 8 && rep.rows[0]!.ngram <= 13);
  assert.match(r.stderr, /scanned 1838 docs/);
  assert.match(readFileSync(html, 'utf8'), /<svg /);
});

test('sluice contamination: Markdown table, --ngram and --min-fraction, a text corpus with a planted item', { skip: needData('mc-eval') }, async () => {
  const dir = tempProject();
  const arc = JSON.parse(readFileSync(dataPath('mc-eval/llm-foundry/arc_easy.jsonl'), 'utf8').split('\n')[0]!) as { query: string; choices: string[] };
  writeFileSync(join(dir, 'corpus.txt'), `Some unrelated prose.\n${arc.query}\nAnswers: ${arc.choices.join(', ')}\nMore prose.\n`);
  const r = await runCli(['contamination', '--benchmark', dataPath('mc-eval/llm-foundry/arc_easy.jsonl'), '--against', 'corpus.txt', '--ngram', '8', '--min-fraction', '0.5'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\| arc_easy \| — \| 8 \| 2376 \| 1 \| 0\.04% \|/);
  assert.match(r.stdout, /dirty if at least 50% of the item's n-grams/);
  assert.match(r.stdout, /\| arc_easy\/0 \|/);
  assert.ok(existsSync(join(dir, 'corpus.txt')));
});

test('sluice contamination: usage errors exit 2 and name the problem', async () => {
  const dir = tempProject();
  const a = await runCli(['contamination', '--against', 'x'], { cwd: dir });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--benchmark FILE\[:format\] is required/);
  const b = await runCli(['contamination', '--benchmark', 'b.jsonl', '--against', 'x', '--min-fraction', '2'], { cwd: dir });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--min-fraction must be in \(0, 1\]/);
  const c = await runCli(['contamination', '--benchmark', 'missing.jsonl', '--against', 'x'], { cwd: dir });
  assert.notEqual(c.code, 0);
  assert.match(c.stderr, /missing\.jsonl: no such file/);
});
