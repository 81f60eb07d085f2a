/** Part 2 of the page: √a by Newton with its tape in part 1's format, and ridge regression with its λ slider and plots. */
import type { SolveDiagnostics, TapeTrace } from "../../lib/index.js";
import { analyseEarlyStop, analyseSqrt, errorCurves, solveNodesOf, type SqrtAnalysis } from "./sqrt-newton.js";
import { RidgeProblem, type RidgeAnalysis, type UnrolledAnalysis } from "./ridge.js";
import { makeRidgeData } from "./ridge-data.js";
import type { ScalarTape } from "./mechanics.js";
import { SweepPlayer } from "./sweep-view.js";
import { byTestId, fill, fmt, fmtError, h, matrixTable, numberCell, showError, showNumber } from "./format.js";
import { renderPlot, type Series } from "./plot.js";

const COLORS = ["#0072B2", "#D55E00", "#009E73"];

/** lastSolve in words. A direct solve factorises A and has no iterations to report. */
export function solveText(d: SolveDiagnostics | null): string {
  if (d === null) return "no solve recorded";
  const verdict = d.converged ? "converged" : `not converged (${d.status})`;
  if (/direct/.test(d.solver) && d.iterations === 0) {
    return `a direct solve (a dense factorisation of A, no iterations) of the ${d.system} system, residual ${fmtError(d.residualNorm)}, ${verdict}`;
  }
  return `${d.solver} on the ${d.system} system, ${d.iterations} iteration${d.iterations === 1 ? "" : "s"}, residual ${fmtError(d.residualNorm)}, ${verdict}`;
}

function readNumber(field: HTMLInputElement, ok: (v: number) => boolean): number | null {
  const v = field.value.trim() === "" ? NaN : Number(field.value);
  const valid = Number.isFinite(v) && ok(v);
  field.setAttribute("aria-invalid", valid ? "false" : "true");
  return valid ? v : null;
}

/** Marks a section's results as showing an earlier input (or not), for the eye and for tests. */
function markStale(section: string, stale: boolean): void {
  const el = byTestId(section);
  if (stale) el.dataset.stale = "true";
  else delete el.dataset.stale;
}

/** The entries upstream of the solve node (the conditions on the traced inputs) and downstream of it. */
function rolesOf(trace: TapeTrace, solveNodes: number[]): ("input" | "conditions" | "solve" | "after")[] {
  const solve = new Set(solveNodes);
  const first = Math.min(...solveNodes);
  return trace.entries.map((e) => (e.op === "input" ? "input" : solve.has(e.index) ? "solve" : e.index < first ? "conditions" : "after"));
}

export class SqrtSection {
  private readonly aInput = byTestId<HTMLInputElement>("sqrt-a");
  private readonly tInput = byTestId<HTMLInputElement>("sqrt-T");
  private last: SqrtAnalysis | null = null;
  private readonly player = new SweepPlayer({
    prefix: "sqrt-tape-", argNames: ["a"], table: true, tangentColumns: [0],
    customRule: (tape, index) => this.solveRule(tape, index),
  });

  private readonly kInput = byTestId<HTMLInputElement>("sqrt-K");

  constructor() {
    this.aInput.addEventListener("input", () => this.update());
    this.tInput.addEventListener("input", () => this.update());
    this.kInput.addEventListener("input", () => this.renderEarly());
    this.update();
  }

  /** forward stopped after K iterations: the implicit derivative at y_K, its error against the solution's, and the error curves. */
  private renderEarly(): void {
    const r = this.last;
    const K = readNumber(this.kInput, (v) => Number.isInteger(v) && v >= 0 && v <= 60);
    if (r === null || K === null) return;
    const e = analyseEarlyStop(r.a, K);
    const ratio = e.solutionError === 0 ? NaN : e.derivativeError / e.solutionError;
    const bound = 1 / (2 * e.y * Math.sqrt(r.a));
    const text = byTestId("sqrt-early");
    text.dataset.y = String(e.y);
    text.dataset.solutionError = String(e.solutionError);
    text.dataset.derivative = String(e.derivative);
    text.dataset.derivativeError = String(e.derivativeError);
    text.textContent = `forward stopped after K = ${K} iteration${K === 1 ? "" : "s"} returns y = ${fmt(e.y, 12)}, ` +
      `${fmtError(e.solutionError)} from √a. The implicit derivative taken there is ${fmt(e.derivative, 12)}, ` +
      `${fmtError(e.derivativeError)} from 1/(2√a)` +
      (Number.isFinite(ratio) && e.derivativeError > 0
        ? `: ${fmt(ratio, 3)} times the solution's error. For F = y² − a that factor is exactly 1/(2y√a) = ${fmt(bound, 3)}, the constant in the bound.`
        : ": forward has converged, and the derivative is exact to rounding.");
    byTestId("sqrt-early-refusal").textContent = e.refusal === null
      ? "With its default check the library accepts this y."
      : `With its default check (residualTol 1e-5) the library refuses this y rather than return a wrong derivative: “${e.refusal.split(";")[0]}.”`;
    const kMax = Math.max(8, r.iterates.length + 1);
    const curves = errorCurves(r.a, kMax);
    const floor = 1e-17;
    renderPlot(byTestId("plot-sqrt-errors") as unknown as SVGSVGElement, {
      title: "Errors against the iteration count",
      description: `For k = 0 to ${kMax}: solution error ${curves.map((c) => fmt(c.solution, 2)).join(", ")}; implicit derivative error ${curves.map((c) => fmt(c.implicit, 2)).join(", ")}; unrolled derivative error ${curves.map((c) => fmt(c.unrolled, 2)).join(", ")}.`,
      xLabel: "iterations k (forward's K, or unrolled T)",
      yLabel: "error",
      yScale: "log",
      xTickFormat: (v) => (Number.isInteger(v) ? String(v) : ""),
      series: [
        { label: "forward's |yₖ − √a|", color: COLORS[0], markers: true, points: curves.map((c) => [c.k, Math.max(c.solution, floor)] as [number, number]) },
        { label: "implicit dy/da at yₖ", color: COLORS[1], markers: true, dash: "6 4", points: curves.map((c) => [c.k, Math.max(c.implicit, floor)] as [number, number]) },
        { label: "unrolled dy/da, T = k", color: COLORS[2], markers: true, dash: "2 3", points: curves.map((c) => [c.k, Math.max(c.unrolled, floor)] as [number, number]) },
      ],
      guides: [{ x: Math.min(K, kMax), label: `K = ${K}` }],
    });
    const plot = byTestId("plot-sqrt-errors");
    plot.dataset.implicit = curves.map((c) => c.implicit).join(" ");
    plot.dataset.unrolled = curves.map((c) => c.unrolled).join(" ");
    plot.dataset.solution = curves.map((c) => c.solution).join(" ");
  }

  /**
   * The solve node's backward rule: the adjoint solve Aᵀu = v̄, then −Bᵀu sent to
   * a (B = ∂F/∂a); on a scalar, the factor −B/A = dy/da.
   */
  private solveRule(tape: ScalarTape, index: number): { cell: string; edge: string } {
    const r = this.last;
    const d = tape.local[index][0];
    if (r === null || d === null) return { cell: "the adjoint solve Aᵀu = v̄, then −Bᵀu sent to a", edge: "solve" };
    const factor = -r.B / r.A;
    const agrees = Math.abs(d - factor) <= 1e-12 * Math.max(1, Math.abs(d));
    const how = r.solve === null ? "" : /direct/.test(r.solve.solver) ? ", a direct solve here" : `, ${r.solve.solver} in ${r.solve.iterations} iterations`;
    return {
      cell: `the adjoint solve Aᵀu = v̄ (A = ${fmt(r.A, 6)}${how}), then −Bᵀu to a (B = ${fmt(r.B, 6)}): the factor −B/A = ${fmt(factor, 8)} ${agrees ? "✓" : `✗ (the sweep: ${fmt(d, 8)})`}`,
      edge: `−B/A = ${fmt(d, 4)}`,
    };
  }

  private update(): void {
    const a = readNumber(this.aInput, (v) => v > 0 && v < 1e12);
    const T = readNumber(this.tInput, (v) => Number.isInteger(v) && v >= 0 && v <= 60);
    const error = byTestId("sqrt-error");
    const shown = this.last === null ? "" : ` Everything below still shows a = ${fmt(this.last.a, 8)}, T = ${this.last.unrolled.T}.`;
    if (a === null || T === null) {
      error.textContent = (a === null ? "a must be a positive number (below 10¹²)." : "T must be a whole number from 0 to 60.") + shown;
      markStale("sqrt-section", true);
      return;
    }
    let r: SqrtAnalysis;
    try {
      r = analyseSqrt(a, T);
    } catch (err) {
      error.textContent = `The library raised an error: ${err instanceof Error ? err.message : String(err)}.${shown}`;
      markStale("sqrt-section", true);
      return;
    }
    error.textContent = "";
    markStale("sqrt-section", false);
    this.last = r;
    const body = byTestId("sqrt-iterations").querySelector("tbody")!;
    fill(body, ...r.iterates.map((it) => h("tr", {}, numberCell(it.iteration), numberCell(it.y, undefined, 16), numberCell(it.residual, undefined, 3))));
    showNumber(byTestId("sqrt-y"), r.y, 16);
    showNumber(byTestId("sqrt-F"), r.y * r.y - r.a, 3);
    showNumber(byTestId("sqrt-A"), r.A);
    showNumber(byTestId("sqrt-B"), r.B);
    byTestId("sqrt-solver").textContent = r.solve?.solver ?? "—";
    byTestId("sqrt-solve-info").textContent = solveText(r.solve);
    showNumber(byTestId("sqrt-implicit"), r.implicit, 16);
    showError(byTestId("sqrt-implicit-err"), Math.abs(r.implicit - r.exact));
    byTestId("sqrt-implicit-cost").textContent = `forward + one 1×1 solve, ${fmt(r.implicitMs, 2)} ms per call`;
    showNumber(byTestId("sqrt-h"), r.fd.h, 3);
    showNumber(byTestId("sqrt-exact"), r.exact, 16);
    showNumber(byTestId("sqrt-fd"), r.fd.value, 16);
    showError(byTestId("sqrt-fd-err"), Math.abs(r.fd.value - r.exact));
    showNumber(byTestId("sqrt-unrolled"), r.unrolled.value, 16);
    showError(byTestId("sqrt-unrolled-err"), Math.abs(r.unrolled.value - r.exact));
    const cost = byTestId("sqrt-unrolled-cost");
    cost.textContent = `T = ${T}: ${r.unrolled.tapeLength} tape ${r.unrolled.tapeLength === 1 ? "entry" : "entries"}, ${fmt(r.unrolled.ms, 2)} ms per call`;
    cost.dataset.tapeLength = String(r.unrolled.tapeLength);
    this.renderStory(r);
    this.player.setTape(r.tape, false);
    this.renderEarly();
  }

  /** The tape told in words, from traceTape's entries as they are (not from a fixed layout). */
  private renderStory(r: SqrtAnalysis): void {
    const entries = r.tape.trace.entries;
    const story = byTestId("sqrt-tape-story");
    story.dataset.solveNodes = r.solveNodes.join(" ");
    if (r.solveNodes.length === 0) {
      story.textContent = `${entries.length} entries (${entries.map((e) => `#${e.index} ${e.op}`).join(", ")}), none of which is a solve node.`;
      return;
    }
    const roles = rolesOf(r.tape.trace, r.solveNodes);
    const list = (role: string): string => entries.filter((e) => roles[e.index] === role).map((e) => `#${e.index} ${e.op}`).join(", ") || "none";
    const solve = r.solveNodes.map((i) => `#${i} ${entries[i].op}`).join(", ");
    const conditions = list("conditions");
    story.textContent = `the input a; ${conditions === "none" ? "" : `the conditions F(a, y*) on the traced a (${conditions}); `}` +
      `a single solve node, ${solve}, whose value is forward's answer y* and whose backward rule is the adjoint solve followed by a product with ∂F/∂a ` +
      `(the conditions are linearised once, off the tape)${list("after") === "none" ? "" : `; and what follows it (${list("after")})`}. None of Newton's ${r.iterates.length - 1} iterations is on the tape. ` +
      `Step the sweep: the solve node solves Aᵀu = v̄ and sends −Bᵀu to a, with B = ∂F/∂a = ${fmt(r.B, 6)}: on a scalar v̄·(−B/A), so dy/da = −A⁻¹B.`;
  }
}

export class RidgeSection {
  private readonly problem = new RidgeProblem(makeRidgeData());
  private readonly slider = byTestId<HTMLInputElement>("lambda-slider");
  private readonly tInput = byTestId<HTMLInputElement>("ridge-T");
  /** The w(λ) curves do not depend on the slider: computed once from the closed form. */
  private readonly curve: { lambda: number; w: number[] }[];
  private pending = false;
  private unrolledTimer: number | null = null;
  private shown: { lambda: number; T: number } | null = null;
  private lastUpdateMs = 0;

  /** How long the slider must rest before the unrolled derivative (whose tape grows with T) is recomputed. */
  static readonly UNROLLED_DELAY_MS = 250;

  constructor() {
    this.curve = [];
    for (let i = 0; i <= 80; i++) {
      const lambda = 10 ** (-2 + (4 * i) / 80);
      this.curve.push({ lambda, w: this.problem.closedForm(lambda) });
    }
    const schedule = (): void => {
      this.showLambda();
      if (this.pending) return;
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.update(false);
      });
    };
    this.slider.addEventListener("input", schedule);
    this.tInput.addEventListener("input", schedule);
    this.showLambda();
    this.update(true);
  }

  private lambda(): number {
    return 10 ** Number(this.slider.value);
  }

  private showLambda(): void {
    const lam = this.lambda();
    this.slider.setAttribute("aria-valuetext", `λ = ${fmt(lam, 4)}`);
  }

  private update(first: boolean): void {
    const T = readNumber(this.tInput, (v) => Number.isInteger(v) && v >= 1 && v <= 3000);
    const error = byTestId("ridge-error");
    const shown = this.shown === null ? "" : ` Everything below still shows λ = ${fmt(this.shown.lambda, 6)}, T = ${this.shown.T}.`;
    if (T === null) {
      error.textContent = `T must be a whole number from 1 to 3000.${shown}`;
      markStale("ridge-section", true);
      return;
    }
    const lam = this.lambda();
    let r: RidgeAnalysis;
    const t0 = performance.now();
    try {
      r = this.problem.analyse(lam);
    } catch (err) {
      error.textContent = `The library raised an error: ${err instanceof Error ? err.message : String(err)}.${shown}`;
      markStale("ridge-section", true);
      return;
    }
    error.textContent = "";
    markStale("ridge-section", false);
    this.render(r);
    showNumber(byTestId("lambda-value"), r.lambda, 6);
    this.lastUpdateMs = performance.now() - t0;
    this.shown = { lambda: lam, T };
    this.scheduleUnrolled(lam, T, first ? 0 : RidgeSection.UNROLLED_DELAY_MS);
  }

  /**
   * The unrolled row waits until the slider rests: its tape has about 7·T
   * entries and takes longer than a frame for large T. Until then it is marked
   * as waiting, and the status line says so.
   */
  private scheduleUnrolled(lam: number, T: number, delay: number): void {
    if (this.unrolledTimer !== null) clearTimeout(this.unrolledTimer);
    const status = byTestId("ridge-status");
    const row = byTestId("ridge-dL-unrolled").closest("tr")!;
    row.classList.add("waiting");
    row.setAttribute("aria-busy", "true");
    status.dataset.state = "waiting";
    status.textContent = `λ = ${fmt(lam, 4)}: updated in ${fmt(this.lastUpdateMs, 2)} ms. The unrolled row (T = ${T}) follows once the slider rests.`;
    this.unrolledTimer = window.setTimeout(() => {
      this.unrolledTimer = null;
      const u = this.problem.analyseUnrolled(lam, T);
      this.renderUnrolled(u);
      row.classList.remove("waiting");
      row.removeAttribute("aria-busy");
      status.dataset.state = "done";
      status.dataset.lambda = String(lam);
      status.textContent = `λ = ${fmt(lam, 4)}: updated in ${fmt(this.lastUpdateMs, 2)} ms; the unrolled row (T = ${T}, ${u.tapeLength} tape entries) in ${fmt(u.ms, 3)} ms.`;
    }, delay);
  }

  private renderUnrolled(u: UnrolledAnalysis): void {
    const fd = Number(byTestId("ridge-dL-fd").dataset.value);
    showNumber(byTestId("ridge-dL-unrolled"), u.dLoss);
    showError(byTestId("ridge-dL-unrolled-err"), Math.abs(u.dLoss - fd));
    showNumber(byTestId("ridge-unrolled-tape"), u.tapeLength);
    byTestId("ridge-unrolled-ms").textContent = `${fmt(u.ms, 2)} ms`;
    byTestId("ridge-dL-unrolled").dataset.lambda = String(u.lambda);
    byTestId("ridge-dL-unrolled").dataset.steps = String(u.T);
  }

  private render(r: RidgeAnalysis): void {
    showNumber(byTestId("ridge-eta"), r.forward.stepSize, 6);
    showNumber(byTestId("ridge-forward-iterations"), r.forward.iterations);
    byTestId("ridge-forward-ms").textContent = fmt(r.forward.ms, 2);
    showNumber(byTestId("ridge-F-norm"), r.conditionsNorm, 3);
    r.w.forEach((v, i) => showNumber(byTestId(`ridge-w-${i}`), v, 8));
    fill(byTestId("ridge-A-holder"), matrixTable(r.A, "A, 3 by 3", "ridge-A", 5));
    fill(byTestId("ridge-B-holder"), matrixTable(r.B.map((b) => [b]), "B, 3 by 1", "ridge-B", 5));

    const cgBody = byTestId("cg-table").querySelector("tbody")!;
    const rows = Math.max(r.tangentCg.residualHistory.length, r.adjointCg.residualHistory.length);
    const cell = (v: number | undefined): HTMLTableCellElement => (v === undefined ? h("td", {}, "") : h("td", { className: "num", "data-value": String(v) }, fmtError(v)));
    fill(cgBody, ...Array.from({ length: rows }, (_, k) => h("tr", {}, numberCell(k), cell(r.tangentCg.residualHistory[k]), cell(r.adjointCg.residualHistory[k]))));
    const tangent = byTestId("ridge-tangent-solve");
    tangent.textContent = solveText(r.tangentSolve);
    tangent.dataset.iterations = String(r.tangentSolve?.iterations ?? "");
    const adjoint = byTestId("ridge-adjoint-solve");
    adjoint.textContent = solveText(r.adjointSolve);
    adjoint.dataset.iterations = String(r.adjointSolve?.iterations ?? "");

    showNumber(byTestId("ridge-h"), r.dwFd.h, 3);
    fill(byTestId("ridge-dw-table").querySelector("tbody")!, ...r.dw.map((d, i) => h("tr", {},
      h("th", { scope: "row" }, `dw${"₁₂₃"[i]}/dλ`),
      numberCell(d, `ridge-dw-${i}`),
      numberCell(r.tangentCg.x[i], `ridge-dw-cg-${i}`),
      numberCell(r.dwFd.value[i], `ridge-dw-fd-${i}`),
      h("td", { className: "num", "data-testid": `ridge-dw-err-${i}`, "data-value": String(Math.abs(d - r.dwFd.value[i])) }, fmtError(Math.abs(d - r.dwFd.value[i]))),
    )));

    showNumber(byTestId("ridge-loss"), r.loss, 8);
    showNumber(byTestId("ridge-dL-implicit"), r.dLoss);
    showError(byTestId("ridge-dL-implicit-err"), Math.abs(r.dLoss - r.dLossFd));
    showNumber(byTestId("ridge-implicit-tape"), r.implicitTapeLength);
    byTestId("ridge-implicit-ms").textContent = `${fmt(r.implicitMs, 2)} ms`;
    showNumber(byTestId("ridge-dL-cg"), r.adjointCg.minusBTu);
    showError(byTestId("ridge-dL-cg-err"), Math.abs(r.adjointCg.minusBTu - r.dLossFd));
    showNumber(byTestId("ridge-dL-fd"), r.dLossFd);

    this.renderTape(r);
    this.renderPlots(r);
  }

  /** The implicit tape in part 1's columns; the solve node is the custom rule's node named after the ImplicitFunction. */
  private renderTape(r: RidgeAnalysis): void {
    const trace = r.implicitTape;
    const solveNodes = solveNodesOf(trace, this.problem.implicitW.name);
    const roles = solveNodes.length > 0 ? rolesOf(trace, solveNodes) : trace.entries.map(() => "after" as const);
    const sweep = new Map(trace.sweep.map((s) => [s.index, s]));
    const shape = (s: number[]): string => `[${s.join(",")}]`;
    const brief = (v: unknown): string => {
      const flat = ([] as unknown[]).concat(v as never).flat(2) as number[];
      const head = flat.slice(0, 3).map((x) => fmt(x, 4)).join(", ");
      return flat.length === 1 ? fmt(flat[0], 6) : `(${head}${flat.length > 3 ? ", …" : ""})`;
    };
    const roleText = (i: number): string => {
      const e = trace.entries[i];
      switch (roles[i]) {
        case "input": return "the input λ";
        case "conditions": return "F(λ, w*): the conditions on the traced λ, w* held constant";
        case "solve": return `the solve: its pullback solves Aᵀu = v̄ (${solveText(r.adjointSolve)}) and sends −Bᵀu to λ, B = ∂F/∂λ`;
        default: return "the loss L(w)";
      }
    };
    const count = (role: string): number => trace.entries.filter((e) => roles[e.index] === role).length;
    const story = byTestId("ridge-tape-story");
    story.dataset.entries = String(trace.entries.length);
    story.dataset.conditions = String(count("conditions"));
    const conditions = count("conditions");
    story.textContent = `The implicit tape holds ${trace.entries.length} entries: the input λ, ${solveNodes.length === 1 ? "one solve node" : `${solveNodes.length} solve nodes`}` +
      `${conditions === 0 ? "" : `, ${conditions} for the conditions on the traced λ`} and ${count("after")} for the loss. ` +
      `${conditions === 0 ? "The conditions are not on it: the solve node's rule linearises them off the tape when the sweep reaches it. " : ""}` +
      `None of forward's ${r.forward.iterations} iterations is on it.`;
    fill(byTestId("ridge-tape-table").querySelector("tbody")!, ...trace.entries.map((e) => h("tr", {
      className: roles[e.index] === "solve" ? "solve" : undefined, "data-testid": `ridge-tape-row-${e.index}`, "data-op": e.op, "data-role": roles[e.index],
    },
    h("td", { className: "num" }, `#${e.index}`),
    h("td", {}, e.op),
    h("td", {}, e.op === "input" ? "argument 0 (λ)" : e.inputs.map((src, j) => (src === null ? `const ${shape(e.inputShapes[j])}` : `#${src}`)).join(", ")),
    h("td", {}, e.op === "input" ? shape(e.shape) : `${e.inputShapes.map(shape).join(", ")} → ${shape(e.shape)}`),
    h("td", {}, roleText(e.index)),
    h("td", { className: "num cotangent" }, sweep.has(e.index) ? brief(sweep.get(e.index)!.cotangent) : "—"),
    )));
  }

  private renderPlots(r: RidgeAnalysis): void {
    const u0 = Math.log10(r.lambda);
    const series: Series[] = r.w.flatMap((w, i): Series[] => {
      // The tangent on a log₁₀ λ axis: dw/d(log₁₀ λ) = λ·ln 10·dw/dλ.
      const slope = r.lambda * Math.LN10 * r.dw[i];
      const span = 1;
      return [
        { label: `w${"₁₂₃"[i]}`, color: COLORS[i], width: 2, points: this.curve.map((c) => [c.lambda, c.w[i]] as [number, number]) },
        {
          label: `tangent ${i + 1}`, color: COLORS[i], dash: "7 5", width: 3, hideInLegend: true,
          points: [[10 ** (u0 - span), w - slope * span], [10 ** (u0 + span), w + slope * span]] as [number, number][],
        },
        { label: `at λ ${i + 1}`, color: COLORS[i], markers: true, hideInLegend: true, points: [[r.lambda, w]] as [number, number][] },
      ];
    });
    series.push({ label: "tangent", color: "#444", dash: "7 5", width: 2, points: [] });
    const all = this.curve.flatMap((c) => c.w);
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const pad = 0.08 * (hi - lo);
    renderPlot(byTestId("plot-w") as unknown as SVGSVGElement, {
      title: "Ridge weights w(λ) with tangent lines at the slider's λ",
      description: `Three curves w₁, w₂, w₃ against log₁₀ λ from −2 to 2; dashed tangents at λ = ${fmt(r.lambda, 4)} with slopes dw/dλ = ${r.dw.map((d) => fmt(d, 4)).join(", ")}.`,
      xLabel: "λ (log scale)",
      yLabel: "w",
      xScale: "log",
      xDomain: [1e-2, 1e2],
      yDomain: [lo - pad, hi + pad],
      series,
      guides: [{ x: r.lambda, label: `λ = ${fmt(r.lambda, 3)}` }],
    });

    const floor = 1e-18;
    renderPlot(byTestId("plot-forward") as unknown as SVGSVGElement, {
      title: "forward's residual per gradient-descent iteration",
      description: `‖F(λ, w_k)‖ for ${r.forward.residuals.length} iterates, from ${fmt(r.forward.residuals[0], 3)} down to ${fmt(r.forward.residuals[r.forward.residuals.length - 1], 3)}.`,
      xLabel: "iteration k",
      yLabel: "‖F(λ, wₖ)‖",
      yScale: "log",
      series: [{ label: "gradient descent", color: COLORS[0], points: r.forward.residuals.map((v, k) => [k, Math.max(v, floor)] as [number, number]) }],
    });
    renderPlot(byTestId("plot-cg") as unknown as SVGSVGElement, {
      title: "CG residual per iteration",
      description: `Tangent system: ${r.tangentCg.residualHistory.map((v) => fmt(v, 2)).join(", ")}. Adjoint system: ${r.adjointCg.residualHistory.map((v) => fmt(v, 2)).join(", ")}.`,
      xLabel: "CG iteration k",
      yLabel: "‖b − A xₖ‖",
      yScale: "log",
      xTickFormat: (v) => (Number.isInteger(v) ? String(v) : ""),
      series: [
        { label: "tangent A ẇ = −B", color: COLORS[1], markers: true, points: r.tangentCg.residualHistory.map((v, k) => [k, Math.max(v, floor)] as [number, number]) },
        { label: "adjoint Aᵀu = ∂L/∂w", color: COLORS[2], markers: true, dash: "6 4", points: r.adjointCg.residualHistory.map((v, k) => [k, Math.max(v, floor)] as [number, number]) },
      ],
    });
  }
}
