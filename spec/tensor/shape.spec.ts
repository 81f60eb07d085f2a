/**
 * lib/tensor/shape.ts: broadcasting, strides, axis normalisation and shape
 * validation, against NumPy's rules written out in plain JS.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  broadcastShapes, checkShape, contiguousStrides, describe as describeValue, isContiguous, normalizeAxes, normalizeAxis, reducedShape, shapeToString, sizeOf,
} from "../../lib/tensor/shape.js";
import { expectError } from "../helpers.js";
import { axisArb, refAxes, refBroadcastShape, runs, shapeOf, sizeOfShape } from "../primitives/reference.js";

describe("tensor/shape", () => {
  it("broadcastShapes agrees with NumPy's rule on random pairs, and names both shapes when they clash", () => {
    fc.assert(fc.property(shapeOf(4, 3), shapeOf(4, 3), (a, b) => {
      const expected = refBroadcastShape(a, b);
      if (expected === null) expectError(() => broadcastShapes("op", a, b), "op", shapeToString(a), shapeToString(b));
      else expect(broadcastShapes("op", a, b)).to.deep.equal(expected);
    }), runs(300));
  });

  it("contiguousStrides are row-major and isContiguous recognises them (size-1 dimensions are free)", () => {
    fc.assert(fc.property(shapeOf(4, 4), fc.integer({ min: 2, max: 5 }), (shape, junk) => {
      const strides = contiguousStrides(shape);
      strides.forEach((s, i) => expect(s).to.equal(sizeOfShape(shape.slice(i + 1))));
      expect(isContiguous(shape, strides)).to.equal(true);
      expect(sizeOf(shape)).to.equal(sizeOfShape(shape));
      const ones = shape.map((d, i) => (d === 1 ? junk : strides[i]));
      expect(isContiguous(shape, ones)).to.equal(true);
      const i = shape.findIndex((d) => d > 1);
      if (i >= 0 && sizeOf(shape) > 0) {
        const bad = strides.slice();
        bad[i] = -bad[i];
        expect(isContiguous(shape, bad)).to.equal(false);
      }
    }), runs(100));
  });

  it("normalizeAxes: all axes for undefined/null, negatives from the end, sorted and distinct; reducedShape follows", () => {
    fc.assert(fc.property(shapeOf(4, 3).chain((s) => fc.tuple(fc.constant(s), axisArb(s.length), fc.boolean())), ([shape, axis, keepdims]) => {
      const axes = normalizeAxes("op", axis, shape.length);
      expect(axes).to.deep.equal(refAxes(axis, shape.length));
      const expected = keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
      expect(reducedShape(shape, axes, keepdims)).to.deep.equal(expected);
    }), runs(100));
    expectError(() => normalizeAxes("op", 3, 3), "op", "axis 3");
    expectError(() => normalizeAxes("op", [0, -3], 3), "op", "repeated");
    expectError(() => normalizeAxes("op", [0, Symbol("x")], 3), "op", "axis");
    expectError(() => normalizeAxis("op", 1.5, 3), "op", "axis");
    expect(normalizeAxis("op", -1, 3)).to.equal(2);
  });

  it("checkShape accepts arrays of non-negative integers only, and describes anything it rejects", () => {
    expect(checkShape("op", [0, 2, 3])).to.deep.equal([0, 2, 3]);
    for (const bad of [[-1], [1.5], [NaN], ["2"], [null], [2n], [Symbol("s")], [Object.create(null)], "2", 2, null, undefined, {}]) {
      expectError(() => checkShape("op", bad), "op", "shape");
    }
    expect(describeValue(Object.create(null))).to.equal("an object");
    expect(describeValue(new Int32Array(1))).to.equal("an Int32Array");
    expect(describeValue("x".repeat(30))).to.contain("…");
    expect(shapeToString([1, "a", null, Symbol("s")])).to.equal('[1,"a",null,a Symbol]');
  });
});
