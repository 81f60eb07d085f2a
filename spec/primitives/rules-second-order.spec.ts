/**
 * The derivative rules are themselves differentiable: for g = ∇⟨w, f(x)⟩, the
 * Hessian-vector product H v by reverse over reverse (∇⟨g, v⟩) and by forward
 * over reverse (jvp of g) matches the finite-difference directional derivative
 * of g, for a selection of primitives whose second derivatives are nonzero.
 */
import fc from "fast-check";
import * as lib from "../../lib/index.js";
import { Tensor, tensor, grad, jvp, sum, mul } from "../../lib/index.js";
import { makeOperand, mapValues, operandOf, shapeOf, unitValues, layoutArb, type ValueKind, runs } from "./reference.js";
import { checkSecondOrder } from "./rules.js";
import { expectClose } from "../helpers.js";

const RUNS = runs(40);

const CASES: [string, (x: Tensor) => Tensor, ValueKind][] = [
  ["exp", lib.exp, "any"],
  ["log", lib.log, "positive"],
  ["sqrt", lib.sqrt, "positive"],
  ["sin", lib.sin, "any"],
  ["cos", lib.cos, "any"],
  ["tanh", lib.tanh, "any"],
  ["sigmoid", lib.sigmoid, "any"],
  ["softplus", lib.softplus, "any"],
  ["1 / x", (x) => lib.div(1, x), "awayFromZero"],
  ["x / (1 + x²)", (x) => lib.div(x, lib.add(1, mul(x, x))), "any"],
  ["x^2.5", (x) => lib.pow(x, 2.5), "positive"],
  ["1.5^x", (x) => lib.pow(1.5, x), "any"],
  ["x^x", (x) => lib.pow(x, x), "positive"],
  ["x·|x|", (x) => mul(x, lib.abs(x)), "awayFromZero"],
  ["where(x > 0, x³, exp(x))", (x) => lib.where(lib.greater(x, 0), lib.pow(x, 3), lib.exp(x)), "awayFromZero"],
  ["maximum(x, 0)²", (x) => lib.pow(lib.maximum(x, 0), 2), "awayFromZero"],
  ["logsumexp(x, -1)", (x) => lib.logsumexp(x, -1), "any"],
  ["softmax(x)", (x) => lib.softmax(x), "any"],
  ["‖x‖₂", (x) => lib.norm(x), "awayFromZero"],
  ["‖x‖₃ over axis 0", (x) => lib.norm(x, 3, 0), "awayFromZero"],
  ["mean(x²)", (x) => lib.mean(mul(x, x), 0), "any"],
  ["max(x)·x", (x) => mul(lib.max(x), x), "distinct"],
  ["transpose(x)·transpose(sin x)", (x) => mul(lib.transpose(x), lib.transpose(lib.sin(x))), "any"],
  ["concat([sin s, s·s]) of s = slice(x)", (x) => { const s = lib.slice(x, [0], [1]); return lib.concat([lib.sin(s), mul(s, s)], -1); }, "any"],
  ["stack([x, exp x])", (x) => lib.stack([x, lib.exp(x)], -1), "any"],
];

describe("primitives: second-order rules (grad of grad, jvp of grad)", () => {
  for (const [name, f, kind] of CASES) {
    it(name, () => {
      fc.assert(fc.property(shapeOf(2, 3, false, 1).chain((s) => operandOf(s, kind)), fc.integer(), (x, seed) => {
        checkSecondOrder(f, x.t, seed, undefined, name);
      }), RUNS);
    });
  }

  it("matmul: x ↦ x @ x (square, any layout)", () => {
    const arb = fc.integer({ min: 1, max: 3 }).chain((n) => operandOf([n, n]));
    fc.assert(fc.property(arb, fc.integer(), (x, seed) => checkSecondOrder((t) => lib.matmul(t, t), x.t, seed, undefined, "x @ x")), RUNS);
  });

  it("solve: A ↦ A⁻¹ b (well-conditioned A)", () => {
    const arb = fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(unitValues(n * n), layoutArb, unitValues(n))
      .map(([u, l, b]) => [makeOperand([n, n], u.map((v, i) => (i % (n + 1) === 0 ? n + 1 + v : v)), l), tensor(mapValues(b, "any"))] as const));
    fc.assert(fc.property(arb, fc.integer(), ([A, b], seed) => checkSecondOrder((M) => lib.solve(M, b), A.t, seed, undefined, "solve")), RUNS);
  });

  it("closed forms: (eˣ)″ = eˣ, (log x)″ = −1/x², and the third derivative of x⁴ by nesting", () => {
    const d2 = (f: (x: Tensor) => Tensor) => grad((x: Tensor) => grad((y: Tensor) => f(y))(x));
    expectClose(d2(lib.exp)(tensor(0.7)), Math.exp(0.7), 1e-15, 0, "(eˣ)″");
    expectClose(d2(lib.log)(tensor(2)), -0.25, 1e-15, 0, "(log x)″");
    const d3 = grad((x: Tensor) => d2((y) => lib.pow(y, 4))(x));
    expectClose(d3(tensor(1.5)), 24 * 1.5, 1e-14, 0, "(x⁴)‴");
    const [, t] = jvp((x: Tensor) => grad((y: Tensor) => sum(lib.sin(y)))(x), [tensor([0.3, 1.1])], [tensor([1, 2])]);
    expectClose(t, [-Math.sin(0.3), -2 * Math.sin(1.1)], 1e-15, 0, "jvp of ∇Σ sin");
  });
});
