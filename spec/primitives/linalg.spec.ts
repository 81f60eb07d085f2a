/**
 * Linear algebra and norms against plain-JS references: matmul with NumPy's
 * semantics (1-D promotion, batched operands whose batch dimensions
 * broadcast, zero-size dimensions, the blocked and strided kernel paths), dot,
 * outer, solve (residual and Gauss–Jordan reference, singular matrices) and
 * norm for every ord and axis form.
 */
import { expect } from "chai";
import fc from "fast-check";
import { tensor, zeros, eye, matmul, dot, outer, solve, norm, transpose, broadcastTo } from "../../lib/index.js";
import { expectError } from "../helpers.js";
import {
  axisArb, broadcastShapesArb, refBroadcastTo, dimArb, expectRef, flatten, makeOperand, operandOf, refAxes, refMap, refMatmul, refOf, refReduce, refSolve, refSum, refTranspose,
  shapeOf, unitValues, layoutArb, type Operand, runs } from "./reference.js";

const RUNS = runs(100);

/** Shapes of a matmul: 1-D or ≥2-D operands, batch dimensions that broadcast, any of m, k, n possibly 0. */
export const matmulShapesArb: fc.Arbitrary<[number[], number[]]> = fc.tuple(
  fc.constantFrom("vv", "vm", "mv", "mm", "mm", "mm"), dimArb(4), dimArb(4), dimArb(4), broadcastShapesArb(2, 2, 3),
).map(([kind, m, k, n, [ba, bb]]) => {
  const a = kind[0] === "v" ? [k] : [...ba, m, k];
  const b = kind[1] === "v" ? [k] : [...bb, k, n];
  return [a, b];
});

describe("primitives/linalg: matmul, dot, outer", () => {
  it("matmul follows NumPy (1-D promotion, broadcast batch dimensions) on every layout", () => {
    fc.assert(fc.property(matmulShapesArb.chain(([sa, sb]) => fc.tuple(operandOf(sa), operandOf(sb))), ([a, b]) => {
      const expected = refMatmul(a.ref, b.ref);
      expectRef(matmul(a.t, b.t), expected, 1e-13, 1e-13, `matmul ${JSON.stringify(a.ref.shape)} @ ${JSON.stringify(b.ref.shape)}`);
      expectRef(a.t.matmul(b.t), expected, 1e-13, 1e-13, "matmul method");
    }), runs(100));
  });

  it("matmul's kernel paths: k beyond one cache block, wide strided B, column-major A with thin B", () => {
    const cases: [number[], number[]][] = [[[3, 130], [130, 5]], [[2, 7], [7, 9]], [[6, 4], [4, 1]], [[5, 3], [3, 3]], [[2, 3, 300], [300, 2]], [[4, 4], [4, 6]]];
    fc.assert(fc.property(fc.constantFrom(...cases), layoutArb, layoutArb, fc.integer(), ([sa, sb], la, lb, seed) => {
      const values = (n: number, s: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(1 + i * 0.7 + s));
      const a = makeOperand(sa, values(sa.reduce((x, y) => x * y, 1), seed), la);
      const b = makeOperand(sb, values(sb.reduce((x, y) => x * y, 1), seed + 1), lb);
      expectRef(matmul(a.t, b.t), refMatmul(a.ref, b.ref), 1e-12, 1e-12, "matmul");
      // Aᵀ as a transposed view (column-major storage of Aᵀ's rows).
      const perm = [...sa.keys()].map((i) => (i >= sa.length - 2 ? 2 * sa.length - 3 - i : i));
      const at = transpose(a.t, perm);
      const atRef = refTranspose(a.ref, perm);
      const kt = at.shape[at.shape.length - 1];
      const bt = makeOperand([kt, 3], values(kt * 3, seed), lb);
      expectRef(matmul(at, bt.t), refMatmul(atRef, bt.ref), 1e-12, 1e-12, "matmul of a transposed view");
    }), runs(30));
  });

  it("matmul reads zero-stride (broadcast) operands: stretched rows, columns and batch dimensions", () => {
    const arb = fc.tuple(dimArb(3, false), dimArb(3, false), dimArb(3, false), fc.array(dimArb(3, false), { maxLength: 2 })).chain(([m, k, n, batch]) => {
      const target = [...batch, m, k];
      // The stored operand has size 1 wherever `squash` says so, and is broadcast up to `target`.
      return fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length })
        .chain((squash) => fc.tuple(fc.constant(target), operandOf(target.map((d, i) => (squash[i] ? 1 : d))), operandOf([k, n])));
    });
    fc.assert(fc.property(arb, ([target, a, b]) => {
      const view = broadcastTo(a.t, target);
      const viewRef = refBroadcastTo(a.ref, target);
      expectRef(matmul(view, b.t), refMatmul(viewRef, b.ref), 1e-13, 1e-13, "matmul(broadcast, b)");
      // And as the right operand, transposed: bᵀ @ viewᵀ.
      const swap = [...target.keys()].map((i) => (i >= target.length - 2 ? 2 * target.length - 3 - i : i));
      expectRef(matmul(transpose(b.t), transpose(view, swap)), refMatmul(refTranspose(b.ref, [1, 0]), refTranspose(viewRef, swap)), 1e-13, 1e-13, "matmul(bᵀ, broadcastᵀ)");
    }), RUNS);
  });

  it("dot is the inner product of 1-D tensors; outer the outer product", () => {
    const arb = dimArb(5).chain((n) => fc.tuple(operandOf([n]), operandOf([n]), dimArb(4).chain((m) => operandOf([m]))));
    fc.assert(fc.property(arb, ([a, b, c]) => {
      expectRef(dot(a.t, b.t), refOf([], [refSum(a.ref.data.map((v, i) => v * b.ref.data[i]))]), 1e-13, 1e-13, "dot");
      expectRef(a.t.dot(b.t), refOf([], [refSum(a.ref.data.map((v, i) => v * b.ref.data[i]))]), 1e-13, 1e-13, "dot method");
      const o = refOf([a.ref.shape[0], c.ref.shape[0]], a.ref.data.flatMap((x) => c.ref.data.map((y) => x * y)));
      expectRef(outer(a.t, c.t), o, 0, 0, "outer");
    }), RUNS);
  });

  it("errors: inner dimensions, rank 0, dot on non-1-D tensors (pointing to matmul), outer on matrices", () => {
    expectError(() => matmul(zeros([3, 4]), zeros([5, 2])), "matmul: inner dimensions differ ([3,4] @ [5,2])");
    expectError(() => matmul(zeros([4]), zeros([5])), "matmul", "[4]", "[5]");
    expectError(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 2])), "matmul", "[2]", "[3]");
    expectError(() => matmul(3, zeros([2])), "matmul", "rank");
    expectError(() => dot(zeros([2, 2]), zeros([2])), "dot", "[2,2]", "matmul");
    expectError(() => dot(zeros([2]), zeros([3])), "dot", "[2]", "[3]");
    expectError(() => dot(1, 2), "dot", "matmul");
    expectError(() => outer(zeros([2, 2]), zeros([2])), "outer", "[2,2]");
    expectError(() => matmul(zeros([2, 2]), zeros([2, 2], { dtype: "float32" })), "matmul", "float32");
  });
});

describe("primitives/linalg: solve", () => {
  /** A well-conditioned (strictly diagonally dominant) matrix and a right-hand side of shape [n] or [n,k]. */
  const solveArb = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.option(fc.integer({ min: 0, max: 3 }))).chain(([n, k]) =>
    fc.tuple(unitValues(n * n), fc.array(fc.boolean(), { minLength: n, maxLength: n }), layoutArb, operandOf(k === null ? [n] : [n, k]))
      .map(([u, signs, layout, b]) => {
        const vals = u.map((v, i) => (i % (n + 1) === 0 ? (signs[i / (n + 1)] ? 1 : -1) * (n + 1 + v) : v));
        return [makeOperand([n, n], vals, layout), b] as [Operand, Operand];
      }));

  it("solves A x = b for b of shape [n] and [n,k] (residual ≈ 0 and matches Gauss–Jordan)", () => {
    fc.assert(fc.property(solveArb, ([A, b]) => {
      const x = solve(A.t, b.t);
      expectRef(x, refSolve(A.ref, b.ref), 1e-12, 1e-12, "solve");
      const residual = refMap([refMatmul(A.ref, refOf(x.shape, flatten(x.toArray()))), b.ref], (p, q) => p - q);
      for (const r of residual.data) expect(Math.abs(r)).to.be.below(1e-12);
    }), RUNS);
  });

  it("needs pivoting: a zero leading entry is fine; float32 stays float32", () => {
    expectRef(solve([[0, 1], [1, 0]], [2, 3]), refOf([2], [3, 2]), 0, 0, "permutation");
    expectRef(solve([[1e-20, 1], [1, 1]], [1, 2]), refOf([2], [1, 1]), 1e-15, 0, "tiny pivot");
    const x32 = solve(tensor([[2, 0], [0, 4]], { dtype: "float32" }), tensor([1, 1], { dtype: "float32" }));
    expect(x32.dtype).to.equal("float32");
    expect(x32.toArray()).to.deep.equal([0.5, 0.25]);
    expect(solve(zeros([0, 0]), zeros([0])).shape).to.deep.equal([0]);
    expect(solve(zeros([0, 0]), zeros([0, 2])).shape).to.deep.equal([0, 2]);
  });

  it("singular matrices and wrong shapes are Errors naming the shapes", () => {
    expectError(() => solve([[1, 2], [2, 4]], [1, 1]), "solve", "singular", "[2,2]");
    expectError(() => solve(zeros([3, 3]), zeros([3])), "solve", "singular", "[3,3]");
    expectError(() => solve([[0, 0], [0, 1]], [1, 1]), "solve", "singular");
    expectError(() => solve(zeros([2, 3]), zeros([2])), "solve", "[2,3]");
    expectError(() => solve(eye(2), zeros([3])), "solve", "[3]");
    expectError(() => solve(eye(2), zeros([2, 2, 1])), "solve", "[2,2,1]");
    expectError(() => solve(eye(2), 1), "solve");
  });
});

describe("primitives/linalg: norm", () => {
  const ORDS: [number, (v: number[]) => number][] = [
    [2, (v) => Math.sqrt(refSum(v.map((x) => x * x)))],
    [1, (v) => refSum(v.map(Math.abs))],
    [Infinity, (v) => Math.max(0, ...v.map(Math.abs))],
    [-Infinity, (v) => Math.min(...v.map(Math.abs))],
    [3, (v) => Math.pow(refSum(v.map((x) => Math.abs(x) ** 3)), 1 / 3)],
    [1.5, (v) => Math.pow(refSum(v.map((x) => Math.abs(x) ** 1.5)), 1 / 1.5)],
    [0.5, (v) => Math.pow(refSum(v.map((x) => Math.abs(x) ** 0.5)), 2)],
  ];

  it("norm for ord 2 (default), 1, ±∞ and p, over all entries or any axis form, with keepdims", () => {
    const arb = shapeOf(3, 3).chain((s) => fc.tuple(operandOf(s, "wide"), axisArb(s.length), fc.constantFrom(undefined, true, false), fc.constantFrom(...ORDS)));
    fc.assert(fc.property(arb, ([x, axis, keepdims, [ord, ref]]) => {
      const axes = refAxes(axis, x.ref.shape.length);
      if (ord === -Infinity && axes.some((a) => x.ref.shape[a] === 0)) {
        expectError(() => norm(x.t, ord, axis, keepdims), "norm", "empty");
        return;
      }
      const expected = refReduce(x.ref, axes, keepdims === true, ref);
      expectRef(norm(x.t, ord, axis, keepdims), expected, 1e-13, 1e-13, `norm(ord ${ord}, axis ${JSON.stringify(axis)})`);
      expectRef(x.t.norm(ord, axis, keepdims), expected, 1e-13, 1e-13, "norm method");
      if (ord === 2 && axis === undefined && keepdims === undefined) expectRef(norm(x.t), expected, 1e-13, 1e-13, "norm default");
    }), runs(100));
  });

  it("norm of zeros is 0 for every ord; bad ord is an Error", () => {
    for (const [ord] of ORDS) expect(norm(zeros([3]), ord).item(), `ord ${ord}`).to.equal(0);
    for (const ord of [0, -1, NaN, "fro", null, true]) expectError(() => norm(tensor([1, 2]), ord as never), "norm", "ord");
    expectError(() => norm(tensor([1, 2]), 2, 1), "norm", "axis");
  });
});
