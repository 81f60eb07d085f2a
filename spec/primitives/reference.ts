/**
 * Independent truth for the primitive tests: a tiny NumPy written with nested
 * loops over plain JS arrays (row-major `data` + `shape`), and fast-check
 * arbitraries that produce the same values both as a reference array and as a
 * Tensor in a random memory layout. Nothing here calls the library's kernels;
 * library results are read back with `toArray()` (itself checked against
 * these references in spec/tensor).
 */
import fc from "fast-check";
import { expect } from "chai";
import { Tensor, tensor, type NestedArray } from "../../lib/index.js";
import { withLayout } from "../helpers.js";

export type Layout = "contiguous" | "padded" | "transposed" | "reversed";
export const LAYOUTS: Layout[] = ["contiguous", "padded", "transposed", "reversed"];

/** A reference array: row-major values and a shape. */
export interface Ref {
  shape: number[];
  data: number[];
}

export function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Multi-index of the k-th element in row-major order. */
export function unravel(k: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = k % shape[d];
    k = Math.floor(k / shape[d]);
  }
  return idx;
}

/** Row-major position of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let k = 0;
  for (let d = 0; d < shape.length; d++) k = k * shape[d] + idx[d];
  return k;
}

/** Nested JS arrays for a reference (a number for rank 0). */
export function nest(r: Ref): NestedArray {
  const build = (dim: number, base: number, stride: number): NestedArray => {
    if (dim === r.shape.length) return r.data[base];
    const inner = stride / r.shape[dim];
    const out: NestedArray[] = [];
    for (let i = 0; i < r.shape[dim]; i++) out.push(build(dim + 1, base + i * inner, inner));
    return out;
  };
  return build(0, 0, sizeOfShape(r.shape));
}

/** Flattens nested arrays of numbers (or a number) in row-major order. */
export function flatten(v: unknown): number[] {
  if (typeof v === "number") return [v];
  if (!Array.isArray(v)) throw new Error(`flatten: not a nested array: ${String(v)}`);
  const out: number[] = [];
  for (const e of v) out.push(...flatten(e));
  return out;
}

/** The shape of nested arrays, read from the first entries (as a user would). */
export function nestedShape(v: unknown): number[] {
  const shape: number[] = [];
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

export function refOf(shape: number[], data: number[]): Ref {
  if (sizeOfShape(shape) !== data.length) throw new Error("refOf: size mismatch");
  return { shape: shape.slice(), data: data.slice() };
}

// ---------------------------------------------------------------------------
// Reference operations (NumPy semantics)

export function refBroadcastShape(...shapes: number[][]): number[] | null {
  const n = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let d = 1;
    for (const s of shapes) {
      const j = i - (n - s.length);
      const e = j < 0 ? 1 : s[j];
      if (e === 1) continue;
      if (d !== 1 && d !== e) return null;
      d = e;
    }
    out.push(d);
  }
  return out;
}

/** Value of `r` at an index of a larger broadcast shape. */
function readBroadcast(r: Ref, outIdx: number[]): number {
  const lead = outIdx.length - r.shape.length;
  const idx = r.shape.map((d, i) => (d === 1 ? 0 : outIdx[i + lead]));
  return r.data[ravel(idx, r.shape)];
}

export function refMap(inputs: Ref[], f: (...v: number[]) => number): Ref {
  const shape = refBroadcastShape(...inputs.map((r) => r.shape));
  if (shape === null) throw new Error("refMap: shapes do not broadcast");
  const n = sizeOfShape(shape);
  const data: number[] = [];
  for (let k = 0; k < n; k++) {
    const idx = unravel(k, shape);
    data.push(f(...inputs.map((r) => readBroadcast(r, idx))));
  }
  return { shape, data };
}

export function refBroadcastTo(r: Ref, shape: number[]): Ref {
  const data: number[] = [];
  for (let k = 0; k < sizeOfShape(shape); k++) data.push(readBroadcast(r, unravel(k, shape)));
  return { shape: shape.slice(), data };
}

/** Sorted distinct non-negative axes from a user `axis` (reference semantics). */
export function refAxes(axis: number | number[] | null | undefined, ndim: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  return [...new Set(list.map((a) => (a < 0 ? a + ndim : a)))].sort((a, b) => a - b);
}

/** Reduces over `axes` with `f` applied to each group's values (row-major order within the group). */
export function refReduce(x: Ref, axes: number[], keepdims: boolean, f: (vals: number[]) => number): Ref {
  const keptAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = keptAxes.map((i) => x.shape[i]);
  const innerShape = axes.map((i) => x.shape[i]);
  const data: number[] = [];
  for (let o = 0; o < sizeOfShape(outShape); o++) {
    const oi = unravel(o, outShape);
    const vals: number[] = [];
    for (let r = 0; r < sizeOfShape(innerShape); r++) {
      const ri = unravel(r, innerShape);
      const idx = new Array<number>(x.shape.length);
      keptAxes.forEach((a, j) => (idx[a] = oi[j]));
      axes.forEach((a, j) => (idx[a] = ri[j]));
      vals.push(x.data[ravel(idx, x.shape)]);
    }
    data.push(f(vals));
  }
  const shape = keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : outShape;
  return { shape, data };
}

export const refSum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
/** NumPy max: NaN if any entry is NaN. */
export const refMax = (v: number[]): number => (v.some(Number.isNaN) ? NaN : Math.max(...v));
export const refMin = (v: number[]): number => (v.some(Number.isNaN) ? NaN : Math.min(...v));
/** log Σ exp, the textbook formula (only for moderate values). */
export const refLogSumExpNaive = (v: number[]): number => Math.log(v.reduce((a, b) => a + Math.exp(b), 0));

/** Softmax along `axes` by the textbook formula exp(x)/Σexp(x) (moderate values only). */
export function refSoftmax(x: Ref, axes: number[]): Ref {
  const sums = refReduce(x, axes, true, (v) => v.reduce((a, b) => a + Math.exp(b), 0));
  return refMap([x, sums], (v, s) => Math.exp(v) / s);
}

export function refTranspose(x: Ref, perm: number[]): Ref {
  const shape = perm.map((p) => x.shape[p]);
  const data: number[] = [];
  for (let k = 0; k < sizeOfShape(shape); k++) {
    const oi = unravel(k, shape);
    const idx = new Array<number>(perm.length);
    perm.forEach((p, i) => (idx[p] = oi[i]));
    data.push(x.data[ravel(idx, x.shape)]);
  }
  return { shape, data };
}

export function refSlice(x: Ref, begin: number[], size: number[]): Ref {
  const data: number[] = [];
  for (let k = 0; k < sizeOfShape(size); k++) {
    const oi = unravel(k, size);
    data.push(x.data[ravel(oi.map((v, i) => v + begin[i]), x.shape)]);
  }
  return { shape: size.slice(), data };
}

export function refConcat(xs: Ref[], axis: number): Ref {
  const shape = xs[0].shape.slice();
  shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
  const data: number[] = [];
  for (let k = 0; k < sizeOfShape(shape); k++) {
    const idx = unravel(k, shape);
    let j = idx[axis];
    let part = 0;
    while (j >= xs[part].shape[axis]) j -= xs[part++].shape[axis];
    const local = idx.slice();
    local[axis] = j;
    data.push(xs[part].data[ravel(local, xs[part].shape)]);
  }
  return { shape, data };
}

export function refStack(xs: Ref[], axis: number): Ref {
  const expanded = xs.map((x) => {
    const shape = x.shape.slice();
    shape.splice(axis, 0, 1);
    return { shape, data: x.data };
  });
  return refConcat(expanded, axis);
}

/** NumPy matmul, written out: promotes 1-D operands, broadcasts batch dimensions. */
export function refMatmul(a: Ref, b: Ref): Ref {
  const A = a.shape.length === 1 ? { shape: [1, a.shape[0]], data: a.data } : a;
  const B = b.shape.length === 1 ? { shape: [b.shape[0], 1], data: b.data } : b;
  const m = A.shape[A.shape.length - 2];
  const k = A.shape[A.shape.length - 1];
  const n = B.shape[B.shape.length - 1];
  const batch = refBroadcastShape(A.shape.slice(0, -2), B.shape.slice(0, -2));
  if (batch === null || B.shape[B.shape.length - 2] !== k) throw new Error("refMatmul: bad shapes");
  const data: number[] = [];
  for (let t = 0; t < sizeOfShape(batch); t++) {
    const bi = unravel(t, batch);
    const at = (ref: Ref, i: number, j: number): number => {
      const bs = ref.shape.slice(0, -2);
      const lead = bi.length - bs.length;
      const idx = bs.map((d, q) => (d === 1 ? 0 : bi[q + lead]));
      return ref.data[ravel([...idx, i, j], ref.shape)];
    };
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += at(A, i, p) * at(B, p, j);
        data.push(s);
      }
    }
  }
  const shape = [...batch, m, n];
  if (b.shape.length === 1) shape.splice(shape.length - 1, 1);
  if (a.shape.length === 1) shape.splice(shape.length - (b.shape.length === 1 ? 1 : 2), 1);
  return { shape, data };
}

/** Dense solve by Gauss–Jordan elimination with partial pivoting, on plain arrays. */
export function refSolve(A: Ref, b: Ref): Ref {
  const n = A.shape[0];
  const k = b.shape.length === 1 ? 1 : b.shape[1];
  const M = Array.from({ length: n }, (_, i) => [...A.data.slice(i * n, i * n + n), ...b.data.slice(i * k, i * k + k)]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let j = c; j < n + k; j++) M[r][j] -= f * M[c][j];
    }
  }
  const data: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) data.push(M[i][n + j] / M[i][i]);
  return { shape: b.shape.slice(), data };
}

// ---------------------------------------------------------------------------
// Comparing a library result with a reference

/** Asserts that `t` has the reference's shape and (to rtol/atol) its values; NaN must match NaN, ±∞ exactly. */
export function expectRef(t: Tensor, r: Ref, rtol = 1e-12, atol = 1e-12, what = ""): void {
  expect(t, `${what}: a Tensor`).to.be.instanceOf(Tensor);
  expect(t.shape, `${what}: shape`).to.deep.equal(r.shape);
  const got = flatten(t.toArray());
  expect(got.length, `${what}: number of values`).to.equal(r.data.length);
  for (let i = 0; i < got.length; i++) {
    const e = r.data[i];
    const a = got[i];
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) throw new Error(`${what}[${i}]: expected NaN, got ${a}`);
    } else if (!Number.isFinite(e)) {
      if (a !== e) throw new Error(`${what}[${i}]: expected ${e}, got ${a}`);
    } else if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (shape ${JSON.stringify(r.shape)})`);
    }
  }
}

// ---------------------------------------------------------------------------
// Arbitraries

/** A dimension: mostly 1..maxDim, sometimes 0 when allowed. */
export function dimArb(maxDim = 3, allowZero = true): fc.Arbitrary<number> {
  const positive = fc.integer({ min: 1, max: maxDim });
  return allowZero ? fc.oneof({ arbitrary: positive, weight: 6 }, { arbitrary: fc.constant(0), weight: 1 }) : positive;
}

export function shapeOf(maxRank = 3, maxDim = 3, allowZero = true, minRank = 0): fc.Arbitrary<number[]> {
  return fc.array(dimArb(maxDim, allowZero), { minLength: minRank, maxLength: maxRank });
}

/**
 * Shapes of `count` operands that broadcast together: an output shape, and for
 * each operand a suffix of it with some dimensions replaced by 1.
 */
export function broadcastShapesArb(count: number, maxRank = 3, maxDim = 3, allowZero = true): fc.Arbitrary<number[][]> {
  return shapeOf(maxRank, maxDim, allowZero).chain((out) =>
    fc.tuple(...Array.from({ length: count }, () =>
      fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
        .map(([drop, ones]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop)))));
}

/** A target shape and a shape that broadcasts to it (NumPy's broadcast_to). */
export function broadcastTargetArb(maxRank = 3, maxDim = 3, allowZero = true): fc.Arbitrary<[number[], number[]]> {
  return shapeOf(maxRank, maxDim, allowZero).chain((target) =>
    fc.tuple(fc.integer({ min: 0, max: target.length }), fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }))
      .map(([drop, ones]): [number[], number[]] => [target, target.map((d, i) => (ones[i] ? 1 : d)).slice(drop)]));
}

/** A permutation of 0..n−1, sometimes written with negative axes. */
export function permArb(n: number): fc.Arbitrary<number[]> {
  const idx = Array.from({ length: n }, (_, i) => i);
  return fc.tuple(fc.shuffledSubarray(idx, { minLength: n, maxLength: n }), fc.array(fc.boolean(), { minLength: n, maxLength: n }))
    .map(([p, neg]) => p.map((a, i) => (neg[i] ? a - n : a)));
}

/** Two shapes with the same number of elements, built by grouping one list of factors two ways. */
export const reshapePairArb: fc.Arbitrary<[number[], number[]]> = fc.array(fc.oneof({ arbitrary: fc.integer({ min: 1, max: 3 }), weight: 8 }, { arbitrary: fc.constant(0), weight: 1 }), { maxLength: 4 })
  .chain((factors) => {
    const grouping = fc.tuple(fc.shuffledSubarray(factors, { minLength: factors.length, maxLength: factors.length }), fc.array(fc.boolean(), { minLength: factors.length, maxLength: factors.length }), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }))
      .map(([order, cuts, ones]) => {
        const shape: number[] = [];
        order.forEach((f, i) => (i === 0 || cuts[i] ? shape.push(f) : (shape[shape.length - 1] *= f)));
        for (const at of ones) shape.splice(Math.min(at, shape.length), 0, 1);
        return shape;
      });
    return fc.tuple(grouping, grouping);
  });

export type AxisArg = number | number[] | null | undefined;

/** Any `axis` argument NumPy accepts for a tensor of rank `ndim`, in every allowed form (negative, array, empty array). */
export function axisArb(ndim: number): fc.Arbitrary<AxisArg> {
  const idx = Array.from({ length: ndim }, (_, i) => i);
  const one = ndim === 0 ? [] : [fc.integer({ min: -ndim, max: ndim - 1 })];
  const list = fc.shuffledSubarray(idx).chain((axes) =>
    fc.array(fc.boolean(), { minLength: axes.length, maxLength: axes.length }).map((neg) => axes.map((a, i) => (neg[i] ? a - ndim : a))));
  return fc.oneof(fc.constant(undefined), fc.constant(null), list, ...one);
}

/** How the raw numbers u ∈ [−1, 1] are mapped to values, keeping away from the kinks of the op under test. */
export type ValueKind =
  | "any" // [−2, 2]
  | "wide" // [−30, 30]
  | "positive" // [0.5, 3]
  | "awayFromZero" // ±[0.2, 2]
  | "distinct" // pairwise distinct, gaps ≥ 0.25 (rank transform)
  | "distinctAbs" // |x| pairwise distinct and ≥ 0.2
  | "gridOdd" // 0.2k + 0.1 ± 0.03  (never within 0.04 of a gridEven value)
  | "gridEven"; // 0.2k ± 0.03

export function mapValues(u: number[], kind: ValueKind): number[] {
  switch (kind) {
    case "any": return u.map((v) => 2 * v);
    case "wide": return u.map((v) => 30 * v);
    case "positive": return u.map((v) => 1.75 + 1.25 * v);
    case "awayFromZero": return u.map((v) => (v >= 0 ? 0.2 + 1.8 * v : -0.2 + 1.8 * v));
    case "distinct":
    case "distinctAbs": {
      const order = u.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const out = new Array<number>(u.length);
      order.forEach(([, i], rank) => {
        out[i] = kind === "distinct" ? 0.25 * rank - 0.125 * u.length + 0.01 * Math.abs(u[i]) : (0.2 + 0.25 * rank) * (i % 2 === 0 ? 1 : -1);
      });
      return out;
    }
    case "gridOdd": return u.map((v, i) => 0.2 * (((i * 7) % 11) - 5) + 0.1 + 0.03 * v);
    case "gridEven": return u.map((v, i) => 0.2 * (((i * 5) % 9) - 4) + 0.03 * v);
  }
}

/** A generated operand: its values as a reference array and as a Tensor stored with `layout`. */
export interface Operand {
  ref: Ref;
  t: Tensor;
  layout: Layout;
}

export function makeOperand(shape: number[], values: number[], layout: Layout): Operand {
  const t = withLayout(tensor(Float64Array.from(values), { shape }), layout);
  return { ref: refOf(shape, values), t, layout };
}

export const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom(...LAYOUTS);

/** Raw numbers in [−1, 1] (no NaN), a fixed count. */
export function unitValues(n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n });
}

/** An operand of the given shape with values of `kind`, in a random layout. */
export function operandOf(shape: number[], kind: ValueKind = "any", layouts: fc.Arbitrary<Layout> = layoutArb): fc.Arbitrary<Operand> {
  return fc.tuple(unitValues(sizeOfShape(shape)), layouts).map(([u, layout]) => makeOperand(shape, mapValues(u, kind), layout));
}

/** Values including the IEEE specials (±0, ±∞, NaN) for the numerics tests. */
export const specialValueArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.double({ min: -5, max: 5, noNaN: true }), weight: 4 },
  { arbitrary: fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1000, -1000, 1e300, -1e300), weight: 2 },
);

export function specialOperandOf(shape: number[], layouts: fc.Arbitrary<Layout> = layoutArb): fc.Arbitrary<Operand> {
  const n = sizeOfShape(shape);
  return fc.tuple(fc.array(specialValueArb, { minLength: n, maxLength: n }), layouts).map(([v, layout]) => makeOperand(shape, v, layout));
}

/**
 * fast-check parameters: `n` runs, scaled by the environment variable
 * PROPERTY_SCALE (default 1) for longer stress runs of the same properties.
 */
export function runs(n: number): { numRuns: number } {
  const scale = Number(process.env.PROPERTY_SCALE ?? 1);
  return { numRuns: Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1))) };
}

/** A small deterministic PRNG (mulberry32) for weights, tangents and cotangents inside a property. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
