/**
 * Where to draw each node and edge of a tape seen as a graph, without the DOM.
 * A small layered layout: a node's layer is one more than the deepest of its
 * operands (inputs in layer 0), nodes within a layer are ordered by a few
 * barycentre sweeps to cut crossings, and edges are cubic curves whose labels
 * sit in the gap just before the node they enter. Left to right or top to
 * bottom, whichever needs less scrolling in the box available.
 */

export interface GraphEntry {
  index: number;
  /** Tape index of each operand, null for a constant. */
  inputs: (number | null)[];
}

export type Orientation = "lr" | "tb";

export interface PlacedNode {
  index: number;
  layer: number;
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: number;
  to: number;
  /** Operand position at the consumer. */
  slot: number;
  /** SVG path data from the operand to the consumer. */
  path: string;
  /** Where the edge's label goes (its centre). */
  labelX: number;
  labelY: number;
}

export interface GraphLayout {
  orientation: Orientation;
  width: number;
  height: number;
  nodeWidth: number;
  nodeHeight: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

export interface LayoutSizes {
  nodeWidth: number;
  nodeHeight: number;
  /** Space between layers (holds the edge labels). */
  layerGap: number;
  /** Space between nodes of one layer. */
  nodeGap: number;
  margin: number;
}

export const DEFAULT_SIZES: Record<Orientation, LayoutSizes> = {
  lr: { nodeWidth: 136, nodeHeight: 64, layerGap: 124, nodeGap: 24, margin: 10 },
  tb: { nodeWidth: 136, nodeHeight: 64, layerGap: 60, nodeGap: 16, margin: 10 },
};

/**
 * Each entry's layer: first 1 + the deepest operand's layer (inputs in layer 0),
 * then every node that feeds others moves up to just before its earliest
 * consumer, so that an input used late sits beside the node that uses it.
 */
export function layersOf(entries: GraphEntry[]): number[] {
  const layer = new Array<number>(entries.length).fill(0);
  for (const e of entries) {
    let deepest = -1;
    for (const src of e.inputs) if (src !== null) deepest = Math.max(deepest, layer[src]);
    layer[e.index] = deepest + 1;
  }
  const earliestConsumer = new Array<number>(entries.length).fill(Infinity);
  for (let i = entries.length - 1; i >= 0; i--) {
    if (earliestConsumer[i] !== Infinity) layer[i] = earliestConsumer[i] - 1;
    for (const src of entries[i].inputs) if (src !== null) earliestConsumer[src] = Math.min(earliestConsumer[src], layer[i]);
  }
  return layer;
}

/** Nodes of each layer, ordered by barycentre sweeps (down through operands, up through consumers). */
export function orderLayers(entries: GraphEntry[], layer: number[], sweeps = 4): number[][] {
  const count = Math.max(0, ...layer) + 1;
  const rows: number[][] = Array.from({ length: count }, () => []);
  for (const e of entries) rows[layer[e.index]].push(e.index);
  const consumers: number[][] = entries.map(() => []);
  for (const e of entries) for (const src of e.inputs) if (src !== null) consumers[src].push(e.index);
  const position = new Array<number>(entries.length).fill(0);
  const place = (row: number[]): void => row.forEach((n, i) => (position[n] = i - (row.length - 1) / 2));
  rows.forEach(place);
  const reorder = (row: number[], neighbours: (n: number) => number[]): void => {
    const key = new Map<number, number>();
    for (const n of row) {
      const others = neighbours(n);
      key.set(n, others.length === 0 ? position[n] : others.reduce((s, o) => s + position[o], 0) / others.length);
    }
    row.sort((p, q) => key.get(p)! - key.get(q)! || p - q);
    place(row);
  };
  for (let s = 0; s < sweeps; s++) {
    for (let l = 1; l < count; l++) reorder(rows[l], (n) => entries[n].inputs.filter((src): src is number => src !== null));
    for (let l = count - 2; l >= 0; l--) reorder(rows[l], (n) => consumers[n]);
  }
  return rows;
}

/** The point at parameter t of the cubic Bézier p0, p1, p2, p3. */
function bezier(t: number, p: [number, number][]): [number, number] {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const c = 3 * u * t * t;
  const d = t * t * t;
  return [a * p[0][0] + b * p[1][0] + c * p[2][0] + d * p[3][0], a * p[0][1] + b * p[1][1] + c * p[2][1] + d * p[3][1]];
}

/** Lays the graph out in the given orientation. */
export function layoutGraph(entries: GraphEntry[], orientation: Orientation, sizes: LayoutSizes = DEFAULT_SIZES[orientation]): GraphLayout {
  const { nodeWidth: w, nodeHeight: h, layerGap, nodeGap, margin } = sizes;
  const layer = layersOf(entries);
  const rows = orderLayers(entries, layer);
  const widest = Math.max(1, ...rows.map((r) => r.length));
  const along = orientation === "lr" ? w : h; // extent of a node along the layer axis
  const across = orientation === "lr" ? h : w; // extent across it
  const nodes: PlacedNode[] = new Array(entries.length);
  rows.forEach((row, l) => {
    row.forEach((n, i) => {
      const a = margin + l * (along + layerGap);
      const b = margin + (i + (widest - row.length) / 2) * (across + nodeGap);
      nodes[n] = orientation === "lr" ? { index: n, layer: l, x: a, y: b } : { index: n, layer: l, x: b, y: a };
    });
  });
  const extentAlong = margin * 2 + rows.length * along + (rows.length - 1) * layerGap;
  const extentAcross = margin * 2 + widest * across + (widest - 1) * nodeGap;

  const edges: PlacedEdge[] = [];
  for (const e of entries) {
    // Where the edges enter a node follows where they come from (not the operand order), so that they do not cross there.
    const acrossOf = (n: number): number => (orientation === "lr" ? nodes[n].y : nodes[n].x);
    const onTape = e.inputs.map((src, j) => ({ src, j })).filter((o): o is { src: number; j: number } => o.src !== null)
      .sort((p, q) => acrossOf(p.src) - acrossOf(q.src) || p.j - q.j);
    onTape.forEach(({ src, j }, k) => {
      const spread = (k - (onTape.length - 1) / 2) * 20;
      const s = nodes[src];
      const t = nodes[e.index];
      const p: [number, number][] = orientation === "lr"
        ? [[s.x + w, s.y + h / 2], [0, 0], [0, 0], [t.x, t.y + h / 2 + spread]]
        : [[s.x + w / 2, s.y + h], [0, 0], [0, 0], [t.x + w / 2 + spread, t.y]];
      const axis = orientation === "lr" ? 0 : 1;
      const reach = Math.max(30, (p[3][axis] - p[0][axis]) / 2);
      p[1] = axis === 0 ? [p[0][0] + reach, p[0][1]] : [p[0][0], p[0][1] + reach];
      p[2] = axis === 0 ? [p[3][0] - reach, p[3][1]] : [p[3][0], p[3][1] - reach];
      // The label sits in the gap just before the consumer, found by bisection along the curve's main axis;
      // top to bottom, the labels of one consumer's edges are staggered so that they do not share a line.
      const stagger = orientation === "tb" ? (k - (onTape.length - 1) / 2) * 16 : 0;
      const goal = p[3][axis] - layerGap / 2 + stagger;
      let lo = 0;
      let hi = 1;
      for (let it = 0; it < 30; it++) {
        const mid = (lo + hi) / 2;
        if (bezier(mid, p)[axis] < goal) lo = mid;
        else hi = mid;
      }
      const [labelX, labelY] = bezier((lo + hi) / 2, p);
      const f = (v: number): string => v.toFixed(1);
      edges.push({
        from: src, to: e.index, slot: j, labelX, labelY,
        path: `M${f(p[0][0])},${f(p[0][1])} C${f(p[1][0])},${f(p[1][1])} ${f(p[2][0])},${f(p[2][1])} ${f(p[3][0])},${f(p[3][1])}`,
      });
    });
  }
  return {
    orientation,
    width: orientation === "lr" ? extentAlong : extentAcross,
    height: orientation === "lr" ? extentAcross : extentAlong,
    nodeWidth: w,
    nodeHeight: h,
    nodes,
    edges,
  };
}

/**
 * The orientation that needs the least scrolling in a box of `width` × `height`
 * pixels: each layout is scored by how many boxfuls it spans across and down,
 * left to right winning ties. Wide screens get left to right, phones mostly
 * top to bottom (which scrolls down, as a phone does).
 */
export function chooseLayout(entries: GraphEntry[], width: number, height: number): GraphLayout {
  const boxfuls = (L: GraphLayout): number => Math.max(1, L.width / width) * Math.max(1, L.height / height);
  const lr = layoutGraph(entries, "lr");
  const tb = layoutGraph(entries, "tb");
  return boxfuls(tb) < boxfuls(lr) ? tb : lr;
}
