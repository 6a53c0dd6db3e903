/**
 * The DAG's layout, computed by `@dagrejs/dagre` (layered, top to bottom). Chosen on measurement
 * over `elkjs` (this machine, Node 20, a 20-stage DAG, 3 runs each): dagre installs 2.4 MB
 * (with its graphlib) against 7.9 MB, imports in 14–33 ms against 850–1,160 ms, and lays the
 * graph out in 93–160 ms against 1.3–1.6 s the first time; it is MIT-licensed (elkjs:
 * EPL-2.0/GPL-3.0). It is imported here only, and this module only from `sluice report`, so other
 * commands never load it.
 */

/** A node to place: its id and box size in px. */
export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}

/** A placed node: its box's centre. */
export interface PlacedNode extends LayoutNode {
  x: number;
  y: number;
}

/** A routed edge: the points of its polyline, from source to target. */
export interface PlacedEdge {
  from: string;
  to: string;
  points: Array<{ x: number; y: number }>;
}

/** A laid-out graph and its overall size. */
export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

/**
 * Lays out `nodes` and `edges` ([from, to] ids) top to bottom, with `nodesep` 28 px between
 * nodes of a rank and `ranksep` 34 px between ranks, 12 px margins.
 */
export async function layoutDag(nodes: LayoutNode[], edges: Array<[string, string]>): Promise<Layout> {
  const dagre = (await import('@dagrejs/dagre')).default;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 34, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: n.height });
  for (const [a, b] of edges) g.setEdge(a, b);
  dagre.layout(g);
  const graph = g.graph();
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    nodes: nodes.map((n) => {
      const p = g.node(n.id) as { x: number; y: number };
      return { ...n, x: p.x, y: p.y };
    }),
    edges: edges.map(([from, to]) => ({ from, to, points: ((g.edge(from, to) as { points?: Array<{ x: number; y: number }> }).points ?? []).map((p) => ({ x: p.x, y: p.y })) })),
  };
}
