/**
 * A tape on the page, steppable: the graph, optionally the tape table, the
 * step buttons and the sentence that says what the step did. Reverse mode
 * visits the tape from the output with cotangents v̄; forward mode pushes the
 * tangent v̇ of one input through the nodes downstream of it, in tape order.
 * Parts 1, 1b and 2a each hold one, told apart by a data-testid prefix.
 */
import { forwardState, operandValues, ruleText, forwardTangents, operandNames, scalarOf, sweepState, type ForwardState, type ScalarTape, type SweepState } from "./mechanics.js";
import { COMPACT_SIZES, DEFAULT_SIZES } from "./graph-layout.js";
import { TapeGraph, type EdgeView, type NodeState, type NodeView } from "./tape-graph.js";
import { byTestId, fill, fmt, h } from "./format.js";
import { ParseError, evaluateNumber, parse, uses } from "./expr.js";
import { whenMeasurable } from "./layout-phase.js";

export type Mode = { kind: "reverse" } | { kind: "forward"; arg: number };

export interface PlayerOptions {
  /** data-testid prefix of every element of this player ("" for part 1). */
  prefix: string;
  /** Names of f's arguments, for inputs (x, y; x₁ … xₙ; a). */
  argNames: string[];
  /** Whether a tape table goes with the graph. */
  table: boolean;
  /** The arguments whose forward tangents get a column in the table. */
  tangentColumns?: number[];
  /** How a custom node's backward rule reads in the table, and its edge label in the graph. */
  customRule?: (tape: ScalarTape, index: number) => { cell: string; edge: string };
  /** Offer "predict the next v̄ before it is revealed". */
  predict?: boolean;
  /** Narrower boxes, for a long chain. */
  compact?: boolean;
}

/** Is `guess` the value `truth`, to the 4 digits the page shows? */
export function closeEnough(guess: number, truth: number): boolean {
  if (!Number.isFinite(truth)) return Object.is(guess, truth) || (Number.isNaN(guess) && Number.isNaN(truth));
  return Math.abs(guess - truth) <= 5e-4 * Math.max(1, Math.abs(truth));
}

/**
 * Reads a number as a person types it: −, ∞ and NaN included, and arithmetic
 * such as 1/2, −3/4, 2*0.5 or cos(1.5)*2, read by the page's expression parser
 * (never eval). Text that mentions x or y, or does not parse, is NaN.
 */
export function readTypedNumber(text: string): number {
  const t = text.trim().replace(/−/g, "-").replace(/×/g, "*").replace(/\s+/g, "");
  if (/^[+-]?(∞|inf(inity)?)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (t === "") return NaN;
  const plain = Number(t);
  if (!Number.isNaN(plain)) return plain;
  try {
    const expr = parse(t);
    return uses(expr, "x") || uses(expr, "y") ? NaN : evaluateNumber(expr, NaN, NaN);
  } catch (err) {
    if (err instanceof ParseError) return NaN;
    throw err;
  }
}

export class SweepPlayer {
  tape: ScalarTape | null = null;
  mode: Mode = { kind: "reverse" };
  step = 0;
  /** The entry where a NaN or ∞ first appeared (drawn with a mark), if any. */
  origin: number | null = null;
  readonly graph: TapeGraph;
  private predicting: number | null = null;
  private readonly p: string;

  constructor(private readonly opts: PlayerOptions) {
    this.p = opts.prefix;
    this.graph = new TapeGraph(this.el("graph-wrap"), this.el("graph") as unknown as SVGSVGElement, `${this.p}graph-`, opts.compact ? COMPACT_SIZES : DEFAULT_SIZES);
    this.el("step-button").addEventListener("click", () => this.go(+1));
    this.el("back-button").addEventListener("click", () => this.go(-1));
    this.el("reset-button").addEventListener("click", () => this.goTo(0));
    this.el("end-button").addEventListener("click", () => this.goTo(Number.MAX_SAFE_INTEGER));
    // The stepping keys belong to the button group: elsewhere (the table, the graph) arrows keep scrolling.
    this.el("sweep-controls").addEventListener("keydown", (ev) => this.onKey(ev));
    if (opts.predict) {
      this.el("predict-toggle").addEventListener("change", () => {
        this.predicting = null;
        this.el("predict-feedback").textContent = "";
        this.render(false);
      });
      this.el("predict-form").addEventListener("submit", (ev) => {
        ev.preventDefault();
        this.checkPrediction();
      });
      this.el("predict-reveal").addEventListener("click", () => this.reveal());
    }
  }

  private el<T extends HTMLElement = HTMLElement>(id: string): T {
    return byTestId<T>(`${this.p}${id}`);
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const target = ev.target instanceof Element ? ev.target : null;
    if (target !== null && target.closest("input, select, textarea") !== null) return;
    const key = ev.key;
    if (key === "ArrowRight" || key === "n" || key === "N") this.go(+1);
    else if (key === "ArrowLeft" || key === "p" || key === "P") this.go(-1);
    else if (key === "Home") this.goTo(0);
    else if (key === "End") this.goTo(Number.MAX_SAFE_INTEGER);
    else return;
    ev.preventDefault();
  }

  /** Shows a new tape; the step is kept (clamped) unless `reset`. */
  setTape(tape: ScalarTape, reset: boolean, origin: number | null = null): void {
    this.tape = tape;
    if (this.opts.predict) this.el("predict-feedback").textContent = "";
    this.origin = origin;
    this.predicting = null;
    this.step = reset ? 0 : Math.min(this.step, this.total());
    this.render(false);
  }

  setMode(mode: Mode): void {
    this.mode = mode;
    this.rowsOf = null;
    this.step = 0;
    this.predicting = null;
    this.render(true);
  }

  total(): number {
    if (this.tape === null) return 0;
    return this.mode.kind === "reverse" ? this.tape.trace.sweep.length : forwardState(this.tape, this.mode.arg, 0).total;
  }

  /** The node whose v̄ the reader is asked for: shown as "?" everywhere until answered. */
  private hiddenNode(): number | null {
    return this.predicting !== null && this.predictOn() ? this.predicting : null;
  }

  private predictOn(): boolean {
    return this.opts.predict === true && this.mode.kind === "reverse" && this.el<HTMLInputElement>("predict-toggle").checked;
  }

  go(delta: number): void {
    if (this.tape === null) return;
    if (delta > 0 && this.predictOn() && this.step < this.total()) {
      const next = sweepState(this.tape, this.step).next;
      if (next !== null && this.predicting !== next) {
        this.predicting = next;
        this.render(false);
        this.el<HTMLInputElement>("predict-input").focus();
        return;
      }
    }
    this.goTo(this.step + delta);
  }

  goTo(step: number): void {
    if (this.tape === null) return;
    // A verdict on an earlier answer goes with the step it was given at (checkPrediction writes its own after this).
    if (this.opts.predict) this.el("predict-feedback").textContent = "";
    this.step = Math.max(0, Math.min(step, this.total()));
    this.predicting = null;
    this.render(true);
  }

  private checkPrediction(): void {
    if (this.tape === null || this.predicting === null) return;
    const truth = sweepState(this.tape, this.step).nodes[this.predicting].cotangent ?? 0;
    const guess = readTypedNumber(this.el<HTMLInputElement>("predict-input").value);
    const feedback = this.el("predict-feedback");
    if (closeEnough(guess, truth)) {
      const node = this.predicting;
      this.goTo(this.step + 1);
      feedback.textContent = `✓ Right: #${node} holds v̄ = ${fmt(truth, 8)}.`;
      feedback.className = "check";
      this.el("step-button").focus();
    } else {
      feedback.textContent = Number.isNaN(guess)
        ? "Type a number: 0.5, 1/2, −3/4 and 2*cos(1.5) are read, and so are ∞ and NaN."
        : `✗ Not ${fmt(guess, 6)}. Add up what #${this.predicting}'s consumers sent it: each visited consumer sent its own v̄ times the local derivative on the edge.`;
      feedback.className = "mismatch";
    }
  }

  private reveal(): void {
    if (this.predicting === null) return;
    const node = this.predicting;
    this.goTo(this.step + 1);
    this.el("predict-feedback").textContent = `Revealed: #${node}.`;
    this.el("predict-feedback").className = "";
    this.el("step-button").focus();
  }

  private renderPredict(): void {
    if (!this.opts.predict) return;
    const box = this.el("predict-form");
    const on = this.predicting !== null && this.predictOn();
    box.hidden = !on;
    if (!on || this.tape === null) return;
    const e = this.tape.trace.entries[this.predicting!];
    this.el("predict-question").textContent = `Next the sweep visits #${e.index} ${e.op === "input" ? this.argName(e.argIndex) : e.op}. What v̄ does it hold?`;
    this.el<HTMLInputElement>("predict-input").value = "";
    this.el("predict-feedback").textContent = "";
  }

  private argName(argIndex: number | null): string {
    return this.opts.argNames[argIndex ?? 0] ?? `argument ${argIndex}`;
  }

  /** Redraws everything for the current tape, mode and step; `announce` lets screen readers hear the step. */
  render(announce: boolean): void {
    const tape = this.tape;
    if (tape === null) return;
    let focus: number | null;
    let text: string;
    let nodes: NodeView[];
    let edges: EdgeView[];
    let step: number;
    let total: number;
    if (this.mode.kind === "reverse") {
      const st = sweepState(tape, this.step);
      ({ nodes, edges } = this.reverseViews(tape, st));
      focus = st.visit?.index ?? tape.trace.output;
      const hidden = this.hiddenNode();
      text = hidden === null ? this.describeReverse(tape, st)
        : `Your turn: #${hidden} now holds its whole v̄ = ∂f/∂v${subscript(hidden)}. Its value is hidden until you answer: add up, over the edges that leave #${hidden}, the consumer's v̄ times the local derivative ∂ on the edge.`;
      step = st.step;
      total = st.total;
      if (this.opts.table) this.renderTable(tape, st);
    } else {
      const st = forwardState(tape, this.mode.arg, this.step);
      ({ nodes, edges } = this.forwardViews(tape, st));
      focus = st.current?.index ?? tape.trace.entries.find((e) => e.op === "input" && e.argIndex === st.arg)?.index ?? null;
      text = this.describeForward(tape, st);
      step = st.step;
      total = st.total;
      if (this.opts.table) this.renderForwardTable(tape, st);
    }
    this.graph.render(tape.trace.entries, nodes, edges, focus);
    this.el("sweep-step").textContent = String(step);
    this.el("sweep-step").dataset.value = String(step);
    this.el("sweep-total").textContent = String(total);
    this.el("sweep-total").dataset.value = String(total);
    // aria-disabled rather than disabled: a disabled button would drop keyboard focus at the end of the sweep.
    this.el("step-button").setAttribute("aria-disabled", String(step >= total));
    this.el("back-button").setAttribute("aria-disabled", String(step === 0));
    this.el("reset-button").setAttribute("aria-disabled", String(step === 0));
    this.el("end-button").setAttribute("aria-disabled", String(step >= total));
    const box = this.el("sweep-announce");
    box.textContent = text;
    box.setAttribute("aria-live", announce ? "polite" : "off");
    this.renderPredict();
    // All writes are done: one layout serves both scrolls.
    whenMeasurable(this, () => {
      this.graph.scrollToFocus();
      if (this.opts.table) this.scrollTable(tape);
    });
  }

  private scrollTable(tape: ScalarTape): void {
    const current = this.mode.kind === "reverse" ? sweepState(tape, this.step).visit?.index : forwardState(tape, this.mode.arg, this.step).current?.index;
    if (current !== undefined) scrollRowIntoView(this.el("tape-wrap"), this.el(`tape-row-${current}`));
    else this.el("tape-wrap").scrollTop = 0;
  }

  private title(tape: ScalarTape, index: number): string {
    const e = tape.trace.entries[index];
    return e.op === "input" ? `#${index} input ${this.argName(e.argIndex)}` : `#${index} ${e.op}`;
  }

  private kind(tape: ScalarTape, index: number): NodeView["kind"] {
    const e = tape.trace.entries[index];
    if (e.op === "input") return "input";
    // A custom (solve) node keeps its mark even when it is the output itself.
    if (tape.custom[index]) return "custom";
    return index === tape.trace.output ? "output" : "plain";
  }

  private edgeLabel(tape: ScalarTape, index: number, slot: number): string {
    if (tape.custom[index] && this.opts.customRule) return this.opts.customRule(tape, index).edge;
    const d = tape.local[index][slot];
    return d === null ? "" : `∂ ${fmt(d, 4)}`;
  }

  private baseEdges(tape: ScalarTape): EdgeView[] {
    return tape.trace.entries.flatMap((e) => e.inputs.flatMap((src, j): EdgeView[] => {
      if (src === null) return [];
      const d = tape.local[e.index][j];
      return [{ from: src, to: e.index, slot: j, label: this.edgeLabel(tape, e.index, j), nonFinite: d !== null && !Number.isFinite(d) }];
    }));
  }

  private reverseViews(tape: ScalarTape, st: SweepState): { nodes: NodeView[]; edges: EdgeView[] } {
    const hidden = this.hiddenNode();
    const nodes = tape.trace.entries.map((e): NodeView => {
      const n = st.nodes[e.index];
      const state: NodeState = n.current ? "current" : n.visited ? "visited" : st.next === e.index ? "next" : n.unreachable ? "inactive" : n.cotangent !== null ? "waiting" : "idle";
      const value = tape.values[e.index];
      if (hidden === e.index) {
        return {
          index: e.index, title: this.title(tape, e.index), state, kind: this.kind(tape, e.index),
          lines: [`v = ${fmt(value, 4)}`, "v̄ = ?"], nonFinite: !Number.isFinite(value), origin: this.origin === e.index,
          data: { value: String(value), cotangent: "?" },
        };
      }
      return {
        index: e.index, title: this.title(tape, e.index), state, kind: this.kind(tape, e.index),
        lines: [`v = ${fmt(value, 4)}`, n.unreachable ? "v̄: never reached" : `v̄ = ${n.cotangent === null ? "—" : fmt(n.cotangent, 4)}`],
        nonFinite: !Number.isFinite(value) || (n.cotangent !== null && !Number.isFinite(n.cotangent)),
        origin: this.origin === e.index,
        data: { value: String(value), cotangent: n.cotangent === null ? "" : String(n.cotangent) },
      };
    });
    const edges = this.baseEdges(tape);
    if (st.visit !== null) {
      for (const s of st.visit.sent) {
        const edge = edges.find((e) => e.to === st.visit!.index && e.slot === s.slot);
        if (edge) edge.active = { text: s.to === hidden ? "sends ?" : `sends ${fmt(s.amount, 4)}`, short: s.to === hidden ? "?" : fmt(s.amount, 4), direction: "back", amount: s.amount };
      }
    }
    return { nodes, edges };
  }

  private forwardViews(tape: ScalarTape, st: ForwardState): { nodes: NodeView[]; edges: EdgeView[] } {
    const next = st.step < st.total ? st.order[st.step] : null;
    const nodes = tape.trace.entries.map((e): NodeView => {
      const t = st.tangents[e.index];
      const isCurrent = st.current?.index === e.index;
      const state: NodeState = isCurrent ? "current" : t === null ? "inactive" : t === undefined ? (next === e.index ? "next" : "idle") : "visited";
      const value = tape.values[e.index];
      const tangentText = t === null ? "v̇: none (0)" : t === undefined ? "v̇ = …" : `v̇ = ${fmt(t, 4)}`;
      return {
        index: e.index, title: this.title(tape, e.index), state, kind: this.kind(tape, e.index),
        lines: [`v = ${fmt(value, 4)}`, tangentText],
        nonFinite: !Number.isFinite(value) || (typeof t === "number" && !Number.isFinite(t)),
        origin: this.origin === e.index,
        data: { value: String(value), tangent: t === null ? "none" : t === undefined ? "" : String(t) },
      };
    });
    const edges = this.baseEdges(tape);
    if (st.current !== null) {
      for (const term of st.current.terms) {
        const edge = edges.find((e) => e.to === st.current!.index && e.slot === term.slot);
        if (edge) edge.active = { text: `adds ${fmt(term.amount, 4)}`, short: `+${fmt(term.amount, 4)}`, direction: "forward", amount: term.amount };
      }
    }
    return { nodes, edges };
  }

  private describeReverse(tape: ScalarTape, st: SweepState): string {
    const trace = tape.trace;
    if (trace.output === null) return "f does not depend on its inputs: the tape has no path to the output, so every derivative is 0.";
    if (st.visit === null) return `Ready: the output #${trace.output} holds the seed v̄ = 1. Press Step (or →) to visit it.`;
    const v = st.visit;
    const agree = Object.is(v.cotangent, v.library) || (Number.isNaN(v.cotangent) && Number.isNaN(v.library)) || Math.abs(v.cotangent - v.library) <= 1e-12 * Math.max(1, Math.abs(v.library));
    const check = agree ? "✓ same as the library's sweep" : `✗ the library's sweep holds ${fmt(v.library)}`;
    const entry = trace.entries[v.index];
    if (entry.op === "input") {
      const name = this.argName(entry.argIndex);
      return `Step ${st.step} of ${st.total}: input #${v.index} (${name}) holds v̄ = ${fmt(v.cotangent, 8)}, which is ∂f/∂${name} (${check}).`;
    }
    const sent = v.sent.map((s) => `${fmt(v.cotangent, 6)} × ${fmt(s.local, 6)} = ${fmt(s.amount, 6)} to #${s.to}`).join("; ");
    const rule = tape.custom[v.index] && this.opts.customRule ? ` Its backward rule: ${this.opts.customRule(tape, v.index).cell}.` : "";
    return `Step ${st.step} of ${st.total}: visit #${v.index} ${v.op} with v̄ = ${fmt(v.cotangent, 8)} (${check}). It sends ${sent || "nothing (constant operands only)"}.${rule}`;
  }

  private describeForward(tape: ScalarTape, st: ForwardState): string {
    const name = this.argName(st.arg);
    if (st.current === null) {
      return `Ready: input ${name} holds the tangent v̇ = 1 and every other input none. The pass visits the ${st.total} node${st.total === 1 ? "" : "s"} downstream of ${name}, in tape order. Press Step (or →).`;
    }
    const c = st.current;
    const terms = c.terms.map((t) => `${fmt(t.local, 5)} × ${fmt(t.tangent, 5)} (∂ on the edge from #${t.from} × its v̇)`).join(" + ");
    const end = c.index === tape.trace.output ? ` That is the output: ∂f/∂${name} = ${fmt(c.tangent, 8)}.` : "";
    return `Step ${st.step} of ${st.total}: #${c.index} ${tape.trace.entries[c.index].op} gets v̇ = ${terms} = ${fmt(c.tangent, 8)}.${end}`;
  }

  /**
   * Forward mode in the table: rows light up in the pass's order, and the
   * stepped input's tangent column fills in as the pass reaches each node, with
   * its terms ∂(node)/∂(operand) × (operand's v̇); the other columns keep the
   * finished passes' values.
   */
  private renderForwardTable(tape: ScalarTape, st: ForwardState): void {
    if (this.rowsOf?.tape !== tape) {
      const rows = tape.trace.entries.map((e) => this.staticRow(tape, e.index));
      fill(this.el("tape-body"), ...rows);
      this.rowsOf = { tape, rows };
    }
    const done = new Set(st.order.slice(0, st.step));
    const name = this.opts.argNames[st.arg];
    this.rowsOf.rows.forEach((tr, index) => {
      const current = st.current?.index === index;
      tr.className = current ? "current" : done.has(index) ? "visited" : "";
      delete tr.dataset.signature;
      if (current) tr.setAttribute("aria-current", "step");
      else tr.removeAttribute("aria-current");
      const old = tr.querySelector(`[data-testid="${this.p}tan-${name}-${index}"]`);
      if (old !== null) old.replaceWith(this.steppedTangentCell(tape, st, index));
    });
  }

  private steppedTangentCell(tape: ScalarTape, st: ForwardState, index: number): HTMLTableCellElement {
    const name = this.opts.argNames[st.arg];
    const t = st.tangents[index];
    const testId = `${this.p}tan-${name}-${index}`;
    if (t === null) return h("td", { className: "num", "data-testid": testId, "data-value": "none", title: "no tangent: a symbolic zero (this node does not depend on the input)" }, "0 (none)");
    if (t === undefined) return h("td", { className: "num stepped", "data-testid": testId }, h("span", { className: "muted" }, "…"));
    const td = h("td", { className: `num stepped${Number.isFinite(t) ? "" : " nonfinite"}`, "data-testid": testId, "data-value": String(t) }, h("strong", {}, fmt(t, 8)));
    const e = tape.trace.entries[index];
    const terms = e.op === "input" ? "seed: v̇ = 1" : "= " + e.inputs.flatMap((src, j) => {
      if (src === null || st.tangents[src] === null || st.tangents[src] === undefined) return [];
      return [`${fmt(tape.local[index][j]!, 4)}×${fmt(st.tangents[src]!, 4)} (from #${src})`];
    }).join(" + ");
    td.append(h("span", { className: "terms" }, terms));
    return td;
  }

  /** The rows of the tape shown now; the cells that do not change with the step are built once per tape. */
  private rowsOf: { tape: ScalarTape; rows: HTMLTableRowElement[] } | null = null;

  private renderTable(tape: ScalarTape, st: SweepState): void {
    if (this.rowsOf?.tape !== tape) {
      const rows = tape.trace.entries.map((e) => this.staticRow(tape, e.index));
      fill(this.el("tape-body"), ...rows);
      this.rowsOf = { tape, rows };
    }
    this.rowsOf.rows.forEach((tr, index) => {
      const node = st.nodes[index];
      const cls = [node.current ? "current" : node.visited ? "visited" : "", node.unreachable ? "unreachable" : "", this.origin === index ? "origin" : ""].filter(Boolean).join(" ");
      // Only rows whose state changed are touched: a step changes a handful of a long tape's rows.
      const hide = index === this.hiddenNode();
      const signature = `${cls}|${node.cotangent}|${node.contributions.length}|${hide}`;
      if (tr.dataset.signature === signature) return;
      tr.dataset.signature = signature;
      tr.className = cls;
      if (node.current) tr.setAttribute("aria-current", "step");
      else tr.removeAttribute("aria-current");
      tr.lastElementChild!.replaceWith(hide ? h("td", { className: "cotangent num", "data-testid": `${this.p}ct-${index}`, "data-hidden": "true" }, h("strong", {}, "?"), h("span", { className: "terms" }, "hidden until you answer")) : this.cotangentCell(tape, st, index));
    });
  }

  private staticRow(tape: ScalarTape, index: number): HTMLTableRowElement {
    const e = tape.trace.entries[index];
    const p = this.p;
    const tr = h("tr", { "data-testid": `${p}tape-row-${e.index}` });
    const shapes = e.op === "input" ? shapeText(e.shape) : `${e.inputShapes.map(shapeText).join(", ")} → ${shapeText(e.shape)}`;
    const value = tape.values[e.index];
    tr.append(
      h("td", { className: "num" }, `#${e.index}`),
      h("td", {}, e.op),
      h("td", {}, this.operandText(tape, e.index)),
      h("td", {}, shapes),
      h("td", { className: `num${Number.isFinite(value) ? "" : " nonfinite"}`, "data-value": String(value) }, fmt(value, 8)),
      this.rulesCell(tape, e.index),
      ...(this.opts.tangentColumns ?? []).map((arg) => {
        const t = forwardTangentsCache(tape, arg)[e.index];
        return h("td", { className: `num${t !== null && !Number.isFinite(t) ? " nonfinite" : ""}`, "data-testid": `${p}tan-${this.opts.argNames[arg]}-${e.index}`, "data-value": t === null ? "none" : String(t), title: t === null ? "no tangent: a symbolic zero (this node does not depend on the input)" : undefined }, t === null ? "0 (none)" : fmt(t, 8));
      }),
      h("td", {}),
    );
    return tr;
  }

  private operandText(tape: ScalarTape, index: number): string {
    const e = tape.trace.entries[index];
    if (e.op === "input") return `argument ${e.argIndex} (${this.argName(e.argIndex)})`;
    const names = operandNames(e.inputs.length);
    return e.inputs.map((src, j) => `${names[j]} = ${src === null ? `const ${fmt(scalarOf(e.constants[j]!), 6)}` : `#${src}`}`).join(", ");
  }

  private rulesCell(tape: ScalarTape, index: number): HTMLTableCellElement {
    const e = tape.trace.entries[index];
    const td = h("td", { className: "rule" });
    if (e.op === "input") {
      td.append("—");
      return td;
    }
    if (tape.custom[index]) {
      td.append(this.opts.customRule ? this.opts.customRule(tape, index).cell : "a custom rule (not a formula)");
      return td;
    }
    const names = operandNames(e.inputs.length);
    const lines: HTMLElement[] = [];
    e.inputs.forEach((src, j) => {
      const d = tape.local[index][j];
      if (src === null || d === null) return;
      lines.push(h("span", { className: Number.isFinite(d) ? undefined : "nonfinite", "data-testid": `${this.p}rule-${index}-${j}` }, `∂/∂${names[j]}: ${ruleText(e.op, j, operandValues(e, tape.values))} = ${fmt(d, 6)}`));
    });
    lines.forEach((line, i) => {
      if (i > 0) td.append(h("br"));
      td.append(line);
    });
    if (lines.length === 0) td.append("—");
    return td;
  }

  private cotangentCell(tape: ScalarTape, st: SweepState, index: number): HTMLTableCellElement {
    const node = st.nodes[index];
    const td = h("td", { className: "cotangent num", "data-testid": `${this.p}ct-${index}` });
    if (node.unreachable) {
      td.append(h("span", { className: "muted" }, "never visited: no path to the output"));
      return td;
    }
    if (node.cotangent === null) {
      td.append(h("span", { className: "muted" }, "—"));
      return td;
    }
    td.dataset.value = String(node.cotangent);
    td.append(h("strong", { className: Number.isFinite(node.cotangent) ? undefined : "nonfinite" }, fmt(node.cotangent, 8)));
    const terms = node.seeded ? "seed: v̄ = 1" : "= " + node.contributions.map((c) => `${fmt(c.upstream, 4)}×${fmt(c.local, 4)} (from #${c.from})`).join(" + ");
    td.append(h("span", { className: "terms" }, terms));
    const e = tape.trace.entries[index];
    if (node.visited && e.op === "input") td.append(h("span", { className: "terms" }, `= ∂f/∂${this.argName(e.argIndex)}`));
    return td;
  }
}

const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";

/** 12 → ₁₂ */
function subscript(n: number): string {
  return String(n).split("").map((d) => SUBSCRIPTS[Number(d)]).join("");
}

function shapeText(shape: number[]): string {
  return `[${shape.join(",")}]`;
}

const tangentCache = new WeakMap<ScalarTape, Map<number, (number | null)[]>>();

/** forwardTangents for one argument, computed once per tape. */
function forwardTangentsCache(tape: ScalarTape, arg: number): (number | null)[] {
  let perArg = tangentCache.get(tape);
  if (!perArg) tangentCache.set(tape, (perArg = new Map()));
  let t = perArg.get(arg);
  if (!t) perArg.set(arg, (t = forwardTangents(tape, arg)));
  return t;
}

/** Scrolls the table's own box (never the page) so that `row` shows below the sticky header. */
export function scrollRowIntoView(wrap: HTMLElement, row: HTMLElement): void {
  const header = wrap.querySelector("thead")?.getBoundingClientRect().height ?? 0;
  const box = wrap.getBoundingClientRect();
  const r = row.getBoundingClientRect();
  if (r.top < box.top + header) wrap.scrollTop -= box.top + header - r.top + 4;
  else if (r.bottom > box.bottom) wrap.scrollTop += r.bottom - box.bottom + 4;
}
