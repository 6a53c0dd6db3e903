/**
 * `extract.html(options)`: HTML page → main-content plain text, with `meta.title` and the
 * page's declared language (`meta.htmlLang`). The input doc's `text` is the HTML; its
 * `meta.url` is kept. Pages yielding too little text are dropped with a reason.
 */
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import type { Doc, Operator } from '../../engine/types.ts';
import { parseHtml } from './dom.ts';
import { declaredLanguage, extractContent, pageTitle } from './content.ts';

const Options = z
  .object({
    /** Minimum characters of extracted text; shorter pages are dropped (`extract.tooShort`). */
    minChars: z.number().int().min(0).default(1),
    /** Keep data tables as `cell | cell` lines. */
    tables: z.boolean().default(true),
    /** Keep lists as `- item` lines. */
    lists: z.boolean().default(true),
    /** Link-character share above which a block counts as navigation. */
    maxLinkDensity: z.number().min(0).max(1).default(0.5),
    /** Instance name (default `extract.html`). */
    name: z.string().min(1).optional(),
  })
  .strict();

/** Options of `extract.html`; every key is optional. */
export type HtmlOptions = z.input<typeof Options>;

/** The result of extracting one page. */
export interface Extracted {
  text: string;
  title?: string;
  /** Declared language (`<html lang>`, `content-language`, `og:locale`), as written. */
  lang?: string;
}

/** Extracts the main content of one HTML page (pure function, usable outside pipelines). */
export function extractHtml(html: string, options: HtmlOptions = {}): Extracted {
  const o = parseConfig('extract.html', Options, options);
  const { root, info } = parseHtml(html);
  const { text } = extractContent(root, { tables: o.tables, lists: o.lists, maxLinkDensity: o.maxLinkDensity });
  return { text, title: pageTitle(info), lang: declaredLanguage(info) };
}

/**
 * Main-content extraction from HTML docs. Drops navigation, headers, footers, cookie banners,
 * comments, related links and other boilerplate; keeps paragraphs (blank line between),
 * headings, lists (`- item`) and data tables (`a | b` rows). Sets `meta.title` and
 * `meta.htmlLang`. A doc whose `meta.contentType` is set and is not HTML/XML is dropped
 * (`extract.notHtml`); a page with fewer than `minChars` (default 1) characters of content is
 * dropped (`extract.tooShort`). Defaults: tables and lists kept, `maxLinkDensity` 0.5.
 */
export function html(options: HtmlOptions = {}): Operator {
  const o = parseConfig('extract.html', Options, options);
  const name = o.name ?? 'extract.html';
  const contentOpts = { tables: o.tables, lists: o.lists, maxLinkDensity: o.maxLinkDensity };
  return {
    kind: 'operator',
    type: 'extract.html',
    name,
    version: '1',
    config: { minChars: o.minChars, tables: o.tables, lists: o.lists, maxLinkDensity: o.maxLinkDensity },
    async *process(input, ctx) {
      for await (const batch of input) {
        const out: Doc[] = [];
        for (const doc of batch) {
          const ct = doc.meta.contentType;
          if (typeof ct === 'string' && ct && !/html|xml/i.test(ct)) {
            ctx.audit.drop(name, doc, 'extract.notHtml', undefined, { contentType: ct });
            continue;
          }
          const { root, info } = parseHtml(doc.text);
          const { text } = extractContent(root, contentOpts);
          if (text.length < o.minChars) {
            ctx.audit.drop(name, doc, 'extract.tooShort', text.length);
            continue;
          }
          const meta = { ...doc.meta };
          const title = pageTitle(info);
          const lang = declaredLanguage(info);
          if (title) meta.title = title;
          if (lang) meta.htmlLang = lang;
          out.push({ id: doc.id, text, meta });
        }
        if (out.length) yield out;
      }
    },
  };
}
