/** Part 1b of the page: the cost of each mode for a function of n inputs, with either mode steppable on its tape. */
import { analyseFanOut, analyseModes, countsByInputs, MAX_INPUTS } from "./modes.js";
import { SweepPlayer } from "./sweep-view.js";
import { byTestId, fill, fmt, fmtError, h, numberCell, showError, showNumber } from "./format.js";
import { renderPlot } from "./plot.js";

const SUBSCRIPT = "₀₁₂₃₄₅₆₇₈₉";

/** x₁ … x₁₆ */
export function inputName(i: number): string {
  return `x${String(i + 1).split("").map((d) => SUBSCRIPT[Number(d)]).join("")}`;
}

export class ModesSection {
  private readonly slider = byTestId<HTMLInputElement>("modes-n");
  private readonly modeSelect = byTestId<HTMLSelectElement>("modes-mode");
  private readonly player = new SweepPlayer({
    prefix: "modes-", argNames: Array.from({ length: MAX_INPUTS }, (_, i) => inputName(i)), table: false, compact: true,
  });
  private readonly byInputs = countsByInputs();
  private pending = false;

  constructor() {
    // At most one update per frame while the slider is dragged.
    this.slider.addEventListener("input", () => {
      if (this.pending) return;
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.update();
      });
    });
    this.modeSelect.addEventListener("change", () => this.applyMode());
    this.update();
  }

  private applyMode(): void {
    const v = this.modeSelect.value;
    this.player.setMode(v === "reverse" ? { kind: "reverse" } : { kind: "forward", arg: Number(v) });
  }

  private update(): void {
    const n = Number(this.slider.value);
    const a = analyseModes(n);
    showNumber(byTestId("modes-n-value"), n);
    this.slider.setAttribute("aria-valuetext", `n = ${n} inputs`);
    showNumber(byTestId("modes-tape-length"), a.tape.trace.entries.length);
    showNumber(byTestId("modes-value"), a.value, 8);

    const { reverse, forward } = a.counts;
    byTestId("modes-rev-passes").textContent = "1 run + 1 sweep";
    byTestId("modes-rev-passes").dataset.value = String(reverse.passes);
    byTestId("modes-fwd-passes").textContent = `${forward.passes}, one per input`;
    byTestId("modes-fwd-passes").dataset.value = String(forward.passes);
    showNumber(byTestId("modes-rev-evals"), reverse.evaluations);
    showNumber(byTestId("modes-fwd-evals"), forward.evaluations);
    showNumber(byTestId("modes-rev-products"), reverse.products);
    showNumber(byTestId("modes-fwd-products"), forward.products);
    byTestId("modes-fwd-products").title = `per input: ${forward.perInput.join(", ")}`;
    showNumber(byTestId("modes-rev-per-pass"), reverse.partialsPerPass);
    showNumber(byTestId("modes-fwd-per-pass"), forward.partialsPerPass);
    byTestId("modes-rev-ms").textContent = `${fmt(a.ms.reverse, 2)} ms`;
    byTestId("modes-fwd-ms").textContent = `${fmt(a.ms.forward, 2)} ms`;
    byTestId("modes-lin-passes").textContent = `1 run + ${n} of lin`;
    byTestId("modes-lin-passes").dataset.value = "1";
    showNumber(byTestId("modes-lin-evals"), reverse.evaluations);
    showNumber(byTestId("modes-lin-per-pass"), 1);
    byTestId("modes-lin-ms").textContent = `${fmt(a.ms.linearized, 2)} ms`;
    byTestId("modes-lin-ms").dataset.agrees = String(a.linearized.every((v, i) => Math.abs(v - a.forward[i]) <= 1e-14));
    showNumber(byTestId("modes-tape-kept"), a.tape.trace.entries.length);

    const g = analyseFanOut(n);
    const maxError = (v: number[]): number => Math.max(...v.map((x, i) => Math.abs(x - g.exact[i])));
    byTestId("fanout-fwd-passes").textContent = "1 JVP (one per input)";
    byTestId("fanout-fwd-passes").dataset.value = String(g.passes.forward);
    byTestId("fanout-rev-passes").textContent = `${g.passes.reverse} VJPs (one per output)`;
    byTestId("fanout-rev-passes").dataset.value = String(g.passes.reverse);
    showError(byTestId("fanout-fwd-err"), maxError(g.forward));
    showError(byTestId("fanout-rev-err"), maxError(g.reverse));
    byTestId("fanout-fwd-ms").textContent = `${fmt(g.ms.forward, 2)} ms`;
    byTestId("fanout-rev-ms").textContent = `${fmt(g.ms.reverse, 2)} ms`;

    fill(byTestId("modes-partials").querySelector("tbody")!, ...a.point.map((x, i) => h("tr", {},
      h("th", { scope: "row" }, inputName(i)),
      numberCell(x, undefined, 4),
      numberCell(a.reverse[i], `modes-rev-${i}`, 10),
      numberCell(a.forward[i], `modes-fwd-${i}`, 10),
      h("td", { className: "num", "data-testid": `modes-exact-${i}`, "data-value": String(a.exact[i]), title: `|reverse − exact| = ${fmtError(Math.abs(a.reverse[i] - a.exact[i]))}` }, fmt(a.exact[i], 10)),
    )));

    const previous = this.modeSelect.value;
    fill(this.modeSelect,
      h("option", { value: "reverse" }, "reverse: one backward sweep"),
      ...a.point.map((_, i) => h("option", { value: String(i) }, `forward: the pass along ${inputName(i)}`)));
    this.modeSelect.value = previous !== "" && (previous === "reverse" || Number(previous) < n) ? previous : "reverse";
    this.player.mode = this.modeSelect.value === "reverse" ? { kind: "reverse" } : { kind: "forward", arg: Number(this.modeSelect.value) };
    this.player.setTape(a.tape, true);
    this.renderPlot(n);
  }

  private renderPlot(n: number): void {
    const work = (c: { evaluations: number; products: number }): number => c.evaluations + c.products;
    renderPlot(byTestId("plot-modes") as unknown as SVGSVGElement, {
      title: "Work for the full gradient against the number of inputs",
      description: `Forward mode: ${this.byInputs.map((r) => work(r.counts.forward)).join(", ")}. Reverse mode: ${this.byInputs.map((r) => work(r.counts.reverse)).join(", ")}, for n = 1 to ${MAX_INPUTS}.`,
      xLabel: "number of inputs n",
      yLabel: "primitives + products",
      xDomain: [1, MAX_INPUTS],
      series: [
        { label: "forward: n passes", color: "#D55E00", markers: true, points: this.byInputs.map((r) => [r.n, work(r.counts.forward)]) },
        { label: "reverse: one sweep", color: "#0072B2", markers: true, dash: "6 4", points: this.byInputs.map((r) => [r.n, work(r.counts.reverse)]) },
      ],
      guides: [{ x: n, label: `n = ${n}` }],
    });
  }
}
