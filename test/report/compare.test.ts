import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli, tempProject } from '../helpers/cli.ts';
import { writeInputs } from '../helpers/fixtures.ts';
import { launch, needChromium, openPage } from './browser.ts';
import { writeReportPipeline } from './fixtures.ts';
import type { ReportModel } from '../../report/model.ts';

test('--compare: per stage the fingerprint, docs and drops per reason that a threshold change moved', async () => {
  const dir = tempProject('sluice-report-compare-');
  try {
    writeInputs(dir, 4, 50);
    writeReportPipeline(dir, { minWords: 5, workdir: 'runs/a' }, 'a.ts');
    writeReportPipeline(dir, { minWords: 12, workdir: 'runs/b' }, 'b.ts');
    for (const f of ['a.ts', 'b.ts']) {
      const r = await runCli(['run', f], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
    }
    const model = (w: string) => JSON.parse(readFileSync(join(dir, 'runs', w, '_report/report.json'), 'utf8')) as ReportModel;
    const [a, b] = [model('a'), model('b')];
    const drops = (m: ReportModel) => m.stages[1]!.operators.find((o) => o.name === 'minWords')!.drops['too-few-words']!;
    assert.ok(drops(b) > drops(a), 'a higher threshold drops more');

    const expectText = (out: string) => {
      assert.match(out, new RegExp(`^load\\s+${a.stages[0]!.fingerprint} \\(same\\)\\s+200 → 200\\s+200 → 200`, 'm'));
      assert.match(out, new RegExp(`^clean\\s+${a.stages[1]!.fingerprint} → ${b.stages[1]!.fingerprint}\\s+200 → 200\\s+${a.stages[1]!.docsOut} → ${b.stages[1]!.docsOut} \\(−${drops(b) - drops(a)}\\)`, 'm'));
      assert.match(out, new RegExp(`drops minWords: too-few-words  ${drops(a)} → ${drops(b)} \\(\\+${drops(b) - drops(a)}\\)`));
      assert.match(out, /^count\s+\S+ → \S+/m);
    };
    const r = await runCli(['report', '--compare', 'runs/a', 'runs/b'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    expectText(r.stdout);
    const page = join(dir, 'runs/b/_report/compare.html');
    assert.ok(existsSync(page));
    assert.match(r.stderr, new RegExp(`comparison: ${page}`));
    const html = readFileSync(page, 'utf8');
    assert.match(html, new RegExp(`${drops(a)} → ${drops(b)} \\(\\+${drops(b) - drops(a)}\\)`));
    assert.doesNotMatch(html, /<script|<link|src=|url\(/i);

    // A workdir without report.json: the state comes from its manifests.
    rmSync(join(dir, 'runs/a/_report'), { recursive: true });
    const r2 = await runCli(['report', '--compare', 'runs/a', 'runs/b', '--out', 'cmp'], { cwd: dir });
    assert.equal(r2.code, 0, r2.stderr);
    expectText(r2.stdout);
    assert.ok(existsSync(join(dir, 'cmp/compare.html')));

    const bad = await runCli(['report', '--compare', 'runs/none', 'runs/b'], { cwd: dir });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /runs\/none: no complete stage output/);

    if (!needChromium) {
      const browser = await launch();
      try {
        const { page: p, blocked } = await openPage(browser, pathToFileURL(join(dir, 'cmp/compare.html')).href);
        assert.deepEqual(blocked, []);
        assert.deepEqual(await p.locator('tr.stage-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-stage'))), ['load', 'clean', 'count', 'pages']);
        assert.equal(await p.locator('tr.stage-row.changed').count(), 3);
      } finally {
        await browser.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
