/**
 * One small page per extraction rule class added for issue 21's recall goal (operators/extract:
 * dom.ts, content.ts). Each page reproduces the class of error the rule fixes, written here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractHtml } from '../../../operators/extract/index.ts';

const P1 = 'The council met on Tuesday evening to discuss the future of the old warehouse by the river, which has stood empty for more than ten years.';
const P2 = 'Supporters of the plan argued that a public library would give young people a quiet place to study, while critics worried about the cost of repairs.';
const P3 = 'A final decision is expected next month, after two more public meetings where residents can put their questions to the planning committee.';
const NAV = '<nav><ul><li><a href="/a">Home</a></li><li><a href="/b">Politics</a></li></ul></nav>';

test('extract.html: a page whose <head> is never closed (body content after a stray <br>) is extracted', () => {
  const html = `<html><head><title>Warehouse</title><meta charset="utf-8"><br>
${NAV}<div class="main"><p>${P1}</p><p>${P2}</p><p>${P3}</p></div></body></html>`;
  const { text, title } = extractHtml(html);
  assert.equal(title, 'Warehouse');
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
  assert.ok(!text.includes('Politics'));
});

test('extract.html: a share-named wrapper around the element named as the article body is not pruned', () => {
  const html = `<html><body>${NAV}<div class="post"><h1>Warehouse</h1><div id="socialicons-sticky"><div class="entry-content"><p>${P1}</p><p>${P2}</p><p>${P3}</p></div></div></div>
<aside class="sidebar"><p>${'Sidebar text that is long enough to count as a paragraph of its own here. '.repeat(8)}</p></aside>
<div class="footer-widgets"><p>${'Footer text that is long enough to count as a paragraph of its own here too. '.repeat(8)}</p></div></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
});

test('extract.html: a negated boilerplate name (`non-paywall`) is a state, not a region', () => {
  const html = `<html><body>${NAV}<article><h1>Warehouse</h1><section class="row non-paywall"><p>${P1}</p><p>${P2}</p></section><p>${P3}</p></article></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
});

test('extract.html: `entry-inner` names the article body', () => {
  const html = `<html><body>${NAV}<div class="entry themeform share"><div class="entry-inner"><p>${P1}</p><p>${P2}</p><p>${P3}</p></div></div>
<div class="sidebar s1"><p>${'Sidebar text that is long enough to count as a paragraph of its own here. '.repeat(16)}</p></div></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
});

test('extract.html: a post of heading + reading-list sections keeps its sections, not just one paragraph', () => {
  const item = (t: string, by: string): string => `<li><a href="/x">${t}</a> by ${by}</li>`;
  const sections = ['Calculus', 'Statistics', 'Linear Algebra', 'Regression', 'Deep Learning']
    .map((h, i) => `<h3>${h}</h3><ul>${item(`A gentle tutorial on ${h.toLowerCase()} for interviews`, 'Jane Roe')}${item(`Cheat sheet number ${i} for the whole of ${h.toLowerCase()}`, 'John Doe')}${item(`${h} explained with pictures and worked examples`, 'Ann Lee')}</ul>`)
    .join('');
  const html = `<html><body><div class="navbar">${NAV}</div><div class="container"><h1>Crash course</h1><p>${P1}</p><p>${P2}</p><h3>Links</h3><ul><li><a href="/w">Wikipedia</a></li><li><a href="/c">Cheat Sheet</a></li></ul>${sections}<p>${P3}</p></div></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
  assert.ok(text.includes('Linear Algebra\n\n- A gentle tutorial on linear algebra for interviews by Jane Roe'), text);
  assert.ok(text.includes('- Cheat sheet number 4 for the whole of deep learning by John Doe'), text);
});

test('extract.html: link lists inside the article container do not shrink the content root to one paragraph', () => {
  const lists = Array.from({ length: 40 }, (_, i) => `<h3>Topic ${i}</h3><ul><li><a href="/a${i}">Cheat Sheet ${i}</a></li><li><a href="/b${i}">Wikipedia Article ${i}</a></li></ul>`).join('');
  const html = `<html><body>${NAV}<div class="container"><p>${P1} ${P2}</p><p>${P2} ${P3}</p><p>${P3} ${P1}</p>${lists}</div></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [`${P1} ${P2}`, `${P2} ${P3}`, `${P3} ${P1}`]) assert.ok(text.includes(p), text);
  assert.ok(!text.includes('Cheat Sheet'), text);
});

test('extract.html: boilerplate names — a component header and print steps stay; author bios, tables of contents, non-printed chrome and captions go', () => {
  const BIO = 'Jane Roe studied journalism in Leeds and has written about local politics for twenty years, with a special interest in planning law.';
  const TOC = 'Contents of this article';
  const CAP = 'The old warehouse seen from the river bank on a rainy morning in May, before the council meeting.';
  const CHROME = 'Our partners and the most popular stories of this week in one box that is long enough to count as a paragraph.';
  const html = `<html><body>${NAV}<article><div class="article-header"><p>${P1}</p></div>
<div class="ez-toc-container"><p>${TOC}</p></div>
<p>${P2}</p><div class="image-description"><p>${CAP}</p></div>
<div class="recipe-step print-step"><p>${P3}</p></div>
<div class="box hide-print"><p>${CHROME}</p></div>
<div class="author-description"><p>${BIO}</p></div></article></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
  for (const b of [BIO, TOC, CAP, CHROME]) assert.ok(!text.includes(b), text);
});

test('extract.html: a lede set apart before the body container is kept, once', () => {
  const LEDE = 'The town council will decide next month whether the old river warehouse becomes a library, a housing block or a car park.';
  const html = `<html><body>${NAV}<div class="page"><h1>Warehouse</h1><div class="intro-text"><p>${LEDE}</p></div><p class="byline">By Jane Roe</p>
<div class="tools">${Array.from({ length: 12 }, (_, i) => `<a href="/t${i}">Topic number ${i}</a>`).join(' ')}</div>
<div id="articleBody"><p>${P1}</p><p>${P2}</p><p>${P3}</p></div></div>
<div class="sidebar"><p>${'Sidebar text that is long enough to count as a paragraph of its own here. '.repeat(2)}</p></div></body></html>`;
  const { text } = extractHtml(html);
  assert.ok(text.startsWith(LEDE), text);
  assert.equal(text.split(LEDE).length, 2, text);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
});

test('extract.html: a post of short lines only (a poem) keeps the lines of its article element', () => {
  const lines = ['“I am drunk, I should not say it…”', '– “Then do not say it”', '– “Ok.”', 'We sat by the river.'];
  const html = `<html><body>${NAV}<div id="content"><div class="post hentry"><h2>Nothing to do</h2>${lines.map((l) => `<p>${l}</p>`).join('')}</div>
<ul class="widgets"><li><a href="/a">Archive 2013</a></li><li><a href="/b">Archive 2012</a></li></ul></div></body></html>`;
  const { text } = extractHtml(html);
  for (const l of lines) assert.ok(text.includes(l), text);
  assert.ok(!text.includes('Archive'), text);
  const index = `<html><body><main><h1>Messages, page 1 of 116</h1><ul>${Array.from({ length: 20 }, (_, i) => `<li><a href="/m${i}">Message ${i}</a></li>`).join('')}</ul></main></body></html>`;
  assert.equal(extractHtml(index).text, '');
});

test('extract.html: soft hyphens and zero-width spaces are not text', () => {
  const html = `<html><body><article><p>${P1.replace('warehouse', 'ware&shy;house').replace('council', 'coun\u200Bcil')}</p><p>${P2}</p></article></body></html>`;
  const { text } = extractHtml(html);
  assert.ok(text.includes(P1), text);
});

test('extract.html: a page rendered by script (no body text) yields its meta description', () => {
  const DESC = 'How to sew a round tablecloth in seven steps: measure the table, cut the fabric in a circle and hem the edge.';
  const html = `<html><head><title>Tablecloth</title><meta name="description" content="${DESC}"></head><body><div id="app"></div><script>render(${JSON.stringify({ body: P1 })})</script></body></html>`;
  const { text } = extractHtml(html);
  assert.equal(text, DESC);
  const long = extractHtml(`<html><head><meta name="description" content="${DESC}"></head><body><article><p>${P1}</p><p>${P2}</p></article></body></html>`).text;
  assert.ok(!long.includes(DESC), long);
});

test('extract.html: an element holding most of the long paragraphs is not boilerplate whatever its name; nor is an <aside> that holds the article', () => {
  const side = `<div class="sidebar"><p>${'Sidebar text that is long enough to count as a paragraph of its own here. '.repeat(30)}</p></div>`;
  const named = extractHtml(`<html><body>${NAV}<div class="documentContent__sharingContainer"><p>${P1}</p><p>${P2}</p><p>${P3}</p></div>${side}</body></html>`).text;
  for (const p of [P1, P2, P3]) assert.ok(named.includes(p), named);
  const aside = extractHtml(`<html><body>${NAV}<main><aside class="direct-content"><h1>Warehouse</h1><p>${P1}</p><p>${P2}</p></aside></main>${side}</body></html>`).text;
  for (const p of [P1, P2]) assert.ok(aside.includes(p), aside);
});

test('extract.html: a plain-text list next to good text is kept; a link list in the same place is not', () => {
  const items = ['500 g flour', '250 ml milk', '2 eggs', '1 pinch of salt'];
  const html = `<html><body>${NAV}<article><h1>Pancakes</h1><p>${P1}</p><ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul></article>
<div class="more"><ul><li><a href="/1">Waffles</a></li><li><a href="/2">Crepes</a></li></ul></div></body></html>`;
  const { text } = extractHtml(html);
  for (const i of items) assert.ok(text.includes(`- ${i}`), text);
  assert.ok(!text.includes('Waffles'), text);
});

test('extract.html: an author bio or subscription form stays boilerplate under a content-like name', () => {
  const BIO = 'Jane Roe studied journalism in Leeds and has written about local politics for twenty years, with a special interest in planning law.';
  const SUB = 'Missing out on the latest stories from the river town? Enter your e-mail address below and we will send you every new post.';
  const html = `<html><body>${NAV}<article><p>${P1}</p><p>${P2}</p><p>${P3}</p>
<div class="post-author-bio"><p>${BIO}</p></div><div id="subscribe-blog"><p>${SUB}</p></div></article></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
  for (const b of [BIO, SUB]) assert.ok(!text.includes(b), text);
});

test('extract.html: an FAQ accordion marked role=tablist that holds the page text is kept', () => {
  const html = `<html><body>${NAV}<div class="panel-group" role="tablist"><h2>What happens next?</h2><p>${P1}</p><p>${P2}</p><p>${P3}</p></div>
<div role="tablist"><a href="#a">Tab one</a> <a href="#b">Tab two</a></div></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
  assert.ok(!text.includes('Tab one'), text);
});

test('extract.html: a short sign-off after the last paragraph is kept; a source line and a chrome line after it are not', () => {
  const html = `<html><body>${NAV}<article><div class="body"><p>${P1}</p><p>${P2}</p><p>${P3}</p><p>See you there, Jane</p><p>Quelle: dpa</p><p>Your use of this list is subject to http://example.org/terms</p></div><div class="meta"><p>Last changed</p></div></article></body></html>`;
  const { text } = extractHtml(html);
  assert.ok(text.endsWith(`${P3}\n\nSee you there, Jane`), text);
});

test('extract.html: a "your browser needs JavaScript" notice is not text', () => {
  const html = `<html><body><div class="notice">Sorry, but your browser needs Javascript to use this site.</div>${NAV}<article><p>${P1}</p><p>${P2}</p></article></body></html>`;
  const { text } = extractHtml(html);
  assert.ok(!text.includes('Javascript'), text);
  assert.ok(text.startsWith(P1), text);
});

test('extract.html: a sign-up form beside a short article does not become the content; a page-wide form does', () => {
  const LEDE = 'Aurélie Trouvé was the guest of the morning show to talk about the launch of the new citizens’ observatory.';
  const form = `<form>${['Your e-mail address for the newsletter (required)', 'Your first name, for the greeting (optional)', 'Your postcode, for events near you (required)', 'Your country, for events near you (required)'].map((l) => `<div class="field"><label>${l}</label></div>`).join('')}</form>`;
  const links = `<div class="links">${Array.from({ length: 30 }, (_, i) => `<a href="/l${i}">Campaign page ${i}</a>`).join(' ')}</div>`;
  const { text } = extractHtml(`<html><body>${NAV}<div class="main"><div class="chapo"><p>${LEDE}</p></div><div class="text"><p>Listen to the interview again below.</p></div></div>${form}${links}</body></html>`);
  assert.ok(text.includes(LEDE), text);
  assert.ok(!text.includes('postcode'), text);
  const wrapped = extractHtml(`<html><body><form id="aspnetForm">${NAV}<div class="main"><p>${P1}</p><p>${P2}</p></div></form></body></html>`).text;
  for (const p of [P1, P2]) assert.ok(wrapped.includes(p), wrapped);
});

test('extract.html: an opinion piece named `commentary` is an article, not a comment thread', () => {
  const html = `<html><body>${NAV}<div class="news commentary article"><p>${P1}</p><p>${P2}</p><p>${P3}</p></div>
<div class="sidebar"><p>${'Sidebar text that is long enough to count as a paragraph of its own here. '.repeat(12)}</p></div>
<div id="comments"><p>${'A reader comment that goes on for long enough to look like a paragraph here. '.repeat(3)}</p></div></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
  assert.ok(!text.includes('reader comment'), text);
});

test('extract.html: PHP warnings printed into the page are not text and do not take the root', () => {
  const warn = (i: number): string => `<b>Warning</b>: Use of undefined constant comments - assumed 'comments' (this will throw an Error in a future version of PHP) in <b>/var/www/site/wp-content/plugins/recent-comments.php</b> on line ${900 + i}<br />`;
  const html = `<html><body>${NAV}<div id="content"><div class="post"><p>${P1}</p><p>${P2}</p></div></div><ul id="sidebar"><li>${[1, 2, 3, 4].map(warn).join('')}</li></ul></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2]) assert.ok(text.includes(p), text);
  assert.ok(!text.includes('undefined constant'), text);
});

test('extract.html: a post rendered by script with its text in <noscript> is extracted; a noscript pixel or notice is not', () => {
  const html = `<html><body><noscript><img src="/pixel.gif"> Please enable JavaScript.</noscript>${NAV}<div class="post"><h2>Warehouse</h2><div class="post-body"><script type="text/template">${P1}</script><noscript><p>${P1}</p><p>${P2}</p><p>${P3}</p></noscript></div></div></body></html>`;
  const { text } = extractHtml(html);
  for (const p of [P1, P2, P3]) assert.ok(text.includes(p), text);
  assert.ok(!text.includes('enable JavaScript'), text);
});

test('extract.html: ruby annotations (furigana) are not part of the text', () => {
  const html = `<html><body><article><p><ruby>最近<rp>(</rp><rt>さいきん</rt><rp>)</rp></ruby>、親に虐待された子どもを児童相談所が守ることができなくて、子どもが亡くなる事件が続いています。このため、法律が変わりました。新しい法律では、親が子どもに体罰をしてはいけないと決めています。</p></article></body></html>`;
  const { text } = extractHtml(html);
  assert.ok(text.startsWith('最近、親に虐待された'), text);
});
