/**
 * Reductions (sum, mean, max, min, logsumexp) and softmax against plain-JS
 * references: every `axis` form (undefined, null, number, negative, array,
 * empty array) with and without keepdims, random layouts, zero-size
 * dimensions, and the numerics API.md fixes (NaN, ±∞ as SciPy, empty inputs,
 * stability for large |x|).
 */
import { expect } from "chai";
import fc from "fast-check";
import * as lib from "../../lib/index.js";
import { Tensor, tensor, zeros, sum, mean, max, min, logsumexp, softmax } from "../../lib/index.js";
import { expectError } from "../helpers.js";
import {
  axisArb, expectRef, flatten, operandOf, refAxes, type AxisArg, refLogSumExpNaive, refMax, refMin, refReduce, refSoftmax, refSum, shapeOf,
  specialOperandOf, type Operand, type Ref, runs } from "./reference.js";

const RUNS = runs(100);

const keepdimsArb = fc.constantFrom(undefined, true, false);

/** SciPy's logsumexp on ±∞ and NaN: NaN wins, then +∞, all −∞ (or empty) is −∞. */
function refLogSumExpScipy(v: number[]): number {
  if (v.some(Number.isNaN)) return NaN;
  if (v.some((x) => x === Infinity)) return Infinity;
  const finite = v.filter((x) => x !== -Infinity);
  if (finite.length === 0) return -Infinity;
  const m = Math.max(...finite);
  return m + Math.log(finite.reduce((s, x) => s + Math.exp(x - m), 0));
}

const REDUCTIONS: { name: string; fn: (x: unknown, axis?: AxisArg, keepdims?: boolean) => Tensor; ref: (v: number[]) => number; emptyIsError: boolean; rtol: number; atol: number }[] = [
  { name: "sum", fn: sum as never, ref: refSum, emptyIsError: false, rtol: 1e-13, atol: 1e-13 },
  { name: "mean", fn: mean as never, ref: (v) => refSum(v) / v.length, emptyIsError: false, rtol: 1e-13, atol: 1e-13 },
  { name: "max", fn: max as never, ref: refMax, emptyIsError: true, rtol: 0, atol: 0 },
  { name: "min", fn: min as never, ref: refMin, emptyIsError: true, rtol: 0, atol: 0 },
  // The textbook log Σ exp loses absolute accuracy ~1e-16 near lse = 0.
  { name: "logsumexp", fn: logsumexp as never, ref: refLogSumExpNaive, emptyIsError: false, rtol: 1e-13, atol: 1e-14 },
];

const reductionCase = (kind: "wide" | "special"): fc.Arbitrary<[Operand, AxisArg, boolean | undefined]> =>
  shapeOf(4, 3).chain((s) => fc.tuple(kind === "wide" ? operandOf(s, "wide") : specialOperandOf(s), axisArb(s.length), keepdimsArb));

function check(name: string, out: () => Tensor, x: Ref, axis: AxisArg, keepdims: boolean | undefined, ref: (v: number[]) => number, emptyIsError: boolean, rtol: number, atol = 0): void {
  const axes = refAxes(axis, x.shape.length);
  const empty = axes.some((a) => x.shape[a] === 0);
  if (emptyIsError && empty) {
    expectError(out, name, "empty");
    return;
  }
  expectRef(out(), refReduce(x, axes, keepdims === true, ref), rtol, atol, `${name}(axis ${JSON.stringify(axis)}, keepdims ${keepdims})`);
}

describe("primitives/reduce: reductions", () => {
  for (const { name, fn, ref, emptyIsError, rtol, atol } of REDUCTIONS) {
    it(`${name} over every axis form, with and without keepdims, on random shapes and layouts`, () => {
      fc.assert(fc.property(reductionCase("wide"), ([x, axis, keepdims]) => {
        check(name, () => fn(x.t, axis, keepdims), x.ref, axis, keepdims, ref, emptyIsError, rtol, atol);
        const method = (x.t as unknown as Record<string, (a?: AxisArg, k?: boolean) => Tensor>)[name];
        check(`${name}`, () => method.call(x.t, axis, keepdims), x.ref, axis, keepdims, ref, emptyIsError, rtol, atol);
      }), RUNS);
    });
  }

  it("max, min and sum propagate NaN and ±∞; logsumexp treats ±∞ and NaN as SciPy does", () => {
    fc.assert(fc.property(reductionCase("special"), ([x, axis, keepdims]) => {
      check("max", () => max(x.t, axis, keepdims), x.ref, axis, keepdims, refMax, true, 0);
      check("min", () => min(x.t, axis, keepdims), x.ref, axis, keepdims, refMin, true, 0);
      check("logsumexp", () => logsumexp(x.t, axis, keepdims), x.ref, axis, keepdims, refLogSumExpScipy, false, 1e-13, 1e-14);
      const finite = x.ref.data.every(Number.isFinite) && x.ref.data.every((v) => Math.abs(v) < 1e300);
      if (finite) check("sum", () => sum(x.t, axis, keepdims), x.ref, axis, keepdims, refSum, false, 1e-13, 1e-13);
    }), RUNS);
  });

  it("logsumexp: the SciPy table for ±∞, NaN and empty input", () => {
    const cases: [number[], number][] = [
      [[-Infinity, -Infinity], -Infinity],
      [[Infinity, 1], Infinity],
      [[Infinity, -Infinity], Infinity],
      [[Infinity, Infinity], Infinity],
      [[NaN, 1], NaN],
      [[NaN, Infinity], NaN],
      [[-Infinity, 0], 0],
      [[], -Infinity],
      [[1000, 1000], 1000 + Math.log(2)],
      [[-1000, -1000], -1000 + Math.log(2)],
      [[1000, 0], 1000],
      [[1e300, 1e300], 1e300],
    ];
    for (const [v, expected] of cases) {
      const got = logsumexp(tensor(v)).item();
      if (Number.isNaN(expected)) expect(Number.isNaN(got), `logsumexp(${v})`).to.equal(true);
      else expect(got, `logsumexp(${v})`).to.equal(expected);
    }
    expect(flatten(logsumexp(zeros([2, 0]), 1).toArray())).to.deep.equal([-Infinity, -Infinity]);
    expect(logsumexp(zeros([0, 3])).item()).to.equal(-Infinity);
  });

  it("logsumexp is shift-equivariant at large offsets (no overflow): lse(x + c) = lse(x) + c", () => {
    fc.assert(fc.property(shapeOf(2, 4, false, 1).chain((s) => operandOf(s, "any")), fc.constantFrom(-1e4, -700, 700, 1e4), (x, c) => {
      const expected = refReduce(x.ref, [x.ref.shape.length - 1], false, (v) => refLogSumExpNaive(v) + c);
      expectRef(logsumexp(lib.add(x.t, c), -1), expected, 1e-13, 0, "logsumexp shifted");
    }), RUNS);
  });

  it("empty inputs: sum 0, mean NaN, logsumexp −∞, max/min an Error naming the shape", () => {
    expect(sum(zeros([0])).item()).to.equal(0);
    expect(sum(zeros([3, 0, 2])).item()).to.equal(0);
    expect(flatten(sum(zeros([2, 0]), 1).toArray())).to.deep.equal([0, 0]);
    expect(sum(zeros([2, 0]), 0).shape).to.deep.equal([0]);
    expect(Number.isNaN(mean(zeros([0])).item())).to.equal(true);
    expectError(() => max(zeros([0])), "max", "[0]");
    expectError(() => min(zeros([2, 0])), "min", "[2,0]");
    expectError(() => max(zeros([2, 0]), 1), "max", "[2,0]");
    expect(max(zeros([2, 0]), 0).shape).to.deep.equal([0]);
    expect(min(zeros([0, 3]), 1, true).shape).to.deep.equal([0, 1]);
    expect(max(zeros([0]), []).shape).to.deep.equal([0]);
  });

  it("NaN propagates through max and min (NumPy, not Math.max on sorted data)", () => {
    expect(Number.isNaN(max(tensor([1, NaN, 3])).item())).to.equal(true);
    expect(Number.isNaN(min(tensor([NaN, -Infinity])).item())).to.equal(true);
    const m = flatten(max(tensor([[1, NaN], [3, 2]]), 1).toArray());
    expect(Number.isNaN(m[0])).to.equal(true);
    expect(m[1]).to.equal(3);
    expect(max(tensor([-Infinity, -Infinity])).item()).to.equal(-Infinity);
  });

  it("reductions of float32 tensors stay float32", () => {
    const x = tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], { dtype: "float32" });
    for (const { name, fn } of REDUCTIONS) expect(fn(x, 1).dtype, name).to.equal("float32");
    expect(softmax(x).dtype).to.equal("float32");
    expect(sum(x, 1).toArray()).to.deep.equal([Math.fround(Math.fround(0.1) + Math.fround(0.2) + Math.fround(0.3)), Math.fround(Math.fround(0.4) + Math.fround(0.5) + Math.fround(0.6))]);
  });
});

describe("primitives/reduce: softmax", () => {
  const softmaxAxisArb = (ndim: number): fc.Arbitrary<AxisArg> => fc.oneof(fc.constant(undefined), axisArb(ndim));

  it("matches exp(x)/Σexp(x) along every axis form, on random shapes and layouts", () => {
    fc.assert(fc.property(shapeOf(3, 3, true, 1).chain((s) => fc.tuple(operandOf(s, "wide"), softmaxAxisArb(s.length))), ([x, axis]) => {
      const axes = axis === undefined ? [x.ref.shape.length - 1] : refAxes(axis, x.ref.shape.length);
      const expected = refSoftmax(x.ref, axes);
      expectRef(softmax(x.t, axis), expected, 1e-12, 1e-300, `softmax(axis ${JSON.stringify(axis)})`);
      expectRef(x.t.softmax(axis), expected, 1e-12, 1e-300, "softmax method");
    }), RUNS);
  });

  it("is stable for large |x|: no NaN or ∞, exact on ties at any magnitude", () => {
    expect(flatten(softmax(tensor([1000, 1000])).toArray())).to.deep.equal([0.5, 0.5]);
    expect(flatten(softmax(tensor([1e10, 1e10, 1e10, 1e10])).toArray())).to.deep.equal([0.25, 0.25, 0.25, 0.25]);
    expect(flatten(softmax(tensor([-1000, 0])).toArray())).to.deep.equal([0, 1]);
    expect(flatten(softmax(tensor([-1e300, -1e300])).toArray())).to.deep.equal([0.5, 0.5]);
    fc.assert(fc.property(shapeOf(2, 4, false, 1).chain((s) => operandOf(s, "any")), fc.constantFrom(-1e5, -1000, 1000, 1e5), (x, c) => {
      // Shift invariance: softmax(x + c) = softmax(x), evaluated by the textbook formula at x.
      expectRef(softmax(lib.add(x.t, c)), refSoftmax(x.ref, [x.ref.shape.length - 1]), 1e-9, 1e-15, "softmax shifted");
    }), RUNS);
  });

  it("softmax of a rank-0 tensor is an Error; an empty axis gives an empty result", () => {
    expectError(() => softmax(3), "softmax", "rank");
    expect(softmax(zeros([2, 0])).shape).to.deep.equal([2, 0]);
  });
});
