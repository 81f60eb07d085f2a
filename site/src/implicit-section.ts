/** Parts 2 and 3 of the page: √a by Newton, ridge regression with its λ slider, and the plots that follow the slider. */
import type { SolveDiagnostics } from "../../lib/index.js";
import { analyseSqrt } from "./sqrt-newton.js";
import { RidgeProblem, type RidgeAnalysis } from "./ridge.js";
import { makeRidgeData } from "./ridge-data.js";
import { byTestId, fill, fmt, fmtError, h, matrixTable, numberCell, showError, showNumber } from "./format.js";
import { renderPlot, type Series } from "./plot.js";

const COLORS = ["#0072B2", "#D55E00", "#009E73"];

function solveText(d: SolveDiagnostics | null): string {
  if (d === null) return "no solve recorded";
  return `${d.solver}, ${d.system} system, ${d.iterations} iteration${d.iterations === 1 ? "" : "s"}, residual ${fmtError(d.residualNorm)}, ${d.converged ? "converged" : `not converged (${d.status})`}`;
}

function readNumber(field: HTMLInputElement, ok: (v: number) => boolean): number | null {
  const v = field.value.trim() === "" ? NaN : Number(field.value);
  const valid = Number.isFinite(v) && ok(v);
  field.setAttribute("aria-invalid", valid ? "false" : "true");
  return valid ? v : null;
}

export class SqrtSection {
  private readonly aInput = byTestId<HTMLInputElement>("sqrt-a");
  private readonly tInput = byTestId<HTMLInputElement>("sqrt-T");

  constructor() {
    this.aInput.addEventListener("input", () => this.update());
    this.tInput.addEventListener("input", () => this.update());
    this.update();
  }

  private update(): void {
    const a = readNumber(this.aInput, (v) => v > 0 && v < 1e12);
    const T = readNumber(this.tInput, (v) => Number.isInteger(v) && v >= 0 && v <= 60);
    const error = byTestId("sqrt-error");
    if (a === null || T === null) {
      error.textContent = a === null ? "a must be a positive number (below 10¹²)." : "T must be a whole number from 0 to 60.";
      return;
    }
    let r: ReturnType<typeof analyseSqrt>;
    try {
      r = analyseSqrt(a, T);
    } catch (err) {
      error.textContent = `The library raised an error: ${err instanceof Error ? err.message : String(err)}`;
      return;
    }
    error.textContent = "";
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
    byTestId("sqrt-implicit-cost").textContent = `forward + one 1×1 solve, ${fmt(r.implicitMs, 2)} ms`;
    showNumber(byTestId("sqrt-exact"), r.exact, 16);
    showNumber(byTestId("sqrt-fd"), r.fd.value, 16);
    showError(byTestId("sqrt-fd-err"), Math.abs(r.fd.value - r.exact));
    showNumber(byTestId("sqrt-unrolled"), r.unrolled.value, 16);
    showError(byTestId("sqrt-unrolled-err"), Math.abs(r.unrolled.value - r.exact));
    const cost = byTestId("sqrt-unrolled-cost");
    cost.textContent = `T = ${T}: ${r.unrolled.tapeLength} tape entries, ${fmt(r.unrolled.ms, 2)} ms`;
    cost.dataset.tapeLength = String(r.unrolled.tapeLength);
  }
}

export class RidgeSection {
  private readonly problem = new RidgeProblem(makeRidgeData());
  private readonly slider = byTestId<HTMLInputElement>("lambda-slider");
  private readonly tInput = byTestId<HTMLInputElement>("ridge-T");
  /** The w(λ) curves do not depend on the slider: computed once from the closed form. */
  private readonly curve: { lambda: number; w: number[] }[];
  private pending = false;

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
        this.update();
      });
    };
    this.slider.addEventListener("input", schedule);
    this.tInput.addEventListener("input", schedule);
    this.showLambda();
    this.update();
  }

  private lambda(): number {
    return 10 ** Number(this.slider.value);
  }

  private showLambda(): void {
    const lam = this.lambda();
    this.slider.setAttribute("aria-valuetext", `λ = ${fmt(lam, 4)}`);
  }

  private update(): void {
    const T = readNumber(this.tInput, (v) => Number.isInteger(v) && v >= 1 && v <= 3000);
    const error = byTestId("ridge-error");
    if (T === null) {
      error.textContent = "T must be a whole number from 1 to 3000.";
      return;
    }
    let r: RidgeAnalysis;
    try {
      r = this.problem.analyse(this.lambda(), T);
    } catch (err) {
      error.textContent = `The library raised an error: ${err instanceof Error ? err.message : String(err)}`;
      return;
    }
    error.textContent = "";
    this.render(r);
    showNumber(byTestId("lambda-value"), r.lambda, 6);
  }

  private render(r: RidgeAnalysis): void {
    showNumber(byTestId("ridge-eta"), r.forward.stepSize, 6);
    showNumber(byTestId("ridge-forward-iterations"), r.forward.iterations);
    byTestId("ridge-forward-ms").textContent = fmt(r.forward.ms, 2);
    showNumber(byTestId("ridge-F-norm"), r.conditionsNorm, 3);
    r.w.forEach((v, i) => showNumber(byTestId(`ridge-w-${i}`), v, 8));
    fill(byTestId("ridge-A-holder"), matrixTable(r.A, "A, 3 by 3", "ridge-A", 6));
    fill(byTestId("ridge-B-holder"), matrixTable(r.B.map((b) => [b]), "B, 3 by 1", "ridge-B", 6));

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
    showNumber(byTestId("ridge-dL-unrolled"), r.unrolled.dLoss);
    showError(byTestId("ridge-dL-unrolled-err"), Math.abs(r.unrolled.dLoss - r.dLossFd));
    showNumber(byTestId("ridge-unrolled-tape"), r.unrolled.tapeLength);
    byTestId("ridge-unrolled-ms").textContent = `${fmt(r.unrolled.ms, 2)} ms`;

    this.renderPlots(r);
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
