/**
 * Reductions (sum, mean, max, min, logsumexp, norm) and softmax. `axis` is
 * undefined/null for all axes, a number or an array; negative axes count from
 * the end. The VJP of a reduction broadcasts the cotangent back over the
 * reduced axes.
 */
import { Tensor } from "../tensor/tensor.js";
import { reduceKernel, reshapeView, type ReduceKind } from "../tensor/kernels.js";
import { describe, normalizeAxes, reducedShape, shapeToString } from "../tensor/shape.js";
import { bind, type Primitive } from "./core.js";
import { operand, type Operand } from "./operands.js";
import { broadcastTo, reshape } from "./shape.js";
import { abs, div, equal, exp, mul, pow, sub, where } from "./elementwise.js";

export type Axis = number | number[] | null | undefined;

interface ReduceParams { axes: number[]; keepdims: boolean }

/** `r` (a reduction of x) reshaped with the reduced axes kept as 1, then broadcast to x's shape. */
function expandBack(r: Tensor, x: Tensor, axes: number[]): Tensor {
  return broadcastTo(reshape(r, reducedShape(x.shape, axes, true)), x.shape);
}

function reducePrimitive(kind: ReduceKind, jvp: Primitive<ReduceParams>["jvp"], vjp: Primitive<ReduceParams>["vjp"], saves?: Primitive<ReduceParams>["saves"]): Primitive<ReduceParams> {
  return {
    name: kind,
    saves,
    reduction: kind === "logsumexp" ? undefined : kind,
    impl: ([x], { axes, keepdims }) => {
      const r = reduceKernel(x, axes, kind);
      return keepdims ? reshapeView(r, reducedShape(x.shape, axes, true)) : r;
    },
    shape: ([x], { axes, keepdims }) => reducedShape(x.shape, axes, keepdims),
    jvp,
    vjp,
  };
}

function checkKeepdims(op: string, keepdims: unknown): boolean {
  if (keepdims === undefined) return false;
  if (typeof keepdims !== "boolean") throw new Error(`${op}: keepdims must be a boolean, got ${describe(keepdims)}`);
  return keepdims;
}

function reduce(prim: Primitive<ReduceParams>, x: Operand, axis: Axis, keepdims: unknown): Tensor {
  const t = operand(prim.name, x);
  const axes = normalizeAxes(prim.name, axis, t.ndim);
  return bind(prim, [t], { axes, keepdims: checkKeepdims(prim.name, keepdims) });
}

const sumPrim = reducePrimitive("sum",
  (_, [t], __, p) => (t === null ? null : bind(sumPrim, [t], p)),
  (ct, [x], _, { axes }) => [expandBack(ct, x, axes)], []);

/**
 * Weight of each entry in the derivative of max/min: 1/k on the k entries equal
 * to the extreme (ties share, as in JAX), 0 elsewhere.
 */
function extremeWeights(x: Tensor, out: Tensor, axes: number[]): Tensor {
  const hits = equal(x, expandBack(out, x, axes));
  return div(hits, expandBack(bind(sumPrim, [hits], { axes, keepdims: false }), x, axes));
}
function extremePrimitive(kind: "max" | "min"): Primitive<ReduceParams> {
  return reducePrimitive(kind,
    ([x], [t], out, p) => (t === null ? null : bind(sumPrim, [mul(t, extremeWeights(x, out, p.axes))], p)),
    (ct, [x], out, { axes }) => [mul(expandBack(ct, x, axes), extremeWeights(x, out, axes))]);
}
const maxPrim = extremePrimitive("max");
const minPrim = extremePrimitive("min");

/**
 * ∂ logsumexp/∂x: the softmax weights along the reduced axes. Taken from the
 * softmax primitive (shifted by the max) rather than exp(x − logsumexp(x)), whose
 * large logsumexp would cost digits (0.49999976 instead of 0.5 at x = [1e10, 1e10]).
 */
function lseWeights(x: Tensor, axes: number[]): Tensor {
  return bind(softmaxPrim, [x], { axes });
}
const logsumexpPrim = reducePrimitive("logsumexp",
  ([x], [t], _, p) => (t === null ? null : bind(sumPrim, [mul(t, lseWeights(x, p.axes))], p)),
  (ct, [x], _, { axes }) => [mul(expandBack(ct, x, axes), lseWeights(x, axes))]);

/** Σ over `axis` (all axes by default); the sum of an empty tensor is 0. */
export function sum(x: Operand, axis?: Axis, keepdims?: boolean): Tensor { return reduce(sumPrim, x, axis, keepdims); }

/** Arithmetic mean over `axis` (NaN for an empty reduction, as NumPy). */
export function mean(x: Operand, axis?: Axis, keepdims?: boolean): Tensor {
  const t = operand("mean", x);
  const axes = normalizeAxes("mean", axis, t.ndim);
  const count = axes.reduce((n, a) => n * t.shape[a], 1);
  return div(bind(sumPrim, [t], { axes, keepdims: checkKeepdims("mean", keepdims) }), count);
}

function extreme(prim: Primitive<ReduceParams>, x: Operand, axis: Axis, keepdims: unknown): Tensor {
  const t = operand(prim.name, x);
  const axes = normalizeAxes(prim.name, axis, t.ndim);
  if (axes.some((a) => t.shape[a] === 0) || (t.size === 0 && axes.length === t.ndim)) {
    throw new Error(`${prim.name}: reduction over an empty axis of shape ${shapeToString(t.shape)} has no identity`);
  }
  return bind(prim, [t], { axes, keepdims: checkKeepdims(prim.name, keepdims) });
}
/** Largest entry over `axis`; NaN if any is NaN; an empty reduction is an Error. */
export function max(x: Operand, axis?: Axis, keepdims?: boolean): Tensor { return extreme(maxPrim, x, axis, keepdims); }
/** Smallest entry over `axis`; NaN if any is NaN; an empty reduction is an Error. */
export function min(x: Operand, axis?: Axis, keepdims?: boolean): Tensor { return extreme(minPrim, x, axis, keepdims); }

/** log Σ exp(x) over `axis`, shifted by the maximum (stable); −∞ for an empty tensor, ±∞ as SciPy. */
export function logsumexp(x: Operand, axis?: Axis, keepdims?: boolean): Tensor { return reduce(logsumexpPrim, x, axis, keepdims); }

interface SoftmaxParams { axes: number[] }
const softmaxPrim: Primitive<SoftmaxParams> = {
  name: "softmax",
  shape: ([x]) => x.shape.slice(),
  // e = exp(x − max), then e / Σe: shifting by logsumexp instead would cost the
  // ulps of a large logsumexp (softmax([1e10, 1e10]) would be off by 1e-6).
  impl: ([x], { axes }) => {
    const kept = reducedShape(x.shape, axes, true);
    const e = exp(sub(x, broadcastTo(reshapeView(reduceKernel(x, axes, "max"), kept), x.shape)));
    return div(e, broadcastTo(reshapeView(reduceKernel(e, axes, "sum"), kept), x.shape));
  },
  jvp: (_, [t], out, { axes }) => (t === null ? null : mul(out, sub(t, sum(mul(out, t), axes, true)))),
  vjp: (ct, _, out, { axes }) => [mul(out, sub(ct, sum(mul(ct, out), axes, true)))],
};

/** exp(x) / Σ exp(x) along `axis` (default the last), computed stably. */
export function softmax(x: Operand, axis: Axis = -1): Tensor {
  const t = operand("softmax", x);
  if (t.ndim === 0) throw new Error("softmax: needs a tensor of rank ≥ 1, got a rank-0 tensor");
  return bind(softmaxPrim, [t], { axes: normalizeAxes("softmax", axis, t.ndim) });
}

const l2normPrim: Primitive<ReduceParams> = {
  name: "norm",
  shape: ([x], { axes, keepdims }) => reducedShape(x.shape, axes, keepdims),
  impl: ([x], p) => {
    const r = reduceKernel(mul(x, x), p.axes, "sum");
    for (let i = 0; i < r.data.length; i++) r.data[i] = Math.sqrt(r.data[i]);
    return p.keepdims ? reshapeView(r, reducedShape(x.shape, p.axes, true)) : r;
  },
  jvp: ([x], [t], out, p) => (t === null ? null : bind(sumPrim, [mul(t, normDirection(x, out, p.axes))], p)),
  vjp: (ct, [x], out, { axes }) => [mul(expandBack(ct, x, axes), normDirection(x, out, axes))],
};

/** x/‖x‖, with 0 where ‖x‖ = 0 (the minimum-norm subgradient). */
function normDirection(x: Tensor, out: Tensor, axes: number[]): Tensor {
  const n = expandBack(out, x, axes);
  const zero = equal(n, 0);
  return where(zero, 0, div(x, where(zero, 1, n)));
}

/**
 * Vector norm over `axis` (all entries when no axis): ord 2 (default, Euclidean /
 * Frobenius), 1, ∞, −∞ or any p > 0 as (Σ|x|ᵖ)^{1/p}. The gradient of the 2-norm
 * at 0 is taken as 0.
 */
export function norm(x: Operand, ord: number = 2, axis?: Axis, keepdims?: boolean): Tensor {
  const t = operand("norm", x);
  if (typeof ord !== "number" || Number.isNaN(ord) || (ord <= 0 && ord !== -Infinity)) throw new Error(`norm: ord must be a positive number or ±Infinity, got ${describe(ord)}`);
  const axes = normalizeAxes("norm", axis, t.ndim);
  const kd = checkKeepdims("norm", keepdims);
  if (ord === 2) return bind(l2normPrim, [t], { axes, keepdims: kd });
  if (ord === 1) return sum(abs(t), axes, kd);
  if (ord === Infinity) return t.size === 0 ? sum(abs(t), axes, kd) : max(abs(t), axes, kd);
  if (ord === -Infinity) {
    if (axes.some((a) => t.shape[a] === 0) || (t.size === 0 && axes.length === t.ndim)) throw new Error(`norm: ord -Infinity (the smallest |x|) of an empty reduction of shape ${shapeToString(t.shape)} is undefined`);
    return min(abs(t), axes, kd);
  }
  return pow(sum(pow(abs(t), ord), axes, kd), 1 / ord);
}
