import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCli, tempProject } from '../helpers/cli.ts';
import { inspectPipeline } from '../../engine/inspect.ts';
import { auditStage, parseWhatIf, type StageAuditReport } from '../../audit/report.ts';
import { fmtBytes, renderText } from '../../audit/text.ts';
import { auditDocText, writeAuditProject } from './fixtures.ts';
import { gopherQualityScores, GOPHER_STOP_WORDS } from '../../operators/filter/gopher-quality.ts';

/** The fixture texts under `minWords` words, found directly. */
function shortTexts(minWords: number, n = 120): string[] {
  const stop = new Set(GOPHER_STOP_WORDS);
  return Array.from({ length: n }, (_, i) => auditDocText(i)).filter((t) => gopherQualityScores(t, stop).words < minWords);
}
const shortDocs = (minWords: number) => shortTexts(minWords).length;
/** UTF-8 bytes of the docs under `minWords` words. */
const shortBytes = (minWords: number) => shortTexts(minWords).reduce((b, t) => b + Buffer.byteLength(t), 0);
const SHORT = shortDocs(50);

let dir = '';
let file = '';
before(async () => {
  dir = tempProject('sluice-audit-');
  file = writeAuditProject(dir);
  const r = await runCli(['run', file], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The audit of a stage (the pipeline's relative paths resolve against its directory). */
async function audit(file: string, stage: string, whatIf: string[] = []): Promise<StageAuditReport> {
  const prev = process.cwd();
  process.chdir(dirname(file));
  try {
    return await auditIn(file, stage, whatIf);
  } finally {
    process.chdir(prev);
  }
}

async function auditIn(file: string, stage: string, whatIf: string[]): Promise<StageAuditReport> {
  const p = await inspectPipeline(file);
  const s = p.stages.find((x) => x.name === stage)!;
  assert.equal(s.status, 'done');
  return auditStage({ name: s.name, dir: s.dir, operators: s.operators, manifest: s.manifest }, { whatIf });
}

test('audit: counts, reasons, histograms, near-threshold docs and samples of a real run', async () => {
  {
    const rep = await audit(file, 'filtered');
    assert.deepEqual(rep.operators.map((o) => o.name), ['gopherQuality', 'fineweb', 'c4']);
    const g = rep.operators[0]!;
    assert.equal(g.docsIn, 120);
    assert.equal(g.docsIn - g.docsOut, g.dropped);
    assert.ok(SHORT > 5 && SHORT < 60);
    assert.deepEqual(g.reasons.map((x) => [x.reason, x.docs]), [['gopher.minWords', SHORT]]);
    assert.ok(g.reasons[0]!.samples.length > 0 && g.reasons[0]!.samples[0]!.url!.startsWith('https://site'));
    // Bytes per reason: from the manifest, and counted from the drop log when there is none.
    assert.equal(g.reasons[0]!.bytes, shortBytes(50));
    assert.ok(g.bytesIn > 0 && Math.abs(g.reasons[0]!.byteShare - shortBytes(50) / g.bytesIn) < 1e-12);
    {
      const prev = process.cwd();
      process.chdir(dirname(file));
      try {
        const s = (await inspectPipeline(file)).stages.find((x) => x.name === 'filtered')!;
        // A stage cut short: its tasks' audit logs, no manifest.
        const cut = join(dir, 'cut-stage');
        cpSync(s.dir, cut, { recursive: true });
        rmSync(join(cut, 'manifest.json'));
        const partial = await auditStage({ name: s.name, dir: cut, operators: s.operators }, {});
        assert.deepEqual(partial.operators[0]!.reasons.map((x) => [x.reason, x.docs, x.bytes]), [['gopher.minWords', SHORT, shortBytes(50)]]);
      } finally {
        process.chdir(prev);
      }
    }
    // Every doc the operator saw is in every histogram, split kept/dropped as decided.
    for (const s of g.scores) {
      assert.equal(s.bins.reduce((a, b) => a + b.kept + b.dropped, 0), 120, s.key);
      assert.equal(s.bins.reduce((a, b) => a + b.dropped, 0), SHORT, s.key);
    }
    const words = g.scores.find((s) => s.key === 'words')!;
    assert.deepEqual(words.thresholds.map((t) => [t.config, t.bound, t.value]), [['minWords', 'min', 50], ['maxWords', 'max', 100000]]);
    // The axis covers the data and the nearby minWords, not the far-away maxWords.
    assert.ok(words.bins[0]!.lo <= 50 && words.bins.at(-1)!.hi < 1000, JSON.stringify([words.bins[0], words.bins.at(-1)]));
    const near = g.nearThreshold.find((n) => n.config === 'minWords')!;
    assert.equal(near.samples.length, 5);
    // Each is in the output (with its text) or was dropped by a later operator of the stage.
    assert.ok(near.samples.every((s) => s.value >= 50 && ((s.text && s.text.length > 20) || /^(fineweb|c4): /.test(s.droppedBy ?? ''))), JSON.stringify(near.samples));
    const nearWithText = (await audit(file, 'filtered100')).operators[0]!.nearThreshold.find((n) => n.config === 'minWords')!;
    assert.ok(nearWithText.samples.every((s) => s.value >= 100 && s.text!.startsWith('In chapter')));
    assert.ok(near.samples[0]!.value <= near.samples[4]!.value);
    // Thresholds far from every doc are not listed (no doc is near maxWords 100,000 or maxHashRatio 0.1).
    assert.deepEqual(g.nearThreshold.map((n) => n.config), ['minWords']);
    const c4 = rep.operators[2]!;
    assert.ok(c4.reasons.some((x) => x.reason === 'c4.loremIpsum'));
    assert.equal(rep.dropLog.length, 1);
    const text = renderText([rep]);
    assert.match(text, /gopherQuality \[filter\.gopherQuality\]\s+in 120 docs/);
    assert.match(text, new RegExp(`gopher\\.minWords\\s+${SHORT}\\s+\\S+%\\s+${fmtBytes(shortBytes(50)).replace('.', '\\.')}\\s+\\S+% of bytes`));
  }
});

test('audit: --what-if answers equal a real run with the new threshold', async () => {
  {
    const rep = await audit(file, 'filtered', ['gopherQuality.minWords=100', 'gopherQuality.minWords=20', 'fineweb.minLinePunctuation=off']);
    const [up, down, off] = rep.whatIf;
    // Ground truth: the stages that ran gopherQuality with minWords 100 and 20 for real.
    const truth: Record<number, number> = {};
    for (const mw of [100, 20]) truth[mw] = (await audit(file, `filtered${mw}`)).operators[0]!.dropped;
    assert.equal(truth[100], shortDocs(100));
    assert.equal(truth[20], shortDocs(20));
    assert.equal(up!.droppedBefore, SHORT);
    assert.equal(up!.droppedAfter, truth[100]);
    assert.equal(up!.delta, truth[100]! - SHORT);
    assert.ok(up!.delta > 0 && up!.newlyKept === 0);
    assert.equal(down!.droppedAfter, truth[20]);
    assert.ok(down!.delta < 0 && down!.newlyDropped === 0);
    assert.equal(off!.operator, 'fineweb');
    assert.equal(off!.to, null);
    assert.ok(off!.droppedAfter <= off!.droppedBefore);
    // The threshold stage over annotated scores answers the same question the same way.
    const th = await audit(file, 'thresholded', ['threshold.min.gopherQuality.words=100']);
    assert.equal(th.whatIf[0]!.droppedAfter, truth[100]);
    assert.equal(th.operators[0]!.dropped, SHORT);
  }
});

test('audit: what-if errors name the problem', async () => {
  assert.throws(() => parseWhatIf('minWords100'), /expected 'operator\.key=value'/);
  {
    await assert.rejects(audit(file, 'filtered', ['nope.minWords=3']), /has no operator 'nope'/);
    await assert.rejects(audit(file, 'filtered', ['gopherQuality.minWordz=3']), /no threshold 'minWordz'; this operator's thresholds are: minWords, maxWords/);
    await assert.rejects(audit(file, 'filtered', ['gopherQuality.minWords=abc']), /expected a number/);
  }
});

test('annotate once, tune later: a changed threshold re-runs only the threshold stage', async () => {
  const f2 = writeAuditProject(dir, 120, 'pipeline-60.ts', 60);
  const r = await runCli(['run', f2, '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const status = Object.fromEntries((JSON.parse(r.stdout) as { stages: Array<{ stage: string; status: string }> }).stages.map((s) => [s.stage, s.status]));
  assert.deepEqual(status, { load: 'skipped', filtered: 'skipped', filtered100: 'skipped', filtered20: 'skipped', annotated: 'skipped', thresholded: 'ran' });
  assert.equal((await audit(f2, 'thresholded')).operators[0]!.dropped, shortDocs(60));
});
