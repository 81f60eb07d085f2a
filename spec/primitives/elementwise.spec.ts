/**
 * Forward kernels of the elementwise primitives against plain-JS references
 * (NumPy semantics): every op on random shapes (rank 0, size-1 and zero-size
 * dimensions), random values and random memory layouts, NumPy broadcasting,
 * plain numbers and nested arrays as operands, the method forms, float32, and
 * IEEE behaviour on ±0, ±∞ and NaN.
 */
import { expect } from "chai";
import fc from "fast-check";
import ndarray from "ndarray";
import * as lib from "../../lib/index.js";
import { Tensor, tensor, where, stopGradient, broadcastTo, slice, transpose } from "../../lib/index.js";
import {
  broadcastShapesArb, broadcastTargetArb, expectRef, flatten, layoutArb, makeOperand, nest, operandOf, refBroadcastTo, refMap, refOf, refSlice, shapeOf,
  sizeOfShape, specialOperandOf, unitValues, mapValues, type Operand, type Ref, type ValueKind, runs } from "./reference.js";

const RUNS = runs(100);


/** NumPy softplus log(1 + eᵛ), written so the reference itself neither overflows nor loses digits. */
const refSoftplus = (v: number): number => (v > 30 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
/** C99/NumPy pow: 1ʸ = 1 for all y, (−1)^±∞ = 1; Math.pow elsewhere. */
const refPow = (x: number, y: number): number => (x === 1 || (x === -1 && Math.abs(y) === Infinity) ? 1 : Math.pow(x, y));
const nanMax = (x: number, y: number): number => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y));
const nanMin = (x: number, y: number): number => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y));

export const UNARY: { name: string; ref: (v: number) => number; kind: ValueKind }[] = [
  { name: "neg", ref: (v) => -v, kind: "wide" },
  { name: "exp", ref: Math.exp, kind: "wide" },
  { name: "log", ref: Math.log, kind: "positive" },
  { name: "sqrt", ref: Math.sqrt, kind: "positive" },
  { name: "abs", ref: Math.abs, kind: "any" },
  { name: "sign", ref: (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : 0), kind: "any" },
  { name: "sin", ref: Math.sin, kind: "wide" },
  { name: "cos", ref: Math.cos, kind: "wide" },
  { name: "tanh", ref: Math.tanh, kind: "wide" },
  { name: "sigmoid", ref: (v) => 1 / (1 + Math.exp(-v)), kind: "wide" },
  { name: "softplus", ref: refSoftplus, kind: "wide" },
  { name: "relu", ref: (v) => (Number.isNaN(v) ? NaN : v > 0 ? v : 0), kind: "any" },
];

export const BINARY: { name: string; ref: (x: number, y: number) => number; kinds: [ValueKind, ValueKind] }[] = [
  { name: "add", ref: (x, y) => x + y, kinds: ["wide", "wide"] },
  { name: "sub", ref: (x, y) => x - y, kinds: ["wide", "wide"] },
  { name: "mul", ref: (x, y) => x * y, kinds: ["wide", "wide"] },
  { name: "div", ref: (x, y) => x / y, kinds: ["any", "awayFromZero"] },
  { name: "pow", ref: refPow, kinds: ["positive", "any"] },
  { name: "maximum", ref: nanMax, kinds: ["any", "any"] },
  { name: "minimum", ref: nanMin, kinds: ["any", "any"] },
];

const fnOf = (name: string): ((...args: unknown[]) => Tensor) => (lib as unknown as Record<string, (...args: unknown[]) => Tensor>)[name];
const methodOf = (t: Tensor, name: string): ((...args: unknown[]) => Tensor) => {
  const m = (t as unknown as Record<string, (...args: unknown[]) => Tensor>)[name];
  return (...args) => m.apply(t, args);
};

type Form = "tensor" | "nested" | "number";
const formArb: fc.Arbitrary<Form> = fc.constantFrom("tensor", "tensor", "nested", "number");
/** The operand as the user might pass it: a Tensor, nested arrays, or (rank 0) a plain number. */
function asInput(op: Operand, form: Form): unknown {
  // Nested arrays cannot spell dimensions after a zero-size one ([] is shape [0]).
  if (form === "tensor" || op.ref.data.length === 0) return op.t;
  return nest(op.ref);
}

/** Operands of one shape and value kind, in a random layout. */
const unaryCase = (kind: ValueKind): fc.Arbitrary<Operand> => shapeOf(3, 3).chain((s) => operandOf(s, kind));

describe("primitives/elementwise: forward kernels", () => {
  for (const { name, ref, kind } of UNARY) {
    it(`${name} matches the reference on random shapes, values and layouts (function, method, nested and number inputs)`, () => {
      const f = fnOf(name);
      fc.assert(fc.property(unaryCase(kind), formArb, (x, form) => {
        const expected = refMap([x.ref], ref);
        expectRef(f(asInput(x, form)), expected, 1e-13, 1e-300, name);
        expectRef(methodOf(x.t, name)(), expected, 1e-13, 1e-300, `${name} method`);
      }), RUNS);
    });
  }

  it("unary ops follow IEEE/NumPy on ±0, ±∞, NaN, ±1000 and ±1e300", () => {
    fc.assert(fc.property(shapeOf(2, 4, false).chain((s) => specialOperandOf(s)), (x) => {
      for (const { name, ref } of UNARY) expectRef(fnOf(name)(x.t), refMap([x.ref], ref), 1e-13, 1e-300, name);
    }), RUNS);
  });

  it("stable forms: sigmoid, softplus and tanh at large |x| give finite, exact limits", () => {
    const big = tensor([-1000, -745, -50, 50, 745, 1000, -1e300, 1e300]);
    expectRef(lib.sigmoid(big), refOf([8], [0, Math.exp(-745), 1 / (1 + Math.exp(50)), 1, 1, 1, 0, 1]), 1e-15, 0, "sigmoid");
    const sp = flatten(lib.softplus(big).toArray());
    expect(sp[0]).to.equal(0);
    expect(sp[5]).to.equal(1000);
    expect(sp[7]).to.equal(1e300);
    expect(Math.abs(sp[2] - Math.exp(-50)) / Math.exp(-50)).to.be.below(1e-14);
    expect(lib.softplus(1000).item()).to.equal(1000);
    expect(lib.sigmoid(-1000).item()).to.equal(0);
    expect(lib.tanh(1000).item()).to.equal(1);
  });

  for (const { name, ref, kinds } of BINARY) {
    it(`${name} broadcasts as NumPy and matches the reference (layouts, nested/number operands, method form)`, () => {
      const f = fnOf(name);
      const arb = broadcastShapesArb(2).chain(([sa, sb]) => fc.tuple(operandOf(sa, kinds[0]), operandOf(sb, kinds[1]), formArb, formArb));
      fc.assert(fc.property(arb, ([a, b, fa, fb]) => {
        const expected = refMap([a.ref, b.ref], ref);
        expectRef(f(asInput(a, fa), asInput(b, fb)), expected, 1e-14, 1e-300, name);
        expectRef(methodOf(a.t, name)(asInput(b, fb)), expected, 1e-14, 1e-300, `${name} method`);
        if (b.ref.shape.length === 0) expectRef(f(a.t, b.ref.data[0]), expected, 1e-14, 1e-300, `${name} with a number`);
      }), RUNS);
    });
  }

  it("binary ops follow IEEE/NumPy on specials; maximum and minimum propagate NaN", () => {
    const arb = broadcastShapesArb(2, 2, 3, false).chain(([sa, sb]) => fc.tuple(specialOperandOf(sa), specialOperandOf(sb)));
    fc.assert(fc.property(arb, ([a, b]) => {
      for (const { name, ref } of BINARY) expectRef(fnOf(name)(a.t, b.t), refMap([a.ref, b.ref], ref), 1e-14, 1e-300, name);
    }), RUNS);
    expect(lib.pow(1, NaN).item()).to.equal(1);
    expect(lib.pow(1, Infinity).item()).to.equal(1);
    expect(lib.pow(-1, -Infinity).item()).to.equal(1);
    expect(lib.pow(NaN, 0).item()).to.equal(1);
    expect(Number.isNaN(lib.pow(-8, 1 / 3).item())).to.equal(true);
    expect(lib.div(1, -0).item()).to.equal(-Infinity);
    expect(Number.isNaN(lib.maximum(NaN, Infinity).item())).to.equal(true);
    expect(Number.isNaN(lib.minimum(-Infinity, NaN).item())).to.equal(true);
    expect(Number.isNaN(lib.relu(NaN).item())).to.equal(true);
  });

  it("where selects elementwise with three-way broadcasting; the branch not taken never leaks NaN or ∞", () => {
    const condValues = fc.constantFrom(0, 1, -0, 2, -3.5, NaN);
    const arb = broadcastShapesArb(3).chain(([sc, sa, sb]) => fc.tuple(
      fc.tuple(fc.array(condValues, { minLength: sizeOfShape(sc), maxLength: sizeOfShape(sc) }), layoutArb).map(([v, l]) => makeOperand(sc, v, l)),
      specialOperandOf(sa), specialOperandOf(sb), formArb));
    // NumPy truthiness: any nonzero value, NaN included, selects the first branch.
    const pick = (c: number, x: number, y: number): number => (c !== 0 ? x : y);
    fc.assert(fc.property(arb, ([c, a, b, form]) => {
      const expected = refMap([c.ref, a.ref, b.ref], pick);
      expectRef(where(asInput(c, form) as never, a.t, b.t), expected, 0, 0, "where");
      expectRef(where(c.t, asInput(a, form) as never, b.t), expected, 0, 0, "where");
    }), RUNS);
    expect(flatten(where(tensor([1, 0]), tensor([5, NaN]), tensor([Infinity, 7])).toArray())).to.deep.equal([5, 7]);
    expect(where(0, NaN, 3).item()).to.equal(3);
  });

  it("comparisons give 1 where true and 0 where false (NaN compares false)", () => {
    const cmp: [string, (x: number, y: number) => boolean][] = [
      ["greater", (x, y) => x > y], ["greaterEqual", (x, y) => x >= y], ["less", (x, y) => x < y], ["lessEqual", (x, y) => x <= y], ["equal", (x, y) => x === y],
    ];
    const arb = broadcastShapesArb(2, 2, 3).chain(([sa, sb]) => fc.tuple(specialOperandOf(sa), specialOperandOf(sb)));
    fc.assert(fc.property(arb, ([a, b]) => {
      for (const [name, f] of cmp) expectRef(fnOf(name)(a.t, b.t), refMap([a.ref, b.ref], (x, y) => (f(x, y) ? 1 : 0)), 0, 0, name);
    }), RUNS);
  });

  it("stopGradient returns the same values", () => {
    fc.assert(fc.property(unaryCase("wide"), (x) => {
      expectRef(stopGradient(x.t), x.ref, 0, 0, "stopGradient");
      expectRef(x.t.stopGradient(), x.ref, 0, 0, "stopGradient method");
    }), RUNS);
  });

  it("reads broadcast (zero-stride), sliced and transposed views produced by other ops", () => {
    const arb = broadcastTargetArb(3, 3).chain(([target, small]) => fc.tuple(fc.constant(target), operandOf(small, "any"), operandOf(target, "any")));
    fc.assert(fc.property(arb, ([target, small, other]) => {
      const view = broadcastTo(small.t, target);
      const expandedRef = refBroadcastTo(small.ref, target);
      expectRef(lib.mul(view, other.t), refMap([expandedRef, other.ref], (x, y) => x * y), 1e-15, 0, "mul on a broadcast view");
      expectRef(lib.exp(view), refMap([expandedRef], Math.exp), 1e-15, 0, "exp on a broadcast view");
      const perm = target.map((_, i) => target.length - 1 - i);
      const tv = transpose(other.t);
      expectRef(lib.sub(tv, tv), refOf(perm.map((p) => target[p]), new Array<number>(sizeOfShape(target)).fill(0)), 0, 0, "sub of a transposed view");
      if (target.length > 0 && target[0] > 1) {
        const begin = target.map((_, i) => (i === 0 ? 1 : 0));
        const size = target.map((d, i) => (i === 0 ? d - 1 : d));
        const sliced = slice(other.t, begin, size);
        expectRef(lib.neg(sliced), refMap([refSlice(other.ref, begin, size)], (v) => -v), 0, 0, "neg of a slice");
      }
    }), RUNS);
  });
});

describe("primitives/elementwise: float32", () => {
  /** A float32 tensor in a strided ndarray layout (every other element of its storage). */
  function f32(shape: number[], values: number[], strided: boolean): Tensor {
    if (!strided) return tensor(Float32Array.from(values), { shape, dtype: "float32" });
    const storage = new Float32Array(2 * values.length + 1).fill(NaN);
    values.forEach((v, i) => (storage[1 + 2 * i] = v));
    const strides = shape.map((_, i) => 2 * sizeOfShape(shape.slice(i + 1)));
    return tensor({ data: storage, shape, stride: strides, offset: 1, get: () => NaN } as never);
  }
  const f32Operand = (shape: number[], kind: ValueKind): fc.Arbitrary<{ t: Tensor; ref: Ref }> =>
    fc.tuple(unitValues(sizeOfShape(shape)), fc.boolean()).map(([u, strided]) => {
      const v = mapValues(u, kind).map(Math.fround);
      return { t: f32(shape, v, strided), ref: refOf(shape, v) };
    });

  it("unary and binary ops on float32 tensors stay float32 and round each result once", () => {
    const arb = broadcastShapesArb(2, 3, 3).chain(([sa, sb]) => fc.tuple(f32Operand(sa, "positive"), f32Operand(sb, "any")));
    fc.assert(fc.property(arb, ([a, b]) => {
      for (const { name, ref } of BINARY) {
        const out = fnOf(name)(a.t, b.t);
        expect(out.dtype, name).to.equal("float32");
        expectRef(out, refMap([a.ref, b.ref], (x, y) => Math.fround(ref(x, y))), 0, 0, `${name} float32`);
        expect(fnOf(name)(a.t, 2).dtype, `${name} with a number`).to.equal("float32");
      }
      for (const { name, ref } of UNARY) {
        const out = fnOf(name)(b.t);
        expect(out.dtype, name).to.equal("float32");
        expectRef(out, refMap([b.ref], (v) => Math.fround(ref(v))), 1.2e-7, 1e-38, `${name} float32`);
      }
      expect(where(1, a.t, 0).dtype).to.equal("float32");
    }), RUNS);
  });

  it("typed arrays and ndarrays over Float32Array are float32 operands; numbers and nested arrays adopt their dtype", () => {
    const raw = new Float32Array([0.1, 0.2]);
    for (const out of [lib.add(raw, [1, 2]), lib.mul([1, 2], raw), lib.outer(raw, [1, 2, 3]), lib.dot(ndarray(raw), [1, 1]), lib.concat([raw, [3]]), lib.stack([raw, [1, 2]])]) {
      expect(out.dtype).to.equal("float32");
    }
    expect(lib.add(raw, [1, 2]).toArray()).to.deep.equal([Math.fround(Math.fround(0.1) + 1), Math.fround(Math.fround(0.2) + 2)]);
    expect(lib.add(new Float64Array([0.1]), [1]).dtype).to.equal("float64");
  });
});
