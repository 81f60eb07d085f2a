/**
 * Derivative rules of the shape primitives (transpose, reshape, broadcastTo,
 * slice and its transpose pad, concat, stack) on random shapes and layouts,
 * against finite differences in both modes and the two modes against each other.
 */
import fc from "fast-check";
import { Tensor, transpose, reshape, broadcastTo, slice, concat, stack, mul, sin } from "../../lib/index.js";
import { broadcastTargetArb, operandOf, permArb, reshapePairArb, shapeOf, runs } from "./reference.js";
import { checkRules } from "./rules.js";

const RUNS = runs(60);

describe("primitives/shape: derivative rules (FD, jvp, vjp, adjointness)", () => {
  it("transpose", () => {
    fc.assert(fc.property(shapeOf(4, 3, false).chain((s) => fc.tuple(operandOf(s), fc.option(permArb(s.length)))), fc.integer(), ([x, perm], seed) => {
      checkRules({ f: (t) => (perm === null ? transpose(t) : transpose(t, perm)), args: [x.t], seed, label: `transpose ${JSON.stringify(perm)}` });
    }), RUNS);
  });

  it("reshape (on every layout, −1 included)", () => {
    fc.assert(fc.property(reshapePairArb.chain(([from, to]) => fc.tuple(operandOf(from), fc.constant(to))), fc.integer(), ([x, to], seed) => {
      checkRules({ f: (t) => reshape(t, to), args: [x.t], seed, label: `reshape → ${JSON.stringify(to)}` });
      if (to.length > 0 && to.slice(1).every((d) => d > 0)) checkRules({ f: (t) => reshape(t, [-1, ...to.slice(1)]), args: [x.t], seed, label: "reshape -1" });
    }), RUNS);
  });

  it("broadcastTo (new leading axes and stretched size-1 axes)", () => {
    fc.assert(fc.property(broadcastTargetArb(3, 3, false).chain(([target, small]) => fc.tuple(fc.constant(target), operandOf(small))), fc.integer(), ([target, x], seed) => {
      checkRules({ f: (t) => broadcastTo(t, target), args: [x.t], seed, label: `broadcastTo ${JSON.stringify(target)}` });
    }), RUNS);
  });

  it("slice (and pad, its transpose, through second use of the pullback)", () => {
    const arb = shapeOf(3, 4, false).chain((s) => fc.tuple(
      operandOf(s),
      fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b }))))),
    ));
    fc.assert(fc.property(arb, fc.integer(), ([x, box], seed) => {
      const begin = box.map(([b]) => b);
      const size = box.map(([, sz]) => sz);
      checkRules({ f: (t) => slice(t, begin, size), args: [x.t], seed, label: `slice ${JSON.stringify(begin)} ${JSON.stringify(size)}` });
      // A nonlinear function of the slice: pad (the VJP of slice) then feeds a further rule.
      checkRules({ f: (t) => mul(sin(slice(t, begin, size)), slice(t, begin, size)), args: [x.t], seed, label: "sin(slice)·slice" });
    }), RUNS);
  });

  it("concat (every part differentiated, any axis)", () => {
    const arb = shapeOf(3, 3, false, 1).chain((base) => fc.tuple(fc.integer({ min: -base.length, max: base.length - 1 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }))
      .chain(([axis, lens]) => {
        const ax = axis < 0 ? axis + base.length : axis;
        return fc.tuple(fc.constant(axis), fc.tuple(...lens.map((l) => operandOf(base.map((d, i) => (i === ax ? l : d))))));
      }));
    fc.assert(fc.property(arb, fc.integer(), ([axis, parts], seed) => {
      checkRules({ f: (...ts: Tensor[]) => concat(ts, axis), args: parts.map((p) => p.t), seed, label: `concat axis ${axis}` });
    }), RUNS);
  });

  it("stack (every part differentiated, any axis)", () => {
    const arb = shapeOf(3, 3, false).chain((s) => fc.tuple(fc.integer({ min: -s.length - 1, max: s.length }), fc.array(operandOf(s), { minLength: 1, maxLength: 3 })));
    fc.assert(fc.property(arb, fc.integer(), ([axis, parts], seed) => {
      checkRules({ f: (...ts: Tensor[]) => stack(ts, axis), args: parts.map((p) => p.t), seed, label: `stack axis ${axis}` });
    }), RUNS);
  });
});
