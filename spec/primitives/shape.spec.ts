/**
 * Shape primitives against plain-JS references: transpose (NumPy), reshape
 * (row-major, −1 inferred), broadcastTo, slice (TensorFlow.js: size −1 = to
 * the end), concat and stack — on random shapes including rank 0 and zero-size
 * dimensions, random layouts, and the results consumed by further ops (views
 * must read correctly, not just print correctly).
 */
import { expect } from "chai";
import fc from "fast-check";
import { Tensor, transpose, reshape, broadcastTo, slice, concat, stack, sum, add, zeros, tensor, arange } from "../../lib/index.js";
import { expectError } from "../helpers.js";
import {
  broadcastTargetArb, expectRef, operandOf, refBroadcastTo, refConcat, refMap, refOf, refReduce, refSlice, refStack, refSum, refTranspose, shapeOf,
  sizeOfShape, permArb, reshapePairArb, type Operand, runs } from "./reference.js";

const RUNS = runs(100);

describe("primitives/shape: forward", () => {
  it("transpose permutes axes as NumPy (default: reversed), also as a method and .T", () => {
    fc.assert(fc.property(shapeOf(4, 3).chain((s) => fc.tuple(operandOf(s), fc.option(permArb(s.length)))), ([x, perm]) => {
      const n = x.ref.shape.length;
      const p = perm === null ? Array.from({ length: n }, (_, i) => n - 1 - i) : perm.map((a) => (a < 0 ? a + n : a));
      const expected = refTranspose(x.ref, p);
      const out = perm === null ? transpose(x.t) : transpose(x.t, perm);
      expectRef(out, expected, 0, 0, "transpose");
      expectRef(perm === null ? x.t.transpose() : x.t.transpose(perm), expected, 0, 0, "transpose method");
      // The view must also be read correctly by a kernel.
      expectRef(add(out, 0), expected, 0, 0, "add(transpose(x), 0)");
      if (n === 2) expectRef(x.t.T, refTranspose(x.ref, [1, 0]), 0, 0, ".T");
    }), RUNS);
  });

  it("reshape keeps row-major order, infers one −1, and works on every layout", () => {
    fc.assert(fc.property(reshapePairArb.chain(([from, to]) => fc.tuple(operandOf(from), fc.constant(to), fc.integer({ min: -1, max: to.length - 1 }))), ([x, to, inferAt]) => {
      const expected = refOf(to, x.ref.data);
      expectRef(reshape(x.t, to), expected, 0, 0, "reshape");
      expectRef(x.t.reshape(to), expected, 0, 0, "reshape method");
      const known = to.filter((_, i) => i !== inferAt);
      if (inferAt >= 0 && sizeOfShape(known) > 0) {
        const withInferred = to.map((d, i) => (i === inferAt ? -1 : d));
        expectRef(reshape(x.t, withInferred), expected, 0, 0, `reshape ${JSON.stringify(withInferred)}`);
      }
      expectRef(add(reshape(x.t, to), 0), expected, 0, 0, "add(reshape(x), 0)");
    }), RUNS);
  });

  it("broadcastTo follows NumPy's broadcast_to and the view reads correctly", () => {
    fc.assert(fc.property(broadcastTargetArb(4, 3).chain(([target, small]) => fc.tuple(fc.constant(target), operandOf(small))), ([target, x]) => {
      const expected = refBroadcastTo(x.ref, target);
      expectRef(broadcastTo(x.t, target), expected, 0, 0, "broadcastTo");
      expectRef(x.t.broadcastTo(target), expected, 0, 0, "broadcastTo method");
      expectRef(add(broadcastTo(x.t, target), 0), expected, 0, 0, "add(broadcastTo(x), 0)");
      if (target.length > 0) {
        const axes = [target.length - 1];
        expectRef(sum(broadcastTo(x.t, target), axes), refReduce(expected, axes, false, refSum), 1e-14, 1e-14, "sum of a broadcast view");
      }
    }), RUNS);
  });

  it("slice(x, begin, size) as TensorFlow.js (size −1 = to the end; short arrays pad with 0 and −1)", () => {
    const arb = shapeOf(4, 4).chain((s) => fc.tuple(
      operandOf(s),
      fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d }).chain((b) => fc.tuple(fc.constant(b), fc.oneof(fc.integer({ min: 0, max: d - b }), fc.constant(-1)))))),
      fc.integer({ min: 0, max: s.length }), fc.integer({ min: 0, max: s.length }),
    ));
    fc.assert(fc.property(arb, ([x, box, nb, ns]) => {
      const shape = x.ref.shape;
      const begin = box.map(([b]) => b);
      const size = box.map(([b, sz], i) => (sz === -1 ? shape[i] - b : sz));
      const expected = refSlice(x.ref, begin, size);
      expectRef(slice(x.t, begin, box.map(([, sz]) => sz)), expected, 0, 0, "slice");
      expectRef(x.t.slice(begin, size), expected, 0, 0, "slice method");
      expectRef(add(slice(x.t, begin, size), 0), expected, 0, 0, "add(slice(x), 0)");
      // Shorter begin/size arrays: missing begins are 0 and missing sizes −1.
      const shortBegin = begin.slice(0, nb);
      const shortSize = size.slice(0, Math.min(ns, nb)).concat(new Array(Math.max(0, ns - nb)).fill(-1));
      const fullBegin = shape.map((_, i) => (i < nb ? begin[i] : 0));
      const fullSize = shape.map((d, i) => (i < shortSize.length && shortSize[i] !== -1 ? shortSize[i] : d - fullBegin[i]));
      expectRef(slice(x.t, shortBegin, shortSize), refSlice(x.ref, fullBegin, fullSize), 0, 0, "slice with short arrays");
    }), RUNS);
    expect(slice(arange(5), 2).toArray()).to.deep.equal([2, 3, 4]);
    expect(slice(arange(5), 1, 2).toArray()).to.deep.equal([1, 2]);
  });

  it("concat joins along any axis (negative too), including zero-length parts", () => {
    const arb = shapeOf(3, 3, true, 1).chain((base) => fc.tuple(
      fc.constant(base), fc.integer({ min: -base.length, max: base.length - 1 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
    )).chain(([base, axis, lens]) => {
      const ax = axis < 0 ? axis + base.length : axis;
      return fc.tuple(fc.constant(axis), fc.tuple(...lens.map((l) => operandOf(base.map((d, i) => (i === ax ? l : d))))));
    });
    fc.assert(fc.property(arb, ([axis, parts]) => {
      const ax = axis < 0 ? axis + parts[0].ref.shape.length : axis;
      const expected = refConcat(parts.map((p) => p.ref), ax);
      expectRef(concat(parts.map((p) => p.t), axis), expected, 0, 0, `concat axis ${axis}`);
      expectRef(add(concat(parts.map((p) => p.t), axis), 0), expected, 0, 0, "add(concat, 0)");
    }), RUNS);
    expect(concat([[1, 2], tensor([3])]).toArray()).to.deep.equal([1, 2, 3]);
  });

  it("stack joins equal shapes along a new axis (rank 0 included, negative axis too)", () => {
    const arb = shapeOf(3, 3).chain((s) => fc.tuple(fc.integer({ min: -s.length - 1, max: s.length }), fc.array(operandOf(s), { minLength: 1, maxLength: 4 })));
    fc.assert(fc.property(arb, ([axis, parts]: [number, Operand[]]) => {
      const r = parts[0].ref.shape.length + 1;
      const expected = refStack(parts.map((p) => p.ref), axis < 0 ? axis + r : axis);
      expectRef(stack(parts.map((p) => p.t), axis), expected, 0, 0, `stack axis ${axis}`);
    }), RUNS);
    expect(stack([1, 2, 3]).toArray()).to.deep.equal([1, 2, 3]);
  });

  it("views are read-only: a later op on a view leaves the base tensor's values alone", () => {
    const base = tensor([[1, 2, 3], [4, 5, 6]]);
    const views: Tensor[] = [transpose(base), reshape(base, [3, 2]), broadcastTo(base, [2, 2, 3]), slice(base, [1, 1], [1, 2])];
    for (const v of views) add(v, 1);
    expect(base.toArray()).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
    expectRef(add(views[3], 1), refMap([refOf([1, 2], [5, 6])], (v) => v + 1), 0, 0, "slice + 1");
  });
});

describe("primitives/shape: errors", () => {
  it("reshape: size mismatch, two −1, and bad entries name the shapes", () => {
    expectError(() => reshape(zeros([2, 3]), [4, 2]), "reshape", "[2,3]", "[4,2]");
    expectError(() => reshape(zeros([2, 3]), [-1, -1]), "reshape", "-1");
    expectError(() => reshape(zeros([2, 3]), [-1, 4]), "reshape", "[2,3]");
    expectError(() => reshape(zeros([0, 3]), [-1, 0]), "reshape");
    for (const bad of [[1.5, 4], [-2, -3], ["6"], [null], "6", null, 6]) expectError(() => reshape(zeros([6]), bad as never), "reshape");
  });

  it("transpose: not a permutation", () => {
    expectError(() => transpose(zeros([2, 3]), [0, 0]), "transpose", "[0,0]");
    expectError(() => transpose(zeros([2, 3]), [0]), "transpose", "[2,3]");
    expectError(() => transpose(zeros([2, 3]), [0, 2]), "transpose", "2");
    expectError(() => transpose(zeros([2, 3]), [0, "1"] as never), "transpose");
    expectError(() => transpose(zeros([2, 3]), "10" as never), "transpose");
  });

  it("broadcastTo: incompatible target", () => {
    expectError(() => broadcastTo(zeros([2, 3]), [3, 3]), "broadcastTo", "[2,3]", "[3,3]");
    expectError(() => broadcastTo(zeros([2, 3]), [3]), "broadcastTo", "[2,3]", "[3]");
    expectError(() => broadcastTo(zeros([2]), [-2]), "broadcastTo");
    expectError(() => broadcastTo(zeros([2]), ["2"] as never), "broadcastTo");
  });

  it("slice: out of range begin or size, bad types", () => {
    expectError(() => slice(zeros([3]), [2], [2]), "slice", "[3]");
    expectError(() => slice(zeros([3]), [4], [0]), "slice", "begin");
    expectError(() => slice(zeros([3]), [-1], [1]), "slice", "begin");
    expectError(() => slice(zeros([3]), [0], [-2]), "slice", "size");
    expectError(() => slice(zeros([3]), [0, 0], [1, 1]), "slice", "[3]");
    expectError(() => slice(zeros([3]), [0.5], [1]), "slice");
    expectError(() => slice(zeros([3]), ["0"] as never, [1]), "slice");
    expectError(() => slice(zeros([3]), [0], [null] as never), "slice");
    expectError(() => slice(zeros([3]), null as never), "slice");
  });

  it("concat and stack: mismatched shapes, empty lists, bad axes, rank 0", () => {
    expectError(() => concat([zeros([2, 3]), zeros([3, 3])], 1), "concat", "[2,3]", "[3,3]");
    expectError(() => concat([zeros([2]), zeros([2, 1])]), "concat", "[2]", "[2,1]");
    expectError(() => concat([]), "concat");
    expectError(() => concat([zeros([2])], 1), "concat", "axis");
    expectError(() => concat([1, 2]), "concat", "rank-0");
    expectError(() => concat([zeros([2]), zeros([2])], "0" as never), "concat", "axis");
    expectError(() => concat("ab" as never), "concat");
    expectError(() => stack([zeros([2]), zeros([3])]), "stack", "[2]", "[3]");
    expectError(() => stack([]), "stack");
    expectError(() => stack([zeros([2]), zeros([2])], 2), "stack", "axis");
    expectError(() => stack([zeros([2]), null] as never), "stack");
    expectError(() => stack([zeros([2]), zeros([2], { dtype: "float32" })]), "stack", "float32", "float64");
  });
});
