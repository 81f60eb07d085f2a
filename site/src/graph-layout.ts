/**
 * Where to draw each node and edge of a tape seen as a graph, without the DOM.
 * A small layered layout: a node's layer is one more than the deepest of its
 * operands (inputs in layer 0); an edge that skips layers gets a lane of its
 * own in each layer it crosses (a waypoint), so that it never runs behind a
 * box; nodes and lanes within a layer are ordered by barycentre sweeps to cut
 * crossings; edges are cubic curves across the gaps between layers, straight
 * along their lanes, with labels in the gap just before the node they enter. Left to right or top to
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
  /** The gap between layers, which holds the edge labels. */
  layerGap: number;
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

/** Narrower boxes and gaps, for a long chain that should fit a wide screen (part 1b's tape at its default n). */
export const COMPACT_SIZES: Record<Orientation, LayoutSizes> = {
  lr: { nodeWidth: 104, nodeHeight: 64, layerGap: 60, nodeGap: 16, margin: 10 },
  tb: DEFAULT_SIZES.tb,
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

/**
 * The graph with long edges cut into one-layer hops: an edge that skips layers
 * gets a waypoint (a "dummy", as in Sugiyama's layered drawing) in every layer
 * it crosses, so that it is given its own lane there instead of being drawn
 * through the boxes of that layer. Items 0 … entries.length − 1 are the tape's
 * nodes; the rest are waypoints.
 */
export interface LayeredGraph {
  /** Layer of every item. */
  layer: number[];
  /** Operand-side neighbours and consumer-side neighbours of every item. */
  preds: number[][];
  succs: number[][];
  /** Per tape edge (in tape order, operand slots with a source): its chain of items from source to consumer. */
  chains: { from: number; to: number; slot: number; items: number[] }[];
  /** How many items are tape nodes (the rest are waypoints). */
  nodeCount: number;
}

export function layeredGraph(entries: GraphEntry[]): LayeredGraph {
  const layer = layersOf(entries);
  const preds: number[][] = entries.map(() => []);
  const succs: number[][] = entries.map(() => []);
  const chains: LayeredGraph["chains"] = [];
  for (const e of entries) {
    e.inputs.forEach((src, slot) => {
      if (src === null) return;
      const items = [src];
      for (let l = layer[src] + 1; l < layer[e.index]; l++) {
        const id = layer.length;
        layer.push(l);
        preds.push([]);
        succs.push([]);
        items.push(id);
      }
      items.push(e.index);
      for (let k = 1; k < items.length; k++) {
        preds[items[k]].push(items[k - 1]);
        succs[items[k - 1]].push(items[k]);
      }
      chains.push({ from: src, to: e.index, slot, items });
    });
  }
  return { layer, preds, succs, chains, nodeCount: entries.length };
}

/** Items of each layer, ordered by barycentre sweeps (down through operands, up through consumers). */
export function orderLayers(g: LayeredGraph, sweeps = 6): number[][] {
  const count = Math.max(0, ...g.layer) + 1;
  const rows: number[][] = Array.from({ length: count }, () => []);
  g.layer.forEach((l, item) => rows[l].push(item));
  const position = new Array<number>(g.layer.length).fill(0);
  const place = (row: number[]): void => row.forEach((n, i) => (position[n] = i - (row.length - 1) / 2));
  rows.forEach(place);
  const reorder = (row: number[], neighbours: number[][]): void => {
    const key = new Map<number, number>();
    for (const n of row) {
      const others = neighbours[n];
      key.set(n, others.length === 0 ? position[n] : others.reduce((s, o) => s + position[o], 0) / others.length);
    }
    row.sort((p, q) => key.get(p)! - key.get(q)! || p - q);
    place(row);
  };
  for (let s = 0; s < sweeps; s++) {
    for (let l = 1; l < count; l++) reorder(rows[l], g.preds);
    for (let l = count - 2; l >= 0; l--) reorder(rows[l], g.succs);
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

/** Width of a waypoint's lane across its layer. */
const LANE = 14;

/**
 * Centre positions across the layers: each row packed in its order, then a few
 * passes pull every item towards the mean of its neighbours (straighter edges),
 * keeping the order and the gaps; finally everything shifts to start at `margin`.
 */
function acrossPositions(g: LayeredGraph, rows: number[][], across: number, nodeGap: number, margin: number): { centre: number[]; extent: number } {
  const size = (item: number): number => (item < g.nodeCount ? across : LANE);
  const gapBetween = (p: number, q: number): number => (p < g.nodeCount && q < g.nodeCount ? nodeGap : nodeGap / 2);
  const centre = new Array<number>(g.layer.length).fill(0);
  const rowExtent = (row: number[]): number => row.reduce((s, n, i) => s + size(n) + (i > 0 ? gapBetween(row[i - 1], n) : 0), 0);
  const widest = Math.max(0, ...rows.map(rowExtent));
  for (const row of rows) {
    let at = (widest - rowExtent(row)) / 2;
    row.forEach((n, i) => {
      if (i > 0) at += gapBetween(row[i - 1], n);
      centre[n] = at + size(n) / 2;
      at += size(n);
    });
  }
  /** Moves a row's items as close to `want` as the order and gaps allow (pushes from the left, then from the right). */
  const settle = (row: number[], want: number[]): void => {
    const pos = want.slice();
    for (let i = 1; i < row.length; i++) pos[i] = Math.max(pos[i], pos[i - 1] + (size(row[i - 1]) + size(row[i])) / 2 + gapBetween(row[i - 1], row[i]));
    for (let i = row.length - 2; i >= 0; i--) pos[i] = Math.min(pos[i], pos[i + 1] - (size(row[i]) + size(row[i + 1])) / 2 - gapBetween(row[i], row[i + 1]));
    row.forEach((n, i) => (centre[n] = pos[i]));
  };
  for (let pass = 0; pass < 4; pass++) {
    const neighbours = pass % 2 === 0 ? g.preds : g.succs;
    const order = pass % 2 === 0 ? rows : rows.slice().reverse();
    for (const row of order) {
      settle(row, row.map((n) => (neighbours[n].length === 0 ? centre[n] : neighbours[n].reduce((s, o) => s + centre[o], 0) / neighbours[n].length)));
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  centre.forEach((c, n) => {
    lo = Math.min(lo, c - size(n) / 2);
    hi = Math.max(hi, c + size(n) / 2);
  });
  if (!Number.isFinite(lo)) return { centre, extent: 2 * margin };
  for (let n = 0; n < centre.length; n++) centre[n] += margin - lo;
  return { centre, extent: hi - lo + 2 * margin };
}

/**
 * Lays the graph out in the given orientation. Every drawn segment stays in a
 * gap between layers or in a waypoint's own lane, so no edge crosses a box.
 */
export function layoutGraph(entries: GraphEntry[], orientation: Orientation, sizes: LayoutSizes = DEFAULT_SIZES[orientation]): GraphLayout {
  const { nodeWidth: w, nodeHeight: h, layerGap, nodeGap, margin } = sizes;
  const g = layeredGraph(entries);
  const rows = orderLayers(g);
  const along = orientation === "lr" ? w : h; // extent of a node along the layer axis
  const across = orientation === "lr" ? h : w; // extent across it
  const { centre, extent: extentAcross } = acrossPositions(g, rows, across, nodeGap, margin);
  const layerStart = (l: number): number => margin + l * (along + layerGap);
  const nodes: PlacedNode[] = new Array(entries.length);
  for (let n = 0; n < entries.length; n++) {
    const a = layerStart(g.layer[n]);
    const b = centre[n] - across / 2;
    nodes[n] = orientation === "lr" ? { index: n, layer: g.layer[n], x: a, y: b } : { index: n, layer: g.layer[n], x: b, y: a };
  }
  const extentAlong = margin * 2 + rows.length * along + (rows.length - 1) * layerGap;
  /** A point from (along, across) coordinates. */
  const pt = (a: number, b: number): [number, number] => (orientation === "lr" ? [a, b] : [b, a]);
  const f = (v: number): string => v.toFixed(1);

  // Where the edges enter a node follows where they come from (not the operand order), so that they do not cross there.
  const spreadAt = new Map<string, number>();
  for (const e of entries) {
    const mine = g.chains.filter((c) => c.to === e.index);
    const sorted = mine.slice().sort((p, q) => centre[p.items[p.items.length - 2]] - centre[q.items[q.items.length - 2]] || p.slot - q.slot);
    sorted.forEach((c, k) => spreadAt.set(`${c.from}-${c.to}-${c.slot}`, k - (sorted.length - 1) / 2));
  }

  const edges: PlacedEdge[] = g.chains.map((chain) => {
    const key = `${chain.from}-${chain.to}-${chain.slot}`;
    const k = spreadAt.get(key)!;
    const spread = k * 20;
    const items = chain.items;
    // The hops: from each item's far side to the next item's near side, across one gap.
    const hops: [number, number][][] = [];
    let d = `M`;
    for (let i = 0; i + 1 < items.length; i++) {
      const s = items[i];
      const t = items[i + 1];
      const startAlong = layerStart(g.layer[s]) + along;
      const endAlong = layerStart(g.layer[t]);
      const startAcross = centre[s];
      const endAcross = centre[t] + (i + 2 === items.length ? spread : 0);
      const reach = Math.max(30, (endAlong - startAlong) / 2);
      const p: [number, number][] = [pt(startAlong, startAcross), pt(startAlong + reach, startAcross), pt(endAlong - reach, endAcross), pt(endAlong, endAcross)];
      hops.push(p);
      if (i === 0) d += `${f(p[0][0])},${f(p[0][1])}`;
      else {
        // Straight through the waypoint's lane in its layer.
        d += ` L${f(p[0][0])},${f(p[0][1])}`;
      }
      d += ` C${f(p[1][0])},${f(p[1][1])} ${f(p[2][0])},${f(p[2][1])} ${f(p[3][0])},${f(p[3][1])}`;
    }
    // The label sits in the gap just before the consumer, found by bisection along the last hop's main axis;
    // top to bottom, the labels of one consumer's edges are staggered so that they do not share a line.
    const last = hops[hops.length - 1];
    const axis = orientation === "lr" ? 0 : 1;
    const stagger = orientation === "tb" ? k * 16 : 0;
    const goal = last[3][axis] - layerGap / 2 + stagger;
    let lo = 0;
    let hi = 1;
    for (let it = 0; it < 30; it++) {
      const mid = (lo + hi) / 2;
      if (bezier(mid, last)[axis] < goal) lo = mid;
      else hi = mid;
    }
    const [labelX, labelY] = bezier((lo + hi) / 2, last);
    return { from: chain.from, to: chain.to, slot: chain.slot, labelX, labelY, path: d };
  });
  return {
    orientation,
    width: orientation === "lr" ? extentAlong : extentAcross,
    height: orientation === "lr" ? extentAcross : extentAlong,
    nodeWidth: w,
    nodeHeight: h,
    layerGap,
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
export function chooseLayout(entries: GraphEntry[], width: number, height: number, sizes: Record<Orientation, LayoutSizes> = DEFAULT_SIZES): GraphLayout {
  const boxfuls = (L: GraphLayout): number => Math.max(1, L.width / width) * Math.max(1, L.height / height);
  const lr = layoutGraph(entries, "lr", sizes.lr);
  const tb = layoutGraph(entries, "tb", sizes.tb);
  return boxfuls(tb) < boxfuls(lr) ? tb : lr;
}
