/**
 * A small project for audit tests: JSONL docs with a spread of lengths and known defects, and a
 * pipeline that runs the quality filters over them (drop mode) and in annotate + threshold mode.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePipeline } from '../helpers/cli.ts';

const NOUNS = ['river', 'bridge', 'market', 'library', 'harbour', 'forest', 'mill', 'station', 'garden', 'tower'];

/** Doc `i`: 1–15 distinct sentences; every 10th has lorem ipsum, every 10th (offset 7) lost its punctuation. */
export function auditDocText(i: number): string {
  const n = 1 + (i % 15);
  const lines: string[] = [];
  for (let k = 0; k < n; k++) {
    const noun = NOUNS[(i + k) % NOUNS.length]!;
    lines.push(`In chapter ${i}-${k} the old ${noun} is described, and the people who have lived with it for years share their memories of that time.`);
  }
  if (i % 10 === 3) lines.push('Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.');
  if (i % 10 === 7) return lines.map((l) => l.replace(/\.$/, '')).join('\n');
  return lines.join('\n');
}

/**
 * Writes `data/docs.jsonl` (`n` docs) and `pipeline.ts`: stage `filtered` runs gopherQuality
 * (minWords 50), fineweb and c4; `filtered100`/`filtered20` re-run gopherQuality at other
 * thresholds (the ground truth for what-if tests); `annotated` → `thresholded` does the same in
 * annotate mode.
 */
export function writeAuditProject(dir: string, n = 120, file = 'pipeline.ts', thresholdWords = 50): string {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ id: `d${String(i).padStart(4, '0')}`, text: auditDocText(i), url: `https://site${i % 7}.example/page/${i}` }));
  // Written once: rewriting would change the input's mtime, hence every stage's fingerprint.
  if (!existsSync(join(dir, 'data', 'docs.jsonl'))) writeFileSync(join(dir, 'data', 'docs.jsonl'), lines.join('\n') + '\n');
  return writePipeline(
    dir,
    file,
    `
export default pipeline({ name: 'audit-test', workdir: 'runs' }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  p.stage('filtered', raw, [filter.gopherQuality({ minWords: 50 }), filter.fineweb(), filter.c4()]);
  p.stage('filtered100', raw, [filter.gopherQuality({ minWords: 100 })]);
  p.stage('filtered20', raw, [filter.gopherQuality({ minWords: 20 })]);
  const annotated = p.stage('annotated', raw, [filter.gopherQuality({ mode: 'annotate' })]);
  p.stage('thresholded', annotated, [filter.threshold({ min: { 'gopherQuality.words': ${thresholdWords} } })]);
});
`,
  );
}
