/**
 * Plain-SVG line plots: linear or log₁₀ axes, ticks, a legend, dashed and
 * marked series, and vertical guide lines. Enough for the page's pictures.
 * A plot is drawn at the pixel width of its box (one SVG unit per CSS pixel),
 * so its text keeps its size on a phone, and is redrawn when the box resizes.
 * A plot with nothing finite to draw says so in place of the lines.
 */
import { whenMeasurable } from "./layout-phase.js";

const SVG_NS = "http://www.w3.org/2000/svg";

export interface Series {
  label: string;
  points: [number, number][];
  color: string;
  dash?: string;
  markers?: boolean;
  width?: number;
  /** Leave out of the legend (e.g. tangent segments that repeat a curve's colour). */
  hideInLegend?: boolean;
}

export interface PlotSpec {
  title: string;
  description: string;
  xLabel: string;
  yLabel: string;
  /** Axis kinds: "log" plots log₁₀ of the values (non-positive values are dropped). */
  xScale?: "linear" | "log";
  yScale?: "linear" | "log";
  xDomain?: [number, number];
  yDomain?: [number, number];
  series: Series[];
  /** Vertical guide lines at these x values (data units). */
  guides?: { x: number; label: string }[];
  /** Tick labels of the x axis as powers of ten even on a linear axis holding exponents. */
  xTickFormat?: (v: number) => string;
  /** What to say when no series has a finite point to draw. */
  emptyMessage?: string;
  /** Drawing width (default: the box's width, from 300 to 640 px) and height (default 0.6 × width, from 260 to 340). */
  width?: number;
  height?: number;
}

const SUPERSCRIPT: Record<string, string> = { "-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹" };

export function powerOfTen(exponent: number): string {
  return `10${String(exponent).split("").map((c) => SUPERSCRIPT[c] ?? c).join("")}`;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Round numbers (1, 2, 5 × 10^k) spanning [lo, hi]. */
function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => span / s <= count) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function tickLabel(v: number): string {
  const s = Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(4)));
  return s.replace(/^-/, "−");
}

const drawn = new WeakMap<SVGSVGElement, PlotSpec>();
/** Each plot box's width, measured once and then kept up to date by the ResizeObserver (so that redrawing never forces a layout). */
const boxWidths = new WeakMap<Element, number>();
const resizes = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((records) => {
  for (const r of records) {
    boxWidths.set(r.target, r.contentRect.width);
    const target = r.target.querySelector("svg");
    const spec = target === null ? undefined : drawn.get(target);
    if (target !== null && spec !== undefined && Math.abs(boxWidth(target) - Number(target.getAttribute("width"))) >= 8) drawPlot(target, spec);
  }
});

/** The width the plot's box offers, from 300 to 640 px. */
function boxWidth(target: SVGSVGElement): number {
  const box = target.parentElement;
  let width = box === null ? 560 : boxWidths.get(box);
  if (width === undefined && box !== null) {
    width = box.clientWidth;
    boxWidths.set(box, width);
  }
  return Math.max(300, Math.min(640, Math.floor(width! > 0 ? width! : 560)));
}

/** The plot's legend: an HTML list after the <svg>, so that it wraps on narrow screens. */
function legendFor(target: SVGSVGElement, series: Series[]): void {
  let list = target.nextElementSibling;
  if (!(list instanceof HTMLUListElement) || !list.classList.contains("plot-legend")) {
    list = document.createElement("ul");
    (list as HTMLUListElement).className = "plot-legend";
    target.after(list);
  }
  list.replaceChildren(...series.filter((s) => !s.hideInLegend).map((s) => {
    const item = document.createElement("li");
    const swatch = document.createElementNS(SVG_NS, "svg");
    swatch.setAttribute("width", "28");
    swatch.setAttribute("height", "10");
    swatch.setAttribute("aria-hidden", "true");
    swatch.append(svg("line", { x1: 1, x2: 27, y1: 5, y2: 5, stroke: s.color, "stroke-width": 3, ...(s.dash ? { "stroke-dasharray": s.dash } : {}) }));
    item.append(swatch, document.createTextNode(s.label));
    return item;
  }));
}

/** Draws the plot into `target` (an <svg> element), replacing what it held; while the page is being built, once it is. */
export function renderPlot(target: SVGSVGElement, spec: PlotSpec): void {
  whenMeasurable(target, () => drawPlot(target, spec));
}

function drawPlot(target: SVGSVGElement, spec: PlotSpec): void {
  const width = spec.width ?? boxWidth(target);
  const height = spec.height ?? Math.max(260, Math.min(340, Math.round(0.6 * width)));
  const margin = { left: 72, right: 20, top: 28, bottom: 56 };
  drawn.set(target, spec);
  if (target.parentElement) resizes?.observe(target.parentElement);
  const xLog = spec.xScale === "log";
  const yLog = spec.yScale === "log";
  const tx = (v: number): number => (xLog ? Math.log10(v) : v);
  const ty = (v: number): number => (yLog ? Math.log10(v) : v);
  const usable = (p: [number, number]): boolean =>
    Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!xLog || p[0] > 0) && (!yLog || p[1] > 0);

  const all = spec.series.flatMap((s) => s.points.filter(usable));
  let [x0, x1] = spec.xDomain ? spec.xDomain.map(tx) : [Math.min(...all.map((p) => tx(p[0]))), Math.max(...all.map((p) => tx(p[0])))];
  let [y0, y1] = spec.yDomain ? spec.yDomain.map(ty) : [Math.min(...all.map((p) => ty(p[1]))), Math.max(...all.map((p) => ty(p[1])))];
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) [x0, x1] = [0, 1];
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [0, 1];
  if (x1 - x0 < 1e-12) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 1, y1 + 1];
  if (!spec.yDomain) {
    if (yLog) [y0, y1] = [Math.floor(y0), Math.ceil(y1)];
    else {
      const pad = 0.06 * (y1 - y0);
      [y0, y1] = [y0 - pad, y1 + pad];
    }
  }
  const px = (u: number): number => margin.left + ((u - x0) / (x1 - x0)) * (width - margin.left - margin.right);
  const py = (u: number): number => height - margin.bottom - ((u - y0) / (y1 - y0)) * (height - margin.top - margin.bottom);

  target.replaceChildren();
  target.setAttribute("viewBox", `0 0 ${width} ${height}`);
  target.setAttribute("width", String(width));
  target.setAttribute("height", String(height));
  target.setAttribute("role", "img");
  const titleId = `${target.id}-title`;
  const descId = `${target.id}-desc`;
  target.setAttribute("aria-labelledby", `${titleId} ${descId}`);
  target.append(svg("title", { id: titleId }, spec.title), svg("desc", { id: descId }, spec.description));

  const clipId = `${target.id}-clip`;
  const defs = svg("defs", {});
  const clip = svg("clipPath", { id: clipId });
  clip.append(svg("rect", { x: margin.left, y: margin.top, width: width - margin.left - margin.right, height: height - margin.top - margin.bottom }));
  defs.append(clip);
  target.append(defs);

  const grid = svg("g", { class: "grid" });
  const xTicks = xLog ? decadeTicks(x0, x1) : niceTicks(x0, x1, 6);
  const yTicks = yLog ? decadeTicks(y0, y1) : niceTicks(y0, y1, 5);
  for (const t of xTicks) {
    grid.append(svg("line", { x1: px(t), x2: px(t), y1: margin.top, y2: height - margin.bottom }));
    const label = xLog ? powerOfTen(t) : spec.xTickFormat ? spec.xTickFormat(t) : tickLabel(t);
    grid.append(svg("text", { x: px(t), y: height - margin.bottom + 20, "text-anchor": "middle", class: "tick" }, label));
  }
  for (const t of yTicks) {
    grid.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: py(t), y2: py(t) }));
    grid.append(svg("text", { x: margin.left - 8, y: py(t) + 5, "text-anchor": "end", class: "tick" }, yLog ? powerOfTen(t) : tickLabel(t)));
  }
  target.append(grid);
  target.append(svg("rect", { x: margin.left, y: margin.top, width: width - margin.left - margin.right, height: height - margin.top - margin.bottom, class: "frame" }));
  target.append(svg("text", { x: (margin.left + width - margin.right) / 2, y: height - 12, "text-anchor": "middle", class: "axis-label" }, spec.xLabel));
  target.append(svg("text", { x: 16, y: (margin.top + height - margin.bottom) / 2, "text-anchor": "middle", class: "axis-label", transform: `rotate(-90 16 ${(margin.top + height - margin.bottom) / 2})` }, spec.yLabel));

  const plotArea = svg("g", { "clip-path": `url(#${clipId})` });
  for (const g of spec.guides ?? []) {
    const X = px(tx(g.x));
    plotArea.append(svg("line", { x1: X, x2: X, y1: margin.top, y2: height - margin.bottom, class: "guide" }));
  }
  for (const s of spec.series) {
    const pts = s.points.filter(usable).map(([a, b]) => [px(tx(a)), py(ty(b))] as const);
    if (pts.length === 0) continue;
    const path = svg("polyline", {
      points: pts.map(([a, b]) => `${a.toFixed(2)},${b.toFixed(2)}`).join(" "),
      fill: "none", stroke: s.color, "stroke-width": s.width ?? 2.5, "stroke-linejoin": "round",
    });
    if (s.dash) path.setAttribute("stroke-dasharray", s.dash);
    plotArea.append(path);
    if (s.markers) for (const [a, b] of pts) plotArea.append(svg("circle", { cx: a, cy: b, r: 4, fill: s.color }));
  }
  target.append(plotArea);
  for (const g of spec.guides ?? []) {
    const X = px(tx(g.x));
    target.append(svg("text", { x: Math.min(X + 4, width - margin.right - 4), y: margin.top + 14, class: "guide-label", "text-anchor": X + 4 > width - margin.right - 90 ? "end" : "start" }, g.label));
  }

  if (all.length === 0 && spec.emptyMessage) {
    const lines = wrapText(spec.emptyMessage, Math.floor((width - margin.left - margin.right - 24) / 8));
    lines.forEach((line, i) => target.append(svg("text", { x: (margin.left + width - margin.right) / 2, y: (margin.top + height - margin.bottom) / 2 + 20 * (i - (lines.length - 1) / 2), "text-anchor": "middle", class: "empty-message" }, line)));
  }
  target.dataset.points = String(all.length);
  legendFor(target, spec.series);
}

/** Splits text into lines of at most `width` characters, at spaces. */
function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

/** Decade ticks, thinned to at most about 7 labels. */
function decadeTicks(lo: number, hi: number): number[] {
  const all = range(Math.ceil(lo), Math.floor(hi));
  const stride = Math.max(1, Math.ceil(all.length / 7));
  return all.filter((t) => (t - all[0]) % stride === 0);
}
