/** The `extract.*` operators: turn fetched payloads into plain text documents. */
import { registerOperator } from '../../engine/operator.ts';
import type { Json } from '../../engine/types.ts';
import { html, type HtmlOptions } from './html.ts';

export { extractHtml, type Extracted, type HtmlOptions } from './html.ts';
export { decodeHtml } from './charset.ts';
export { pageMetadata, type PageMetadata, type Found } from './metadata.ts';

/** Extractors: `extract.html(options)`. */
export const extract = {
  html,
};

registerOperator('extract.html', 'main-content text or markdown of HTML pages (meta.title, meta.htmlLang, meta.extract)', (config: Json) => html((config ?? {}) as HtmlOptions));
