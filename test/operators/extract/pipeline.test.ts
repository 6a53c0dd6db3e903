import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, SLUICE, tempProject, writePipeline } from '../../helpers/cli.ts';
import { readDocsParquet } from '../../../engine/parquet.ts';
import type { Doc } from '../../../engine/types.ts';

const EN = 'The council met on Tuesday evening to discuss the future of the old warehouse by the river. Supporters of the plan argued that a public library would give young people a quiet place to study, while critics worried about the cost. Write to the clerk at clerk@town.example or visit the server at 93.184.216.34 for the minutes.';
const DE = 'Der Gemeinderat traf sich am Dienstagabend, um über die Zukunft des alten Lagerhauses am Fluss zu sprechen. Befürworter des Plans meinten, eine öffentliche Bibliothek gebe jungen Menschen einen ruhigen Ort zum Lernen.';

function page(title: string, body: string): string {
  return `<html lang="xx"><head><title>${title}</title></head><body><nav><a href="/">Home</a> <a href="/n">News</a></nav><article><p>${body}</p></article><footer>© Town</footer></body></html>`;
}

test('pipeline: read.jsonl → extract.html → filter.language → map.pii, through the engine', async () => {
  const dir = tempProject('sluice-extract-e2e-');
  try {
    mkdirSync(join(dir, 'data'));
    const rows = [
      { id: 'en', text: page('English page', EN), meta: { url: 'https://town.example/en' } },
      { id: 'de', text: page('Deutsche Seite', DE), meta: { url: 'https://town.example/de' } },
      { id: 'empty', text: '<html><body><nav><a href="/">Home</a></nav></body></html>', meta: { url: 'https://town.example/empty' } },
    ];
    writeFileSync(join(dir, 'data', 'pages.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const file = writePipeline(
      dir,
      'pipeline.ts',
      `import { extract } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'extract-e2e', workdir: 'runs' }, (p) => {
  const raw = p.stage('raw', read.jsonl('data/*.jsonl'));
  p.stage('clean', raw, [extract.html({ minChars: 20 }), filter.language({ keep: ['en'] }), map.pii()]);
});
`,
    );
    const r = await runCli(['run', file], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const stageDir = join(dir, 'runs', 'clean');
    const fp = readdirSync(stageDir).find((d) => !d.startsWith('_') && !d.startsWith('.'))!;
    const out: Doc[] = [];
    for (const f of readdirSync(join(stageDir, fp)).filter((x) => x.endsWith('.parquet'))) for await (const b of readDocsParquet(join(stageDir, fp, f))) out.push(...b);
    assert.deepEqual(out.map((d) => d.id), ['en']);
    const d = out[0]!;
    assert.equal(d.meta.title, 'English page');
    assert.equal(d.meta.lang, 'en');
    assert.equal(d.meta.url, 'https://town.example/en');
    assert.ok(!d.text.includes('Home') && !d.text.includes('© Town'));
    assert.ok(d.text.includes('Write to the clerk at <EMAIL> or visit the server at <IP_ADDRESS> for the minutes.'), d.text);
    const audit = await runCli(['audit', file, '--stage', 'clean', '--json'], { cwd: dir });
    assert.equal(audit.code, 0, audit.stderr);
    const ops = JSON.parse(audit.stdout).stages[0].operators as Array<{ name: string; reasons: Array<{ reason: string; docs: number }> }>;
    assert.deepEqual(ops.find((o) => o.name === 'extract.html')!.reasons.map((x) => [x.reason, x.docs]), [['extract.tooShort', 1]]);
    assert.deepEqual(ops.find((o) => o.name === 'language')!.reasons.map((x) => [x.reason, x.docs]), [['language.notKept', 1]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
