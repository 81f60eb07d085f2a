import { expect } from "chai";
import fc from "fast-check";
import { tensor, type Tensor } from "../../lib/index.js";
import { bicgstab, luSolve, type LinearOperator } from "../../lib/krylov/index.js";
import {
  expectNear, expectStoppingRule, gaussSolve, jacobi, matvec, nonsymmetricSystem, norm, randomVector, residualNorm, rng, snapshot,
  spdSystem, stiffDiagonallyDominant, randomMatrix,
} from "./helpers.js";

describe("bicgstab", () => {
  it("solves random nonsymmetric systems and agrees with the dense solvers", () => {
    fc.assert(fc.property(nonsymmetricSystem(12), ({ A, b }) => {
      const r = bicgstab(tensor(A), tensor(b));
      expect(r.status).to.equal("converged");
      expectStoppingRule(A, r.x, b);
      expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-12 * (1 + norm(b)));
      expectNear(r.x, gaussSolve(A, b), 1e-6);
      expectNear(r.x, Array.from(luSolve(tensor(A), tensor(b)).toFloat64Array()), 1e-6);
    }), { numRuns: 60 });
  });

  it("solves SPD systems too", () => {
    fc.assert(fc.property(spdSystem(10), ({ A, b }) => {
      const r = bicgstab(tensor(A), tensor(b), { tol: 1e-10 });
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b, 1e-10);
    }), { numRuns: 30 });
  });

  it("reports a zero denominator as a breakdown: r̂ᵀA p = 0 for a rotation", () => {
    // A is a 90° rotation: A b ⟂ b, so r̂ᵀv = 0 at the first step.
    const r = bicgstab(tensor([[0, 1], [-1, 0]]), tensor([1, 0]));
    expect([r.status, r.converged, r.iterations]).to.deep.equal(["breakdown", false, 0]);
    expect(r.residualNorm).to.equal(1);
  });

  it("reports maxIter with the residual of the returned x", () => {
    const next = rng(17);
    const n = 40;
    const A = randomMatrix(n, n, next).map((row, i) => row.map((v, j) => v + (i === j ? 0.3 : 0)));
    const b = randomVector(n, next);
    const r = bicgstab(tensor(A), tensor(b), { maxIter: 3 });
    expect([r.status, r.converged, r.iterations]).to.deep.equal(["maxIter", false, 3]);
    expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-9);
  });

  it("cuts iterations with a right Jacobi preconditioner on a stiff nonsymmetric system", () => {
    const n = 60;
    const A = stiffDiagonallyDominant(n, false, 29);
    const b = randomVector(n, rng(31));
    const plain = bicgstab(tensor(A), tensor(b), { maxIter: 3000 });
    const pre = bicgstab(tensor(A), tensor(b), { M: jacobi(A), maxIter: 3000 });
    expect(pre.converged).to.equal(true);
    expectStoppingRule(A, pre.x, b);
    expect(pre.iterations).to.be.lessThan(plain.converged ? plain.iterations / 3 : 1000);
  });

  it("handles NaN in b or in a product, b = 0, warm starts and operator kinds", () => {
    const A = [[3, 1, 0], [-1, 2, 1], [0, 1, 4]];
    const b = [1, 2, 3];
    const truth = gaussSolve(A, b);
    const bad = bicgstab(tensor(A), tensor([1, 2, NaN]));
    expect([bad.status, bad.converged, bad.iterations]).to.deep.equal(["nonFinite", false, 0]);
    expect(Number.isNaN(bad.residualNorm)).to.equal(true);
    let calls = 0;
    const poisoned = (v: Tensor): Tensor => (++calls === 3 ? tensor([NaN, 0, 0]) : tensor(matvec(A, Array.from(v.toFloat64Array()))));
    const rn = bicgstab(poisoned, b);
    expect([rn.status, rn.converged]).to.deep.equal(["nonFinite", false]);
    const z = bicgstab(tensor(A), [0, 0, 0], { x0: [4, 5, 6] });
    expect(Array.from(z.x.toFloat64Array())).to.deep.equal([0, 0, 0]);
    expect(bicgstab(tensor(A), b, { x0: truth }).iterations).to.equal(0);
    const op: LinearOperator = { shape: [3, 3], matvec: (v) => tensor(matvec(A, Array.from(v.toFloat64Array()))) };
    expectNear(bicgstab(op, b).x, truth, 1e-7);
    expectNear(bicgstab((v: Tensor) => op.matvec(v), b).x, truth, 1e-7);
  });

  it("mutates none of its inputs", () => {
    const A = tensor([[3, 1], [-1, 2]]);
    const b = tensor([1, 2]);
    const x0 = tensor([0.5, -0.5]);
    const before = [snapshot(A), snapshot(b), snapshot(x0)];
    bicgstab(A, b, { x0, M: (v: Tensor) => v });
    expect([snapshot(A), snapshot(b), snapshot(x0)]).to.deep.equal(before);
  });
});
