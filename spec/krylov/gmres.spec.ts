import { expect } from "chai";
import fc from "fast-check";
import { tensor, type Tensor } from "../../lib/index.js";
import { gmres, luSolve, linearOperator } from "../../lib/krylov/index.js";
import {
  expectNear, expectStoppingRule, gaussSolve, indefiniteSystem, jacobi, matvec, nonsymmetricSystem, norm, orthogonal, randomVector,
  residualNorm, rng, singularSymmetricSystem, snapshot, stiffDiagonallyDominant, withSpectrum,
} from "./helpers.js";

describe("gmres", () => {
  it("solves random nonsymmetric systems and agrees with the dense solvers", () => {
    fc.assert(fc.property(nonsymmetricSystem(12), ({ A, b }) => {
      const r = gmres(tensor(A), tensor(b));
      expect(r.status).to.equal("converged");
      expectStoppingRule(A, r.x, b);
      expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-12 * (1 + norm(b)));
      expectNear(r.x, gaussSolve(A, b), 1e-6);
      expectNear(r.x, Array.from(luSolve(tensor(A), tensor(b)).toFloat64Array()), 1e-6);
    }), { numRuns: 60 });
  });

  it("solves random symmetric indefinite systems", () => {
    fc.assert(fc.property(indefiniteSystem(12), ({ A, b }) => {
      const r = gmres(tensor(A), tensor(b));
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b);
      expectNear(r.x, gaussSolve(A, b), 1e-7);
    }), { numRuns: 40 });
  });

  it("converges with short restarts, counting inner iterations against maxIter", () => {
    fc.assert(fc.property(nonsymmetricSystem(14), fc.integer({ min: 1, max: 4 }), ({ A, b }, restart) => {
      const r = gmres(tensor(A), tensor(b), { restart, maxIter: 500 });
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b);
    }), { numRuns: 40 });
    const next = rng(21);
    const n = 30;
    const A = withSpectrum(orthogonal(n, next), Array.from({ length: n }, (_, i) => 1 + i * i));
    const b = randomVector(n, next);
    const r = gmres(tensor(A), tensor(b), { restart: 3, maxIter: 7, history: true });
    expect([r.status, r.converged, r.iterations]).to.deep.equal(["maxIter", false, 7]);
    expect(r.residualHistory).to.have.length(8);
    expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-10);
    // Within a cycle GMRES minimises the residual: the estimates never increase.
    const h = r.residualHistory!;
    for (let i = 1; i < h.length; i++) expect(h[i]).to.be.at.most(h[i - 1] * (1 + 1e-12));
  });

  it("reaches the minimum-norm solution of singular consistent symmetric systems from x0 = 0", () => {
    fc.assert(fc.property(singularSymmetricSystem(10), ({ A, b, minNorm }) => {
      const r = gmres(tensor(A), tensor(b), { tol: 1e-10 });
      expect(r.converged).to.equal(true);
      expectStoppingRule(A, r.x, b, 1e-10);
      expectNear(r.x, minNorm, 1e-7, 1e-9);
    }), { numRuns: 50 });
  });

  it("reports an inconsistent singular system as a breakdown, with a finite least-squares x", () => {
    const r = gmres(tensor([[1, 0], [0, 0]]), tensor([1, 1]));
    expect(r.status).to.equal("breakdown");
    expect(r.converged).to.equal(false);
    expect(r.residualNorm).to.be.closeTo(1, 1e-12);
    expect(r.x.toFloat64Array()[0]).to.be.closeTo(1, 1e-12);
    fc.assert(fc.property(fc.integer({ min: 1, max: 10000 }), (seed) => {
      const next = rng(seed);
      const n = 6;
      const A = withSpectrum(orthogonal(n, next), [2, -1, 1.5, 0, 0, -3]);
      const b = randomVector(n, next);
      const res = gmres(tensor(A), tensor(b), { maxIter: 60 });
      expect(res.converged).to.equal(false);
      expect(Number.isFinite(res.residualNorm)).to.equal(true);
      expect(res.residualNorm).to.be.closeTo(residualNorm(A, Array.from(res.x.toFloat64Array()), b), 1e-9);
    }), { numRuns: 30 });
  });

  it("cuts iterations with a (right) Jacobi preconditioner on a stiff nonsymmetric system", () => {
    const n = 60;
    const A = stiffDiagonallyDominant(n, false, 13);
    const b = randomVector(n, rng(2));
    const plain = gmres(tensor(A), tensor(b), { maxIter: 3000, restart: 30 });
    const pre = gmres(tensor(A), tensor(b), { M: jacobi(A), maxIter: 3000, restart: 30 });
    expect(pre.converged).to.equal(true);
    expectStoppingRule(A, pre.x, b);
    expect(pre.iterations).to.be.lessThan(plain.converged ? plain.iterations / 3 : 3000 / 3);
  });

  it("handles nonFinite, b = 0, x0 and the operator kinds", () => {
    const A = [[3, 1, 0], [-1, 2, 1], [0, 1, 4]];
    const b = [1, 2, 3];
    const truth = gaussSolve(A, b);
    expect(gmres(tensor(A), tensor([1, NaN, 3])).status).to.equal("nonFinite");
    let calls = 0;
    const nanLater = (v: Tensor): Tensor => (++calls === 2 ? tensor([0, Infinity, 0]) : tensor(matvec(A, Array.from(v.toFloat64Array()))));
    const rn = gmres(nanLater, b);
    expect([rn.status, rn.converged, rn.iterations]).to.deep.equal(["nonFinite", false, 1]);
    const z = gmres(tensor(A), [0, 0, 0], { x0: [1, 1, 1] });
    expect([z.iterations, z.converged]).to.deep.equal([0, true]);
    const warm = gmres(tensor(A), b, { x0: truth });
    expect([warm.iterations, warm.converged]).to.deep.equal([0, true]);
    const fn = (v: Tensor): Tensor => tensor(matvec(A, Array.from(v.toFloat64Array())));
    for (const a of [tensor(A), fn, linearOperator(fn, { shape: 3 }), linearOperator(tensor(A))]) {
      expectNear(gmres(a, b).x, truth, 1e-7);
    }
  });

  it("mutates none of its inputs", () => {
    const A = tensor([[3, 1], [-1, 2]]);
    const b = tensor([1, 2]);
    const x0 = tensor([0.5, -0.5]);
    const before = [snapshot(A), snapshot(b), snapshot(x0)];
    gmres(A, b, { x0, M: (v: Tensor) => v, restart: 1 });
    expect([snapshot(A), snapshot(b), snapshot(x0)]).to.deep.equal(before);
  });
});
