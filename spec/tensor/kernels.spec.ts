/**
 * lib/tensor/kernels.ts pieces that no public op reaches on its own: the LU
 * factorisation with partial pivoting and its solve in both orientations
 * (A X = B and Aᵀ X = B, used by the implicit layer's direct solver), and the
 * view constructors, checked against plain-JS products and references.
 */
import { expect } from "chai";
import fc from "fast-check";
import { tensor, zeros } from "../../lib/index.js";
import { luFactor, luSolveInPlace, copyKernel, permutedView, sliceView, broadcastView } from "../../lib/tensor/kernels.js";
import { expectRef, layoutArb, makeOperand, refBroadcastTo, refOf, refSlice, refTranspose, runs, unitValues } from "../primitives/reference.js";

/** (A X)[i][j] or (Aᵀ X)[i][j] for row-major n×n A and n×k X, on plain arrays. */
function apply(A: number[], X: number[], n: number, k: number, transpose: boolean): number[] {
  const out = new Array<number>(n * k).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) for (let p = 0; p < n; p++) out[i * k + j] += (transpose ? A[p * n + i] : A[i * n + p]) * X[p * k + j];
  return out;
}

describe("tensor/kernels: LU with partial pivoting", () => {
  it("luSolveInPlace solves A X = B and Aᵀ X = B (k right-hand sides, any layout of A)", () => {
    // Random matrices (not diagonally dominant, so the pivots really move); the rare exactly singular one is skipped.
    const arb = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 })).chain(([n, k]) =>
      fc.tuple(fc.constant(n), fc.constant(k), unitValues(n * n), unitValues(n * k), layoutArb, fc.boolean()));
    fc.assert(fc.property(arb, ([n, k, a, b, layout, transpose]) => {
      const A = a.map((v, i) => v + (i % (n + 1) === 0 ? 0.5 * Math.sign(v || 1) : 0));
      const f = luFactor(makeOperand([n, n], A, layout).t);
      fc.pre(f !== null);
      const X = Float64Array.from(b);
      luSolveInPlace(f!, X, k, transpose);
      const AX = apply(A, Array.from(X), n, k, transpose);
      const scale = Math.max(1, ...Array.from(X, Math.abs));
      AX.forEach((v, i) => expect(Math.abs(v - b[i]), `residual[${i}] (n ${n}, transpose ${transpose})`).to.be.below(1e-10 * scale * n));
    }), runs(100));
  });

  it("pivots on a zero leading entry, and reports exact singularity as null", () => {
    const f = luFactor(tensor([[0, 2], [3, 1]]));
    const x = Float64Array.from([4, 5]);
    luSolveInPlace(f!, x, 1);
    expect(Array.from(x)).to.deep.equal([1, 2]);
    const y = Float64Array.from([3, 5]);
    luSolveInPlace(f!, y, 1, true);
    // Aᵀ = [[0, 3], [2, 1]]: 3·y₁ = 3, 2·y₀ + y₁ = 5.
    expect(Array.from(y)).to.deep.equal([2, 1]);
    expect(luFactor(tensor([[1, 2], [2, 4]]))).to.equal(null);
    expect(luFactor(zeros([3, 3]))).to.equal(null);
  });
});

describe("tensor/kernels: views and copies", () => {
  it("permutedView, sliceView, broadcastView and copyKernel read the right elements of any layout", () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).chain((s) =>
      fc.tuple(unitValues(s[0] * s[1] * s[2]), layoutArb).map(([u, l]) => makeOperand(s, u, l)));
    fc.assert(fc.property(arb, (x) => {
      const [d0, d1, d2] = x.ref.shape;
      expectRef(permutedView(x.t, [2, 0, 1]), refTranspose(x.ref, [2, 0, 1]), 0, 0, "permutedView");
      expectRef(sliceView(x.t, [d0 - 1, 0, d2 - 1], [1, d1, 1]), refSlice(x.ref, [d0 - 1, 0, d2 - 1], [1, d1, 1]), 0, 0, "sliceView");
      expectRef(broadcastView(x.t, [2, d0, d1, d2]), refBroadcastTo(x.ref, [2, d0, d1, d2]), 0, 0, "broadcastView");
      const c = copyKernel(x.t);
      expectRef(c, x.ref, 0, 0, "copyKernel");
      expect(c.toNdarray().data).not.to.equal(x.t.toNdarray().data);
      expect(c.toNdarray().stride).to.deep.equal([d1 * d2, d2, 1]);
    }), runs(50));
    expectRef(copyKernel(tensor(3)), refOf([], [3]), 0, 0, "copy of rank 0");
  });
});
