/**
 * What is particular to LSQR: least squares, minimum norm, rectangular and
 * rank-deficient systems, ‖Aᵀr‖. What every solver of the table promises is
 * in solvers.spec.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import { tensor } from "../../lib/index.js";
import { lsqr, denseOperator, type LinearOperator } from "../../lib/krylov/index.js";
import { expectError } from "../helpers.js";
import {
  expectNear, expectStoppingRule, frobenius, gaussSolve, matmulOf, matvec, norm, randomMatrix, randomVector,
  rectangularSystem, residualNorm, rng, sub, transposeOf, type Matrix,
} from "./helpers.js";

/** ‖Aᵀ(b − A x)‖ from the nested arrays. */
function normalResidual(A: Matrix, x: number[], b: number[]): number {
  return norm(matvec(transposeOf(A), sub(b, matvec(A, x))));
}

describe("lsqr", () => {
  it("gives the least-squares solution of inconsistent full-rank overdetermined systems (normal equations)", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 1e6 }), (n, extra, seed) => {
      const next = rng(seed);
      const m = n + extra + 1;
      const A = randomMatrix(m, n, next).map((row, i) => row.map((v, j) => v + (i === j ? 2 : 0)));
      const b = randomVector(m, next);
      const r = lsqr(tensor(A), tensor(b), { tol: 1e-10 });
      expect(r.converged).to.equal(true);
      const x = Array.from(r.x.toFloat64Array());
      const At = transposeOf(A);
      expectNear(x, gaussSolve(matmulOf(At, A), matvec(At, b)), 1e-7, 1e-9, "x vs normal equations");
      expect(r.residualNorm).to.be.closeTo(residualNorm(A, x, b), 1e-10);
      expect(r.normalResidualNorm).to.be.closeTo(normalResidual(A, x, b), 1e-10);
      // Either rule holds, checked with the true ‖A‖_F as an upper bound on lsqr's estimate.
      const rule = r.residualNorm <= 1e-10 * norm(b) || r.normalResidualNorm <= 1e-10 * frobenius(A) * r.residualNorm;
      expect(rule).to.equal(true);
    }), { numRuns: 50 });
  });

  it("gives the minimum-norm solution of consistent underdetermined systems", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1e6 }), (m, extra, seed) => {
      const next = rng(seed);
      const n = m + extra;
      const A = randomMatrix(m, n, next).map((row, i) => row.map((v, j) => v + (i === j ? 2 : 0)));
      const b = randomVector(m, next);
      const r = lsqr(tensor(A), tensor(b), { tol: 1e-10 });
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b, 1e-10);
      // x† = Aᵀ (A Aᵀ)⁻¹ b.
      const At = transposeOf(A);
      expectNear(r.x, matvec(At, gaussSolve(matmulOf(A, At), b)), 1e-7, 1e-9);
    }), { numRuns: 50 });
  });

  it("gives the minimum-norm least-squares solution of rank-deficient systems from x0 = 0", () => {
    fc.assert(fc.property(rectangularSystem(9, true), ({ A, b, minNorm }) => {
      const r = lsqr(tensor(A), tensor(b), { tol: 1e-12 });
      expect(r.converged).to.equal(true);
      expectNear(r.x, minNorm, 1e-7, 1e-9);
      expect(r.normalResidualNorm).to.be.closeTo(normalResidual(A, Array.from(r.x.toFloat64Array()), b), 1e-10);
    }), { numRuns: 60 });
  });

  it("solves through a LinearOperator with rmatvec and a denseOperator", () => {
    const A = [[1, 2], [3, 4], [5, 6]];
    const b = [1, 0, 1];
    const At = transposeOf(A);
    const truth = gaussSolve(matmulOf(At, A), matvec(At, b));
    const op: LinearOperator = {
      shape: [3, 2],
      matvec: (v) => tensor(matvec(A, Array.from(v.toFloat64Array()))),
      rmatvec: (v) => tensor(matvec(At, Array.from(v.toFloat64Array()))),
    };
    expectNear(lsqr(op, b, { tol: 1e-12 }).x, truth, 1e-9);
    expectNear(lsqr(denseOperator(A), b, { tol: 1e-12 }).x, truth, 1e-9);
  });

  it("names both shapes when A's rows do not match b (the table's checks are in solvers.spec.ts)", () => {
    expectError(() => lsqr(tensor([[1, 0], [0, 1], [1, 1]]), [1, 2]), "lsqr:", "[3,2]", "[2]");
  });

  it("reports ‖Aᵀr‖ beside the statuses: with maxIter on a rectangular system, NaN for nonFinite, 0 for b = 0, and b ⟂ range(A)", () => {
    const next = rng(5);
    const A = randomMatrix(30, 20, next);
    const b = randomVector(30, next);
    const r = lsqr(tensor(A), tensor(b), { maxIter: 2, history: true });
    expect([r.status, r.converged, r.iterations]).to.deep.equal(["maxIter", false, 2]);
    expect(r.residualHistory).to.have.length(3);
    expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-10);
    expect(r.normalResidualNorm).to.be.closeTo(normalResidual(A, Array.from(r.x.toFloat64Array()), b), 1e-10);
    const bad = lsqr(tensor(A), tensor(b.map((v, i) => (i === 7 ? Infinity : v))));
    expect([bad.status, bad.converged]).to.deep.equal(["nonFinite", false]);
    expect(Number.isNaN(bad.normalResidualNorm)).to.equal(true);
    const z = lsqr(tensor(A), tensor(new Array(30).fill(0)), { x0: randomVector(20, next) });
    expect([z.iterations, z.converged, z.residualNorm, z.normalResidualNorm]).to.deep.equal([0, true, 0, 0]);
    // b ⟂ range(A): x = 0 is already the least-squares solution.
    const orth = lsqr(tensor([[1, 0], [0, 1], [0, 0]]), tensor([0, 0, 1]));
    expect([orth.iterations, orth.converged]).to.deep.equal([0, true]);
    expect(orth.residualNorm).to.equal(1);
    expect(orth.normalResidualNorm).to.equal(0);
  });

  it("warm-starts from x0 (the correction is minimum-norm)", () => {
    // A = [1 1]: x0 + the minimum-norm correction keeps x0's null-space part.
    const r = lsqr(tensor([[1, 1]]), tensor([2]), { x0: [3, 0], tol: 1e-12 });
    expect(r.converged).to.equal(true);
    expectNear(r.x, [2.5, -0.5], 1e-12);
  });
});
