/**
 * Elementwise primitives. Each declares its kernel, its JVP rule and its VJP
 * rule together; binary ops broadcast as NumPy does, and their VJPs sum the
 * cotangent back over broadcast axes (`unbroadcast`).
 */
import { Tensor, type DType } from "../tensor/tensor.js";
import { binaryKernel, BinaryCode, reluValue, signValue, stableSigmoid, stableSoftplus, UnaryCode, unaryKernel, whereKernel } from "../tensor/kernels.js";
import { broadcastShapes, sameShape } from "../tensor/shape.js";
import { bind, type Elementwise, type MaybeTensor, type Primitive } from "./core.js";
import { operand, operands, type Operand } from "./operands.js";
import { broadcastTo, unbroadcast } from "./shape.js";

// ---------------------------------------------------------------------------
// Helpers for rules

/** A tangent brought to the output shape (tangents of broadcast operands are smaller). */
function fit(t: Tensor, shape: number[]): Tensor {
  return sameShape(t.shape, shape) ? t : broadcastTo(t, shape);
}

/** Sum of possibly-zero tangents. */
function addMaybe(a: MaybeTensor, b: MaybeTensor): MaybeTensor {
  if (a === null) return b;
  if (b === null) return a;
  return add(a, b);
}

// ---------------------------------------------------------------------------
// Binary arithmetic

function binaryPrimitive(
  name: string, code: BinaryCode, f: (x: number, y: number) => number,
  jvp: Primitive["jvp"], vjp: Primitive["vjp"], saves?: Primitive["saves"], expr?: Elementwise["expr"], vector?: Elementwise["vector"],
): Primitive {
  return {
    name,
    elementwise: { scalar: f, expr, vector },
    impl: ([a, b]) => binaryKernel(a, b, sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(name, a.shape, b.shape), code, f, a.dtype),
    shape: ([a, b]) => broadcastShapes(name, a.shape, b.shape),
    jvp,
    vjp,
    saves,
  };
}

/**
 * Rank-0 tensors for the plain numbers elementwise ops meet (0.5, 1, 1e-8, …),
 * made once: creating a typed array costs more than a small op's arithmetic.
 * They only ever reach kernels (an elementwise op returns a new tensor), so
 * sharing them is safe; the cache is cleared when it grows large.
 */
const scalars = { float64: new Map<number, Tensor>(), float32: new Map<number, Tensor>() };

function scalar(v: number, dtype: DType): Tensor {
  if (Object.is(v, -0)) return operand("scalar", v, dtype);
  const cache = scalars[dtype];
  let t = cache.get(v);
  if (t === undefined) {
    if (cache.size >= 512) cache.clear();
    t = operand("scalar", v, dtype);
    cache.set(v, t);
  }
  return t;
}

function binary(prim: Primitive, a: Operand, b: Operand): Tensor {
  // The common cases, tensors of one dtype and shape or a tensor and a number, skip the general checks.
  if (a instanceof Tensor) {
    if (b instanceof Tensor) {
      if (a.dtype === b.dtype && sameShape(a.shape, b.shape)) return bind(prim, [a, b], undefined);
    } else if (typeof b === "number") return bind(prim, [a, scalar(b, a.dtype)], undefined);
  } else if (typeof a === "number" && b instanceof Tensor) return bind(prim, [scalar(a, b.dtype), b], undefined);
  const [x, y] = operands(prim.name, [a, b]);
  broadcastShapes(prim.name, x.shape, y.shape);
  return bind(prim, [x, y], undefined);
}

const addPrim = binaryPrimitive("add", BinaryCode.Add, (x, y) => x + y,
  ([a, b], [ta, tb], out) => {
    const t = addMaybe(ta, tb);
    return t === null ? null : fit(t, out.shape);
  },
  (ct, [a, b], _, __, needs) => [needs[0] ? unbroadcast(ct, a.shape) : null, needs[1] ? unbroadcast(ct, b.shape) : null], [],
  (a, b) => `(${a} + ${b})`, (o, [a, b], [ia, ib], n) => { for (let k = 0; k < n; k++) o[k] = a[ia + k] + b[ib + k]; });

const subPrim = binaryPrimitive("sub", BinaryCode.Sub, (x, y) => x - y,
  (_, [ta, tb], out) => {
    const t = tb === null ? ta : ta === null ? neg(tb) : sub(ta, tb);
    return t === null ? null : fit(t, out.shape);
  },
  (ct, [a, b], _, __, needs) => [needs[0] ? unbroadcast(ct, a.shape) : null, needs[1] ? unbroadcast(neg(ct), b.shape) : null], [],
  (a, b) => `(${a} - ${b})`, (o, [a, b], [ia, ib], n) => { for (let k = 0; k < n; k++) o[k] = a[ia + k] - b[ib + k]; });

const mulPrim = binaryPrimitive("mul", BinaryCode.Mul, (x, y) => x * y,
  ([a, b], [ta, tb], out) => {
    const t = addMaybe(ta === null ? null : mul(ta, b), tb === null ? null : mul(a, tb));
    return t === null ? null : fit(t, out.shape);
  },
  (ct, [a, b], _, __, needs) => {
    // x·x: one product serves both operands (it is the same value).
    if (a === b && needs[0] && needs[1]) {
      const g = unbroadcast(mul(ct, a), a.shape);
      return [g, g];
    }
    return [needs[0] ? unbroadcast(mul(ct, b), a.shape) : null, needs[1] ? unbroadcast(mul(ct, a), b.shape) : null];
  }, [0, 1], (a, b) => `(${a} * ${b})`, (o, [a, b], [ia, ib], n) => { for (let k = 0; k < n; k++) o[k] = a[ia + k] * b[ib + k]; });

const divPrim = binaryPrimitive("div", BinaryCode.Div, (x, y) => x / y,
  ([a, b], [ta, tb], out) => {
    const t = addMaybe(ta === null ? null : div(ta, b), tb === null ? null : neg(mul(tb, div(out, b))));
    return t === null ? null : fit(t, out.shape);
  },
  (ct, [a, b], out, _, needs) => [
    needs[0] ? unbroadcast(div(ct, b), a.shape) : null,
    needs[1] ? unbroadcast(neg(mul(ct, div(out, b))), b.shape) : null,
  ], [1, "out"], (a, b) => `(${a} / ${b})`, (o, [a, b], [ia, ib], n) => { for (let k = 0; k < n; k++) o[k] = a[ia + k] / b[ib + k]; });

/** ∂(aᵇ)/∂a = b·aᵇ⁻¹, taken as 0 where b = 0 (so 0⁰ has derivative 0, as in JAX). */
function powBaseFactor(a: Tensor, b: Tensor): Tensor {
  return where(equal(b, 0), 0, mul(b, pow(a, sub(b, 1))));
}
/** ∂(aᵇ)/∂b = log(a)·aᵇ, taken as 0 where a = 0; log is evaluated at a safe point there. */
function powExponentFactor(a: Tensor, out: Tensor): Tensor {
  const zero = equal(a, 0);
  return where(zero, 0, mul(log(where(zero, 1, a)), out));
}

/** IEEE 754 pow (as C and NumPy): unlike Math.pow, 1ʸ = 1 for every y, NaN included, and (−1)^±∞ = 1. */
function ieeePow(x: number, y: number): number {
  if (x === 1 || (x === -1 && (y === Infinity || y === -Infinity))) return 1;
  return Math.pow(x, y);
}

const powPrim = binaryPrimitive("pow", BinaryCode.Other, ieeePow,
  ([a, b], [ta, tb], out) => {
    const t = addMaybe(ta === null ? null : mul(ta, powBaseFactor(a, b)), tb === null ? null : mul(tb, powExponentFactor(a, out)));
    return t === null ? null : fit(t, out.shape);
  },
  (ct, [a, b], out, _, needs) => [
    needs[0] ? unbroadcast(mul(ct, powBaseFactor(a, b)), a.shape) : null,
    needs[1] ? unbroadcast(mul(ct, powExponentFactor(a, out)), b.shape) : null,
  ]);

/** a ≥ b picks a (ties split the derivative evenly, as JAX does); NaN propagates. */
function maxLike(name: string, pick: (x: number, y: number) => number, firstWins: (a: Tensor, b: Tensor) => Tensor): Primitive {
  const share = (a: Tensor, b: Tensor): Tensor => add(firstWins(a, b), mul(equal(a, b), 0.5));
  return binaryPrimitive(name, BinaryCode.Other, pick,
    ([a, b], [ta, tb], out) => {
      const wa = share(a, b);
      const t = addMaybe(ta === null ? null : mul(ta, wa), tb === null ? null : mul(tb, sub(1, wa)));
      return t === null ? null : fit(t, out.shape);
    },
    (ct, [a, b], _, __, needs) => {
      const wa = share(a, b);
      return [needs[0] ? unbroadcast(mul(ct, wa), a.shape) : null, needs[1] ? unbroadcast(mul(ct, sub(1, wa)), b.shape) : null];
    });
}
const nanMax = (x: number, y: number): number => (x !== x || y !== y ? NaN : x >= y ? x : y);
const nanMin = (x: number, y: number): number => (x !== x || y !== y ? NaN : x <= y ? x : y);
const maximumPrim = maxLike("maximum", nanMax, (a, b) => greater(a, b));
const minimumPrim = maxLike("minimum", nanMin, (a, b) => less(a, b));

/** a + b, broadcasting. */
export function add(a: Operand, b: Operand): Tensor { return binary(addPrim, a, b); }
/** a − b, broadcasting. */
export function sub(a: Operand, b: Operand): Tensor { return binary(subPrim, a, b); }
/** a · b elementwise, broadcasting. */
export function mul(a: Operand, b: Operand): Tensor { return binary(mulPrim, a, b); }
/** a / b elementwise, broadcasting. */
export function div(a: Operand, b: Operand): Tensor { return binary(divPrim, a, b); }
/** aᵇ elementwise, broadcasting; differentiable in both arguments. */
export function pow(a: Operand, b: Operand): Tensor { return binary(powPrim, a, b); }
/** Elementwise maximum; NaN if either is NaN. */
export function maximum(a: Operand, b: Operand): Tensor { return binary(maximumPrim, a, b); }
/** Elementwise minimum; NaN if either is NaN. */
export function minimum(a: Operand, b: Operand): Tensor { return binary(minimumPrim, a, b); }

// ---------------------------------------------------------------------------
// Comparisons: 1 where true, 0 where false (NaN compares false). Derivative zero.

function comparison(name: string, symbol: string, f: (x: number, y: number) => boolean): (a: Operand, b: Operand) => Tensor {
  const prim = { ...binaryPrimitive(name, BinaryCode.Other, (x, y) => (f(x, y) ? 1 : 0), () => null, () => [null, null], undefined, (a, b) => `(${a} ${symbol} ${b} ? 1 : 0)`), zeroDerivative: true };
  return (a, b) => binary(prim, a, b);
}
/** 1 where a > b, else 0. Not differentiable (zero derivative). */
export const greater = comparison("greater", ">", (x, y) => x > y);
/** 1 where a ≥ b, else 0. */
export const greaterEqual = comparison("greaterEqual", ">=", (x, y) => x >= y);
/** 1 where a < b, else 0. */
export const less = comparison("less", "<", (x, y) => x < y);
/** 1 where a ≤ b, else 0. */
export const lessEqual = comparison("lessEqual", "<=", (x, y) => x <= y);
/** 1 where a = b, else 0. */
export const equal = comparison("equal", "===", (x, y) => x === y);

// ---------------------------------------------------------------------------
// Unary functions: kernel, then d(out)/dx written with library ops.

/**
 * The product of a tangent or cotangent with a unary op's derivative in one
 * pass, for the common case: float64 values no transformation is tracing (a
 * first-order grad's backward sweep, a jvp's forward pass). `of` is the value
 * the derivative reads (the input or the output, as the rule's `saves` say);
 * `code` (a BinaryCode: its loop computes g · f′(v)) is the same arithmetic as
 * the rule's composition of ops, so the result is the same to the bit. Saves the intermediate arrays of the
 * composition (each a fresh allocation: ~5 ns per entry on first touch here).
 */
interface Pointwise {
  of: "x" | "out";
  code: BinaryCode;
}

const noCallback = (): number => {
  throw new Error("pointwise products have a loop of their own");
};

function pointwiseProduct(g: Tensor, x: Tensor, out: Tensor, pointwise: Pointwise): Tensor | null {
  const v = pointwise.of === "x" ? x : out;
  if (g._trace !== null || v._trace !== null || g.dtype !== "float64" || v.dtype !== "float64" || !sameShape(g.shape, v.shape)) return null;
  return binaryKernel(g, v, v.shape, pointwise.code, noCallback, "float64");
}

function unaryPrimitive(name: string, code: UnaryCode, derivative: ((x: Tensor, out: Tensor) => Tensor) | null, saves: Primitive["saves"], pointwise: Pointwise | undefined, elementwise: Elementwise): Primitive {
  const times = (g: Tensor, x: Tensor, out: Tensor): Tensor =>
    (pointwise !== undefined ? pointwiseProduct(g, x, out, pointwise) : null) ?? mul(g, derivative!(x, out));
  return {
    saves,
    name,
    elementwise,
    zeroDerivative: derivative === null,
    impl: ([x]) => unaryKernel(x, code),
    shape: ([x]) => x.shape.slice(),
    jvp: ([x], [t], out) => (t === null || derivative === null ? null : times(t, x, out)),
    vjp: (ct, [x], out) => [derivative === null ? null : times(ct, x, out)],
  };
}

function unary(prim: Primitive, x: Operand): Tensor {
  return bind(prim, [operand(prim.name, x)], undefined);
}

const negPrim: Primitive = {
  name: "neg",
  elementwise: { scalar: (x) => -x, expr: (x) => `(-${x})`, vector: (o, [a], [ia], n) => { for (let k = 0; k < n; k++) o[k] = -a[ia + k]; } },
  saves: [],
  impl: ([x]) => unaryKernel(x, UnaryCode.Neg),
  shape: ([x]) => x.shape.slice(),
  jvp: (_, [t]) => (t === null ? null : neg(t)),
  vjp: (ct) => [neg(ct)],
};

/** A unary op's scalar form through a Math function (inlined by generated code). */
const math = (f: (x: number) => number, name: string, vector?: Elementwise["vector"], cost = 4): Elementwise => ({ scalar: f, expr: (x) => `Math.${name}(${x})`, vector, cost });

const expPrim = unaryPrimitive("exp", UnaryCode.Exp, (_, out) => out, ["out"], { of: "out", code: BinaryCode.Mul }, math(Math.exp, "exp", (o, [a], [ia], n) => { for (let k = 0; k < n; k++) o[k] = Math.exp(a[ia + k]); }));
const logPrim = unaryPrimitive("log", UnaryCode.Log, (x) => div(1, x), [0], { of: "x", code: BinaryCode.LogGrad }, math(Math.log, "log", (o, [a], [ia], n) => { for (let k = 0; k < n; k++) o[k] = Math.log(a[ia + k]); }));
const sqrtPrim = unaryPrimitive("sqrt", UnaryCode.Sqrt, (_, out) => div(0.5, out), ["out"], { of: "out", code: BinaryCode.SqrtGrad }, math(Math.sqrt, "sqrt", (o, [a], [ia], n) => { for (let k = 0; k < n; k++) o[k] = Math.sqrt(a[ia + k]); }));
const absPrim = unaryPrimitive("abs", UnaryCode.Abs, (x) => sign(x), [0], undefined, math(Math.abs, "abs", (o, [a], [ia], n) => { for (let k = 0; k < n; k++) o[k] = Math.abs(a[ia + k]); }, 1));
const signPrim = unaryPrimitive("sign", UnaryCode.Sign, null, undefined, undefined, { scalar: signValue });
const sinPrim = unaryPrimitive("sin", UnaryCode.Sin, (x) => cos(x), [0], { of: "x", code: BinaryCode.SinGrad }, math(Math.sin, "sin", (o, [a], [ia], n) => { for (let k = 0; k < n; k++) o[k] = Math.sin(a[ia + k]); }));
const cosPrim = unaryPrimitive("cos", UnaryCode.Cos, (x) => neg(sin(x)), [0], { of: "x", code: BinaryCode.CosGrad }, math(Math.cos, "cos", (o, [a], [ia], n) => { for (let k = 0; k < n; k++) o[k] = Math.cos(a[ia + k]); }));
const tanhPrim = unaryPrimitive("tanh", UnaryCode.Tanh, (_, out) => sub(1, mul(out, out)), ["out"], { of: "out", code: BinaryCode.TanhGrad }, math(Math.tanh, "tanh", (o, [a], [ia], n) => { for (let k = 0; k < n; k++) o[k] = Math.tanh(a[ia + k]); }));
const sigmoidPrim = unaryPrimitive("sigmoid", UnaryCode.Sigmoid, (_, out) => mul(out, sub(1, out)), ["out"], { of: "out", code: BinaryCode.SigmoidGrad }, { scalar: stableSigmoid, cost: 4 });
const softplusPrim = unaryPrimitive("softplus", UnaryCode.Softplus, (x) => sigmoid(x), [0], { of: "x", code: BinaryCode.SoftplusGrad }, { scalar: stableSoftplus, cost: 4 });
const reluPrim = unaryPrimitive("relu", UnaryCode.Relu, (x) => greater(x, 0), [0], undefined, { scalar: reluValue });

/** −x. */
export function neg(x: Operand): Tensor { return unary(negPrim, x); }
/** eˣ. */
export function exp(x: Operand): Tensor { return unary(expPrim, x); }
/** Natural logarithm. */
export function log(x: Operand): Tensor { return unary(logPrim, x); }
/** Square root. */
export function sqrt(x: Operand): Tensor { return unary(sqrtPrim, x); }
/** |x|; derivative sign(x) (0 at 0). */
export function abs(x: Operand): Tensor { return unary(absPrim, x); }
/** −1, 0 or 1 (NaN stays NaN); zero derivative. */
export function sign(x: Operand): Tensor { return unary(signPrim, x); }
/** sin x. */
export function sin(x: Operand): Tensor { return unary(sinPrim, x); }
/** cos x. */
export function cos(x: Operand): Tensor { return unary(cosPrim, x); }
/** tanh x. */
export function tanh(x: Operand): Tensor { return unary(tanhPrim, x); }
/** 1/(1 + e⁻ˣ), evaluated without overflow. */
export function sigmoid(x: Operand): Tensor { return unary(sigmoidPrim, x); }
/** log(1 + eˣ), evaluated without overflow; derivative sigmoid(x). */
export function softplus(x: Operand): Tensor { return unary(softplusPrim, x); }
/** max(x, 0), NaN propagating; derivative 1 for x > 0, else 0. */
export function relu(x: Operand): Tensor { return unary(reluPrim, x); }

// ---------------------------------------------------------------------------
// Selection and gradient stopping

const wherePrim: Primitive = {
  name: "where",
  elementwise: {
    scalar: (c, a, b) => (c !== 0 ? a : b), expr: (c, a, b) => `(${c} !== 0 ? ${a} : ${b})`,
    vector: (o, [c, a, b], [ic, ia, ib], n) => { for (let k = 0; k < n; k++) o[k] = c[ic + k] !== 0 ? a[ia + k] : b[ib + k]; },
  },
  saves: [0],
  impl: ([c, a, b]) => {
    const shape = broadcastShapes("where", broadcastShapes("where", c.shape, a.shape), b.shape);
    return whereKernel(c, a, b, shape, a.dtype);
  },
  shape: ([c, a, b]) => broadcastShapes("where", broadcastShapes("where", c.shape, a.shape), b.shape),
  jvp: ([c], [, ta, tb], out) => {
    if (ta === null && tb === null) return null;
    return where(c, ta === null ? 0 : fit(ta, out.shape), tb === null ? 0 : fit(tb, out.shape));
  },
  vjp: (ct, [c, a, b], _, __, needs) => [
    null,
    needs[1] ? unbroadcast(where(c, ct, 0), a.shape) : null,
    needs[2] ? unbroadcast(where(c, 0, ct), b.shape) : null,
  ],
};

/**
 * cond ≠ 0 ? a : b elementwise, all three broadcast together. `cond` is not
 * differentiated; a NaN in the branch not taken never reaches the value.
 */
export function where(cond: Operand, a: Operand, b: Operand): Tensor {
  const [x, y] = operands("where", [a, b]);
  const c = operand("where", cond, x.dtype);
  broadcastShapes("where", broadcastShapes("where", c.shape, x.shape), y.shape);
  return bind(wherePrim, [c, x, y], undefined);
}

const stopGradientPrim: Primitive = {
  name: "stopGradient",
  elementwise: { scalar: (x) => x, expr: (x) => x },
  shape: ([x]) => x.shape.slice(),
  zeroDerivative: true,
  impl: ([x]) => new Tensor(x.data, x.shape, x.strides, x.offset),
  jvp: () => null,
  vjp: () => [null],
};

/** The same values, treated as a constant by every transformation. */
export function stopGradient(x: Operand): Tensor { return unary(stopGradientPrim, x); }
