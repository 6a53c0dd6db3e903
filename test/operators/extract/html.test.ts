import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { runOperators } from '../../../engine/testing.ts';
import { createOperator } from '../../../engine/operator.ts';
import { extract, extractHtml, decodeHtml } from '../../../operators/extract/index.ts';
import { dataPath, needData } from '../../helpers/data.ts';

const ARTICLE_P1 = 'The council met on Tuesday evening to discuss the future of the old warehouse by the river, which has stood empty for more than ten years.';
const ARTICLE_P2 = 'Supporters of the plan argued that a public library would give young people a quiet place to study, while critics worried about the cost of repairs.';
const ARTICLE_P3 = 'A final decision is expected next month, after two more public meetings where residents can put their questions to the planning committee.';

const PAGE = `<!doctype html><html lang="en-GB"><head><title>Warehouse  plan | Town News</title>
<meta charset="utf-8"><style>p { color: red }</style><script>var x = "<p>not text</p>";</script></head>
<body>
<header class="site-header"><a href="/">Town News</a><nav><ul><li><a href="/a">Home</a></li><li><a href="/b">Politics</a></li><li><a href="/c">Sport</a></li></ul></nav></header>
<div id="cookie-banner">We use cookies to improve your experience. Accept all cookies to continue reading.</div>
<div class="layout">
  <main>
    <article>
      <h1>Council debates the warehouse plan</h1>
      <p>${ARTICLE_P1}</p>
      <p>${ARTICLE_P2.replace('public library', '<a href="/lib">public library</a>')}</p>
      <h2>What happens next</h2>
      <ul><li>Two public meetings in May.</li><li>A vote in June.</li></ul>
      <table><tr><th>Option</th><th>Cost</th></tr><tr><td>Library</td><td>2.1m</td></tr><tr><td>Housing</td><td>3.4m</td></tr></table>
      <p>${ARTICLE_P3}<br>Contact the <b>planning</b> office for details.</p>
      <div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Tweet this article</a></div>
      <p style="display:none">Hidden paragraph that nobody sees but that is long enough to look like content.</p>
    </article>
    <section id="comments" class="comments-area"><h3>3 Comments</h3><p>Great article, I completely agree with every single word that was written here today!</p></section>
    <div class="related-posts"><h3>Related</h3><p>Another story about the river and the bridges that cross it in the old town centre.</p></div>
  </main>
  <aside class="sidebar"><h3>Most read</h3><p>Sidebar teaser text that is long enough to look like a real paragraph of content.</p></aside>
</div>
<footer><p>© 2024 Town News. All rights reserved. Terms of use and privacy policy apply to this website.</p></footer>
</body></html>`;

test('extract.html: keeps the article, drops navigation, banners, comments, related links, sidebars and footers', () => {
  const r = extractHtml(PAGE);
  const expected = [
    'Council debates the warehouse plan',
    ARTICLE_P1,
    ARTICLE_P2,
    'What happens next',
    '- Two public meetings in May.\n- A vote in June.',
    'Option | Cost\nLibrary | 2.1m\nHousing | 3.4m',
    `${ARTICLE_P3}\nContact the planning office for details.`,
  ].join('\n\n');
  assert.equal(r.text, expected);
  assert.equal(r.title, 'Warehouse plan | Town News');
  assert.equal(r.lang, 'en-GB');
});

test('extract.html: lists and tables can be left out', () => {
  const r = extractHtml(PAGE, { lists: false, tables: false });
  assert.ok(!r.text.includes('- Two public meetings'));
  assert.ok(!r.text.includes('Library | 2.1m'));
  assert.ok(r.text.includes(ARTICLE_P3));
});

test('extract.html: pages without semantic markup: the densest text block wins, link lists go', () => {
  const links = Array.from({ length: 12 }, (_, i) => `<a href="/p${i}">Link number ${i}</a>`).join(' | ');
  const html = `<html><body><div id="top">${links}</div><table><tr><td width="150">${links}</td><td><font size="2">${ARTICLE_P1}<br><br>${ARTICLE_P2}</font></td></tr></table><div>${links}</div></body></html>`;
  const r = extractHtml(html);
  assert.equal(r.text, `${ARTICLE_P1}\n\n${ARTICLE_P2}`);
});

test('extract.html: a page header holding most of the page is content (site-builder hero sections)', () => {
  const html = `<html><body><nav><a href="/">Home</a> <a href="/a">About</a></nav><header class="hero-section"><h1>Our crawler</h1><p>${ARTICLE_P1}</p><p>${ARTICLE_P2}</p></header><footer><p>© 2024 Example. All rights reserved.</p></footer></body></html>`;
  assert.equal(extractHtml(html).text, `Our crawler\n\n${ARTICLE_P1}\n\n${ARTICLE_P2}`);
  const small = `<html><body><header><p>Site tagline that is long enough to look like a paragraph of real text here.</p></header><article><p>${ARTICLE_P1}</p><p>${ARTICLE_P2}</p><p>${ARTICLE_P3}</p></article></body></html>`;
  assert.equal(extractHtml(small).text, [ARTICLE_P1, ARTICLE_P2, ARTICLE_P3].join('\n\n'));
});

test('extract.html: declared language from content-language or og:locale; og:title wins', () => {
  const a = extractHtml(`<html><head><meta http-equiv="Content-Language" content="de"><title>T</title></head><body><p>${ARTICLE_P1}</p></body></html>`);
  assert.equal(a.lang, 'de');
  const b = extractHtml(`<html><head><meta property="og:locale" content="fr_FR"><meta property="og:title" content="OG title"><title>T</title></head><body><p>${ARTICLE_P1}</p></body></html>`);
  assert.equal(b.lang, 'fr-FR');
  assert.equal(b.title, 'OG title');
});

test('extract.html operator: sets meta.title/htmlLang, keeps meta.url, drops empty and non-HTML docs with reasons', async () => {
  const docs = [
    { id: 'a', text: PAGE, meta: { url: 'https://town.example/warehouse' } },
    { id: 'b', text: '<html><body><nav><a href="/">Home</a></nav></body></html>', meta: {} },
    { id: 'c', text: '%PDF-1.4 …', meta: { contentType: 'application/pdf' } },
    { id: 'd', text: 'not html at all, just words in a row that make a sentence.', meta: {} },
  ];
  const { out, audit } = await runOperators([extract.html({ minChars: 20 })], docs);
  assert.deepEqual(out.map((d) => d.id), ['a', 'd']);
  assert.equal(out[0]!.meta.url, 'https://town.example/warehouse');
  assert.equal(out[0]!.meta.title, 'Warehouse plan | Town News');
  assert.equal(out[0]!.meta.htmlLang, 'en-GB');
  assert.deepEqual(audit.drops.map((d) => [d.id, d.reason]), [['b', 'extract.tooShort'], ['c', 'extract.notHtml']]);
});

test('extract.html: registered for sluice apply; bad options name the key', () => {
  const op = createOperator('extract.html', { minChars: 5 });
  assert.equal(op.type, 'extract.html');
  assert.deepEqual(op.config, { minChars: 5, tables: true, lists: true, maxLinkDensity: 0.5, output: 'text' });
  assert.throws(() => extract.html({ minChars: -1 }), /extract\.html: config key 'minChars'/);
});

test('decodeHtml: charset from BOM, Content-Type, meta; UTF-8 by default', () => {
  const latin1 = Buffer.from('<html><head><meta charset="iso-8859-1"></head><body>Gr\xfc\xdfe</body></html>', 'latin1');
  assert.ok(decodeHtml(latin1).includes('Grüße'));
  assert.ok(decodeHtml(Buffer.from('<p>caf\xe9</p>', 'latin1'), 'text/html; charset=windows-1252').includes('café'));
  assert.ok(decodeHtml(Buffer.from('\ufeff<p>ü</p>', 'utf8')).startsWith('<p>ü'));
  assert.equal(decodeHtml(Buffer.from('<meta charset="bogus-x"><p>ü</p>', 'utf8')), '<meta charset="bogus-x"><p>ü</p>');
});

test('extract.html on the trafilatura evaluation subset: snippet shares stay ≥ 0.90', { skip: needData('trafilatura-eval-subset') }, () => {
  const base = dataPath('trafilatura-eval-subset');
  const data = JSON.parse(readFileSync(`${base}/evaldata-subset.json`, 'utf8')) as Record<string, { file: string; with: string[]; without: string[] }>;
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  let w = 0, wt = 0, wo = 0, wot = 0;
  for (const v of Object.values(data)) {
    const text = norm(extractHtml(decodeHtml(gunzipSync(readFileSync(`${base}/${v.file}`)))).text);
    for (const s of v.with) (wt++, text.includes(norm(s)) && w++);
    for (const s of v.without) (wot++, !text.includes(norm(s)) && wo++);
  }
  assert.ok(w / wt >= 0.9, `with-share ${w / wt}`);
  assert.ok(wo / wot >= 0.9, `without-share ${wo / wot}`);
});

test('extract.html on the cc-whirlwind capture: the article, not the wiki chrome, and nothing CC WET lacks', { skip: needData('cc-whirlwind') }, async () => {
  const { readSource } = await import('../../../engine/testing.ts');
  const { read } = await import('../../../operators/read/index.ts');
  const page = (await readSource(read.warc(dataPath('cc-whirlwind', 'whirlwind.warc.gz')))).out[0]!;
  const wet = (await readSource(read.wet(dataPath('cc-whirlwind', 'whirlwind.warc.wet.gz')))).out[0]!;
  const { out } = await runOperators([extract.html()], [page]);
  const text = out[0]!.text;
  assert.equal(out[0]!.meta.htmlLang, 'an');
  assert.equal(out[0]!.meta.title, 'Escopete - Biquipedia, a enciclopedia libre');
  // Link-dense encyclopedia prose is kept; section edit links and menus are not.
  assert.ok(text.includes("Escopete ye un municipio d'a provincia de Guadalachara"), text);
  assert.ok(text.includes('Ye situato a 860 metros'));
  for (const chrome of ['Menú principal', 'Creyar cuenta', 'editar | modificar', 'Descargar como PDF']) assert.ok(!text.includes(chrome), chrome);
  const wetWords = new Set(wet.text.toLowerCase().match(/[\p{L}\p{N}]+/gu));
  const ours = text.toLowerCase().match(/[\p{L}\p{N}]+/gu)!;
  assert.ok(ours.filter((w) => wetWords.has(w)).length / ours.length > 0.98);
});
