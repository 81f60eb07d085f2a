/**
 * Shape primitives: reshape, transpose, broadcastTo, slice (and its transpose,
 * pad), concat, stack. Most return views that share storage with the input.
 *
 * The one import cycle among the primitive families is deliberate: broadcastTo
 * and sum are each other's transpose (the VJP of a broadcast sums over the
 * broadcast axes, the VJP of a sum broadcasts back), so shape.ts imports `sum`
 * from reduce.ts and reduce.ts imports `broadcastTo` from shape.ts (elementwise.ts
 * joins through unbroadcast). The imports are only called inside rules, never at
 * module load, so the order in which the modules evaluate does not matter.
 */
import { fromData, Tensor } from "../tensor/tensor.js";
import { allocateOutput } from "../tensor/storage.js";
import { broadcastView, permutedView, reshapeView, sliceView, writeBox } from "../tensor/kernels.js";
import { broadcastShapes, checkShape, describe, normalizeAxis, sameShape, shapeToString, sizeOf } from "../tensor/shape.js";
import { bind, type IndexMap, type Primitive } from "./core.js";
import { operand, operands, type Operand } from "./operands.js";
import { sum } from "./reduce.js";
import { zerosLike } from "./util.js";

const reshapePrim: Primitive<number[]> = {
  name: "reshape",
  saves: [],
  shape: (_, shape) => shape.slice(),
  view: (inShape, shape) => unitAxesMap(inShape, shape),
  impl: ([x], shape) => reshapeView(x, shape),
  jvp: (_, [t], __, shape) => (t === null ? null : reshape(t, shape)),
  vjp: (ct, [x]) => [reshape(ct, x.shape)],
};

/**
 * The index map of a broadcast from `inShape` to `shape` (NumPy rules): new
 * leading axes and stretched axes of size 1 read position 0.
 */
export function broadcastMap(inShape: readonly number[], shape: readonly number[]): IndexMap {
  const lead = shape.length - inShape.length;
  return { dims: inShape.map((d, j) => (d === 1 && shape[lead + j] !== 1 ? { axis: -1, offset: 0 } : { axis: lead + j, offset: 0 })), bounds: [] };
}

/**
 * A reshape that only inserts or removes axes of size 1 as an index map; null
 * for any other reshape (it regroups elements, which no per-axis map expresses).
 */
function unitAxesMap(inShape: readonly number[], shape: readonly number[]): IndexMap | null {
  const outAxes: number[] = [];
  shape.forEach((d, i) => { if (d !== 1) outAxes.push(i); });
  const dims: { axis: number; offset: number }[] = [];
  let k = 0;
  for (const d of inShape) {
    if (d === 1) dims.push({ axis: -1, offset: 0 });
    else {
      if (k >= outAxes.length || shape[outAxes[k]] !== d) return null;
      dims.push({ axis: outAxes[k++], offset: 0 });
    }
  }
  return k === outAxes.length ? { dims, bounds: [] } : null;
}

/** The same elements (row-major order) in a new shape; one entry may be −1 (inferred). A view when possible. */
export function reshape(x: Operand, shape: number[]): Tensor {
  const t = operand("reshape", x);
  if (!Array.isArray(shape)) throw new Error(`reshape: shape must be an array of integers, got ${describe(shape)}`);
  const inferred = shape.indexOf(-1);
  if (inferred >= 0 && shape.indexOf(-1, inferred + 1) >= 0) throw new Error(`reshape: only one dimension may be -1, got ${shapeToString(shape)}`);
  let target: number[];
  if (inferred >= 0) {
    const rest = checkShape("reshape", shape.filter((_, i) => i !== inferred));
    const known = sizeOf(rest);
    if (known === 0 || t.size % known !== 0) throw new Error(`reshape: cannot reshape ${shapeToString(t.shape)} (${t.size} elements) into ${shapeToString(shape)}`);
    target = shape.slice();
    target[inferred] = t.size / known;
  } else target = checkShape("reshape", shape);
  if (sizeOf(target) !== t.size) throw new Error(`reshape: cannot reshape ${shapeToString(t.shape)} (${t.size} elements) into ${shapeToString(target)} (${sizeOf(target)} elements)`);
  if (sameShape(target, t.shape) && t._trace === null) return t;
  return bind(reshapePrim, [t], target);
}

const transposePrim: Primitive<number[]> = {
  name: "transpose",
  saves: [],
  shape: ([x], perm) => perm.map((p) => x.shape[p]),
  view: (inShape, perm) => {
    const dims = new Array<{ axis: number; offset: number }>(inShape.length);
    perm.forEach((p, i) => (dims[p] = { axis: i, offset: 0 }));
    return { dims, bounds: [] };
  },
  impl: ([x], perm) => permutedView(x, perm),
  jvp: (_, [t], __, perm) => (t === null ? null : transpose(t, perm)),
  vjp: (ct, _, __, perm) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [transpose(ct, inverse)];
  },
};

/** Permutes the axes (NumPy's transpose): by default reverses them. A view. */
export function transpose(x: Operand, axes?: number[]): Tensor {
  const t = operand("transpose", x);
  let perm: number[];
  if (axes === undefined || axes === null) perm = t.shape.map((_, i) => t.ndim - 1 - i);
  else {
    if (!Array.isArray(axes) || axes.length !== t.ndim) throw new Error(`transpose: axes must be a permutation of 0..${t.ndim - 1} for shape ${shapeToString(t.shape)}, got ${Array.isArray(axes) ? shapeToString(axes) : describe(axes)}`);
    perm = axes.map((a) => normalizeAxis("transpose", a, t.ndim));
    if (new Set(perm).size !== perm.length) throw new Error(`transpose: axes ${shapeToString(axes)} repeat an axis; a permutation of 0..${t.ndim - 1} is needed`);
  }
  return bind(transposePrim, [t], perm);
}

/** Swaps the last two axes (a view): the matrix transpose of a batch of matrices. */
export function swapLastAxes(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
  return transpose(x, perm);
}

const broadcastToPrim: Primitive<number[]> = {
  name: "broadcastTo",
  saves: [],
  shape: (_, shape) => shape.slice(),
  view: (inShape, shape) => broadcastMap(inShape, shape),
  impl: ([x], shape) => broadcastView(x, shape),
  jvp: (_, [t], __, shape) => (t === null ? null : broadcastTo(t, shape)),
  vjp: (ct, [x]) => [unbroadcast(ct, x.shape)],
};

/** A read-only view of `x` broadcast to `shape` (NumPy rules). */
export function broadcastTo(x: Operand, shape: number[]): Tensor {
  const t = operand("broadcastTo", x);
  const target = checkShape("broadcastTo", shape);
  const joint = t.ndim <= target.length ? broadcastShapes("broadcastTo", t.shape, target) : null;
  if (joint === null || !sameShape(joint, target)) throw new Error(`broadcastTo: cannot broadcast shape ${shapeToString(t.shape)} to ${shapeToString(target)}`);
  if (sameShape(t.shape, target)) return t;
  return bind(broadcastToPrim, [t], target);
}

/**
 * Sums `x` down to `shape`, undoing a broadcast: over leading axes `shape` lacks
 * and over axes where `shape` has 1. Used by every broadcasting op's VJP.
 */
export function unbroadcast(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.ndim; i++) if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  return reshape(sum(x, axes), shape.slice());
}

interface SliceParams { begin: number[]; size: number[] }

const slicePrim: Primitive<SliceParams> = {
  name: "slice",
  saves: [],
  shape: (_, { size }) => size.slice(),
  view: (_, { begin }) => ({ dims: begin.map((b, axis) => ({ axis, offset: b })), bounds: [] }),
  impl: ([x], { begin, size }) => sliceView(x, begin, size),
  jvp: (_, [t], __, p) => (t === null ? null : bind(slicePrim, [t], p)),
  vjp: (ct, [x], __, { begin }) => [bind(padPrim, [ct], { begin, shape: x.shape.slice() })],
};

interface PadParams { begin: number[]; shape: number[] }

/** The transpose of slice: `x` placed at `begin` inside zeros of `shape`. */
const padPrim: Primitive<PadParams> = {
  name: "pad",
  saves: [],
  impl: ([x], { begin, shape }) => {
    const out = allocateOutput(x.dtype, sizeOf(shape));
    writeBox(out, shape, begin, x);
    return fromData(out, shape.slice());
  },
  shape: (_, { shape }) => shape.slice(),
  view: (inShape, { begin, shape }) => ({
    dims: begin.map((b, axis) => ({ axis, offset: -b })),
    bounds: begin.flatMap((b, axis) => (b === 0 && inShape[axis] === shape[axis] ? [] : [{ axis, lo: b, hi: b + inShape[axis] }])),
  }),
  jvp: (_, [t], __, p) => (t === null ? null : bind(padPrim, [t], p)),
  vjp: (ct, [x], __, { begin }) => [bind(slicePrim, [ct], { begin, size: x.shape.slice() })],
};

/** @internal x placed at `begin` inside zeros of `shape` (the transpose of slice), as a differentiable op. */
export function padInto(x: Tensor, begin: number[], shape: number[]): Tensor {
  return bind(padPrim, [x], { begin: begin.slice(), shape: shape.slice() });
}

/** The box x[begin : begin + size] (TensorFlow.js semantics; size −1 = to the end). A view. */
export function slice(x: Operand, begin: number[] | number, size?: number[] | number): Tensor {
  const t = operand("slice", x);
  const b = typeof begin === "number" ? [begin] : begin;
  if (!Array.isArray(b) || b.length > t.ndim) throw new Error(`slice: begin must be an array of at most ${t.ndim} integers for shape ${shapeToString(t.shape)}, got ${Array.isArray(b) ? shapeToString(b) : describe(begin)}`);
  const s = size === undefined ? [] : typeof size === "number" ? [size] : size;
  if (!Array.isArray(s) || s.length > t.ndim) throw new Error(`slice: size must be an array of at most ${t.ndim} integers for shape ${shapeToString(t.shape)}, got ${Array.isArray(s) ? shapeToString(s) : describe(size)}`);
  const fullBegin: number[] = [];
  const fullSize: number[] = [];
  for (let i = 0; i < t.ndim; i++) {
    const bi = i < b.length ? b[i] : 0;
    if (typeof bi !== "number" || !Number.isInteger(bi) || bi < 0 || bi > t.shape[i]) throw new Error(`slice: begin[${i}] = ${typeof bi === "number" ? bi : describe(bi)} is out of range for shape ${shapeToString(t.shape)}`);
    let si = i < s.length ? s[i] : -1;
    if (si === -1) si = t.shape[i] - bi;
    if (typeof si !== "number" || !Number.isInteger(si) || si < 0 || bi + si > t.shape[i]) throw new Error(`slice: size[${i}] = ${typeof s[i] === "number" ? s[i] : describe(s[i])} with begin ${bi} exceeds dimension ${t.shape[i]} of shape ${shapeToString(t.shape)}`);
    fullBegin.push(bi);
    fullSize.push(si);
  }
  return bind(slicePrim, [t], { begin: fullBegin, size: fullSize });
}

const concatPrim: Primitive<number> = {
  name: "concat",
  saves: [],
  shape: (xs, axis) => {
    const shape = xs[0].shape.slice();
    shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
    return shape;
  },
  impl: (xs, axis) => {
    const shape = xs[0].shape.slice();
    shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
    const out = allocateOutput(xs[0].dtype, sizeOf(shape), false);
    const begin = new Array<number>(shape.length).fill(0);
    for (const x of xs) {
      writeBox(out, shape, begin, x);
      begin[axis] += x.shape[axis];
    }
    return fromData(out, shape);
  },
  jvp: (xs, ts, _, axis) => (ts.every((t) => t === null) ? null : bind(concatPrim, ts.map((t, i) => t ?? zerosLike(xs[i])), axis)),
  vjp: (ct, xs, _, axis) => {
    let start = 0;
    return xs.map((x) => {
      const begin = new Array<number>(x.ndim).fill(0);
      begin[axis] = start;
      start += x.shape[axis];
      return bind(slicePrim, [ct], { begin, size: x.shape.slice() });
    });
  },
};

/** Joins tensors along an existing axis; all other dimensions must agree. */
export function concat(xs: Operand[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error(`concat: expects a non-empty array of tensors, got ${describe(xs)}`);
  const ts = operands("concat", xs);
  const first = ts[0];
  if (first.ndim === 0) throw new Error("concat: cannot concatenate rank-0 tensors; use stack");
  const ax = normalizeAxis("concat", axis, first.ndim);
  for (const t of ts) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: shapes ${ts.map((u) => shapeToString(u.shape)).join(", ")} differ outside axis ${ax}`);
    }
  }
  if (ts.length === 1) return ts[0];
  return bind(concatPrim, ts, ax);
}

/** Joins tensors of one shape along a new axis. */
export function stack(xs: Operand[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error(`stack: expects a non-empty array of tensors, got ${describe(xs)}`);
  const ts = operands("stack", xs);
  const shape = ts[0].shape;
  for (const t of ts) if (!sameShape(t.shape, shape)) throw new Error(`stack: all tensors need one shape, got ${ts.map((u) => shapeToString(u.shape)).join(", ")}`);
  const ax = normalizeAxis("stack", axis, shape.length + 1);
  const expanded = shape.slice();
  expanded.splice(ax, 0, 1);
  const parts = ts.map((t) => reshape(t, expanded));
  return parts.length === 1 ? parts[0] : bind(concatPrim, parts, ax);
}
