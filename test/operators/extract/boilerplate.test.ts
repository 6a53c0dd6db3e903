import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractHtml } from '../../../operators/extract/index.ts';

const P1 = 'The council met on Tuesday evening to discuss the future of the old warehouse by the river, which has stood empty for more than ten years.';
const P2 = 'Supporters of the plan argued that a public library would give young people a quiet place to study, while critics worried about the cost of repairs.';
const P3 = 'A final decision is expected next month, after two more public meetings where residents can put their questions to the planning committee.';

test('extract.html drops boilerplate by class: headline, bylines, captions, share, newsletter, adverts, reading time, related teasers, author box', () => {
  const html = `<html><head><title>Council debates the warehouse plan | Town News</title></head><body><div class="story">
<h1>Council debates the warehouse plan</h1>
<p>By Jane Doe, Town News</p>
<p>5 min read</p>
<p>${P1}</p>
<p>Photo: Jane Doe / Town News</p>
<p>${P2}</p>
<p>Advertisement</p>
<p>Share this article</p>
<p>${P3}</p>
<p>Sign up for our weekly newsletter and never miss a story.</p>
<h3>Related articles</h3>
<p><a href="/a">Bridge repairs to start in spring</a></p><p>Library opening hours extended over the summer</p>
<h3>About the author</h3><p>Jane writes about local politics.</p>
</div></body></html>`;
  assert.equal(extractHtml(html).text, [P1, P2, P3].join('\n\n'));
});

test('extract.html keeps what looks like boilerplate by name but is content', () => {
  const links = ['a.graph', 'b.graph', 'c.graph'].map((f) => `<tr><td><a href="/${f}">${f}</a></td><td><a href="/${f}">download the ${f} file</a></td></tr>`).join('');
  const html = `<html><body><article>
<p>${P1}</p>
<blockquote class="twitter-tweet"><p>The warehouse should become a library, said the mayor on the radio this morning.</p></blockquote>
<p>${P2}</p>
<div class="field field--label-hidden"><p>${P3}</p></div>
<table><thead><tr><th>File</th><th>Description</th></tr></thead>${links}</table>
<p>${P1.replace('council', 'committee')}</p>
<h2>Mehr zum Thema</h2><p>${P2.replace('library', 'museum')} ${P3}</p>
</article></body></html>`;
  const text = extractHtml(html).text;
  assert.ok(text.includes('said the mayor on the radio'), 'embedded post');
  assert.ok(text.includes(P3), 'label-hidden is not hidden');
  assert.ok(text.includes('a.graph | download the a.graph file'), 'headed table of links is data');
  assert.ok(text.includes(P2.replace('library', 'museum')), 'a long paragraph ends a related section');
});
