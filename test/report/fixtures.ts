/**
 * The pipeline the report tests run: load → clean (a slow map and a word-count filter) → count,
 * and `pages`, a custom stage that writes an HTML page of its own (`notes/summary.html`), as a
 * judge or stats stage would: the report must link it without knowing it.
 */
import { writePipeline } from '../helpers/cli.ts';
import { COUNT_STAGE } from '../helpers/fixtures.ts';

/** Title of the page the `pages` stage writes. */
export const PAGE_TITLE = 'Word counts — fixture page';

/** Writes the pipeline into `dir/<file>`; returns its path. */
export function writeReportPipeline(dir: string, opts: { minWords?: number; delayMs?: number; workdir?: string } = {}, file = 'pipeline.ts'): string {
  const { minWords = 5, delayMs = 0, workdir = 'runs/test' } = opts;
  return writePipeline(
    dir,
    file,
    `
${COUNT_STAGE}
const pages = (input) => ({
  kind: 'custom', type: 'test.pages', name: 'test.pages', version: '1', config: {}, inputs: [input], output: 'artifact',
  async run(ctx) {
    let docs = 0;
    for await (const b of ctx.inputs[0].readDocs()) docs += b.length;
    await ctx.writeFile('notes/summary.html', '<!doctype html><html><head><title>${PAGE_TITLE}</title></head><body><p>' + docs + ' docs</p></body></html>\\n', 1);
  },
});
export default pipeline({ name: 'test', workdir: ${JSON.stringify(workdir)} }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  const clean = p.stage('clean', raw, [
    map('slow', async (d) => {
      if (${delayMs}) await new Promise((r) => setTimeout(r, ${delayMs}));
      return { ...d, text: d.text.trim() };
    }, { delayMs: ${delayMs} }),
    filter.where('minWords', (d) => { const n = d.text.split(' ').length; return n >= ${minWords} ? { keep: true, score: n } : { drop: 'too-few-words', score: n }; }, { minWords: ${minWords} }),
  ]);
  p.stage('count', count(clean));
  p.stage('pages', pages(clean));
});
`,
  );
}
