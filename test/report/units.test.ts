import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busySeconds } from '../../report/timing.ts';
import { hrefFrom } from '../../report/links.ts';
import { layoutDag } from '../../report/layout.ts';

test('busySeconds: the union of task intervals, gaps between runs left out', () => {
  assert.equal(busySeconds([]), 0);
  assert.equal(busySeconds([[0, 1000]]), 1);
  // Two overlapping workers, then a resume an hour later.
  assert.equal(busySeconds([[500, 2000], [0, 1000], [3_600_000, 3_601_500]]), 3.5);
  assert.equal(busySeconds([[0, 1000], [1000, 2000]]), 2);
});

test('hrefFrom: relative between local paths and within a bucket, the URI otherwise, segments encoded', () => {
  assert.equal(hrefFrom('/w/_report', '/w/train/abc/report.html'), '../train/abc/report.html');
  assert.equal(hrefFrom('/elsewhere/site', '/w/audit.html'), '../../w/audit.html');
  assert.equal(hrefFrom('/w/_report', '/w/s#1/a b.html'), '../s%231/a%20b.html');
  assert.equal(hrefFrom('s3://b/w/_report', 's3://b/w/eval/f/contamination.html'), '../eval/f/contamination.html');
  assert.equal(hrefFrom('s3://b/w/_report', 's3://other/w/audit.html'), 's3://other/w/audit.html');
  assert.equal(hrefFrom('/local/site', 's3://b/w/audit.html'), 's3://b/w/audit.html');
});

test('layoutDag: every node placed without overlap, edges run downwards from source to target', async () => {
  const nodes = Array.from({ length: 20 }, (_, i) => ({ id: `s${i}`, width: 236, height: 74 }));
  const edges: Array<[string, string]> = [];
  for (let i = 1; i < 20; i++) edges.push([`s${i - 1}`, `s${i}`]);
  edges.push(['s3', 's7'], ['s5', 's12']);
  const l = await layoutDag(nodes, edges);
  assert.equal(l.nodes.length, 20);
  for (const a of l.nodes) {
    assert.ok(a.x - a.width / 2 >= 0 && a.x + a.width / 2 <= l.width && a.y + a.height / 2 <= l.height, `${a.id} inside`);
    for (const b of l.nodes) if (a !== b) assert.ok(Math.abs(a.x - b.x) >= a.width || Math.abs(a.y - b.y) >= a.height, `${a.id} and ${b.id} overlap`);
  }
  const at = new Map(l.nodes.map((n) => [n.id, n]));
  for (const e of l.edges) {
    assert.ok(e.points.length >= 2);
    assert.ok(at.get(e.to)!.y > at.get(e.from)!.y, `${e.from} above ${e.to}`);
  }
});
