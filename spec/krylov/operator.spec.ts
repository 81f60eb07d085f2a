import { expect } from "chai";
import fc from "fast-check";
import { tensor, type Tensor } from "../../lib/index.js";
import { cg, denseOperator, linearOperator, lsqr } from "../../lib/krylov/index.js";
import { denseMatvec, denseRmatvec, norm2, toLinearMap } from "../../lib/krylov/operator.js";
import { expectError, nonContiguous } from "../helpers.js";
import { expectNear, matvec, randomMatrix, randomVector, rng, snapshot, transposeOf } from "./helpers.js";

describe("krylov operators", () => {
  it("the dense products equal A x and Aᵀ y computed independently, for every size remainder mod 4", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 1e6 }), (m, n, seed) => {
      const next = rng(seed);
      const A = randomMatrix(m, n, next);
      const x = randomVector(n, next);
      const y = randomVector(m, next);
      const op = denseOperator(m === 0 || n === 0 ? tensor(new Float64Array(m * n), { shape: [m, n] }) : tensor(A));
      expect(op.shape).to.deep.equal([m, n]);
      expectNear(op.matvec(tensor(new Float64Array(x), { shape: [n] })), matvec(A, x), 1e-14, 1e-14);
      expectNear(op.rmatvec!(tensor(new Float64Array(y), { shape: [m] })), m === 0 ? new Array(n).fill(0) : matvec(transposeOf(A), y), 1e-14, 1e-14);
    }), { numRuns: 80 });
  });

  it("the Float64Array products flag NaN and ∞ in their output", () => {
    const a = Float64Array.from([1, 2, 3, 4]);
    const out = new Float64Array(2);
    expect(denseMatvec(a, 2, 2, Float64Array.from([1, 1]), out)).to.equal(true);
    expect(Array.from(out)).to.deep.equal([3, 7]);
    expect(denseMatvec(a, 2, 2, Float64Array.from([NaN, 1]), out)).to.equal(false);
    expect(denseRmatvec(a, 2, 2, Float64Array.from([Infinity, 0]), out)).to.equal(false);
    expect(denseRmatvec(a, 2, 2, Float64Array.from([1, 1]), out)).to.equal(true);
    expect(Array.from(out)).to.deep.equal([4, 6]);
  });

  it("norm2 does not overflow for huge finite entries", () => {
    expect(norm2(Float64Array.from([3e200, 4e200]))).to.be.closeTo(5e200, 1e186);
    expect(norm2(Float64Array.from([3, 4]))).to.equal(5);
    expect(norm2(Float64Array.from([1, NaN]))).to.be.NaN;
    expect(norm2(Float64Array.from([1, Infinity]))).to.equal(Infinity);
  });

  it("a function operator gets a fresh Tensor of b's dtype each call (it may keep it)", () => {
    const kept: Tensor[] = [];
    const map = toLinearMap("test", "A", (v: Tensor) => { kept.push(v); return v; }, 2, "float64");
    const x = Float64Array.from([1, 2]);
    const out = new Float64Array(2);
    map.apply(x, out);
    x[0] = 99;
    map.apply(x, out);
    expect(kept[0].toArray()).to.deep.equal([1, 2]);
    expect(kept[1].toArray()).to.deep.equal([99, 2]);
  });

  it("linearOperator wraps matrices, functions and operators; flags are validated and carried", () => {
    const A = [[2, 1], [1, 3]];
    const fn = (v: Tensor): Tensor => tensor(matvec(A, Array.from(v.toFloat64Array())));
    const fromFn = linearOperator(fn, { shape: [2, 2], rmatvec: fn, symmetric: true });
    expect(fromFn.shape).to.deep.equal([2, 2]);
    expect(fromFn.symmetric).to.equal(true);
    expectNear(lsqr(fromFn, [1, 2], { tol: 1e-12 }).x, [1 / 5, 3 / 5], 1e-10);
    const dense = linearOperator(tensor(A), { positiveDefinite: true });
    expect(dense.positiveDefinite).to.equal(true);
    expectNear(cg(dense, [1, 2]).x, [1 / 5, 3 / 5], 1e-10);
    const relabelled = linearOperator(dense, { symmetric: true });
    expect([relabelled.symmetric, relabelled.positiveDefinite]).to.deep.equal([true, true]);
    expectNear(cg(relabelled, [1, 2]).x, [1 / 5, 3 / 5], 1e-10);
    expectError(() => linearOperator(fn), "linearOperator:", "shape");
    expectError(() => linearOperator(fn, { shape: [2, -1] }), "linearOperator:", "shape");
    expectError(() => linearOperator(fn, { shape: 2, symmetric: "yes" as never }), "linearOperator:", "symmetric");
    expectError(() => linearOperator(fn, { shape: 2, rmatvec: 3 as never }), "linearOperator:", "rmatvec");
    expectError(() => linearOperator(tensor(A), { shape: 2 }), "linearOperator:", "shape");
    expectError(() => linearOperator(42 as never), "linearOperator:");
    expectError(() => denseOperator(tensor([1, 2])), "denseOperator:", "[2]");
    expectError(() => denseOperator(tensor(A)).matvec(tensor([1, 2, 3])), "LinearOperator.matvec:", "[3]", "[2]");
  });

  it("a dense operator reads strided views and never writes to the matrix", () => {
    const T = tensor([[1, 2, 3], [4, 5, 6]]);
    for (const kind of ["transposed", "padded", "reversed"] as const) {
      const view = nonContiguous(T, kind);
      const before = snapshot(view);
      const op = denseOperator(view);
      expectNear(op.matvec(tensor([1, 1, 1])), [6, 15], 1e-15);
      expectNear(op.rmatvec!(tensor([1, -1])), [-3, -3, -3], 1e-15);
      expect(snapshot(view)).to.deep.equal(before);
    }
  });
});
