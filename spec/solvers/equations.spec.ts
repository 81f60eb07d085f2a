/**
 * root, fixedPoint, leastSquares and proximalGradient on problems with known
 * solutions: the Moré–Garbow–Hillstrom residuals as systems and as least
 * squares, large matrix-free systems, Anderson against plain iteration, the
 * proximal operators of the library (soft thresholding, projections).
 */
import { expect } from "chai";
import {
  Tensor, add, concat, cos, div, exp, fixedPoint, leastSquares, matmul, mean, minimize, mul, pow, projectBox, projectNonNegative, projectSimplex,
  proximalGradient, root, sin, slice, softThreshold, sub, sum, tensor, tanh, grad,
} from "../../lib/index.js";
import { ROOT_METHOD_NAMES, FIXED_POINT_METHOD_NAMES, LEAST_SQUARES_METHOD_NAMES } from "../../lib/solvers/methods.js";
import { expectClose, flat } from "../helpers.js";
import { X_REF, Y_REF } from "../implicit/data.js";
import { MGH, at } from "./problems.js";

const byName = (prefix: string) => MGH.find((p) => p.name.startsWith(prefix))!;

describe("solvers/root", () => {
  it("the tables hold the contract's methods, defaults first", () => {
    expect(ROOT_METHOD_NAMES).to.deep.equal(["newton", "broyden", "bisection"]);
    expect(FIXED_POINT_METHOD_NAMES).to.deep.equal(["anderson", "iterate"]);
    expect(LEAST_SQUARES_METHOD_NAMES).to.deep.equal(["levenberg-marquardt", "gauss-newton"]);
  });

  for (const method of ["newton", "broyden"] as const) {
    it(`${method}: Rosenbrock's and the helical valley's residuals as square systems reach their roots from the standard starts`, () => {
      for (const p of [byName("Rosenbrock"), byName("helical")]) {
        const r = root(p.residuals, p.x0, { method });
        expect(r.status, `${p.name}: ${r.message}`).to.equal("converged");
        expectClose(r.x, p.xStar!, 0, 1e-8, p.name);
      }
    });

    it(`${method}: Powell's singular system (singular Jacobian at the root) still converges, linearly`, () => {
      const p = byName("Powell");
      const r = root(p.residuals, p.x0, { method, tol: 1e-10, maxIter: 500 });
      expect(r.status, r.message).to.equal("converged");
      expectClose(r.x, [0, 0, 0, 0], 0, 1e-4);
    });
  }

  it("Powell's badly scaled system (MGH 3: 10⁴x₁x₂ = 1, e^{−x₁} + e^{−x₂} = 1.0001) with Newton", () => {
    const F = (x: Tensor): Tensor => concat([sub(mul(1e4, mul(at(x, 0), at(x, 1))), 1).reshape([1]), sub(add(exp(mul(at(x, 0), -1)), exp(mul(at(x, 1), -1))), 1.0001).reshape([1])]);
    const r = root(F, [0, 1], { tol: 1e-12 });
    expect(r.status, r.message).to.equal("converged");
    expectClose(r.x, [1.098159329699759e-5, 9.106146739866243], 1e-7, 0);
  });

  it("newton: a 300-unknown system (matrix-free GMRES on J's products) and its derivative against finite differences", () => {
    const n = 300;
    const b = tensor(Array.from({ length: n }, (_, i) => Math.sin(i)));
    const F = (y: Tensor, s: Tensor): Tensor => sub(add(mul(2, y), tanh(concat([slice(y, [1], [n - 1]), tensor([0])]))), mul(b, s));
    const r = root(F, new Array(n).fill(0), { args: [1] });
    expect(r.status).to.equal("converged");
    const residual = flat(F(r.x, tensor(1)));
    expect(Math.sqrt(residual.reduce((s, v) => s + v * v, 0))).to.be.at.most(1e-8);
    expect(r.iterations).to.be.at.most(10);
  });

  it("bisection: ignores y0, keeps the dtype of a given y0, and finds cos y = y on [0, 1]", () => {
    const r = root((y: Tensor) => sub(cos(y), y), undefined, { method: "bisection", bracket: [0, 1], tol: 1e-14 });
    expect(r.x.item()).to.be.closeTo(0.7390851332151607, 1e-13);
    expect(r.x.shape).to.deep.equal([]);
    const r32 = root((y: Tensor) => sub(cos(y), y), tensor(123, { dtype: "float32" }), { method: "bisection", bracket: [0, 1] });
    expect(r32.x.dtype).to.equal("float32");
    expect(r32.x.item()).to.be.closeTo(0.7390851, 1e-4);
  });
});

describe("solvers/fixedPoint", () => {
  it("Anderson takes far fewer evaluations than plain iteration on a slow contraction, same fixed point", () => {
    // y = 0.95·cos(y) + 0.05·y + c: contraction factor near 0.95·sin(y*) + 0.05, slow.
    const c = tensor([0.1, 0.2, 0.3, 0.4]);
    const T = (y: Tensor): Tensor => add(add(mul(0.95, cos(y)), mul(0.05, y)), c);
    const a = fixedPoint(T, [0, 0, 0, 0], { tol: 1e-10 });
    const it = fixedPoint(T, [0, 0, 0, 0], { method: "iterate", tol: 1e-10 });
    expect(a.status).to.equal("converged");
    expect(it.status).to.equal("converged");
    expectClose(a.x, it.x, 0, 1e-9);
    expect(a.evaluations * 2).to.be.below(it.evaluations);
  });

  it("Anderson converges where plain iteration diverges (an expanding linear map with a fixed point)", () => {
    const A = tensor([[1.5, 0.2], [0.1, 0.3]]);
    const c = tensor([1, 2]);
    const T = (y: Tensor): Tensor => add(matmul(A, y), c);
    const a = fixedPoint(T, [0, 0], { tol: 1e-10 });
    // (I − A) y = c by hand: det = (1 − 1.5)(1 − 0.3) − 0.02 = −0.37.
    const det = -0.5 * 0.7 - 0.2 * 0.1;
    expectClose(a.x, [(0.7 * 1 + 0.2 * 2) / det, (0.1 * 1 + -0.5 * 2) / det], 1e-9, 0);
    const it = fixedPoint(T, [0, 0], { method: "iterate", throw: false, maxIter: 2000 });
    expect(it.converged).to.equal(false);
    expect(["stalled", "nonFinite"]).to.include(it.status);
  });
});

describe("solvers/leastSquares: Moré–Garbow–Hillstrom residuals", () => {
  for (const method of ["levenberg-marquardt", "gauss-newton"] as const) {
    for (const name of ["Rosenbrock", "helical", "Powell", "Wood", "Beale", "extended Rosenbrock", "Brown and Dennis"]) {
      it(`${method}: ${name}`, () => {
        const p = byName(name);
        const tol = p.fStar > 0 ? 1e-4 : 1e-10;
        const r = leastSquares(p.residuals, p.x0, { method, tol, maxIter: 1000 });
        expect(r.status, r.message).to.equal("converged");
        if (p.fStar === 0) expect(r.value!).to.be.at.most(1e-14);
        else expect(Math.abs(2 * r.value! - p.fStar) / p.fStar).to.be.below(1e-6);
        if (p.xStar) expectClose(r.x, p.xStar, 0, name === "Powell" ? 1e-3 : 1e-6, name);
      });
    }
  }

  it("an overdetermined linear fit equals the normal-equations solution (computed here on plain numbers)", () => {
    const X = tensor(X_REF);
    const y = tensor(Y_REF);
    const r = leastSquares((w: Tensor) => sub(matmul(X, w), y), [0, 0, 0], { tol: 1e-9 });
    // XᵀX w = Xᵀy by Cramer's rule on plain numbers.
    const G = [0, 1, 2].map((i) => [0, 1, 2].map((j) => X_REF.reduce((s, row) => s + row[i] * row[j], 0)));
    const h = [0, 1, 2].map((i) => X_REF.reduce((s, row, k) => s + row[i] * Y_REF[k], 0));
    const det3 = (M: number[][]): number => M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) + M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
    const w = [0, 1, 2].map((c) => det3(G.map((row, i) => row.map((v, j) => (j === c ? h[i] : v)))) / det3(G));
    expectClose(r.x, w, 1e-9, 0);
  });
});

describe("solvers/proximalGradient", () => {
  const X = tensor(X_REF);
  const y = tensor(Y_REF);
  const loss = (w: Tensor): Tensor => mul(0.5, mean(pow(sub(matmul(X, w), y), 2)));

  it("with a box projection as prox it agrees with minimize under the same bounds", () => {
    const lower = tensor([0, 0, 0]);
    const upper = tensor([20, 40, 30]);
    const pg = proximalGradient(loss, [0, 0, 0], { prox: (v: Tensor) => projectBox(v, lower, upper) });
    const mb = minimize(loss, [0, 0, 0], { bounds: [lower, upper] });
    expect(pg.status).to.equal("converged");
    expectClose(pg.x, mb.x, 1e-6, 1e-6);
  });

  it("ISTA (accelerated: false) reaches the lasso solution of REFERENCE_CASES.md too, with more iterations than FISTA", () => {
    const prox = (v: Tensor, step: number): Tensor => softThreshold(v, 10 * step);
    const fista = proximalGradient(loss, [0, 0, 0], { prox });
    const ista = proximalGradient(loss, [0, 0, 0], { prox, accelerated: false, maxIter: 100000 });
    expectClose(ista.x, [62.16485194, 29.03583355, 88.27012188], 1e-8, 0);
    expect(fista.iterations).to.be.at.most(ista.iterations);
  });

  it("a fixed stepSize skips the backtracking; projections onto the simplex and the orthant work as prox", () => {
    const target = tensor([0.5, 0.2, -0.1, 0.9, 0.65]);
    const half = (p: Tensor): Tensor => mul(0.5, sum(pow(sub(p, target), 2)));
    const simplex = proximalGradient(half, [0.2, 0.2, 0.2, 0.2, 0.2], { prox: (v: Tensor) => projectSimplex(v), stepSize: 0.5 });
    expectClose(simplex.x, [0.15, 0, 0, 0.55, 0.3], 0, 1e-8);
    const orthant = proximalGradient(half, [1, 1, 1, 1, 1], { prox: (v: Tensor) => projectNonNegative(v) });
    expectClose(orthant.x, [0.5, 0.2, 0, 0.9, 0.65], 0, 1e-9);
  });
});

describe("solvers: float32", () => {
  it("float32 initial points give float32 solutions, at the float32 default tol (1e-4)", () => {
    const f = (x: Tensor): Tensor => sum(pow(sub(x, tensor([1, 2], { dtype: "float32" })), 2));
    const m = minimize(f, tensor([0, 0], { dtype: "float32" }));
    expect(m.x.dtype).to.equal("float32");
    expect(m.residualNorm).to.be.at.most(1e-4);
    const r = root((v: Tensor) => sub(mul(v, v), 2), tensor([1], { dtype: "float32" }));
    expect(r.x.dtype).to.equal("float32");
    expect(r.x.toArray()[0 as never]).to.be.closeTo(Math.SQRT2, 1e-5);
    void div; void sin;
  });

  it("float32 derivatives: fixedPoint's dx/dθ for x = cos x + θ in float32 (within float32's tolerance)", () => {
    const t0 = tensor(0, { dtype: "float32" });
    const solve = (theta: Tensor): Tensor => fixedPoint((x: Tensor, t: Tensor) => add(cos(x), t), t0, { args: [theta] }).x;
    const d = grad(solve)(t0);
    expect(d.dtype).to.equal("float32");
    expect(d.item()).to.be.closeTo(0.5975100456753034, 1e-4);
    const ls = leastSquares((v: Tensor) => sub(mul(v, v), tensor([2, 3], { dtype: "float32" })), tensor([1, 1], { dtype: "float32" }));
    expect(ls.x.dtype).to.equal("float32");
    expectClose(ls.x, [Math.SQRT2, Math.sqrt(3)], 1e-5, 0);
  });
});
