/**
 * Derivatives of solutions: against the closed forms of ../shared/REFERENCE_CASES.md
 * (ridge, lasso, the fixed point of cos, the square root), against finite
 * differences of re-solves, in both modes and at second order, w.r.t. args
 * and w.r.t. traced values fn (or prox) captures; never by unrolling.
 */
import { expect } from "chai";
import {
  Tensor, add, cos, div, exp, fixedPoint, grad, hessian, jacobian, jvp, leastSquares, matmul, mean, minimize, mul, pow, proximalGradient, root,
  slice, softThreshold, sub, sum, tensor, vjp, concat, traceTape,
} from "../../lib/index.js";
import { expectClose, flat, inner } from "../helpers.js";
import { X_REF, Y_REF } from "../implicit/data.js";

const X = tensor(X_REF);
const y = tensor(Y_REF);
const dataLoss = (w: Tensor): Tensor => mul(0.5, mean(pow(sub(matmul(X, w), y), 2)));
const ridge = (w: Tensor, lam: Tensor | number): Tensor => add(dataLoss(w), mul(mul(0.5, lam), sum(mul(w, w))));
const W0 = [0, 0, 0];
const RIDGE_W = [16.51390727, 8.20625411, 23.62360791];
const RIDGE_DW = [-2.50171644, -1.26718286, -3.54263662];

/** (XᵀX/n + λI)⁻¹ v by Gaussian elimination on plain numbers (independent of the library). */
function ridgeSolve(lam: number, v: number[]): number[] {
  const n = 3;
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => X_REF.reduce((s, row) => s + row[i] * row[j], 0) / X_REF.length + (i === j ? lam : 0)));
  const b = v.slice();
  for (let c = 0; c < n; c++) {
    for (let r = c + 1; r < n; r++) {
      const f = A[r][c] / A[c][c];
      for (let k = c; k < n; k++) A[r][k] -= f * A[c][k];
      b[r] -= f * b[c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) x[r] = (b[r] - A[r].slice(r + 1).reduce((s, a, k) => s + a * x[r + 1 + k], 0)) / A[r][r];
  return x;
}

describe("solvers/derivatives: closed forms (REFERENCE_CASES.md)", () => {
  for (const method of ["lbfgs", "bfgs", "newton-cg", "gradient-descent"] as const) {
    it(`ridge w(λ) and dw/dλ at λ = 5 through minimize (${method}), forward and reverse`, () => {
      const solve = (lam: Tensor | number): Tensor => minimize(ridge, W0, { args: [lam], method, maxIter: 100000 }).x;
      expectClose(solve(5), RIDGE_W, 1e-8, 0, "w*");
      const [, dw] = jvp(solve, [tensor(5)], [tensor(1)]);
      expectClose(dw, RIDGE_DW, 1e-7, 0, "dw/dλ (jvp)");
      const J = jacobian(solve, { mode: "rev" })(tensor(5));
      expectClose(J, RIDGE_DW, 1e-7, 0, "dw/dλ (reverse)");
    });
  }

  it("ridge at second order: d²w/dλ² = 2A⁻²w in both modes (A = XᵀX/n + λI)", () => {
    const solve = (lam: Tensor): Tensor => minimize(ridge, W0, { args: [lam] }).x;
    const w = ridgeSolve(5, X_REF[0].map((_, j) => X_REF.reduce((s, row, i) => s + row[j] * Y_REF[i], 0) / X_REF.length));
    const second = ridgeSolve(5, ridgeSolve(5, w)).map((v) => 2 * v);
    const fwd = jvp((lam: Tensor) => jvp(solve, [lam], [tensor(1)])[1], [tensor(5)], [tensor(1)])[1];
    expectClose(fwd, second, 1e-6, 1e-12, "forward over forward");
    const rev = [0, 1, 2].map((i) => grad((lam: Tensor) => grad((l: Tensor) => slice(solve(l), [i], [1]).sum())(lam))(tensor(5)).item());
    expectClose(rev, second, 1e-6, 1e-12, "reverse over reverse");
  });

  for (const lam of [10, 1]) {
    it(`lasso w(λ) and dw/dλ at λ = ${lam} through proximalGradient with softThreshold`, () => {
      const solve = (l: Tensor | number): Tensor => proximalGradient(dataLoss, W0, { args: [l], prox: (v: Tensor, step: number, lamArg: Tensor) => softThreshold(v, mul(step, lamArg)) }).x;
      expectClose(solve(lam), lam === 10 ? [62.16485194, 29.03583355, 88.27012188] : [67.58031211, 35.25929441, 93.76433925], 1e-8, 0, "w*");
      const expected = [-0.6017178, -0.69149565, -0.6104686];
      expectClose(jvp(solve, [tensor(lam)], [tensor(1)])[1], expected, 1e-6, 0, "dw/dλ (jvp)");
      expectClose(jacobian(solve, { mode: "rev" })(tensor(lam)), expected, 1e-6, 0, "dw/dλ (reverse)");
    });
  }

  for (const method of ["anderson", "iterate"] as const) {
    it(`x = cos x + θ at θ = 0 through fixedPoint (${method}): x* and dx/dθ = 1/(1 + sin x*), and d²x/dθ² = −cos x*·(dx/dθ)³`, () => {
      const solve = (theta: Tensor | number): Tensor => fixedPoint((x: Tensor, t: Tensor) => add(cos(x), t), 0, { args: [theta], method, tol: 1e-12 }).x;
      const xStar = 0.7390851332151607;
      expectClose(solve(0), [xStar], 1e-11, 0);
      const d1 = 0.5975100456753034;
      expectClose(grad(solve)(tensor(0)), [d1], 1e-9, 0, "reverse");
      expectClose(jvp(solve, [tensor(0)], [tensor(1)])[1], [d1], 1e-9, 0, "forward");
      expectClose(grad(grad(solve))(tensor(0)), [-Math.cos(xStar) * d1 ** 3], 1e-7, 0, "second order");
    });
  }

  for (const method of ["newton", "broyden", "bisection"] as const) {
    it(`√x as the root of y² − x through root (${method}): dy/dx = 1/(2√x), d²y/dx² = −1/(4x^{3/2})`, () => {
      const solve = (x: Tensor | number): Tensor => root((v: Tensor, a: Tensor) => sub(mul(v, v), a), method === "bisection" ? undefined : 1, { args: [x], method, tol: 1e-12, ...(method === "bisection" ? { bracket: [0, 10] as [number, number] } : {}) }).x;
      expectClose(solve(2), [Math.SQRT2], 1e-11, 0);
      expectClose(grad(solve)(tensor(2)), [1 / (2 * Math.SQRT2)], 1e-9, 0);
      expectClose(jvp(solve, [tensor(2)], [tensor(1)])[1], [1 / (2 * Math.SQRT2)], 1e-9, 0);
      expectClose(grad(grad(solve))(tensor(2)), [-1 / (4 * 2 ** 1.5)], 1e-7, 0);
    });
  }
});

describe("solvers/derivatives: captured traced values", () => {
  it("minimize: grad w.r.t. a λ that fn closes over (not passed in args) equals dw/dλ", () => {
    const solve = (lam: Tensor): Tensor => minimize((w: Tensor) => ridge(w, lam), W0).x;
    expectClose(jvp(solve, [tensor(5)], [tensor(1)])[1], RIDGE_DW, 1e-7, 0, "forward");
    expectClose(jacobian(solve, { mode: "rev" })(tensor(5)), RIDGE_DW, 1e-7, 0, "reverse");
  });

  it("minimize: a captured data vector and an arg together (argnums [0, 1]) match finite differences of re-solves", () => {
    const target = tensor([1, -2, 0.5]);
    const solve = (t: Tensor, scale: Tensor): Tensor => minimize((w: Tensor, s: Tensor) => add(sum(pow(sub(w, t), 4)), mul(s, sum(mul(w, w)))), W0, { args: [scale] }).x;
    const outer = (t: Tensor, s: Tensor): Tensor => sum(mul(solve(t, s), tensor([1, 2, 3])));
    const [gt, gs] = grad(outer, { argnums: [0, 1] })(target, tensor(0.7));
    const h = 1e-5;
    const fd = (dt: number[], ds: number): number => (outer(add(target, mul(h, tensor(dt))), tensor(0.7 + h * ds)).item() - outer(sub(target, mul(h, tensor(dt))), tensor(0.7 - h * ds)).item()) / (2 * h);
    expectClose(gt, [fd([1, 0, 0], 0), fd([0, 1, 0], 0), fd([0, 0, 1], 0)], 1e-5, 1e-7, "∂/∂target");
    expectClose(gs, [fd([0, 0, 0], 1)], 1e-5, 1e-7, "∂/∂scale");
  });

  it("proximalGradient: λ captured by prox (not in args) is differentiated like an arg", () => {
    const solve = (lam: Tensor): Tensor => proximalGradient(dataLoss, W0, { prox: (v: Tensor, step: number) => softThreshold(v, mul(step, lam)) }).x;
    expectClose(jvp(solve, [tensor(10)], [tensor(1)])[1], [-0.6017178, -0.69149565, -0.6104686], 1e-6, 0);
    expectClose(jacobian(solve, { mode: "rev" })(tensor(10)), [-0.6017178, -0.69149565, -0.6104686], 1e-6, 0);
  });

  it("fixedPoint: θ captured by fn, at second order (forward over reverse)", () => {
    const solve = (theta: Tensor): Tensor => fixedPoint((x: Tensor) => add(cos(x), theta), 0, { tol: 1e-12 }).x;
    const xStar = 0.7390851332151607;
    const d1 = 0.5975100456753034;
    expectClose(jvp(grad(solve), [tensor(0)], [tensor(1)])[1], [-Math.cos(xStar) * d1 ** 3], 1e-7, 0);
  });
});

describe("solvers/derivatives: finite differences and the two modes", () => {
  it("leastSquares: the fitted (a, k) of a·exp(k t) w.r.t. the observations, both methods, against finite differences", () => {
    const t = tensor([0, 1, 2, 3, 4, 5]);
    const obs0 = tensor([2, 1.2, 0.75, 0.45, 0.28, 0.17]);
    for (const method of ["levenberg-marquardt", "gauss-newton"] as const) {
      const fit = (obs: Tensor): Tensor => leastSquares((p: Tensor, o: Tensor) => sub(mul(slice(p, [0], [1]), exp(mul(slice(p, [1], [1]), t))), o), [1, 0], { args: [obs], method, tol: 1e-10 }).x;
      const J = jacobian(fit, { mode: "rev" })(obs0);
      const Jf = jacobian(fit, { mode: "fwd" })(obs0);
      const h = 1e-6;
      const fd: number[][] = [[], []];
      for (let j = 0; j < 6; j++) {
        const e = new Array(6).fill(0);
        e[j] = h;
        const plus = flat(fit(add(obs0, tensor(e))));
        const minus = flat(fit(sub(obs0, tensor(e))));
        fd[0].push((plus[0] - minus[0]) / (2 * h));
        fd[1].push((plus[1] - minus[1]) / (2 * h));
      }
      expectClose(J, fd.flat(), 1e-5, 1e-8, `${method} reverse`);
      expectClose(Jf, fd.flat(), 1e-5, 1e-8, `${method} forward`);
    }
  });

  it("root (Newton, matrix-free above 100 unknowns): a 150-unknown system's solution against finite differences, and ⟨ȳ, J ẋ⟩ = ⟨Jᵀ ȳ, ẋ⟩", () => {
    const n = 150;
    const c = tensor(Array.from({ length: n }, (_, i) => 1 + 0.5 * Math.sin(i)));
    // F(y) = y³/3 + y + 0.1·(y shifted by one) − c·s: a well-posed nonlinear system (J diagonally dominant).
    const F = (v: Tensor, s: Tensor): Tensor => {
      const shifted = concat([slice(v, [1], [n - 1]), tensor([0])]);
      return sub(add(add(div(mul(mul(v, v), v), 3), v), mul(0.1, shifted)), mul(c, s));
    };
    const solve = (s: Tensor): Tensor => root(F, new Array(n).fill(0), { args: [s], tol: 1e-12 }).x;
    const s0 = tensor(1.3);
    const [out, dx] = jvp(solve, [s0], [tensor(1)]);
    const h = 1e-6;
    const fd = flat(sub(solve(tensor(1.3 + h)), solve(tensor(1.3 - h)))).map((v) => v / (2 * h));
    expectClose(dx, fd, 1e-5, 1e-8);
    const ybar = tensor(Array.from({ length: n }, (_, i) => Math.cos(i)));
    const [, pullback] = vjp(solve, s0);
    expect(inner(ybar, dx)).to.be.closeTo(pullback(ybar)[0].item(), 1e-8 * Math.abs(inner(ybar, dx)) + 1e-12);
    expect(out.shape).to.deep.equal([n]);
  });

  it("minimize with bounds: dx/da is 1 on free coordinates and 0 at active bounds; dx/d(upper) is 1 where x sits at a traced upper bound", () => {
    const a0 = tensor([-3, 0.25, 7, 0.5]);
    const solve = (a: Tensor, upper: Tensor): Tensor => minimize((x: Tensor) => mul(0.5, sum(pow(sub(x, a), 2))), [0, 0, 0, 0], { bounds: [tensor([-1, 0, -Infinity, 0]), upper] }).x;
    const upper0 = tensor([Infinity, 1, 5, 1]);
    const Ja = jacobian((a: Tensor) => solve(a, upper0))(a0);
    expectClose(Ja, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 0, 1e-9, "dx/da");
    const du = jvp((u: Tensor) => solve(a0, u), [tensor([1e6, 1, 5, 1])], [tensor([0, 0, 1, 0])])[1];
    expectClose(du, [0, 0, 1, 0], 0, 1e-9, "dx/d(upper₂)");
  });

  it("hessian of an outer loss through minimize matches finite differences of its gradient (reverse over reverse)", () => {
    const outer = (lam: Tensor): Tensor => sum(pow(minimize(ridge, W0, { args: [lam] }).x, 2));
    const H = hessian(outer)(tensor(5)).item();
    const h = 1e-4;
    const g = (l: number): number => grad(outer)(tensor(l)).item();
    expect(H).to.be.closeTo((g(5 + h) - g(5 - h)) / (2 * h), 1e-6 * Math.abs(H));
  });

  it("opts.implicit chooses the derivative's linear solver (cg, minres, gmres, direct: the same dw/dλ); misuse names the entry", () => {
    for (const linearSolver of ["cg", "minres", "gmres", "direct"] as const) {
      const solve = (lam: Tensor): Tensor => minimize(ridge, W0, { args: [lam], implicit: { linearSolver, positiveDefinite: linearSolver === "cg", tol: 1e-12 } }).x;
      expectClose(jvp(solve, [tensor(5)], [tensor(1)])[1], RIDGE_DW, 1e-7, 0, linearSolver);
    }
    expect(() => minimize(ridge, W0, { args: [5], implicit: { linearSolver: "qr" } as never })).to.throw(/^minimize: implicit.linearSolver must be one of "auto"/);
    expect(() => minimize(ridge, W0, { args: [5], implicit: { solver: "cg" } as never })).to.throw(/^minimize: unknown entry implicit.solver/);
  });

  it("the iterations are never taped: the tape holds one minimize node however many iterations ran", () => {
    const f = (lam: Tensor): Tensor => sum(minimize((x: Tensor, l: Tensor) => add(sum(pow(sub(x, l), 4)), sum(mul(x, x))), [0, 0, 0], { args: [lam], method: "gradient-descent" }).x);
    const entries = traceTape(f, tensor(2)).entries;
    expect(entries.map((e) => e.op)).to.deep.equal(["input", "minimize", "sum"]);
    expect(entries[1].custom).to.equal(true);
  });

  it("a solver inside another solver's objective (bilevel): x(λ) = λ/0.7 and dx/dλ = 1/0.7 by hand", () => {
    // inner z(x) = argmin (z − x)² + z² = x/2; outer x(λ) = argmin (z(x) − λ)² + 0.1x², so x/2 − λ + 0.2x = 0.
    const inner = (x: Tensor): Tensor => minimize((z: Tensor, xx: Tensor) => add(pow(sub(z, xx), 2), pow(z, 2)), 0, { args: [x] }).x;
    const outer = (lam: Tensor): Tensor => minimize((x: Tensor, l: Tensor) => add(pow(sub(inner(x), l), 2), mul(0.1, pow(x, 2))), 0, { args: [lam] }).x;
    expect(outer(tensor(1)).item()).to.be.closeTo(1 / 0.7, 1e-8);
    expect(grad(outer)(tensor(1)).item()).to.be.closeTo(1 / 0.7, 1e-7);
    expect(jvp(outer, [tensor(1)], [tensor(1)])[1].item()).to.be.closeTo(1 / 0.7, 1e-7);
  });
});
