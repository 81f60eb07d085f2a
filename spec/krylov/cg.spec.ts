import { expect } from "chai";
import fc from "fast-check";
import { tensor, type Tensor } from "../../lib/index.js";
import { cg, denseOperator, luSolve, type LinearOperator } from "../../lib/krylov/index.js";
import { nonContiguous } from "../helpers.js";
import {
  expectNear, expectStoppingRule, gaussSolve, jacobi, matvec, norm, orthogonal, randomVector, residualNorm, rng, snapshot,
  spdSystem, stiffDiagonallyDominant, withSpectrum, type Matrix,
} from "./helpers.js";

describe("cg", () => {
  it("solves random SPD systems: the stopping rule holds and x agrees with the dense solvers", () => {
    fc.assert(fc.property(spdSystem(12), ({ A, b }) => {
      const r = cg(tensor(A), tensor(b));
      expect(r.converged).to.equal(true);
      expect(r.status).to.equal("converged");
      expectStoppingRule(A, r.x, b);
      expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-12 * (1 + norm(b)));
      // κ ≤ 10, so a relative residual of 1e-8 bounds the relative error by 1e-7.
      expectNear(r.x, gaussSolve(A, b), 1e-7);
      expectNear(r.x, Array.from(luSolve(tensor(A), tensor(b)).toFloat64Array()), 1e-7);
    }), { numRuns: 60 });
  });

  it("meets a tighter tol and an absolute atol", () => {
    fc.assert(fc.property(spdSystem(10), ({ A, b }) => {
      const tight = cg(tensor(A), tensor(b), { tol: 1e-12 });
      expectStoppingRule(A, tight.x, b, 1e-12);
      const loose = cg(tensor(A), tensor(b), { tol: 0, atol: 1e-3 });
      expect(loose.converged).to.equal(true);
      expectStoppingRule(A, loose.x, b, 0, 1e-3);
    }), { numRuns: 25 });
  });

  it("takes A as a Tensor, nested arrays, a function, a LinearOperator and a denseOperator alike", () => {
    const next = rng(11);
    const n = 8;
    const A = withSpectrum(orthogonal(n, next), Array.from({ length: n }, (_, i) => 1 + i));
    const b = randomVector(n, next);
    const truth = gaussSolve(A, b);
    const fn = (v: Tensor): Tensor => tensor(matvec(A, Array.from(v.toFloat64Array())));
    const op: LinearOperator = { shape: [n, n], matvec: fn, symmetric: true, positiveDefinite: true };
    for (const a of [tensor(A), A, fn, op, denseOperator(A), nonContiguous(tensor(A), "transposed"), nonContiguous(tensor(A), "padded")]) {
      const r = cg(a as Tensor, b);
      expect(r.converged).to.equal(true);
      expectNear(r.x, truth, 1e-7);
    }
  });

  it("reports an indefinite matrix as a breakdown, without throwing or claiming convergence", () => {
    const r = cg(tensor([[1, 0], [0, -2]]), tensor([1, 1]));
    expect(r.status).to.equal("breakdown");
    expect(r.converged).to.equal(false);
    // pᵀAp = 1 − 2 = −1 at the first step: nothing was taken.
    expect(r.iterations).to.equal(0);
    expect(r.residualNorm).to.be.closeTo(Math.SQRT2, 1e-15);
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
      const next = rng(seed);
      const n = 6;
      const A = withSpectrum(orthogonal(n, next), [3, 2, 1, -1, -2, -3]);
      const b = randomVector(n, next);
      const res = cg(tensor(A), tensor(b));
      // CG may still land on the solution of an indefinite system; it must never pretend to.
      if (res.converged) expectStoppingRule(A, res.x, b);
      else expect(["breakdown", "maxIter"]).to.include(res.status);
    }), { numRuns: 30 });
  });

  it("stops at maxIter with converged false and the true residual of the x it returns", () => {
    const next = rng(3);
    const n = 40;
    const A = withSpectrum(orthogonal(n, next), Array.from({ length: n }, (_, i) => 1 + i * i));
    const b = randomVector(n, next);
    const r = cg(tensor(A), tensor(b), { maxIter: 3 });
    expect(r.status).to.equal("maxIter");
    expect(r.converged).to.equal(false);
    expect(r.iterations).to.equal(3);
    expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-10);
    expect(r.residualNorm).to.be.greaterThan(1e-8 * norm(b));
    const zero = cg(tensor(A), tensor(b), { maxIter: 0 });
    expect(zero.iterations).to.equal(0);
    expect(zero.status).to.equal("maxIter");
    expect(Array.from(zero.x.toFloat64Array())).to.deep.equal(new Array(n).fill(0));
  });

  it("stops at once with status nonFinite for a NaN or ∞ in b or in a product", () => {
    const A = [[2, 0], [0, 3]];
    for (const bad of [[NaN, 1], [1, Infinity]]) {
      const r = cg(tensor(A), tensor(bad));
      expect(r.status).to.equal("nonFinite");
      expect(r.converged).to.equal(false);
      expect(r.iterations).to.equal(0);
    }
    let calls = 0;
    const poisoned = (v: Tensor): Tensor => {
      calls++;
      const y = matvec([[4, 1, 0], [1, 3, 1], [0, 1, 2]], Array.from(v.toFloat64Array()));
      if (calls === 2) y[1] = NaN;
      return tensor(y);
    };
    const r = cg(poisoned, [1, 2, 3]);
    expect(r.status).to.equal("nonFinite");
    expect(r.converged).to.equal(false);
    expect(r.iterations).to.equal(1);
    expect(calls).to.equal(2);
    const rInf = cg(tensor([[1, 0], [0, Infinity]]), tensor([1, 1]));
    expect(rInf.status).to.equal("nonFinite");
  });

  it("reduces the iteration count with a Jacobi preconditioner on an ill-conditioned system", () => {
    const n = 60;
    const A = stiffDiagonallyDominant(n, true);
    const b = randomVector(n, rng(5));
    const plain = cg(tensor(A), tensor(b), { maxIter: 2000 });
    const pre = cg(tensor(A), tensor(b), { M: jacobi(A), maxIter: 2000 });
    expect(plain.converged).to.equal(true);
    expect(pre.converged).to.equal(true);
    expectStoppingRule(A, pre.x, b);
    expect(pre.iterations).to.be.lessThan(plain.iterations / 3);
    // The preconditioner as a dense matrix of M⁻¹ and as a LinearOperator gives the same iterates.
    const inv = A.map((row, i) => row.map((_, j) => (i === j ? 1 / A[i][i] : 0)));
    const dense = cg(tensor(A), tensor(b), { M: tensor(inv), maxIter: 2000 });
    expect(dense.iterations).to.equal(pre.iterations);
    expectNear(dense.x, Array.from(pre.x.toFloat64Array()), 1e-10);
  });

  it("reports an indefinite preconditioner as a breakdown", () => {
    const r = cg(tensor([[2, 0], [0, 3]]), tensor([1, 1]), { M: (v: Tensor) => tensor([v.toFloat64Array()[0], -v.toFloat64Array()[1]]) });
    expect(r.status).to.equal("breakdown");
    expect(r.converged).to.equal(false);
  });

  it("returns x = 0 in 0 iterations for b = 0, even from a nonzero x0", () => {
    for (const opts of [{}, { x0: [1, 2] }]) {
      const r = cg(tensor([[2, 1], [1, 2]]), tensor([0, 0]), opts);
      expect(Array.from(r.x.toFloat64Array())).to.deep.equal([0, 0]);
      expect(r.iterations).to.equal(0);
      expect(r.converged).to.equal(true);
      expect(r.residualNorm).to.equal(0);
    }
    const empty = cg(tensor([[]]).reshape([0, 0]), tensor([]));
    expect(empty.x.shape).to.deep.equal([0]);
    expect(empty.converged).to.equal(true);
  });

  it("warm-starts from x0", () => {
    const next = rng(8);
    const n = 30;
    const A = withSpectrum(orthogonal(n, next), Array.from({ length: n }, (_, i) => 1 + i));
    const b = randomVector(n, next);
    const truth = gaussSolve(A, b);
    const exact = cg(tensor(A), tensor(b), { x0: tensor(truth) });
    expect(exact.iterations).to.equal(0);
    expect(exact.converged).to.equal(true);
    const cold = cg(tensor(A), tensor(b), { tol: 1e-10 });
    const near = truth.map((v, i) => v + 1e-6 * Math.sin(i));
    const warm = cg(tensor(A), tensor(b), { x0: near, tol: 1e-10 });
    expect(warm.converged).to.equal(true);
    expectStoppingRule(A, warm.x, b, 1e-10);
    expect(warm.iterations).to.be.lessThan(cold.iterations);
  });

  it("records the residual history and calls the callback once per iteration", () => {
    const A: Matrix = [[4, 1, 0], [1, 3, 1], [0, 1, 2]];
    const seen: number[] = [];
    const r = cg(tensor(A), tensor([1, 2, 3]), { history: true, callback: ({ iteration }) => seen.push(iteration) });
    expect(r.residualHistory).to.have.length(r.iterations + 1);
    expect(r.residualHistory![0]).to.be.closeTo(norm([1, 2, 3]), 1e-15);
    expect(seen).to.deep.equal(Array.from({ length: r.iterations }, (_, i) => i + 1));
    expect(cg(tensor(A), tensor([1, 2, 3])).residualHistory).to.equal(undefined);
    const boom = new Error("stop");
    try {
      cg(tensor(A), tensor([1, 2, 3]), { callback: () => { throw boom; } });
      expect.fail("the callback's error should propagate");
    } catch (e) {
      expect(e).to.equal(boom);
    }
  });

  it("passes a user matvec's Error through unchanged", () => {
    const boom = new Error("user failure");
    try {
      cg(() => { throw boom; }, [1, 2]);
      expect.fail("should have thrown");
    } catch (e) {
      expect(e).to.equal(boom);
    }
  });

  it("mutates none of its inputs", () => {
    const A = tensor([[4, 1], [1, 3]]);
    const b = tensor([1, 2]);
    const x0 = tensor([0.5, -0.5]);
    const before = [snapshot(A), snapshot(b), snapshot(x0)];
    const bArr = [1, 2];
    cg(A, b, { x0 });
    cg(A, bArr, { x0: [0.1, 0.2], M: (v: Tensor) => v });
    expect([snapshot(A), snapshot(b), snapshot(x0)]).to.deep.equal(before);
    expect(bArr).to.deep.equal([1, 2]);
  });

  it("returns x in b's dtype", () => {
    const r = cg(tensor([[2, 0], [0, 4]], { dtype: "float32" }), tensor([2, 4], { dtype: "float32" }));
    expect(r.x.dtype).to.equal("float32");
    expect(Array.from(r.x.toFloat64Array())).to.deep.equal([1, 1]);
    const seen: string[] = [];
    cg((v: Tensor) => { seen.push(v.dtype); return v; }, tensor([1, 2], { dtype: "float32" }));
    expect(seen.every((d) => d === "float32")).to.equal(true);
  });
});
