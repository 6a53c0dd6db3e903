/**
 * The pipeline DAG as inline SVG, drawn from a dagre layout: one `<g class="node">` per stage,
 * coloured by status and labelled with its docs in → out, bytes, seconds and drop share; edges
 * as polylines with arrowheads. Each node links to its row in the stages table.
 */
import { esc } from '../audit/html.ts';
import type { StageReport } from './model.ts';
import type { Layout } from './layout.ts';
import { layoutDag } from './layout.ts';
import { fmtCount, fmtBytesShort, fmtSeconds, fmtShare } from './format.ts';

/** Fill and stroke of each status (also used by the table's badges). */
export const STATUS_COLOURS: Record<StageReport['status'], { fill: string; stroke: string }> = {
  done: { fill: '#e6f4ea', stroke: '#2e8b57' },
  partial: { fill: '#e3edfb', stroke: '#2f6fd0' },
  stale: { fill: '#fdf1dc', stroke: '#c98a12' },
  pending: { fill: '#f1f2f4', stroke: '#8a9099' },
};

const NODE_W = 236;
const NODE_H = 66;

/** The three label lines of a stage node. */
export function nodeLines(s: StageReport): [string, string, string] {
  const tasks = s.tasks === null ? '' : s.status === 'done' ? `${s.tasks} task${s.tasks === 1 ? '' : 's'}` : `${s.tasksDone}/${s.tasks} tasks`;
  const head = `${s.status}${tasks ? ` · ${tasks}` : ''}`;
  const docs =
    s.docsIn === null && s.docsOut === null
      ? s.status === 'stale' ? 'output out of date' : s.status === 'partial' ? 'running' : 'not run yet'
      : s.docsIn
        ? `${fmtCount(s.docsIn)} → ${fmtCount(s.docsOut ?? 0)} docs`
        : s.docsOut
          ? `${fmtCount(s.docsOut)} docs out`
          : s.output === 'artifact' ? `artifact: ${fmtCount(s.files ?? 0)} file(s)` : 'no docs';
  const figs = [s.bytes !== null ? fmtBytesShort(s.bytes) : s.bytesOut ? fmtBytesShort(s.bytesOut) : null, s.seconds !== null ? fmtSeconds(s.seconds) : null, s.dropShare !== null ? `${fmtShare(s.dropShare)} dropped` : null].filter(Boolean);
  return [head, docs, figs.join(' · ') || ' '];
}

/** Lays out the stages and renders the DAG as one `<svg>` element. */
export async function dagSvg(stages: StageReport[]): Promise<string> {
  const layout = await layoutDag(
    stages.map((s) => ({ id: s.name, width: NODE_W, height: NODE_H })),
    stages.flatMap((s) => s.upstream.map((u) => [u, s.name] as [string, string])),
  );
  return renderSvg(stages, layout);
}

function path(points: Array<{ x: number; y: number }>): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
}

/** Renders laid-out stages (exported for tests of the drawing itself). */
export function renderSvg(stages: StageReport[], layout: Layout): string {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const h: string[] = [];
  h.push(`<svg class="dag" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" role="img" aria-label="pipeline DAG" xmlns="http://www.w3.org/2000/svg">`);
  h.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#7a808a"/></marker></defs>');
  for (const e of layout.edges) h.push(`<path class="edge" data-from="${esc(e.from)}" data-to="${esc(e.to)}" d="${path(e.points)}" fill="none" stroke="#7a808a" stroke-width="1.4" marker-end="url(#arrow)"/>`);
  for (const n of layout.nodes) {
    const s = byName.get(n.id)!;
    const c = STATUS_COLOURS[s.status];
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    const [head, docs, figs] = nodeLines(s);
    const progress = s.status === 'partial' && s.tasks ? `<rect class="progress" x="${(x + 1).toFixed(1)}" y="${(y + n.height - 5).toFixed(1)}" width="${(((n.width - 2) * s.tasksDone) / s.tasks).toFixed(1)}" height="4" fill="${c.stroke}"/>` : '';
    h.push(
      `<a href="#stage-${esc(s.name)}"><g class="node status-${s.status}" data-stage="${esc(s.name)}" data-status="${s.status}">` +
        `<title>${esc(`${s.name}: ${head}\n${docs}\n${figs}\nfingerprint ${s.fingerprint}`)}</title>` +
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.width}" height="${n.height}" rx="7" fill="${c.fill}" stroke="${c.stroke}" stroke-width="${s.status === 'partial' ? 2.2 : 1.4}"${s.status === 'stale' ? ' stroke-dasharray="5 3"' : ''}/>` +
        progress +
        `<text x="${(x + 10).toFixed(1)}" y="${(y + 19).toFixed(1)}" class="name">${esc(s.name)}</text>` +
        `<text x="${(x + n.width - 10).toFixed(1)}" y="${(y + 19).toFixed(1)}" class="st" text-anchor="end" fill="${c.stroke}">${esc(head)}</text>` +
        `<text x="${(x + 10).toFixed(1)}" y="${(y + 37).toFixed(1)}" class="fig">${esc(docs)}</text>` +
        `<text x="${(x + 10).toFixed(1)}" y="${(y + 54).toFixed(1)}" class="fig">${esc(figs)}</text>` +
        '</g></a>',
    );
  }
  h.push('</svg>');
  return h.join('\n');
}
