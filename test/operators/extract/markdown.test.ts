import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { extractHtml, decodeHtml } from '../../../operators/extract/index.ts';
import { dataPath, needData } from '../../helpers/data.ts';

const P = 'The council met on Tuesday evening to discuss the future of the old warehouse by the river, which has stood empty for more than ten years.';
const PAGE = `<html><head><title>Warehouse</title></head><body><nav><a href="/">Home</a></nav><article>
<h1>Council debates the plan</h1><p>${P}</p><h2>What happens next</h2>
<ol><li>Two public meetings in May.<ul><li>One in the town hall.</li></ul></li><li>A vote in June.</li></ol>
<table><tr><th>Option</th><th>Cost</th></tr><tr><td>Library</td><td>2.1m</td></tr></table>
<p>${P.replace('council', 'committee')}</p><pre class="language-python">def f(x):
    return x * 2</pre><blockquote><p>${P.replace('river', 'sea')}</p></blockquote><p>${P.replace('old', 'new')}</p>
</article></body></html>`;

/** Removes the markdown syntax `output: 'markdown'` adds: what is left must be the text output's words. */
function stripMarkdown(md: string): string {
  return md
    .split('\n')
    .filter((l) => !/^(```|~~~~)/.test(l) && !/^\|(?:---\|)+$/.test(l))
    .map((l) => (/^#{1,6} /.test(l) ? l.replace(/^#{1,6} /, '') : l.replace(/^\s*(?:-|\d+\.) /, '').replace(/^(?:> )+/, '')).replace(/\\([#>+\-*|]|\d)/g, '$1'))
    .join('\n');
}
const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

test("extract.html({ output: 'markdown' }): headings, nested and ordered lists, tables, code blocks, quotes", () => {
  const md = extractHtml(PAGE, { output: 'markdown' }).text;
  assert.equal(
    md,
    [
      '# Council debates the plan',
      P,
      '## What happens next',
      '1. Two public meetings in May.\n  - One in the town hall.\n2. A vote in June.',
      '| Option | Cost |\n|---|---|\n| Library | 2.1m |',
      P.replace('council', 'committee'),
      '```python\ndef f(x):\n    return x * 2\n```',
      `> ${P.replace('river', 'sea')}`,
      P.replace('old', 'new'),
    ].join('\n\n'),
  );
  assert.deepEqual(words(stripMarkdown(md)), words(extractHtml(PAGE).text));
});

test('extract.html markdown round-trips the text output on the 200 trafilatura subset pages', { skip: needData('trafilatura-eval-subset') }, () => {
  const base = dataPath('trafilatura-eval-subset');
  const data = JSON.parse(readFileSync(`${base}/evaldata-subset.json`, 'utf8')) as Record<string, { file: string }>;
  let pages = 0;
  let withStructure = 0;
  for (const v of Object.values(data)) {
    const html = decodeHtml(gunzipSync(readFileSync(`${base}/${v.file}`)));
    const md = extractHtml(html, { output: 'markdown' }).text;
    assert.deepEqual(words(stripMarkdown(md)), words(extractHtml(html).text), v.file);
    if (/^(#{1,6} |\| |```)/m.test(md)) withStructure++;
    pages++;
  }
  assert.equal(pages, 200);
  assert.ok(withStructure > 100, `${withStructure} pages with headings, tables or code`);
});
