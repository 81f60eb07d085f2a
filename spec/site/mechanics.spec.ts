/**
 * The teaching page's DOM-free parts, in Node: the replayed sweeps and passes
 * against the library's own, the explanations of broken numbers against the
 * mathematics of each case, the graph layout's geometry, the mode counts
 * against closed forms, and the code the page shows for an expression.
 */
import { expect } from "chai";
import fc from "fast-check";
import * as lib from "../../lib/index.js";
import { jvp, traceTape, Tensor } from "../../lib/index.js";
import { evaluate, parse, toCode } from "../../site/src/expr.js";
import { analyse, forwardState, pathsFrom, scalarTape, sweepState } from "../../site/src/mechanics.js";
import { diagnose, firstNonFiniteNode } from "../../site/src/diagnosis.js";
import { chooseLayout, layersOf, layoutGraph } from "../../site/src/graph-layout.js";
import { analyseModes, countWork, logSumExp, modesPoint } from "../../site/src/modes.js";
import { compile, countProgram } from "../../site/src/compiled.js";
import { expectClose } from "../helpers.js";

const SMOOTH = ["sin(x) * y + x^2", "x*y + exp(x)/y", "sigmoid(x) * tanh(y)", "exp(-x^2) * cos(3*y)", "x*x*x", "log(1 + exp(x*y)) - softplus(x*y)"];

describe("teaching page: mechanics (Node)", () => {
  it("replays forward mode node by node to the library's jvp, with symbolic zeros where jvp has them", () => {
    fc.assert(fc.property(fc.constantFrom(...SMOOTH), fc.double({ min: 0.2, max: 2, noNaN: true }), fc.double({ min: 0.2, max: 2, noNaN: true }), (text, x, y) => {
      const expr = parse(text);
      const a = analyse(expr, x, y);
      const f = (u: Tensor, v: Tensor): Tensor | number => evaluate(expr, u, v);
      // An output that does not depend on an input has no tangent along it (null), which jvp reports as 0.
      expectClose(a.tangentAlongX[a.tape.trace.output!] ?? 0, jvp(f, [x, y], [1, 0])[1].item(), 1e-12);
      expectClose(a.tangentAlongY[a.tape.trace.output!] ?? 0, jvp(f, [x, y], [0, 1])[1].item(), 1e-12);
      // A node that does not depend on an input has no tangent along it at all.
      expect(a.tangentAlongX[a.tape.trace.entries.find((e) => e.argIndex === 1)!.index]).to.equal(null);
    }), { numRuns: 25 });
  });

  it("replays the backward sweep to the library's cotangents and gradients", () => {
    const a = analyse(parse("x^3 - 2*x*y + sin(y)/x"), 1.7, 0.6);
    const trace = a.tape.trace;
    for (let k = 1; k <= trace.sweep.length; k++) {
      const st = sweepState(a.tape, k);
      expectClose(st.visit!.cotangent, st.visit!.library, 1e-14);
    }
    const end = sweepState(a.tape, trace.sweep.length);
    expectClose(end.nodes[0].cotangent!, trace.gradients[0] as number, 1e-14);
    expectClose(end.nodes[1].cotangent!, trace.gradients[1] as number, 1e-14);
    expect(end.next).to.equal(null);
  });

  it("sums the products of local derivatives over the paths to the library's gradient", () => {
    fc.assert(fc.property(fc.constantFrom(...SMOOTH), fc.double({ min: 0.2, max: 2, noNaN: true }), fc.double({ min: 0.2, max: 2, noNaN: true }), (text, x, y) => {
      const a = analyse(parse(text), x, y);
      for (const arg of [0, 1]) {
        const { paths, count, sum } = pathsFrom(a.tape, arg);
        expect(paths.length).to.equal(count);
        expectClose(sum, a.gradient[arg], 1e-12);
      }
    }), { numRuns: 25 });
    // x·x·x·x: x feeds the first mul twice, then each later mul once: 2 + 1 + 1 = 4 paths, each worth x³.
    const quartic = pathsFrom(analyse(parse("x*x*x*x"), 1.5, 0).tape, 0);
    expect(quartic.count).to.equal(4);
    for (const p of quartic.paths) expectClose(p.product, 1.5 ** 3, 1e-14);
  });

  it("steps a forward pass through exactly the nodes downstream of its input", () => {
    const a = analyse(parse("sin(x) * y + x^2"), 1.5, 2);
    const st = forwardState(a.tape, 1, Number.MAX_SAFE_INTEGER);
    expect(st.order.map((i) => a.tape.trace.entries[i].op)).to.deep.equal(["mul", "add"]);
    expectClose(st.tangents[a.tape.trace.output!]!, Math.sin(1.5), 1e-15);
    expect(st.products).to.equal(2);
  });

  it("reads a custom node's local derivative off the library's sweep: −B/A = dy/da for an implicit square root", () => {
    const root = new lib.ImplicitFunction({ forward: (a: Tensor | number) => Math.sqrt(typeof a === "number" ? a : a.item()), conditions: (a: Tensor | number, y: Tensor) => lib.sub(lib.mul(y, y), a) });
    const tape = scalarTape(traceTape((a: Tensor) => root.call(a), 3));
    const solve = tape.trace.entries.findIndex((e) => e.custom);
    expect(tape.custom[solve]).to.equal(true);
    // F = y² − a: A = ∂F/∂y = 2√3, B = ∂F/∂a = −1.
    expectClose(tape.local[solve][0]!, 1 / (2 * Math.sqrt(3)), 1e-14);
  });
});

describe("teaching page: why numbers break (Node)", () => {
  const kinds = (text: string, x: number, y: number): { kind: string; node: number | null; coordinate: string | null }[] =>
    diagnose(analyse(parse(text), x, y)).map(({ kind, node, coordinate }) => ({ kind, node, coordinate }));

  it("finds nothing to explain where f is smooth", () => {
    for (const [x, y] of [[0.7, 1.3], [0.3, -0.9], [-1.7, 0.4], [2.5, 2.5]]) {
      for (const text of SMOOTH) expect(kinds(text, x, y), `${text} at (${x}, ${y})`).to.deep.equal([]);
    }
  });

  it("names the node and the reason in each hard case", () => {
    // Tape indices: the inputs are #0 (x) and #1 (y); then the ops in evaluation order.
    expect(kinds("log(x) + y", -1, 2)).to.deep.include.members([{ kind: "domain", node: 2, coordinate: null }, { kind: "no-value", node: 3, coordinate: null }]);
    expect(kinds("x^y", -1.5, 2)).to.deep.include.members([{ kind: "rule-domain", node: 2, coordinate: null }, { kind: "symbolic-zero", node: 2, coordinate: "x" }]);
    expect(kinds("1/x + y", 0, 1)).to.deep.include.members([{ kind: "pole", node: 2, coordinate: null }, { kind: "symbolic-zero", node: 2, coordinate: "y" }, { kind: "fd-pole", node: null, coordinate: "x" }, { kind: "fd-nonfinite", node: null, coordinate: "y" }]);
    expect(kinds("x/(y - 2)", 1, 2)).to.deep.include.members([{ kind: "pole", node: 3, coordinate: null }, { kind: "fd-pole", node: null, coordinate: "y" }]);
    expect(kinds("relu(x) * y", 0, 1)).to.deep.equal([{ kind: "kink", node: 2, coordinate: null }, { kind: "fd-not-derivative", node: null, coordinate: "x" }]);
    // abs(x)·y at (0, 0) is differentiable (|f| ≤ (x² + y²)/2): the kink of abs does not reach f.
    expect(kinds("abs(x) * y", 0, 0)).to.deep.equal([{ kind: "kink-harmless", node: 2, coordinate: null }]);
    expect(kinds("sqrt(x^2)", 0, 1)).to.deep.include({ kind: "fd-not-derivative", node: null, coordinate: "x" });
    expect(kinds("x^y", 0, 0)).to.deep.equal([{ kind: "convention", node: 2, coordinate: null }, { kind: "fd-nonfinite", node: null, coordinate: "y" }]);
    expect(kinds("exp(1000*x)", 1, 0).map((k) => k.kind)).to.include.members(["overflow", "infinite-value"]);
    const cone = diagnose(analyse(parse("sqrt(x^2 + y^2)"), 0, 0));
    expect(cone.find((f) => f.kind === "vertical")!.node).to.equal(5);
    expect(cone.some((f) => f.kind === "propagation" && f.text.includes("∞·0"))).to.equal(true);
    expect(firstNonFiniteNode(cone)).to.equal(5);
  });

  it("says where ∞ turns into NaN", () => {
    const found = diagnose(analyse(parse("1/x - 1/x"), 0, 1));
    const indeterminate = found.find((f) => f.kind === "indeterminate")!;
    expect(indeterminate.node).to.equal(4);
    expect(indeterminate.text).to.contain("∞ − ∞");
  });
});

describe("teaching page: graph layout (Node)", () => {
  const entriesOf = (text: string): { index: number; inputs: (number | null)[] }[] =>
    traceTape((x: Tensor, y: Tensor) => evaluate(parse(text), x, y), 0.5, 0.7).entries;

  it("puts every operand in an earlier layer, and an input just before its first use", () => {
    const entries = entriesOf("sin(x) * y + x^2");
    const layer = layersOf(entries);
    for (const e of entries) for (const src of e.inputs) if (src !== null) expect(layer[src]).to.be.below(layer[e.index]);
    expect(layer[1], "y sits next to the mul that uses it").to.equal(layer[3] - 1);
  });

  it("never overlaps two boxes, in either orientation, and labels each edge between its layers", () => {
    for (const text of [...SMOOTH, Array.from({ length: 8 }, (_, i) => `sin(x*${i + 1} + y)`).join(" + ")]) {
      const entries = entriesOf(text);
      for (const orientation of ["lr", "tb"] as const) {
        const L = layoutGraph(entries, orientation);
        for (const p of L.nodes) for (const q of L.nodes) {
          if (p.index >= q.index) continue;
          const apart = p.x + L.nodeWidth <= q.x || q.x + L.nodeWidth <= p.x || p.y + L.nodeHeight <= q.y || q.y + L.nodeHeight <= p.y;
          expect(apart, `${text} ${orientation}: #${p.index} and #${q.index}`).to.equal(true);
        }
        for (const e of L.edges) {
          const [s, t] = [L.nodes[e.from], L.nodes[e.to]];
          const [lo, hi, at] = orientation === "lr" ? [s.x + L.nodeWidth, t.x, e.labelX] : [s.y + L.nodeHeight, t.y, e.labelY];
          expect(at, `${text} ${orientation}: label of ${e.from}→${e.to}`).to.be.within(lo, hi);
        }
        expect(Math.max(...L.nodes.map((p) => p.x + L.nodeWidth))).to.be.at.most(L.width);
        expect(Math.max(...L.nodes.map((p) => p.y + L.nodeHeight))).to.be.at.most(L.height);
      }
    }
  });

  it("chooses left to right on a wide screen and top to bottom on a phone", () => {
    const entries = entriesOf("sin(x) * y + x^2");
    expect(chooseLayout(entries, 1300, 600).orientation).to.equal("lr");
    expect(chooseLayout(entries, 360, 600).orientation).to.equal("tb");
  });
});

describe("teaching page: the cost of each mode (Node)", () => {
  it("counts one sweep against n passes, as closed forms say, and gets softmax both ways", () => {
    for (const n of [1, 2, 5, 16]) {
      const point = modesPoint(n);
      const counts = countWork(traceTape(logSumExp, ...point), n);
      expect(counts.reverse).to.deep.equal({ passes: 1, evaluations: 2 * n, products: 3 * n - 1, partialsPerPass: n });
      const perInput = Array.from({ length: n }, (_, i) => (n === 1 ? 2 : 1 + (n - Math.max(i, 1)) + 1));
      expect(counts.forward).to.deep.equal({ passes: n, evaluations: 2 * n * n, products: perInput.reduce((s, v) => s + v, 0), partialsPerPass: 1, perInput });
    }
    const a = analyseModes(7, 0);
    expectClose(a.reverse, a.exact, 1e-14);
    expectClose(a.forward, a.exact, 1e-14);
    expect(() => analyseModes(0)).to.throw(/modes: n must be a whole number from 1 to 16/);
  });
});

describe("teaching page: the code shown for an expression (Node)", () => {
  const names = Object.keys(lib).filter((k) => /^[a-z]\w*$/.test(k) && typeof (lib as Record<string, unknown>)[k] === "function");
  const ops = names.map((k) => (lib as Record<string, unknown>)[k]);

  it("is library calls that compute what the page computes", () => {
    for (const text of [...SMOOTH, "-x^2 + pi*y", "relu(x - y) + abs(y)*x", "sqrt(x^2 + y^2) / e"]) {
      const code = toCode(parse(text));
      const f = new Function(...names, "x", "y", `return ${code};`) as (...args: unknown[]) => Tensor;
      const shown = traceTape((x: Tensor, y: Tensor) => f(...ops, x, y), 0.8, 1.1);
      const ran = traceTape((x: Tensor, y: Tensor) => evaluate(parse(text), x, y), 0.8, 1.1);
      expect(shown.entries.map((e) => e.op), text).to.deep.equal(ran.entries.map((e) => e.op));
      expect(shown.value).to.equal(ran.value);
      expect(shown.gradients).to.deep.equal(ran.gradients);
    }
    expect(toCode(parse("-x^2 + pi*y"))).to.equal("add(neg(pow(x, 2)), mul(Math.PI, y))");
  });
});

describe("teaching page: the jit panel's programs (Node)", () => {
  it("compiles f and its gradient: the gradient program equals grad, |f| by where equals |f|, and a branch on a value throws", () => {
    for (const [text, x, y] of [["x*x*x", 1.3, 0.4], ["sin(x) * y + x^2", -0.7, 2.5], ["exp(-x^2) * cos(3*y)", 0.3, -1.1], ["3", 1, 2]] as const) {
      const expr = parse(text);
      const c = compile(expr, x, y);
      const a = analyse(expr, x, y);
      expectClose(c.gradient[0], a.gradient[0], 1e-14);
      expectClose(c.gradient[1], a.gradient[1], 1e-14);
      expectClose(c.whereValue, Math.abs(a.value), 1e-15);
      // A constant f traces nothing, so reading its value is allowed.
      if (text === "3") expect(c.branchError).to.equal(null);
      else expect(c.branchError, text).to.match(/^item: jit is tracing this value/);
      expect(c.whereProgram, text).to.contain(" = where ");
      const counts = countProgram(c.gradientProgram);
      expect(counts.kernels, `${text}: kernels`).to.be.at.least(text === "3" ? 0 : 1);
      expect(counts.kernels).to.be.at.most(counts.equations);
    }
    // x·x·x: two multiplications, one fused kernel; its gradient 3x², 0 from one kernel too.
    const cube = compile(parse("x*x*x"), 1.3, 0.4);
    expect(countProgram(cube.program)).to.deep.equal({ equations: 2, kernels: 1 });
    expectClose(cube.gradient[0], 3 * 1.3 ** 2, 1e-15);
    expect(cube.gradient[1]).to.equal(0);
  });
});
