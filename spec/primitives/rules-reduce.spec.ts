/**
 * Derivative rules of the reductions, softmax and norm, with every axis form
 * and keepdims, on random shapes and layouts, against finite differences in
 * both modes and the two modes against each other. max/min (and the ∞-norms)
 * get pairwise distinct values so that no tie sits within the FD step.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Tensor, tensor, grad, sum, mean, max, min, logsumexp, softmax, norm } from "../../lib/index.js";
import { axisArb, flatten, operandOf, shapeOf, type AxisArg, type ValueKind, runs } from "./reference.js";
import { checkRules } from "./rules.js";
import { expectClose } from "../helpers.js";

const RUNS = runs(60);

const REDUCTIONS: [string, (x: Tensor, axis: AxisArg, keepdims?: boolean) => Tensor, ValueKind][] = [
  ["sum", sum, "any"], ["mean", mean, "any"], ["max", max, "distinct"], ["min", min, "distinct"], ["logsumexp", logsumexp, "wide"],
];

const caseArb = (kind: ValueKind) => shapeOf(3, 3, false).chain((s) => fc.tuple(operandOf(s, kind), axisArb(s.length), fc.constantFrom(undefined, true, false)));

describe("primitives/reduce: derivative rules (FD, jvp, vjp, adjointness)", () => {
  for (const [name, fn, kind] of REDUCTIONS) {
    it(`${name} over every axis form, with and without keepdims`, () => {
      fc.assert(fc.property(caseArb(kind), fc.integer(), ([x, axis, keepdims], seed) => {
        checkRules({ f: (t) => fn(t, axis, keepdims), args: [x.t], seed, label: `${name}(axis ${JSON.stringify(axis)}, keepdims ${keepdims})` });
      }), RUNS);
    });
  }

  it("softmax along any axis form", () => {
    const arb = shapeOf(3, 3, false, 1).chain((s) => fc.tuple(operandOf(s, "any"), fc.oneof(fc.constant(undefined), axisArb(s.length))));
    fc.assert(fc.property(arb, fc.integer(), ([x, axis], seed) => {
      checkRules({ f: (t) => softmax(t, axis), args: [x.t], seed, label: `softmax(axis ${JSON.stringify(axis)})` });
    }), RUNS);
  });

  const ORDS: [number, ValueKind][] = [[2, "awayFromZero"], [1, "awayFromZero"], [Infinity, "distinctAbs"], [-Infinity, "distinctAbs"], [3, "awayFromZero"], [1.5, "awayFromZero"], [0.5, "awayFromZero"]];
  for (const [ord, kind] of ORDS) {
    it(`norm ord ${ord} over all entries or an axis`, () => {
      fc.assert(fc.property(caseArb(kind), fc.integer(), ([x, axis, keepdims], seed) => {
        checkRules({ f: (t) => norm(t, ord, axis, keepdims), args: [x.t], seed, label: `norm(ord ${ord}, axis ${JSON.stringify(axis)})` });
      }), RUNS);
    });
  }

  it("closed forms: ∇‖x‖₂ = x/‖x‖ (0 at 0), ∇logsumexp = softmax, ties of max share the gradient", () => {
    expectClose(grad((x: Tensor) => norm(x))(tensor([3, 4])), [0.6, 0.8], 1e-15, 0, "∇‖x‖");
    expect(flatten(grad((x: Tensor) => norm(x))(tensor([0, 0])).toArray())).to.deep.equal([0, 0]);
    const v = [0.5, -1, 2];
    const z = v.reduce((s, t) => s + Math.exp(t), 0);
    expectClose(grad((x: Tensor) => logsumexp(x))(tensor(v)), v.map((t) => Math.exp(t) / z), 1e-14, 0, "∇lse");
    expectClose(grad((x: Tensor) => max(x))(tensor([1, 3, 3, 2])), [0, 0.5, 0.5, 0], 0, 0, "∇max with a tie");
    expectClose(grad((x: Tensor) => sum(min(x, 1)))(tensor([[1, 1], [2, 0]])).reshape([4]), [0.5, 0.5, 0, 1], 0, 0, "∇min rows");
    // Gradients of reductions over empty axes are empty, not errors.
    expect(grad((x: Tensor) => sum(x))(tensor([])).shape).to.deep.equal([0]);
    expect(grad((x: Tensor) => logsumexp(x))(tensor([])).shape).to.deep.equal([0]);
  });

  it("logsumexp and softmax derivatives stay finite at large |x|", () => {
    const x = tensor([1000, 1000, -1000]);
    expectClose(grad((t: Tensor) => logsumexp(t))(x), [0.5, 0.5, 0], 1e-15, 0, "∇lse at ±1000");
    expectClose(grad((t: Tensor) => logsumexp(t))(tensor([1e10, 1e10])), [0.5, 0.5], 1e-15, 0, "∇lse at 1e10");
    const g = grad((t: Tensor) => sum(mul3(softmax(t))))(x);
    expect(flatten(g.toArray()).every(Number.isFinite)).to.equal(true);
  });
});

/** A fixed weighting so that the gradient of Σ wᵢ softmax(x)ᵢ is not identically zero. */
function mul3(t: Tensor): Tensor {
  return t.mul(tensor([1, 2, 3]));
}
