import { expect } from "chai";
import fc from "fast-check";
import { tensor } from "../../lib/index.js";
import { cholesky, choleskySolve, lu, luSolve, LUFactorization, CholeskyFactorization } from "../../lib/krylov/index.js";
import { expectError, nonContiguous } from "../helpers.js";
import { expectNear, gaussSolve, matmulOf, nonsymmetricSystem, randomVector, rng, snapshot, spdSystem, transposeOf } from "./helpers.js";

describe("direct solvers", () => {
  it("luSolve agrees with independent Gaussian elimination, for A x = b and Aᵀ x = b", () => {
    fc.assert(fc.property(nonsymmetricSystem(10), ({ A, b }) => {
      expectNear(luSolve(tensor(A), tensor(b)), gaussSolve(A, b), 1e-10);
      expectNear(luSolve(tensor(A), tensor(b), { transpose: true }), gaussSolve(transposeOf(A), b), 1e-10);
      const f = lu(A);
      expect(f).to.be.instanceOf(LUFactorization);
      expectNear(f.solve(b), gaussSolve(A, b), 1e-10);
      expectNear(luSolve(f, b, { transpose: true }), gaussSolve(transposeOf(A), b), 1e-10);
    }), { numRuns: 50 });
  });

  it("reuses one factorisation for many right-hand sides, as columns of B or one at a time", () => {
    const next = rng(4);
    const n = 7;
    const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => next() + (i === j ? 3 : 0)));
    const f = lu(tensor(A));
    const cols = [randomVector(n, next), randomVector(n, next), randomVector(n, next)];
    const B = Array.from({ length: n }, (_, i) => cols.map((c) => c[i]));
    const X = f.solve(tensor(B));
    expect(X.shape).to.deep.equal([n, 3]);
    const Xs = X.toArray() as number[][];
    cols.forEach((c, k) => {
      expectNear(Xs.map((row) => row[k]), gaussSolve(A, c), 1e-10);
      expectNear(f.solve(c), gaussSolve(A, c), 1e-10);
    });
  });

  it("cholesky: L is lower triangular with L Lᵀ = A, and choleskySolve agrees with elimination", () => {
    fc.assert(fc.property(spdSystem(10), ({ A, b }) => {
      const f = cholesky(tensor(A));
      expect(f).to.be.instanceOf(CholeskyFactorization);
      const L = f.L.toArray() as number[][];
      L.forEach((row, i) => row.forEach((v, j) => { if (j > i) expect(v).to.equal(0); }));
      const LLt = matmulOf(L, transposeOf(L));
      LLt.forEach((row, i) => expectNear(row, A[i], 1e-12, 1e-12, `row ${i} of L Lᵀ`));
      expectNear(choleskySolve(tensor(A), tensor(b)), gaussSolve(A, b), 1e-10);
      expectNear(f.solve(b), gaussSolve(A, b), 1e-10);
      expectNear(choleskySolve(f, b), gaussSolve(A, b), 1e-10);
    }), { numRuns: 50 });
  });

  it("reads non-contiguous matrices and returns b's shape and dtype", () => {
    const A = tensor([[4, 1, 0], [1, 3, 1], [0, 1, 2]]);
    const truth = gaussSolve(A.toArray() as number[][], [1, 2, 3]);
    for (const kind of ["transposed", "padded", "reversed"] as const) {
      expectNear(luSolve(nonContiguous(A, kind), [1, 2, 3]), truth, 1e-12);
      expectNear(choleskySolve(nonContiguous(A, kind), [1, 2, 3]), truth, 1e-12);
    }
    const x32 = luSolve(A, tensor([1, 2, 3], { dtype: "float32" }));
    expect(x32.dtype).to.equal("float32");
    expect(x32.shape).to.deep.equal([3]);
  });

  it("throws clear Errors for singular, non-SPD, non-square and mismatched input", () => {
    expectError(() => luSolve(tensor([[1, 2], [2, 4]]), [1, 2]), "luSolve:", "singular", "[2,2]");
    expectError(() => lu([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), "lu:", "singular", "[3,3]");
    expectError(() => lu([[0, 0], [0, 0]]), "lu:", "singular");
    expectError(() => luSolve(tensor([[1, 2, 3], [4, 5, 6]]), [1, 2]), "luSolve:", "square", "[2,3]");
    expectError(() => luSolve(tensor([[1, 0], [0, 1]]), [1, 2, 3]), "luSolve:", "[2]", "[3]");
    expectError(() => luSolve(tensor([[1, NaN], [0, 1]]), [1, 2]), "luSolve:", "non-finite");
    expectError(() => luSolve(tensor([[1, 0], [0, 1]]), [1, 2], { transpose: "yes" } as never), "luSolve:", "transpose");
    expectError(() => luSolve("A" as never, [1, 2]), "luSolve:");
    expectError(() => cholesky([[1, 2], [2, 1]]), "cholesky:", "not positive definite", "[2,2]");
    expectError(() => cholesky([[1, 0], [0, 0]]), "cholesky:", "not positive definite");
    expectError(() => cholesky([[2, 1], [0, 2]]), "cholesky:", "not symmetric");
    expectError(() => choleskySolve([[1, 2], [2, 1]], [1, 1]), "choleskySolve:", "not positive definite");
    expectError(() => choleskySolve(cholesky([[2, 0], [0, 2]]), [1, 1, 1]), "choleskySolve:", "[2]");
    expectError(() => cholesky(tensor([1, 2, 3])), "cholesky:", "square", "[3]");
  });

  it("mutates none of its inputs", () => {
    const A = tensor([[4, 1], [1, 3]]);
    const b = tensor([1, 2]);
    const B = tensor([[1, 2], [3, 4]]);
    const before = [snapshot(A), snapshot(b), snapshot(B)];
    luSolve(A, b);
    luSolve(A, B, { transpose: true });
    choleskySolve(A, b);
    cholesky(A).solve(B);
    expect([snapshot(A), snapshot(b), snapshot(B)]).to.deep.equal(before);
  });
});
