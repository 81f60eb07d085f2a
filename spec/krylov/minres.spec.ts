import { expect } from "chai";
import fc from "fast-check";
import { tensor, type Tensor } from "../../lib/index.js";
import { minres, luSolve, type LinearOperator } from "../../lib/krylov/index.js";
import {
  expectNear, expectStoppingRule, gaussSolve, indefiniteSystem, jacobi, matvec, norm, orthogonal, randomVector, residualNorm, rng,
  singularSymmetricSystem, snapshot, spdSystem, stiffDiagonallyDominant, withSpectrum,
} from "./helpers.js";

describe("minres", () => {
  it("solves random SPD systems", () => {
    fc.assert(fc.property(spdSystem(12), ({ A, b }) => {
      const r = minres(tensor(A), tensor(b));
      expect(r.status).to.equal("converged");
      expectStoppingRule(A, r.x, b);
      expectNear(r.x, gaussSolve(A, b), 1e-7);
    }), { numRuns: 40 });
  });

  it("solves random symmetric indefinite systems and agrees with the dense solvers", () => {
    fc.assert(fc.property(indefiniteSystem(12), ({ A, b }) => {
      const r = minres(tensor(A), tensor(b));
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b);
      // κ ≤ 6 here.
      expectNear(r.x, gaussSolve(A, b), 1e-7);
      expectNear(r.x, Array.from(luSolve(tensor(A), tensor(b)).toFloat64Array()), 1e-7);
      expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-12 * (1 + norm(b)));
    }), { numRuns: 60 });
  });

  it("reaches the minimum-norm solution of singular consistent systems from x0 = 0", () => {
    fc.assert(fc.property(singularSymmetricSystem(10), ({ A, b, minNorm }) => {
      const r = minres(tensor(A), tensor(b), { tol: 1e-10 });
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b, 1e-10);
      expectNear(r.x, minNorm, 1e-7, 1e-9);
    }), { numRuns: 60 });
  });

  it("from x0 ≠ 0 on a singular system it keeps x0's null-space part", () => {
    // A = diag(2, −1, 0): the null space is e3, so x = A⁺b + (x0)₃ e3.
    const r = minres(tensor([[2, 0, 0], [0, -1, 0], [0, 0, 0]]), tensor([2, 3, 0]), { x0: [5, 5, 7] });
    expect(r.converged).to.equal(true);
    expectNear(r.x, [1, -3, 7], 1e-10);
  });

  it("does not claim convergence on an inconsistent singular system", () => {
    const r = minres(tensor([[1, 0], [0, 0]]), tensor([1, 1]));
    expect(r.converged).to.equal(false);
    expect(["breakdown", "maxIter"]).to.include(r.status);
    // Any x with x₁ = 1 is a least-squares solution (residual [0, 1]).
    expect(r.residualNorm).to.be.closeTo(1, 1e-12);
    expect(r.x.toFloat64Array()[0]).to.be.closeTo(1, 1e-12);
    fc.assert(fc.property(fc.integer({ min: 1, max: 10000 }), (seed) => {
      const next = rng(seed);
      const n = 6;
      const A = withSpectrum(orthogonal(n, next), [2, -1, 1.5, 0, 0, -3]);
      const b = randomVector(n, next);
      const res = minres(tensor(A), tensor(b), { maxIter: 100 });
      expect(res.converged).to.equal(false);
      expect(Number.isFinite(res.residualNorm)).to.equal(true);
      expect(res.residualNorm).to.be.closeTo(residualNorm(A, Array.from(res.x.toFloat64Array()), b), 1e-9);
    }), { numRuns: 30 });
  });

  it("uses an SPD preconditioner to cut iterations on an ill-conditioned system", () => {
    const n = 60;
    const A = stiffDiagonallyDominant(n, true, 3);
    // Make it indefinite: flip the sign of every other row and column pair's diagonal block.
    const S = A.map((row, i) => row.map((v, j) => (i === j && i % 3 === 0 ? -v : v)));
    const b = randomVector(n, rng(9));
    const plain = minres(tensor(S), tensor(b), { maxIter: 3000 });
    const pre = minres(tensor(S), tensor(b), { M: jacobi(A), maxIter: 3000 });
    expect(plain.converged).to.equal(true);
    expect(pre.converged).to.equal(true);
    expectStoppingRule(S, pre.x, b);
    expect(pre.iterations).to.be.lessThan(plain.iterations / 3);
  });

  it("reports an indefinite preconditioner as a breakdown", () => {
    const r = minres(tensor([[2, 0], [0, 3]]), tensor([1, 1]), { M: (v: Tensor) => tensor([v.toFloat64Array()[0], -v.toFloat64Array()[1]]) });
    expect(r.status).to.equal("breakdown");
    expect(r.converged).to.equal(false);
  });

  it("stops at maxIter, on NaN, and returns zeros for b = 0", () => {
    const next = rng(4);
    const n = 30;
    const A = withSpectrum(orthogonal(n, next), Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (1 + i)));
    const b = randomVector(n, next);
    const r = minres(tensor(A), tensor(b), { maxIter: 4 });
    expect([r.status, r.converged, r.iterations]).to.deep.equal(["maxIter", false, 4]);
    expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-10);
    expect(minres(tensor(A), tensor(b.map((v, i) => (i === 3 ? NaN : v)))).status).to.equal("nonFinite");
    let calls = 0;
    const nanAfterTwo = (v: Tensor): Tensor => (++calls > 2 ? tensor(new Array(n).fill(NaN)) : tensor(matvec(A, Array.from(v.toFloat64Array()))));
    const rn = minres(nanAfterTwo, b);
    expect([rn.status, rn.converged, rn.iterations]).to.deep.equal(["nonFinite", false, 2]);
    const z = minres(tensor(A), tensor(new Array(n).fill(0)), { x0: b });
    expect([z.iterations, z.converged]).to.deep.equal([0, true]);
    expect(Array.from(z.x.toFloat64Array())).to.deep.equal(new Array(n).fill(0));
  });

  it("works through a LinearOperator and leaves inputs untouched", () => {
    const A = [[3, 1, 0], [1, -2, 1], [0, 1, 1]];
    const op: LinearOperator = { shape: [3, 3], matvec: (v) => tensor(matvec(A, Array.from(v.toFloat64Array()))) };
    const bT = tensor([1, 2, 3]);
    const AT = tensor(A);
    const before = [snapshot(AT), snapshot(bT)];
    const r1 = minres(op, bT);
    const r2 = minres(AT, bT, { x0: tensor([1, 1, 1]) });
    expectNear(r1.x, gaussSolve(A, [1, 2, 3]), 1e-7);
    expectNear(r2.x, gaussSolve(A, [1, 2, 3]), 1e-7);
    expect([snapshot(AT), snapshot(bT)]).to.deep.equal(before);
  });
});
