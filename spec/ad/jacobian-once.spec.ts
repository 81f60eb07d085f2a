/**
 * Forward-mode `jacobian` and `hessian` evaluate f once (lib/ad/jacobian.ts):
 * f is linearised once and the linear part applied to each basis direction, so
 * an ImplicitFunction inside runs `forward` once per call, not once per
 * direction. The truth is the same derivative taken through the `solve`
 * primitive (no implicit function), and finite differences of the gradient.
 */
import { expect } from "chai";
import {
  ImplicitFunction, Tensor, add, concat, exp, eye, grad, hessian, jacobian, jvp, linearize, matmul, mul, pow, sin, solve, stationarityConditions, sub, sum, tanh, tensor, transpose,
} from "../../lib/index.js";
import { expectClose } from "../helpers.js";
import { randomMatrix } from "./fixtures.js";

/**
 * A bilevel problem with 30 hyperparameters: ridge regression with one penalty
 * per feature, w*(λ) = argmin ½‖X w − t‖² + ½ Σ exp(λᵢ) wᵢ², and the validation
 * loss ½‖V w*(λ) − s‖². ∂F/∂w = XᵀX + diag(exp λ) has 30 unknowns.
 */
const features = 30;
const X = tensor(randomMatrix(45, features, 31));
const V = tensor(randomMatrix(25, features, 32));
const t = tensor(Array.from({ length: 45 }, (_, i) => Math.sin(i)));
const s = tensor(Array.from({ length: 25 }, (_, i) => Math.cos(i)));
const XtX = matmul(transpose(X), X);
const Xtt = matmul(transpose(X), t);
/** diag(exp λ) as a matrix: the identity scaled column by column. */
const diagonal = (lambda: Tensor) => mul(eye(features), exp(lambda));
const lambda0 = tensor(Array.from({ length: features }, (_, i) => -1 + 0.05 * i));

function counted(extra: Record<string, unknown> = {}): { f: ImplicitFunction; runs: () => number } {
  let runs = 0;
  const f = new ImplicitFunction({
    forward: (lambda: Tensor) => {
      runs++;
      return solve(add(XtX, diagonal(lambda)), Xtt);
    },
    ...stationarityConditions((lambda: Tensor, w: Tensor) => add(mul(0.5, sum(pow(sub(matmul(X, w), t), 2))), mul(0.5, sum(mul(exp(lambda), mul(w, w)))))),
    ...extra,
  });
  return { f, runs: () => runs };
}

const validation = (w: Tensor) => mul(0.5, sum(pow(sub(matmul(V, w), s), 2)));
/** The same loss through the differentiable `solve` primitive: the independent truth. */
const throughSolve = (lambda: Tensor) => validation(solve(add(XtX, diagonal(lambda)), Xtt));

describe("jacobian and hessian in forward mode evaluate f once", () => {
  for (const linearSolver of ["auto", "direct"]) {
    it(`a 30×30 hessian through a bilevel problem runs forward once (linearSolver "${linearSolver}")`, () => {
      const { f, runs } = counted({ linearSolver });
      const H = hessian((lambda: Tensor) => validation(f.call(lambda)))(lambda0);
      expect(runs()).to.equal(1); // it ran 30 times, once per direction
      expect(H.shape).to.deep.equal([features, features]);
      const truth = hessian(throughSolve)(lambda0);
      expectClose(H, truth, 1e-7, 1e-10);
      // Symmetric, and the columns are finite differences of the gradient.
      const h = H.toFloat64Array();
      for (let i = 0; i < features; i++) for (let j = 0; j < i; j++) expect(Math.abs(h[i * features + j] - h[j * features + i])).to.be.below(1e-8 * (1 + Math.abs(h[i * features + j])));
      const g = grad(throughSolve);
      const eps = 1e-5;
      for (const j of [0, 13, 29]) {
        const e = tensor(Array.from({ length: features }, (_, i) => (i === j ? eps : 0)));
        const column = mul(1 / (2 * eps), sub(g(add(lambda0, e)), g(sub(lambda0, e)))).toFloat64Array();
        for (let i = 0; i < features; i++) expect(Math.abs(h[i * features + j] - column[i]), `H[${i}][${j}]`).to.be.below(1e-6 * (1 + Math.abs(column[i])));
      }
    });
  }

  it("jacobian in mode \"fwd\" runs forward once, reverse mode did already; \"auto\" adds the plain evaluation that picks the mode", () => {
    for (const mode of ["fwd", "rev", "auto"] as const) {
      const { f, runs } = counted();
      const J = jacobian((lambda: Tensor) => f.call(lambda), { mode })(lambda0);
      expect(runs(), mode).to.equal(mode === "auto" ? 2 : 1);
      expectClose(J, jacobian((lambda: Tensor) => solve(add(XtX, diagonal(lambda)), Xtt), { mode: "rev" })(lambda0), 1e-8, 1e-12, mode);
    }
  });

  it("one call serves every direction: the conditions are traced as often for 30 directions as for one linearize and one application", () => {
    let traced = 0;
    const { f, runs } = counted({ linearSolver: "direct" });
    const watched = new ImplicitFunction({
      forward: (lambda: Tensor) => f.forward(lambda) as Tensor,
      conditions: (lambda: Tensor, w: Tensor) => {
        traced++;
        return f.conditions(lambda, w) as Tensor;
      },
      linearSolver: "direct",
    });
    const [, lin] = linearize((lambda: Tensor) => watched.call(lambda), lambda0);
    lin(tensor(new Array<number>(features).fill(1)));
    const perCall = traced;
    traced = 0;
    jacobian((lambda: Tensor) => watched.call(lambda), { mode: "fwd" })(lambda0);
    expect(runs()).to.equal(2); // one linearize, one jacobian
    expect(traced).to.equal(perCall);
    expect(watched.lastSolve).to.include({ solver: "direct", converged: true });
  });
});

describe("forward-mode jacobian from one linearisation, nested", () => {
  const xs = tensor([0.3, -1.2, 2.0, 0.7]);

  it("differentiated itself: grad and jvp of Σ J(x; c) for J = ∂/∂x sin(c·x), against the closed form", () => {
    const total = (c: Tensor) => sum(jacobian((x: Tensor) => sin(mul(c, x)), { mode: "fwd" })(xs));
    // Σᵢ c·cos(c xᵢ), whose derivative in c is Σᵢ cos(c xᵢ) − c xᵢ sin(c xᵢ).
    const c = 0.8;
    const x = Array.from(xs.toFloat64Array());
    const truth = x.reduce((a, xi) => a + Math.cos(c * xi) - c * xi * Math.sin(c * xi), 0);
    expectClose(grad(total)(tensor(c)), truth, 1e-12, 1e-14, "grad");
    expectClose(jvp(total, [tensor(c)], [tensor(1)])[1], truth, 1e-12, 1e-14, "jvp");
    expectClose(total(tensor(c)), x.reduce((a, xi) => a + c * Math.cos(c * xi), 0), 1e-12, 1e-14, "value");
  });

  it("a Jacobian large enough to run the fused program (80×80): tanh(A x) + x², against the closed form, and the same unfused", () => {
    const n = 80;
    const A = randomMatrix(n, n, 33);
    const x = Array.from({ length: n }, (_, i) => Math.sin(i));
    const z = A.map((row) => row.reduce((a, v, j) => a + v * x[j], 0));
    const truth = A.flatMap((row, i) => row.map((v, j) => v * (1 - Math.tanh(z[i]) ** 2) + (i === j ? 2 * x[i] : 0)));
    const f = (t: Tensor) => add(tanh(matmul(tensor(A), t)), mul(t, t));
    expectClose(jacobian(f, { mode: "fwd" })(tensor(x)), truth, 1e-12, 1e-14, "fused");
    // 8 inputs × 80 outputs = 640 entries: unfused applications.
    const narrow = (t: Tensor) => f(concat([t, tensor(x.slice(8))]));
    const J = jacobian(narrow, { mode: "fwd" })(tensor(x.slice(0, 8))).toFloat64Array();
    for (let i = 0; i < n; i++) for (let j = 0; j < 8; j++) expect(Math.abs(J[i * 8 + j] - truth[i * n + j]), `J[${i}][${j}]`).to.be.below(1e-12);
  });

  it("no perturbation confusion: d/dx Σ x ⊙ ∂/∂y(x + y) is 1, not 2", () => {
    const g = (x: Tensor) => sum(mul(x, jacobian((y: Tensor) => add(x, y), { mode: "fwd" })(x)));
    expectClose(grad(g)(xs), [1, 1, 1, 1], 1e-14, 1e-14);
    expectClose(jvp(g, [xs], [tensor([1, 0, 0, 0])])[1], 1, 1e-14, 1e-14);
  });
});
