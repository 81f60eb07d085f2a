/**
 * The tape drawn as a graph in SVG, at one CSS pixel per unit so that its text
 * keeps its size on every screen: one box per tape entry (its value and what
 * the current mode holds there), one curve per operand carrying the local
 * derivative, and the step in progress highlighted: the node being visited and
 * what travels along its edges. The drawing sits in a scrolling box, which
 * follows the highlighted node.
 */
import { chooseLayout, DEFAULT_SIZES, type GraphEntry, type GraphLayout, type LayoutSizes, type Orientation } from "./graph-layout.js";
import { whenMeasurable } from "./layout-phase.js";

const SVG_NS = "http://www.w3.org/2000/svg";

export type NodeState = "idle" | "current" | "visited" | "waiting" | "next" | "inactive";

export interface NodeView {
  index: number;
  title: string;
  /** Up to two lines under the title. */
  lines: string[];
  state: NodeState;
  /** Draw the value in the error colour (a NaN or ∞), and mark the node where it first appeared. */
  nonFinite?: boolean;
  origin?: boolean;
  kind?: "input" | "output" | "custom" | "plain";
  /** Extra data-* attributes for readers and tests. */
  data?: Record<string, string>;
}

export interface EdgeView {
  from: number;
  to: number;
  slot: number;
  label: string;
  /** What travels along the edge at this step, and which way (back to the operand, or forward to the consumer). */
  active?: { text: string; direction: "back" | "forward"; amount: number; /** A shorter text, for a gap too narrow for `text`. */ short?: string };
  nonFinite?: boolean;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number | undefined>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export class TapeGraph {
  private layout: GraphLayout | null = null;
  /** The drawn elements, kept while the layout stays, so that a step only patches them. */
  private els: {
    edgeLayer: SVGGElement;
    labelLayer: SVGGElement;
    edges: Map<string, { path: SVGPathElement; label: SVGTextElement; at: number }>;
    nodes: Map<number, { g: SVGGElement; box: SVGRectElement; title: SVGTextElement; lines: SVGTextElement[]; mark: SVGTextElement }>;
  } | null = null;
  private entries: GraphEntry[] | null = null;
  private last: { nodes: NodeView[]; edges: EdgeView[]; focus: number | null } | null = null;
  private available = 0;

  /**
   * @param wrap the scrolling box (it holds `target`)
   * @param target the <svg> to draw into
   * @param prefix prefix of the data-testid of nodes and edges, and of marker ids
   * @param sizes box and gap sizes per orientation
   */
  constructor(private readonly wrap: HTMLElement, private readonly target: SVGSVGElement, private readonly prefix: string,
    private readonly sizes: Record<Orientation, LayoutSizes> = DEFAULT_SIZES) {
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(() => {
        const width = this.wrap.clientWidth;
        if (Math.abs(width - this.available) < 8 || this.last === null || this.entries === null) return;
        this.layout = null;
        this.els = null;
        this.draw();
        this.scrollToFocus();
      }).observe(this.wrap);
    }
  }

  /**
   * Draws the graph of `entries` with the given node and edge views; `focus`
   * is the node `scrollToFocus` will show. Drawing only writes to the DOM, so
   * that a caller can make all its changes before the one layout that scrolling needs.
   */
  render(entries: GraphEntry[], nodes: NodeView[], edges: EdgeView[], focus: number | null): void {
    if (entries !== this.entries) {
      this.entries = entries;
      this.layout = null;
      this.els = null;
    }
    this.last = { nodes, edges, focus };
    whenMeasurable(this, () => this.draw());
  }

  private draw(): void {
    if (this.entries === null || this.last === null) return;
    if (this.layout === null) {
      this.available = this.wrap.clientWidth;
      // The box's height limit comes from CSS (max-height); before the first drawing it may not be laid out yet.
      const maxHeight = parseFloat(getComputedStyle(this.wrap).maxHeight);
      const height = Number.isFinite(maxHeight) && maxHeight > 0 ? maxHeight : 0.7 * window.innerHeight;
      this.layout = chooseLayout(this.entries, Math.max(200, this.available - 2), Math.max(200, height - 2), this.sizes);
    }
    if (this.els === null) this.build();
    this.patch();
  }

  /** Creates the drawing's elements for the current layout: boxes, curves, labels and arrowheads. */
  private build(): void {
    const L = this.layout!;
    const t = this.target;
    t.replaceChildren();
    t.setAttribute("width", String(L.width));
    t.setAttribute("height", String(L.height));
    t.setAttribute("viewBox", `0 0 ${L.width} ${L.height}`);
    t.dataset.orientation = L.orientation;

    const defs = svg("defs", {});
    for (const name of ["arrow", "arrow-active", "arrow-bad"]) {
      const size = name === "arrow" ? 8 : 12;
      const marker = svg("marker", { id: `${this.prefix}${name}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: size, markerHeight: size, orient: "auto-start-reverse", markerUnits: "userSpaceOnUse" });
      marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: name }));
      defs.append(marker);
    }
    const edgeLayer = svg("g", { class: "edges" });
    const labelLayer = svg("g", { class: "edge-labels" });
    const nodeLayer = svg("g", { class: "nodes" });
    const edges = new Map<string, { path: SVGPathElement; label: SVGTextElement; at: number }>();
    for (const placed of L.edges) {
      const key = `${placed.from}-${placed.to}-${placed.slot}`;
      const path = svg("path", { d: placed.path, "data-testid": `${this.prefix}edge-${key}` });
      // Labels sit beside their curve (above it left to right, to its right top to bottom), so that the curve and its arrow stay visible.
      const label = L.orientation === "lr"
        ? svg("text", { x: placed.labelX.toFixed(1), y: (placed.labelY - 5).toFixed(1), "text-anchor": "middle" }, "")
        : svg("text", { x: (placed.labelX + 5).toFixed(1), y: (placed.labelY + 4).toFixed(1), "text-anchor": "start" }, "");
      edgeLayer.append(path);
      labelLayer.append(label);
      edges.set(key, { path, label, at: L.orientation === "lr" ? placed.labelX : placed.labelX + 5 });
    }
    const nodes = new Map<number, { g: SVGGElement; box: SVGRectElement; title: SVGTextElement; lines: SVGTextElement[]; mark: SVGTextElement }>();
    for (const p of L.nodes) {
      if (p === undefined) continue;
      const g = svg("g", { transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`, "data-testid": `${this.prefix}node-${p.index}` });
      const box = svg("rect", { width: L.nodeWidth, height: L.nodeHeight, rx: 6, class: "box" });
      const title = svg("text", { x: 8, y: 18, class: "node-title" }, "");
      const lines = [0, 1].map((i) => svg("text", { x: 8, y: 37 + 18 * i, class: `node-line line-${i}` }, ""));
      const mark = svg("text", { x: L.nodeWidth - 8, y: 18, "text-anchor": "end", class: "origin-mark" }, "");
      g.append(box, title, ...lines, mark);
      nodeLayer.append(g);
      nodes.set(p.index, { g, box, title, lines, mark });
    }
    t.append(defs, edgeLayer, nodeLayer, labelLayer);
    this.els = { edgeLayer, labelLayer, edges, nodes };
  }

  /** Brings the drawn elements in line with the latest views, touching only what changed. */
  private patch(): void {
    const { nodes, edges } = this.last!;
    const els = this.els!;
    const set = (el: Element, name: string, value: string | undefined): void => {
      if (value === undefined) {
        if (el.hasAttribute(name)) el.removeAttribute(name);
      } else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
    };
    const text = (el: Element, value: string): void => {
      if (el.textContent !== value) el.textContent = value;
    };
    for (const view of nodes) {
      const n = els.nodes.get(view.index);
      if (n === undefined) continue;
      set(n.g, "class", `node ${view.state} ${view.kind ?? "plain"}${view.nonFinite ? " bad" : ""}${view.origin ? " origin" : ""}`);
      set(n.g, "data-state", view.state);
      for (const [k, v] of Object.entries(view.data ?? {})) set(n.g, `data-${k}`, v);
      set(n.box, "rx", view.kind === "input" ? "18" : "6");
      text(n.title, view.title);
      n.lines.forEach((line, i) => text(line, view.lines[i] ?? ""));
      text(n.mark, view.origin ? "!" : "");
    }
    for (const view of edges) {
      const e = els.edges.get(`${view.from}-${view.to}-${view.slot}`);
      if (e === undefined) continue;
      const active = view.active;
      set(e.path, "class", ["edge", active ? "active" : "", view.nonFinite ? "bad" : ""].filter(Boolean).join(" "));
      const marker = `url(#${this.prefix}${active ? "arrow-active" : view.nonFinite ? "arrow-bad" : "arrow"})`;
      set(e.path, "marker-start", active?.direction === "back" ? marker : undefined);
      set(e.path, "marker-end", active?.direction === "back" ? undefined : marker);
      set(e.path, "data-local", view.label);
      set(e.path, "data-amount", active ? String(active.amount) : undefined);
      set(e.path, "data-direction", active?.direction);
      set(e.label, "class", `edge-label${active ? " active" : ""}${view.nonFinite ? " bad" : ""}`);
      const shown = active ? active.text : view.label;
      if (e.label.textContent !== shown) {
        e.label.textContent = shown;
        // Left to right, a label lies across the gap between two layers: one wider than the gap takes its short form.
        if (active?.short !== undefined && this.layout!.orientation === "lr" && e.label.getComputedTextLength() > this.layout!.layerGap - 6) e.label.textContent = active.short;
        this.fitLabel(e.label, e.at);
      }
      // The step's edges go on top of the others.
      if (active) {
        els.edgeLayer.append(e.path);
        els.labelLayer.append(e.label);
      }
    }
  }

  /**
   * Keeps a label inside the drawing: a label that would run past the right
   * edge moves to the other side of its curve, or against the edge.
   */
  private fitLabel(label: SVGTextElement, at: number): void {
    const width = this.layout!.width;
    const length = label.textContent === "" ? 0 : label.getComputedTextLength();
    const anchor = this.layout!.orientation === "lr" ? "middle" : "start";
    let x = at;
    let used = anchor;
    const right = anchor === "middle" ? at + length / 2 : at + length;
    const left = anchor === "middle" ? at - length / 2 : at;
    if (right > width - 2) {
      if (anchor === "start" && at - 10 - length >= 2) {
        x = at - 10;
        used = "end";
      } else {
        x = Math.max(2, width - 2 - length);
        used = "start";
      }
    } else if (left < 2) {
      x = 2;
      used = "start";
    }
    label.setAttribute("x", x.toFixed(1));
    label.setAttribute("text-anchor", used);
  }

  /** Scrolls the box so that the focused node shows whole (centring it when it was out of view). */
  scrollToFocus(): void {
    const index = this.last?.focus ?? null;
    const L = this.layout;
    if (index === null) return;
    const p = L?.nodes[index];
    if (!L || !p) return;
    const pad = 24;
    const box = this.wrap;
    const [left, top] = [p.x, p.y];
    const [right, bottom] = [p.x + L.nodeWidth, p.y + L.nodeHeight];
    let { scrollLeft, scrollTop } = box;
    if (left - pad < scrollLeft || right + pad > scrollLeft + box.clientWidth) scrollLeft = (left + right) / 2 - box.clientWidth / 2;
    if (top - pad < scrollTop || bottom + pad > scrollTop + box.clientHeight) scrollTop = (top + bottom) / 2 - box.clientHeight / 2;
    box.scrollTo({ left: Math.max(0, scrollLeft), top: Math.max(0, scrollTop) });
  }
}
