/**
 * Drives the report pages in headless Chromium (the Debian package, through playwright-core):
 * opens a page with every non-file request refused and recorded, reads the DAG's nodes and
 * resolves the report links to files.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** `skip` option value for tests that need Chromium. */
export const needChromium: false | string = existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} is absent (Debian package chromium)`;

/** Launches headless Chromium with networking in the background off. */
export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** Opens `url` in a new page; requests other than file:// (and `allow`) are aborted and returned in `blocked`. */
export async function openPage(browser: Browser, url: string, allow = 'file://'): Promise<{ page: Page; blocked: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const blocked: string[] = [];
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(allow) || u.startsWith('file://')) return route.continue();
    blocked.push(u);
    return route.abort();
  });
  await page.goto(url);
  return { page, blocked };
}

/** The DAG's nodes in document order: `[stage, status]`. */
export async function nodeStatuses(page: Page): Promise<Array<[string, string]>> {
  return page.locator('svg.dag g.node').evaluateAll((els) => els.map((e) => [e.getAttribute('data-stage') ?? '', e.getAttribute('data-status') ?? ''] as [string, string]));
}

/** Asserts every report link of a file:// page points at an existing file; returns the links' titles and paths. */
export async function assertLinksResolve(page: Page): Promise<Array<{ title: string; path: string; hash: string }>> {
  const links = await page.locator('a.report').evaluateAll((els) => els.map((e) => ({ title: e.textContent ?? '', href: (e as HTMLAnchorElement).href })));
  assert.ok(links.length > 0, 'the page links reports');
  return links.map((l) => {
    assert.ok(l.href.startsWith('file://'), `${l.href} is a file URL`);
    const u = new URL(l.href);
    const path = fileURLToPath(u);
    assert.ok(existsSync(path), `link '${l.title}' → ${path} exists`);
    return { title: l.title, path, hash: u.hash };
  });
}

/** Where the README's screenshot of the quickstart's report lives. */
export const README_SCREENSHOT = fileURLToPath(new URL('../../docs/images/report-quickstart.png', import.meta.url));

/**
 * Checks a finished run's report (`<workdir>/_report/index.html`) in Chromium — offline, one
 * `done` node per stage, every link resolving — and screenshots its top (the DAG and the report
 * links) into `png`. With SLUICE_UPDATE_SCREENSHOTS=1 it also replaces the README's screenshot;
 * otherwise the repository is left untouched (a PNG rendered with another machine's fonts would
 * differ byte for byte, so CI compares nothing and writes to a temporary path).
 */
export async function checkRunReport(index: string, stages: string[], png: string): Promise<void> {
  const browser = await launch();
  try {
    const { page, blocked } = await openPage(browser, pathToFileURL(index).href);
    assert.deepEqual(blocked, [], 'the report requests nothing but files');
    assert.deepEqual(await nodeStatuses(page), stages.map((s) => [s, 'done']));
    await assertLinksResolve(page);
    const top = await page.locator('h2', { hasText: 'Stages' }).boundingBox();
    // The top of the page: the report links and the DAG (up to 1,700 px, < 200 KB as PNG).
    await page.screenshot({ path: png, fullPage: true, clip: { x: 0, y: 0, width: 1200, height: Math.min(1700, Math.ceil(top!.y)) } });
    const buf = readFileSync(png);
    assert.equal(buf.subarray(1, 4).toString(), 'PNG');
    assert.equal(buf.readUInt32BE(16), 1200, 'width');
    if (process.env.SLUICE_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(dirname(README_SCREENSHOT), { recursive: true });
      copyFileSync(png, README_SCREENSHOT);
    }
  } finally {
    await browser.close();
  }
}
