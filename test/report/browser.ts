/**
 * Drives the report pages in headless Chromium (the Debian package, through playwright-core):
 * opens a page with every non-file request refused and recorded, reads the DAG's nodes and
 * resolves the report links to files.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
