/**
 * What every Krylov solver promises, checked for each row of the solver table
 * (lib/krylov/solvers.ts): the systems its row admits are solved to the
 * stopping rule and agree with the dense solvers; b = 0, warm starts, maxIter,
 * NaN, history and callback, the operator kinds, preconditioning, dtypes and
 * untouched inputs behave alike; and the row's needs (square, transpose,
 * preconditioner, restart) are what the solver checks. What is particular to
 * one method (breakdowns, restarts, least squares, singular systems) is in
 * its own spec file.
 */
import { expect } from "chai";
import fc from "fast-check";
import * as lib from "../../lib/index.js";
import { tensor, type Tensor } from "../../lib/index.js";
import * as krylov from "../../lib/krylov/index.js";
import { denseOperator, linearOperator, luSolve, type KrylovResult, type LinearOperator } from "../../lib/krylov/index.js";
import { SOLVERS, type KrylovSolverName, type SolverRow } from "../../lib/krylov/solvers.js";
import { expectError, nonContiguous } from "../helpers.js";
import {
  expectNear, expectStoppingRule, gaussSolve, indefiniteSystem, jacobi, matvec, nonsymmetricSystem, norm, orthogonal, randomVector,
  residualNorm, rng, snapshot, spdSystem, stiffDiagonallyDominant, transposeOf, withSpectrum, type Matrix, type System,
} from "./helpers.js";

type Solve = (A: unknown, b: unknown, opts?: Record<string, unknown>) => KrylovResult;
const rows = Object.entries(SOLVERS) as [KrylovSolverName, SolverRow][];

/** A as a LinearOperator with what the row needs (rmatvec for lsqr). */
function operatorOf(A: Matrix, withTranspose: boolean): LinearOperator {
  const At = transposeOf(A);
  return {
    shape: [A.length, A[0].length],
    matvec: (v) => tensor(matvec(A, Array.from(v.toFloat64Array()))),
    ...(withTranspose ? { rmatvec: (v: Tensor) => tensor(matvec(At, Array.from(v.toFloat64Array()))) } : {}),
  };
}

/** An n×n SPD system with eigenvalues spectrum(i) and a seeded random right-hand side. */
function spdProblem(seed: number, n: number, spectrum: (i: number) => number): { A: Matrix; b: number[] } {
  const next = rng(seed);
  const A = withSpectrum(orthogonal(n, next), Array.from({ length: n }, (_, i) => spectrum(i)));
  return { A, b: randomVector(n, next) };
}

/** The classes of systems a row admits: every method takes SPD A; indefinite needs no positiveDefinite, nonsymmetric no symmetric. */
function systemsFor(row: SolverRow): [string, fc.Arbitrary<System>, number][] {
  const classes: [string, fc.Arbitrary<System>, number][] = [["symmetric positive definite", spdSystem(12), 1e-7]];
  // κ ≤ 6 and κ ≤ ~3 here: a relative residual of 1e-8 bounds the relative error as below.
  if (!row.positiveDefinite) classes.push(["symmetric indefinite", indefiniteSystem(12), 1e-7]);
  if (!row.symmetric) classes.push(["nonsymmetric", nonsymmetricSystem(12), 1e-6]);
  return classes;
}

describe("krylov solvers: the table", () => {
  it("lists the API's solvers, each exported by name from the package root and lib/krylov as the row's function", () => {
    expect(Object.keys(SOLVERS)).to.deep.equal(["cg", "gmres", "bicgstab", "minres", "lsqr"]);
    for (const [name, row] of rows) {
      expect(lib[name], name).to.equal(row.solve);
      expect(krylov[name], name).to.equal(row.solve);
    }
  });

  it("each row's needs are what its solver checks: square A, a transpose product, M, restart", () => {
    const b = [1, 2];
    for (const [name, row] of rows) {
      const solve = row.solve as Solve;
      const wide = tensor([[1, 2, 3], [4, 5, 6]]);
      if (row.square) expectError(() => solve(wide, b), `${name}:`, "square", "[2,3]");
      else expect(solve(wide, b).converged, `${name} on a 2×3 A`).to.equal(true);
      const fn = (v: Tensor): Tensor => v.mul(2);
      const withoutTranspose: LinearOperator = { shape: [2, 2], matvec: fn };
      for (const A of [fn, withoutTranspose]) {
        if (row.transpose) expectError(() => solve(A, b), `${name}:`, "rmatvec");
        else expect(solve(A, b).converged, `${name} without Aᵀ`).to.equal(true);
      }
      const A = tensor([[4, 1], [1, 3]]);
      if (row.preconditioner) expect(solve(A, b, { M: (v: Tensor) => v }).converged, `${name} with M`).to.equal(true);
      else expectError(() => solve(A, b, { M: (v: Tensor) => v }), `${name}:`, "M");
      if (row.restart) expect(solve(A, b, { restart: 1 }).converged, `${name} with restart`).to.equal(true);
      else expectError(() => solve(A, b, { restart: 3 }), `${name}:`, "restart");
    }
  });
});

for (const [name, row] of rows) {
  const solve = row.solve as Solve;

  describe(`${name} (the table's promises)`, () => {
    for (const [what, systems, rtol] of systemsFor(row)) {
      it(`solves random ${what} systems: the stopping rule holds, residualNorm is the true residual, x agrees with the dense solvers`, () => {
        fc.assert(fc.property(systems, ({ A, b }) => {
          const r = solve(tensor(A), tensor(b));
          expect(r.converged).to.equal(true);
          expect(r.status).to.equal("converged");
          expectStoppingRule(A, r.x, b);
          expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-12 * (1 + norm(b)));
          expectNear(r.x, gaussSolve(A, b), rtol);
          expectNear(r.x, Array.from(luSolve(tensor(A), tensor(b)).toFloat64Array()), rtol);
        }), { numRuns: 60 });
      });
    }

    it("meets a tighter tol and an absolute atol", () => {
      fc.assert(fc.property(spdSystem(10), ({ A, b }) => {
        const tight = solve(tensor(A), tensor(b), { tol: 1e-12 });
        expectStoppingRule(A, tight.x, b, 1e-12);
        const loose = solve(tensor(A), tensor(b), { tol: 0, atol: 1e-3 });
        expect(loose.converged).to.equal(true);
        expectStoppingRule(A, loose.x, b, 0, 1e-3);
      }), { numRuns: 25 });
    });

    it("returns x = 0 in 0 iterations for b = 0, even from a nonzero x0; an empty system is solved", () => {
      for (const opts of [{}, { x0: [1, 2] }]) {
        const r = solve(tensor([[2, 1], [1, 2]]), tensor([0, 0]), opts);
        expect(Array.from(r.x.toFloat64Array())).to.deep.equal([0, 0]);
        expect([r.iterations, r.converged, r.status, r.residualNorm]).to.deep.equal([0, true, "converged", 0]);
      }
      const empty = solve(tensor([[]]).reshape([0, 0]), tensor([]));
      expect(empty.x.shape).to.deep.equal([0]);
      expect(empty.converged).to.equal(true);
    });

    it("warm-starts from x0: the solution takes 0 iterations, a point near it fewer than a cold start", () => {
      const n = 30;
      const { A, b } = spdProblem(8, n, (i) => 1 + i);
      const truth = gaussSolve(A, b);
      const exact = solve(tensor(A), tensor(b), { x0: tensor(truth) });
      expect([exact.iterations, exact.converged]).to.deep.equal([0, true]);
      const cold = solve(tensor(A), tensor(b), { tol: 1e-10 });
      const warm = solve(tensor(A), tensor(b), { x0: truth.map((v, i) => v + 1e-6 * Math.sin(i)), tol: 1e-10 });
      expect(warm.converged).to.equal(true);
      expectStoppingRule(A, warm.x, b, 1e-10);
      expect(warm.iterations).to.be.lessThan(cold.iterations);
    });

    it("stops at maxIter with converged false and the true residual of the x it returns; maxIter 0 returns x0", () => {
      const n = 40;
      const { A, b } = spdProblem(3, n, (i) => 1 + i * i);
      const r = solve(tensor(A), tensor(b), { maxIter: 3, history: true });
      expect([r.status, r.converged, r.iterations]).to.deep.equal(["maxIter", false, 3]);
      expect(r.residualHistory).to.have.length(4);
      expect(r.residualNorm).to.be.closeTo(residualNorm(A, Array.from(r.x.toFloat64Array()), b), 1e-10);
      expect(r.residualNorm).to.be.greaterThan(1e-8 * norm(b));
      const zero = solve(tensor(A), tensor(b), { maxIter: 0 });
      expect([zero.status, zero.iterations]).to.deep.equal(["maxIter", 0]);
      expect(Array.from(zero.x.toFloat64Array())).to.deep.equal(new Array(n).fill(0));
    });

    it("stops at once with status nonFinite for a NaN or ∞ in b, and at the first product that has one", () => {
      const A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]];
      for (const bad of [[NaN, 1, 2], [1, Infinity, 2]]) {
        const r = solve(tensor(A), tensor(bad));
        expect([r.status, r.converged, r.iterations]).to.deep.equal(["nonFinite", false, 0]);
        expect(Number.isNaN(r.residualNorm)).to.equal(true);
      }
      let calls = 0;
      const poisoned = operatorOf(A, row.transpose);
      const product = poisoned.matvec;
      poisoned.matvec = (v) => (++calls === 2 ? tensor([0, NaN, 0]) : product(v));
      let completed = 0;
      const r = solve(poisoned, [1, 2, 3], { callback: () => completed++ });
      expect([r.status, r.converged]).to.deep.equal(["nonFinite", false]);
      // Nothing runs after the product that returned a NaN, and only the iterations completed before it count.
      expect(calls).to.equal(2);
      expect(r.iterations).to.equal(completed);
      expect(r.iterations).to.be.at.most(1);
      expect(solve(tensor([[1, 0, 0], [0, Infinity, 0], [0, 0, 1]]), tensor([1, 1, 1])).status).to.equal("nonFinite");
    });

    it("takes A as a Tensor, nested arrays, a strided view, a LinearOperator, a denseOperator and (without a transpose) a function alike", () => {
      const n = 8;
      const { A, b } = spdProblem(11, n, (i) => 1 + i);
      const truth = gaussSolve(A, b);
      const op = operatorOf(A, row.transpose);
      const kinds: unknown[] = [tensor(A), A, nonContiguous(tensor(A), "transposed"), nonContiguous(tensor(A), "padded"), op, linearOperator(op), denseOperator(A), linearOperator(tensor(A))];
      if (!row.transpose) kinds.push(op.matvec, linearOperator(op.matvec, { shape: n }));
      for (const kind of kinds) {
        const r = solve(kind, b, { tol: 1e-10 });
        expect(r.converged).to.equal(true);
        expectNear(r.x, truth, 1e-8);
      }
    });

    if (row.preconditioner) {
      it("cuts iterations with a Jacobi preconditioner on a stiff system, given as a function, a dense M⁻¹ or a LinearOperator", () => {
        const n = 60;
        const A = row.symmetric ? stiffDiagonallyDominant(n, true) : stiffDiagonallyDominant(n, false, 13);
        const b = randomVector(n, rng(5));
        const opts = { maxIter: 3000, ...(row.restart ? { restart: 30 } : {}) };
        const plain = solve(tensor(A), tensor(b), opts);
        const pre = solve(tensor(A), tensor(b), { ...opts, M: jacobi(A) });
        expect(pre.converged).to.equal(true);
        expectStoppingRule(A, pre.x, b);
        expect(pre.iterations).to.be.lessThan(plain.converged ? plain.iterations / 3 : opts.maxIter / 3);
        // The same M⁻¹ as a dense matrix and as a LinearOperator gives the same iterates.
        const inverse = A.map((r, i) => r.map((_, j) => (i === j ? 1 / A[i][i] : 0)));
        for (const M of [tensor(inverse), denseOperator(inverse)]) {
          const same = solve(tensor(A), tensor(b), { ...opts, M });
          expect(same.iterations).to.equal(pre.iterations);
          expectNear(same.x, Array.from(pre.x.toFloat64Array()), 1e-10);
        }
      });
    }

    if (row.preconditioner && row.symmetric) {
      it("needs M positive definite: an indefinite preconditioner is a breakdown", () => {
        const r = solve(tensor([[2, 0], [0, 3]]), tensor([1, 1]), { M: (v: Tensor) => tensor([v.toFloat64Array()[0], -v.toFloat64Array()[1]]) });
        expect([r.status, r.converged]).to.deep.equal(["breakdown", false]);
      });
    }

    it("records the residual history and calls the callback once per iteration; the callback's Error passes through", () => {
      const A: Matrix = [[4, 1, 0], [1, 3, 1], [0, 1, 2]];
      const seen: number[] = [];
      const r = solve(tensor(A), tensor([1, 2, 3]), { history: true, callback: ({ iteration }: { iteration: number }) => seen.push(iteration) });
      expect(r.converged).to.equal(true);
      expect(r.residualHistory).to.have.length(r.iterations + 1);
      expect(r.residualHistory![0]).to.be.closeTo(norm([1, 2, 3]), 1e-15);
      expect(seen).to.deep.equal(Array.from({ length: r.iterations }, (_, i) => i + 1));
      expect(solve(tensor(A), tensor([1, 2, 3])).residualHistory).to.equal(undefined);
      const boom = new Error("stop");
      expect(() => solve(tensor(A), tensor([1, 2, 3]), { callback: () => { throw boom; } })).to.throw(boom);
    });

    it("passes a user product's Error through unchanged", () => {
      const boom = new Error("user failure");
      const failing: LinearOperator = { shape: [2, 2], matvec: () => { throw boom; }, rmatvec: () => { throw boom; } };
      expect(() => solve(failing, [1, 2])).to.throw(boom);
      if (!row.transpose) expect(() => solve(() => { throw boom; }, [1, 2])).to.throw(boom);
    });

    it("mutates none of its inputs", () => {
      const A = row.square ? tensor([[4, 1], [1, 3]]) : tensor([[1, 2], [3, 4], [5, 6]]);
      const b = row.square ? tensor([1, 2]) : tensor([1, 0, 1]);
      const x0 = tensor([0.5, -0.5]);
      const before = [snapshot(A), snapshot(b), snapshot(x0)];
      const extra = { ...(row.preconditioner ? { M: (v: Tensor) => v } : {}), ...(row.restart ? { restart: 1 } : {}) };
      solve(A, b, { x0, ...extra });
      const bArray = Array.from(b.toFloat64Array());
      solve(A, bArray, { x0: [0.1, 0.2], ...extra });
      expect([snapshot(A), snapshot(b), snapshot(x0)]).to.deep.equal(before);
      expect(bArray).to.deep.equal(snapshot(b));
    });

    it("returns x in b's dtype, and hands its products vectors of that dtype", () => {
      const r = solve(tensor([[2, 0], [0, 4]], { dtype: "float32" }), tensor([2, 4], { dtype: "float32" }));
      expect(r.x.dtype).to.equal("float32");
      expect(Array.from(r.x.toFloat64Array())).to.deep.equal([1, 1]);
      const seen: string[] = [];
      const identity = (v: Tensor): Tensor => { seen.push(v.dtype); return v; };
      solve({ shape: [2, 2], matvec: identity, rmatvec: identity }, tensor([1, 2], { dtype: "float32" }));
      expect(seen.length).to.be.greaterThan(0);
      expect(seen.every((d) => d === "float32")).to.equal(true);
    });
  });
}
