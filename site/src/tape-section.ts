/** Part 1 of the page: the function menu, the tape as a graph and a table, the stepped sweep, the tangents, finite differences, and why numbers break. */
import { parse, format, toCode, ParseError, type Expr } from "./expr.js";
import { analyse, pathsFrom, type Analysis } from "./mechanics.js";
import { diagnose, firstNonFiniteNode, type Finding } from "./diagnosis.js";
import { SweepPlayer } from "./sweep-view.js";
import { byTestId, fill, fmt, h, showError, showNumber } from "./format.js";
import { renderPlot, powerOfTen } from "./plot.js";
import { compile, countProgram, type Compiled } from "./compiled.js";

export interface Preset {
  id: string;
  label: string;
  expression: string;
  /** A point that goes with the preset (the hard cases); otherwise the point stays. */
  point?: [number, number];
}

export const PRESETS: Preset[] = [
  { id: "sin-mul", label: "sin(x)·y + x²", expression: "sin(x) * y + x^2" },
  { id: "mul-exp", label: "x·y + exp(x)/y", expression: "x*y + exp(x)/y" },
  { id: "sigmoid-tanh", label: "sigmoid(x)·tanh(y)", expression: "sigmoid(x) * tanh(y)" },
  { id: "norm", label: "√(x² + y²)", expression: "sqrt(x^2 + y^2)" },
  { id: "pow", label: "xʸ", expression: "x^y" },
  { id: "softplus", label: "log(1 + exp(x·y)) − softplus(x·y)", expression: "log(1 + exp(x*y)) - softplus(x*y)" },
  { id: "gauss-cos", label: "exp(−x²)·cos(3y)", expression: "exp(-x^2) * cos(3*y)" },
  { id: "relu-abs", label: "relu(x − y) + abs(y)·x", expression: "relu(x - y) + abs(y)*x" },
  { id: "cube", label: "x·x·x (one input used three times)", expression: "x*x*x" },
];

/** Points where the numbers break, each with its explanation on the page. */
export const HARD_CASES: Preset[] = [
  { id: "log-negative", label: "log(x) + y at x = −1: outside log's domain", expression: "log(x) + y", point: [-1, 2] },
  { id: "pow-negative", label: "xʸ at (−1.5, 2): a negative base", expression: "x^y", point: [-1.5, 2] },
  { id: "pole-x", label: "1/x + y at x = 0: a pole", expression: "1/x + y", point: [0, 1] },
  { id: "pole-y", label: "x/(y − 2) at y = 2: a pole", expression: "x/(y - 2)", point: [1, 2] },
  { id: "kink", label: "relu(x)·y at x = 0: a kink", expression: "relu(x) * y", point: [0, 1] },
  { id: "cone", label: "√(x² + y²) at (0, 0): ∞·0", expression: "sqrt(x^2 + y^2)", point: [0, 0] },
  { id: "sqrt-square", label: "√(x²) at x = 0: |x| in disguise", expression: "sqrt(x^2)", point: [0, 1] },
  { id: "abs-product", label: "abs(x)·y at (0, 0): a kink that f does not have", expression: "abs(x) * y", point: [0, 0] },
  { id: "concave-kink", label: "relu(x)·y at (0, −1): a concave kink", expression: "relu(x) * y", point: [0, -1] },
  { id: "pow-zero", label: "xʸ at (0, 0): 0⁰ and the rules' conventions", expression: "x^y", point: [0, 0] },
];
const CUSTOM = "__custom__";

export class TapeSection {
  private analysis: Analysis | null = null;
  private expr: Expr | null = null;
  private readonly select = byTestId<HTMLSelectElement>("preset-select");
  private readonly input = byTestId<HTMLInputElement>("expr-input");
  private readonly xInput = byTestId<HTMLInputElement>("x-input");
  private readonly yInput = byTestId<HTMLInputElement>("y-input");
  private readonly errorBox = byTestId("expr-error");
  private readonly player = new SweepPlayer({ prefix: "", argNames: ["x", "y"], table: true, tangentColumns: [0, 1], predict: true });

  constructor() {
    const group = (label: string, presets: Preset[]): HTMLOptGroupElement => {
      const g = h("optgroup", { label });
      for (const p of presets) g.append(h("option", { value: p.id }, p.label));
      return g;
    };
    this.select.append(group("Smooth functions", PRESETS), group("Where the numbers break", HARD_CASES), h("option", { value: CUSTOM }, "your own (type below)"));
    this.select.value = PRESETS[0].id;
    this.input.value = PRESETS[0].expression;

    this.select.addEventListener("change", () => {
      const preset = [...PRESETS, ...HARD_CASES].find((p) => p.id === this.select.value);
      if (preset === undefined) {
        this.input.focus();
        return;
      }
      this.input.value = preset.expression;
      if (preset.point) [this.xInput.value, this.yInput.value] = preset.point.map(String);
      this.update(true);
    });
    this.input.addEventListener("input", () => {
      this.matchPreset();
      this.update(true);
    });
    for (const field of [this.xInput, this.yInput]) field.addEventListener("input", () => {
      this.matchPreset();
      this.update(false);
    });
    const modeSelect = byTestId<HTMLSelectElement>("mode");
    modeSelect.value = "reverse";
    modeSelect.addEventListener("change", () => {
      this.player.setMode(modeSelect.value === "reverse" ? { kind: "reverse" } : { kind: "forward", arg: Number(modeSelect.value) });
    });
    this.update(true);
  }

  /** Shows the preset that matches the expression and point, or "your own". */
  private matchPreset(): void {
    const text = this.input.value.trim();
    const point = [Number(this.xInput.value), Number(this.yInput.value)];
    const hard = HARD_CASES.find((p) => p.expression === text && p.point![0] === point[0] && p.point![1] === point[1]);
    const smooth = PRESETS.find((p) => p.expression === text);
    this.select.value = (hard ?? smooth)?.id ?? CUSTOM;
  }

  private readPoint(): [number, number] | string {
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
    return bad.length > 0 ? `Enter a number for ${bad.join(" and ")}.` : [x, y];
  }

  /** Says what is wrong, and marks what is shown as the last valid state. */
  private stale(message: string): void {
    const a = this.analysis;
    const shown = a && this.expr ? ` Everything below still shows f = ${format(this.expr)} at x = ${fmt(a.x, 6)}, y = ${fmt(a.y, 6)}.` : "";
    this.errorBox.textContent = message + shown;
    byTestId("tape-section").dataset.stale = "true";
  }

  private update(expressionChanged: boolean): void {
    let expr: Expr;
    try {
      expr = parse(this.input.value);
      this.input.setAttribute("aria-invalid", "false");
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.input.setAttribute("aria-invalid", "true");
      this.stale(`Cannot read the expression at character ${err.position + 1}: ${err.message}.`);
      return;
    }
    const point = this.readPoint();
    if (typeof point === "string") {
      this.stale(point);
      return;
    }
    let analysis: Analysis;
    try {
      analysis = analyse(expr, point[0], point[1]);
    } catch (err) {
      this.stale(`The library could not differentiate this: ${err instanceof Error ? err.message : String(err)}.`);
      return;
    }
    this.errorBox.textContent = "";
    delete byTestId("tape-section").dataset.stale;
    this.expr = expr;
    this.analysis = analysis;
    this.render(expressionChanged);
  }

  private render(resetSweep: boolean): void {
    const a = this.analysis!;
    byTestId("expr-parsed").textContent = format(this.expr!);
    showNumber(byTestId("x-shown"), a.x, 8);
    showNumber(byTestId("y-shown"), a.y, 8);
    showNumber(byTestId("f-value"), a.value);
    showNumber(byTestId("tape-length"), a.tape.trace.entries.length);

    showNumber(byTestId("rev-dx"), a.gradient[0]);
    showNumber(byTestId("rev-dy"), a.gradient[1]);
    showNumber(byTestId("fwd-dx"), a.jvpX);
    showNumber(byTestId("fwd-dy"), a.jvpY);
    showNumber(byTestId("fd-dx"), a.fd.dx);
    showNumber(byTestId("fd-dy"), a.fd.dy);
    showNumber(byTestId("fd-hx"), a.fd.hx, 3);
    showNumber(byTestId("fd-hy"), a.fd.hy, 3);
    showError(byTestId("err-rev-dx"), Math.abs(a.gradient[0] - a.fd.dx));
    showError(byTestId("err-rev-dy"), Math.abs(a.gradient[1] - a.fd.dy));
    showError(byTestId("err-fwd-dx"), Math.abs(a.jvpX - a.fd.dx));
    showError(byTestId("err-fwd-dy"), Math.abs(a.jvpY - a.fd.dy));
    showError(byTestId("err-rev-fwd-dx"), Math.abs(a.gradient[0] - a.jvpX));
    showError(byTestId("err-rev-fwd-dy"), Math.abs(a.gradient[1] - a.jvpY));
    for (const cell of Array.from(byTestId("derivative-table").querySelectorAll<HTMLElement>("td[data-value]"))) {
      cell.classList.toggle("nonfinite", !Number.isFinite(Number(cell.dataset.value)));
    }

    const findings = diagnose(a);
    this.renderFindings(findings);
    this.flagDifferences(findings);
    this.player.setTape(a.tape, resetSweep, firstNonFiniteNode(findings));
    this.renderLadder();
    this.renderPaths();

    this.renderCompiled();

    byTestId("code-part1-f").textContent = `const f = (x, y) => ${toCode(this.expr!)};`;
    byTestId("code-part1-x").textContent = String(a.x);
    byTestId("code-part1-y").textContent = String(a.y);
  }

  /** The jit panel: f's program and its gradient's, as the library prints them, and the compiled gradient against the tape's. */
  private renderCompiled(): void {
    const a = this.analysis!;
    const panel = byTestId("jit-panel");
    byTestId("jit-expr").textContent = format(this.expr!);
    const set = (id: string, text: string): void => {
      byTestId(id).querySelector("code")!.textContent = text;
    };
    let c: Compiled;
    try {
      c = compile(this.expr!, a.x, a.y);
    } catch (err) {
      // Not expected for the page's expressions; shown rather than hidden if it happens.
      const message = `jit could not compile this function: ${err instanceof Error ? err.message : String(err)}`;
      panel.dataset.failed = "true";
      for (const id of ["jit-program", "jit-grad-program", "jit-where-program"]) set(id, message);
      return;
    }
    delete panel.dataset.failed;
    set("jit-program", c.program);
    set("jit-grad-program", c.gradientProgram);
    set("jit-where-program", c.whereProgram);
    const counts = (text: string): string => {
      const { equations, kernels } = countProgram(text);
      return `${equations} equation${equations === 1 ? "" : "s"}, run as ${kernels} fused kernel${kernels === 1 ? "" : "s"}`;
    };
    byTestId("jit-count").textContent = counts(c.program);
    byTestId("jit-grad-count").textContent = counts(c.gradientProgram);
    showNumber(byTestId("jit-x"), a.x, 8);
    showNumber(byTestId("jit-y"), a.y, 8);
    showNumber(byTestId("jit-dx"), c.gradient[0]);
    showNumber(byTestId("jit-dy"), c.gradient[1]);
    showNumber(byTestId("jit-rev-dx"), a.gradient[0]);
    showNumber(byTestId("jit-rev-dy"), a.gradient[1]);
    showError(byTestId("jit-err-dx"), Math.abs(c.gradient[0] - a.gradient[0]));
    showError(byTestId("jit-err-dy"), Math.abs(c.gradient[1] - a.gradient[1]));
    byTestId("jit-branch-verb").textContent = c.branchError === null ? "does not throw here:" : "throws:";
    byTestId("jit-branch-error").textContent = c.branchError ?? "this f depends on neither x nor y, so its value is a constant, known while tracing.";
    byTestId("jit-branch-error-line").classList.toggle("jit-error", c.branchError !== null);
    showNumber(byTestId("jit-where-value"), c.whereValue);
    showNumber(byTestId("jit-abs-f"), Math.abs(a.value));
  }

  /**
   * A central difference that is not a derivative (across a kink or a pole, or
   * NaN or ∞) is marked as such in the table, and so are the errors measured
   * against it: they compare the modes with something that is not the truth.
   */
  private flagDifferences(findings: Finding[]): void {
    for (const c of ["x", "y"] as const) {
      const why = findings.find((f) => f.coordinate === c && (f.kind === "fd-not-derivative" || f.kind === "fd-pole" || f.kind === "fd-nonfinite"));
      const cell = byTestId(`fd-d${c}`);
      cell.classList.toggle("flagged", why !== undefined);
      if (why === undefined) {
        delete cell.dataset.flag;
        continue;
      }
      cell.dataset.flag = "not-a-derivative";
      cell.append(h("span", { className: "flag" }, "not a derivative"));
      for (const id of [`err-rev-d${c}`, `err-fwd-d${c}`]) {
        const err = byTestId(id);
        err.classList.add("flagged");
        err.title = "measured against a central difference that is not a derivative here";
      }
    }
    for (const c of ["x", "y"]) for (const id of [`err-rev-d${c}`, `err-fwd-d${c}`]) {
      if (!byTestId(`fd-d${c}`).classList.contains("flagged")) {
        byTestId(id).classList.remove("flagged");
        byTestId(id).removeAttribute("title");
      }
    }
  }

  private renderFindings(findings: Finding[]): void {
    const box = byTestId("findings");
    box.dataset.count = String(findings.length);
    box.dataset.kinds = findings.map((f) => f.kind).join(" ");
    box.classList.toggle("has-findings", findings.length > 0);
    byTestId("findings-ok").hidden = findings.length > 0;
    fill(byTestId("findings-list"), ...findings.map((f, i) => h("li", {
      "data-testid": `finding-${i}`, "data-kind": f.kind, "data-node": f.node === null ? "" : String(f.node), "data-coordinate": f.coordinate ?? "",
    }, f.text)));
  }

  /** Where the steps used sit on the error plot: one guide when both round to the same power of ten. */
  private stepGuides(hx: number, hy: number): { x: number; label: string }[] {
    const [px, py] = [hx, hy].map((v) => Math.round(Math.log10(v)));
    if (px === py) return [{ x: hx, label: `hₓ, hᵧ ≈ ${powerOfTen(px)}` }];
    return [{ x: hx, label: `hₓ ≈ ${powerOfTen(px)}` }, { x: hy, label: `hᵧ ≈ ${powerOfTen(py)}` }];
  }

  /** ∂f/∂x and ∂f/∂y as sums over the graph's paths of the products of local derivatives. */
  private renderPaths(): void {
    const a = this.analysis!;
    const entries = a.tape.trace.entries;
    const name = (i: number): string => (entries[i].op === "input" ? (entries[i].argIndex === 0 ? "x" : "y") : `#${i} ${entries[i].op}`);
    fill(byTestId("paths"), ...(["x", "y"] as const).map((c, arg) => {
      const { paths, count, sum } = pathsFrom(a.tape, arg);
      const box = h("div", { "data-testid": `paths-${c}`, "data-count": String(count) });
      box.append(h("p", {}, h("strong", {}, `∂f/∂${c}: `), count === 0 ? `no path from ${c} to the output, so ∂f/∂${c} = 0.` : `${count} path${count === 1 ? "" : "s"} from ${c} to the output.`));
      if (count === 0) return box;
      const list = h("ol", { className: "paths" });
      for (const path of paths) {
        const route = path.nodes.map(name).join(" → ");
        const product = path.locals.map((d) => fmt(d, 4)).join(" × ");
        list.append(h("li", { "data-product": String(path.product) }, h("span", { className: "route" }, route), ": ", h("span", { className: "num" }, `${product} = ${fmt(path.product, 6)}`)));
      }
      box.append(list);
      if (paths.length < count) {
        box.append(h("p", { className: "muted" }, `… and ${count - paths.length} more paths: too many to list, which is why neither mode lists them.`));
        return box;
      }
      const reverse = a.gradient[arg];
      const agree = Number.isFinite(sum) && Math.abs(sum - reverse) <= 1e-12 * Math.max(1, Math.abs(reverse));
      box.append(h("p", {}, "Sum of the products: ", h("strong", { className: "num", "data-testid": `paths-${c}-sum`, "data-value": String(sum) }, fmt(sum, 10)),
        agree ? ` = reverse mode's ∂f/∂${c} ✓` : `; reverse mode gives ${fmt(reverse, 10)} (a NaN or ∞ on a path, or a symbolic zero, changes which products the modes form).`));
      return box;
    }));
  }

  private renderLadder(): void {
    const a = this.analysis!;
    const floor = 1e-17;
    const finite = a.fdLadder.some((r) => Number.isFinite(r.errorX) || Number.isFinite(r.errorY));
    renderPlot(byTestId("plot-fd") as unknown as SVGSVGElement, {
      title: "Finite-difference error against the step h",
      description: finite
        ? `Absolute error of central differences compared with reverse mode, for h from 10⁻¹ to 10⁻¹³, at x = ${fmt(a.x, 6)}, y = ${fmt(a.y, 6)}.`
        : "No finite points: f, its derivative or its finite differences are NaN or infinite at this point.",
      xLabel: "step h",
      yLabel: "|FD − reverse mode|",
      xScale: "log",
      yScale: "log",
      xDomain: [1e-13, 1e-1],
      series: [
        { label: "∂f/∂x", color: "#0072B2", markers: true, points: a.fdLadder.map((r) => [r.h, Math.max(r.errorX, floor)]) },
        { label: "∂f/∂y", color: "#D55E00", markers: true, dash: "6 4", points: a.fdLadder.map((r) => [r.h, Math.max(r.errorY, floor)]) },
      ],
      guides: this.stepGuides(a.fd.hx, a.fd.hy),
      emptyMessage: "No finite points to draw: with a NaN or ∞ in f or in its derivative, the error of a finite difference has no value (see “Why these numbers?” above).",
    });
  }
}
