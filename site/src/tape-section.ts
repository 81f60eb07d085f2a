/** Part 1 of the page: the function menu, the tape, the stepped backward sweep, the tangents, finite differences. */
import { parse, format, ParseError, type Expr } from "./expr.js";
import { analyse, sweepState, RULES, scalarOf, type Analysis, type SweepState } from "./mechanics.js";
import { byTestId, fill, fmt, h, showError, showNumber } from "./format.js";
import { renderPlot, powerOfTen } from "./plot.js";

export const PRESETS: { label: string; expression: string }[] = [
  { label: "sin(x)·y + x²", expression: "sin(x) * y + x^2" },
  { label: "x·y + exp(x)/y", expression: "x*y + exp(x)/y" },
  { label: "sigmoid(x)·tanh(y)", expression: "sigmoid(x) * tanh(y)" },
  { label: "√(x² + y²)", expression: "sqrt(x^2 + y^2)" },
  { label: "xʸ", expression: "x^y" },
  { label: "log(1 + exp(x·y)) − softplus(x·y)", expression: "log(1 + exp(x*y)) - softplus(x*y)" },
  { label: "exp(−x²)·cos(3y)", expression: "exp(-x^2) * cos(3*y)" },
  { label: "relu(x − y) + abs(y)·x", expression: "relu(x - y) + abs(y)*x" },
  { label: "x·x·x (one input used three times)", expression: "x*x*x" },
];
const CUSTOM = "__custom__";

const ARG_NAMES = ["x", "y"];

interface TapeState {
  expr: Expr;
  analysis: Analysis;
  step: number;
}

function operandText(a: Analysis, index: number): string {
  const e = a.trace.entries[index];
  if (e.op === "input") return `argument ${e.argIndex} (${ARG_NAMES[e.argIndex ?? 0] ?? "?"})`;
  const names = e.inputs.length === 1 ? ["u"] : ["a", "b"];
  return e.inputs.map((src, j) => `${names[j] ?? `arg${j}`} = ${src === null ? `const ${fmt(scalarOf(e.constants[j]!), 6)}` : `#${src}`}`).join(", ");
}

function shapeText(shape: number[]): string {
  return `[${shape.join(",")}]`;
}

function rulesCell(a: Analysis, index: number): HTMLTableCellElement {
  const e = a.trace.entries[index];
  const td = h("td", { className: "rule" });
  if (e.op === "input") {
    td.append("—");
    return td;
  }
  const names = e.inputs.length === 1 ? ["u"] : ["a", "b"];
  const rules = RULES[e.op] ?? [];
  const lines: string[] = [];
  e.inputs.forEach((src, j) => {
    const d = a.local[index][j];
    if (src === null || d === null) return;
    lines.push(`∂/∂${names[j]}: ${rules[j] ?? "?"} = ${fmt(d, 6)}`);
  });
  lines.forEach((line, i) => {
    if (i > 0) td.append(h("br"));
    td.append(line);
  });
  if (lines.length === 0) td.append("—");
  return td;
}

function cotangentCell(a: Analysis, state: SweepState, index: number): HTMLTableCellElement {
  const node = state.nodes[index];
  const td = h("td", { className: "cotangent num", "data-testid": `ct-${index}` });
  if (node.unreachable) {
    td.append(h("span", { className: "muted" }, "never visited: no path to the output"));
    return td;
  }
  if (node.cotangent === null) {
    td.append(h("span", { className: "muted" }, "—"));
    return td;
  }
  td.dataset.value = String(node.cotangent);
  td.append(h("strong", {}, fmt(node.cotangent, 8)));
  let terms = "";
  if (node.seeded) terms = "seed: ȳ = 1";
  else terms = "= " + node.contributions.map((c) => `${fmt(c.upstream, 4)}×${fmt(c.local, 4)} (from #${c.from})`).join(" + ");
  td.append(h("span", { className: "terms" }, terms));
  if (node.visited) {
    const e = a.trace.entries[index];
    if (e.op === "input") td.append(h("span", { className: "terms" }, `= ∂f/∂${ARG_NAMES[e.argIndex ?? 0]}`));
  }
  return td;
}

export class TapeSection {
  private state: TapeState | null = null;
  private readonly select = byTestId<HTMLSelectElement>("preset-select");
  private readonly input = byTestId<HTMLInputElement>("expr-input");
  private readonly xInput = byTestId<HTMLInputElement>("x-input");
  private readonly yInput = byTestId<HTMLInputElement>("y-input");
  private readonly errorBox = byTestId("expr-error");
  private readonly body = byTestId("tape-body");

  constructor() {
    for (const p of PRESETS) this.select.append(h("option", { value: p.expression }, p.label));
    this.select.append(h("option", { value: CUSTOM }, "your own (type below)"));
    this.select.value = PRESETS[0].expression;
    this.input.value = PRESETS[0].expression;

    this.select.addEventListener("change", () => {
      if (this.select.value !== CUSTOM) this.input.value = this.select.value;
      else this.input.focus();
      this.update(true);
    });
    this.input.addEventListener("input", () => {
      const match = PRESETS.find((p) => p.expression === this.input.value.trim());
      this.select.value = match ? match.expression : CUSTOM;
      this.update(true);
    });
    for (const field of [this.xInput, this.yInput]) field.addEventListener("input", () => this.update(false));

    byTestId("step-button").addEventListener("click", () => this.go(+1));
    byTestId("back-button").addEventListener("click", () => this.go(-1));
    byTestId("reset-button").addEventListener("click", () => this.goTo(0));
    byTestId("end-button").addEventListener("click", () => this.goTo(Number.MAX_SAFE_INTEGER));
    document.addEventListener("keydown", (ev) => this.onKey(ev));
    this.update(true);
  }

  /**
   * Keyboard stepping while focus is in part 1 (a sweep button, the tape table),
   * but not in a form field, where the keys belong to the field; elsewhere Home
   * and End keep scrolling the page.
   */
  private onKey(ev: KeyboardEvent): void {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const target = ev.target instanceof Element ? ev.target : null;
    if (target === null || target.closest("#tape") === null) return;
    if (target.closest("input, select, textarea, [contenteditable]") !== null) return;
    const key = ev.key;
    if (key === "ArrowRight" || key === "n" || key === "N") this.go(+1);
    else if (key === "ArrowLeft" || key === "p" || key === "P") this.go(-1);
    else if (key === "Home") this.goTo(0);
    else if (key === "End") this.goTo(Number.MAX_SAFE_INTEGER);
    else return;
    ev.preventDefault();
  }

  private go(delta: number): void {
    if (this.state) this.goTo(this.state.step + delta);
  }

  private goTo(step: number): void {
    if (!this.state) return;
    this.state.step = Math.max(0, Math.min(step, this.state.analysis.trace.sweep.length));
    this.renderSweep(true);
  }

  private readPoint(): [number, number] | null {
    const bad: string[] = [];
    const read = (field: HTMLInputElement, name: string): number => {
      const v = field.value.trim() === "" ? NaN : Number(field.value);
      const ok = Number.isFinite(v);
      field.setAttribute("aria-invalid", ok ? "false" : "true");
      if (!ok) bad.push(name);
      return v;
    };
    const x = read(this.xInput, "x");
    const y = read(this.yInput, "y");
    if (bad.length > 0) {
      this.errorBox.textContent = `Enter a number for ${bad.join(" and ")}.`;
      return null;
    }
    return [x, y];
  }

  private update(expressionChanged: boolean): void {
    let expr: Expr;
    try {
      expr = parse(this.input.value);
      this.input.setAttribute("aria-invalid", "false");
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.input.setAttribute("aria-invalid", "true");
      this.errorBox.textContent = `Cannot read the expression at character ${err.position + 1}: ${err.message}. The tables still show the last valid function.`;
      return;
    }
    const point = this.readPoint();
    if (point === null) return;
    let analysis: Analysis;
    try {
      analysis = analyse(expr, point[0], point[1]);
    } catch (err) {
      this.errorBox.textContent = `The library could not differentiate this: ${err instanceof Error ? err.message : String(err)}`;
      return;
    }
    this.errorBox.textContent = "";
    const step = expressionChanged || !this.state ? 0 : Math.min(this.state.step, analysis.trace.sweep.length);
    this.state = { expr, analysis, step };
    this.render();
  }

  private render(): void {
    const s = this.state!;
    const a = s.analysis;
    byTestId("expr-parsed").textContent = format(s.expr);
    showNumber(byTestId("x-shown"), a.x, 8);
    showNumber(byTestId("y-shown"), a.y, 8);
    showNumber(byTestId("f-value"), a.value);
    showNumber(byTestId("tape-length"), a.trace.entries.length);

    showNumber(byTestId("rev-dx"), a.gradient[0]);
    showNumber(byTestId("rev-dy"), a.gradient[1]);
    showNumber(byTestId("fwd-dx"), a.jvpX);
    showNumber(byTestId("fwd-dy"), a.jvpY);
    showNumber(byTestId("fd-dx"), a.fd.dx);
    showNumber(byTestId("fd-dy"), a.fd.dy);
    showNumber(byTestId("fd-h"), a.fd.h, 3);
    showError(byTestId("err-rev-dx"), Math.abs(a.gradient[0] - a.fd.dx));
    showError(byTestId("err-rev-dy"), Math.abs(a.gradient[1] - a.fd.dy));
    showError(byTestId("err-fwd-dx"), Math.abs(a.jvpX - a.fd.dx));
    showError(byTestId("err-fwd-dy"), Math.abs(a.jvpY - a.fd.dy));
    showError(byTestId("err-rev-fwd-dx"), Math.abs(a.gradient[0] - a.jvpX));
    showError(byTestId("err-rev-fwd-dy"), Math.abs(a.gradient[1] - a.jvpY));
    this.renderSweep(false);
    this.renderLadder();
  }

  private renderSweep(announce: boolean): void {
    const s = this.state!;
    const a = s.analysis;
    const st = sweepState(a, s.step);
    const rows = a.trace.entries.map((e) => {
      const node = st.nodes[e.index];
      const cls = [node.current ? "current" : node.visited ? "visited" : "", node.unreachable ? "unreachable" : ""].filter(Boolean).join(" ");
      const tr = h("tr", { className: cls || undefined, "data-testid": `tape-row-${e.index}`, "aria-current": node.current ? "step" : undefined });
      const shapes = e.op === "input" ? shapeText(e.shape) : `${e.inputShapes.map(shapeText).join(", ")} → ${shapeText(e.shape)}`;
      tr.append(
        h("td", { className: "num" }, `#${e.index}`),
        h("td", {}, e.op),
        h("td", {}, operandText(a, e.index)),
        h("td", {}, shapes),
        h("td", { className: "num", "data-value": String(scalarOf(e.value)) }, fmt(scalarOf(e.value), 8)),
        rulesCell(a, e.index),
        h("td", { className: "num", "data-testid": `tan-x-${e.index}`, "data-value": String(a.tangentAlongX[e.index]) }, fmt(a.tangentAlongX[e.index], 8)),
        h("td", { className: "num", "data-testid": `tan-y-${e.index}`, "data-value": String(a.tangentAlongY[e.index]) }, fmt(a.tangentAlongY[e.index], 8)),
        cotangentCell(a, st, e.index),
      );
      return tr;
    });
    fill(this.body, ...rows);
    showNumber(byTestId("sweep-step"), st.step);
    showNumber(byTestId("sweep-total"), st.total);
    // aria-disabled rather than disabled: a disabled button would drop keyboard focus at the end of the sweep.
    byTestId("step-button").setAttribute("aria-disabled", String(st.step >= st.total));
    byTestId("back-button").setAttribute("aria-disabled", String(st.step === 0));
    byTestId("reset-button").setAttribute("aria-disabled", String(st.step === 0));
    byTestId("end-button").setAttribute("aria-disabled", String(st.step >= st.total));
    const box = byTestId("sweep-announce");
    box.textContent = this.describeStep(a, st);
    box.setAttribute("aria-live", announce ? "polite" : "off");
  }

  private describeStep(a: Analysis, st: SweepState): string {
    if (a.trace.output === null) return "f does not depend on x or y: the tape has no path to the output, so both derivatives are 0.";
    if (st.visit === null) return `Ready: the output #${a.trace.output} holds the seed v̄ = 1. Press Step (or →) to visit it.`;
    const v = st.visit;
    const agree = Math.abs(v.cotangent - v.library) <= 1e-12 * Math.max(1, Math.abs(v.library));
    const check = agree ? "✓ same as the library's sweep" : `✗ the library's sweep holds ${fmt(v.library)}`;
    const entry = a.trace.entries[v.index];
    if (entry.op === "input") {
      const name = ARG_NAMES[entry.argIndex ?? 0];
      return `Step ${st.step} of ${st.total}: input #${v.index} (${name}) holds v̄ = ${fmt(v.cotangent, 8)}, which is ∂f/∂${name} (${check}).`;
    }
    const sent = v.sent.map((s) => `${fmt(v.cotangent, 6)} × ${fmt(s.local, 6)} = ${fmt(s.amount, 6)} to #${s.to}`).join("; ");
    return `Step ${st.step} of ${st.total}: visit #${v.index} ${v.op} with v̄ = ${fmt(v.cotangent, 8)} (${check}). It sends ${sent || "nothing (constant operands only)"}.`;
  }

  private renderLadder(): void {
    const a = this.state!.analysis;
    const floor = 1e-17;
    renderPlot(byTestId("plot-fd") as unknown as SVGSVGElement, {
      title: "Finite-difference error against the step h",
      description: `Absolute error of central differences compared with reverse mode, for h from 10⁻¹ to 10⁻¹³, at x = ${fmt(a.x, 6)}, y = ${fmt(a.y, 6)}.`,
      xLabel: "step h",
      yLabel: "|FD − reverse mode|",
      xScale: "log",
      yScale: "log",
      xDomain: [1e-13, 1e-1],
      series: [
        { label: "∂f/∂x", color: "#0072B2", markers: true, points: a.fdLadder.map((r) => [r.h, Math.max(r.errorX, floor)]) },
        { label: "∂f/∂y", color: "#D55E00", markers: true, dash: "6 4", points: a.fdLadder.map((r) => [r.h, Math.max(r.errorY, floor)]) },
      ],
      guides: [{ x: a.fd.h, label: `h used ≈ ${powerOfTen(Math.round(Math.log10(a.fd.h)))}` }],
    });
  }
}
