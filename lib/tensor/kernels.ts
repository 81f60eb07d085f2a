/**
 * Forward kernels on concrete tensors: strided loops over the typed arrays with
 * fast paths for contiguous data. Every kernel allocates its output and reads
 * its inputs only. Derivative rules live in lib/primitives, not here.
 */
import { contiguousData, copyInto, fromData, Tensor, type DType, type FloatArray } from "./tensor.js";
import { allocateOutput } from "./storage.js";
import { broadcastStrides, contiguousStrides, isContiguous, shapeToString, sizeOf, type Shape } from "./shape.js";
import { matmulWasm } from "./wasm/dense.js";

/**
 * Binary operations with a specialised inner loop; anything else goes through a
 * callback. A callback called from one loop shared by many ops is megamorphic,
 * and costs about twice the arithmetic of a tanh or an exp per entry (measured);
 * the `…Grad` codes are the one-pass derivative products of unary ops
 * (lib/primitives/elementwise.ts): a · f′ written as the rule's composition
 * computes it, so that both give the same bits.
 */
export const BinaryCode = {
  Add: 0, Sub: 1, Mul: 2, Div: 3, Other: 4,
  LogGrad: 5, SqrtGrad: 6, SinGrad: 7, CosGrad: 8, TanhGrad: 9, SigmoidGrad: 10, SoftplusGrad: 11,
} as const;
export type BinaryCode = (typeof BinaryCode)[keyof typeof BinaryCode];

/** The unary operations, each with a loop of its own (see BinaryCode). */
export const UnaryCode = { Neg: 1, Exp: 2, Log: 3, Sqrt: 4, Abs: 5, Sin: 6, Cos: 7, Tanh: 8, Sigmoid: 9, Softplus: 10, Relu: 11, Sign: 12 } as const;
export type UnaryCode = (typeof UnaryCode)[keyof typeof UnaryCode];

/** 1/(1 + e⁻ᵛ) without overflow. */
export function stableSigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/** log(1 + eᵛ) without overflow: max(v, 0) + log1p(e^−|v|). */
export function stableSoftplus(v: number): number {
  if (v !== v) return v;
  return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
}

/** max(v, 0), NaN kept. */
export function reluValue(v: number): number {
  return v > 0 ? v : v !== v ? v : 0;
}

/** −1, 0 or 1 (±0 and NaN kept). */
export function signValue(v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : v;
}

/** One row of a unary op: out[k + j] = f(x[ix + j·sx]) for j < n. */
function unaryRow(code: UnaryCode, x: FloatArray, ix: number, sx: number, out: FloatArray, k: number, n: number): void {
  switch (code) {
    case UnaryCode.Neg: for (let j = 0; j < n; j++, ix += sx) out[k + j] = -x[ix]; return;
    case UnaryCode.Exp: for (let j = 0; j < n; j++, ix += sx) out[k + j] = Math.exp(x[ix]); return;
    case UnaryCode.Log: for (let j = 0; j < n; j++, ix += sx) out[k + j] = Math.log(x[ix]); return;
    case UnaryCode.Sqrt: for (let j = 0; j < n; j++, ix += sx) out[k + j] = Math.sqrt(x[ix]); return;
    case UnaryCode.Abs: for (let j = 0; j < n; j++, ix += sx) out[k + j] = Math.abs(x[ix]); return;
    case UnaryCode.Sin: for (let j = 0; j < n; j++, ix += sx) out[k + j] = Math.sin(x[ix]); return;
    case UnaryCode.Cos: for (let j = 0; j < n; j++, ix += sx) out[k + j] = Math.cos(x[ix]); return;
    case UnaryCode.Tanh: for (let j = 0; j < n; j++, ix += sx) out[k + j] = Math.tanh(x[ix]); return;
    case UnaryCode.Sigmoid: for (let j = 0; j < n; j++, ix += sx) out[k + j] = stableSigmoid(x[ix]); return;
    case UnaryCode.Softplus: for (let j = 0; j < n; j++, ix += sx) out[k + j] = stableSoftplus(x[ix]); return;
    case UnaryCode.Relu: for (let j = 0; j < n; j++, ix += sx) out[k + j] = reluValue(x[ix]); return;
    case UnaryCode.Sign: for (let j = 0; j < n; j++, ix += sx) out[k + j] = signValue(x[ix]); return;
  }
}

/** One row of a binary op: out[k + j] = f(a[ia + j·sa], b[ib + j·sb]) for j < n. */
function binaryRow(
  code: BinaryCode, f: (x: number, y: number) => number,
  a: FloatArray, ia: number, sa: number, b: FloatArray, ib: number, sb: number,
  out: FloatArray, k: number, n: number,
): void {
  switch (code) {
    case BinaryCode.Add:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] + b[ib];
      return;
    case BinaryCode.Sub:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] - b[ib];
      return;
    case BinaryCode.Mul:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] * b[ib];
      return;
    case BinaryCode.Div:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] / b[ib];
      return;
    case BinaryCode.LogGrad:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] * (1 / b[ib]);
      return;
    case BinaryCode.SqrtGrad:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] * (0.5 / b[ib]);
      return;
    case BinaryCode.SinGrad:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] * Math.cos(b[ib]);
      return;
    case BinaryCode.CosGrad:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] * -Math.sin(b[ib]);
      return;
    case BinaryCode.TanhGrad:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] * (1 - b[ib] * b[ib]);
      return;
    case BinaryCode.SigmoidGrad:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] * (b[ib] * (1 - b[ib]));
      return;
    case BinaryCode.SoftplusGrad:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = a[ia] * stableSigmoid(b[ib]);
      return;
    default:
      for (let j = 0; j < n; j++, ia += sa, ib += sb) out[k + j] = f(a[ia], b[ib]);
  }
}

/**
 * Visits every row (last dimension) of `shape`, walking up to three strided
 * operands in step; `row(offsets…, rowIndex)` is called once per row.
 */
function forEachRow(shape: Shape, strides: readonly (readonly number[])[], offsets: number[], row: (pos: number[], rowIndex: number) => void): void {
  const nd = shape.length;
  const total = sizeOf(shape);
  if (total === 0) return;
  if (nd === 0) {
    row(offsets, 0);
    return;
  }
  const rows = total / shape[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  const pos = offsets.slice();
  for (let r = 0; r < rows; r++) {
    row(pos, r);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      for (let o = 0; o < pos.length; o++) pos[o] += strides[o][d];
      if (idx[d] < shape[d]) break;
      for (let o = 0; o < pos.length; o++) pos[o] -= strides[o][d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** Elementwise binary op with NumPy broadcasting; `outShape` is the broadcast shape. */
export function binaryKernel(a: Tensor, b: Tensor, outShape: number[], code: BinaryCode, f: (x: number, y: number) => number, dtype: DType): Tensor {
  const n = sizeOf(outShape);
  const out = allocateOutput(dtype, n, false);
  const aFlat = a.size === n && isContiguous(a.shape, a.strides) && a.shape.length === outShape.length;
  const bFlat = b.size === n && isContiguous(b.shape, b.strides) && b.shape.length === outShape.length;
  if (aFlat && bFlat) {
    binaryRow(code, f, a.data, a.offset, 1, b.data, b.offset, 1, out, 0, n);
    // Shapes and strides are never written: a contiguous operand's describe the output too.
    if (a.shape === outShape) return new Tensor(out, a.shape, a.strides, 0);
  }
  else if (aFlat && b.size === 1) binaryRow(code, f, a.data, a.offset, 1, b.data, b.offset, 0, out, 0, n);
  else if (bFlat && a.size === 1) binaryRow(code, f, a.data, a.offset, 0, b.data, b.offset, 1, out, 0, n);
  else if (n > 0) {
    const sa = broadcastStrides(a.shape, a.strides, outShape);
    const sb = broadcastStrides(b.shape, b.strides, outShape);
    const last = outShape.length - 1;
    const len = last >= 0 ? outShape[last] : 1;
    const saL = last >= 0 ? sa[last] : 0;
    const sbL = last >= 0 ? sb[last] : 0;
    forEachRow(outShape, [sa, sb], [a.offset, b.offset], (pos, r) => binaryRow(code, f, a.data, pos[0], saL, b.data, pos[1], sbL, out, r * len, len));
  }
  return fromData(out, outShape);
}

/** Elementwise unary op. */
export function unaryKernel(x: Tensor, code: UnaryCode): Tensor {
  const out = allocateOutput(x.dtype, x.size, false);
  const { data, offset } = x;
  if (isContiguous(x.shape, x.strides)) {
    unaryRow(code, data, offset, 1, out, 0, out.length);
    return new Tensor(out, x.shape, x.strides, 0);
  } else {
    const last = x.shape.length - 1;
    const len = x.shape[last];
    const s = x.strides[last];
    forEachRow(x.shape, [x.strides], [offset], (pos, r) => unaryRow(code, data, pos[0], s, out, r * len, len));
  }
  return fromData(out, x.shape.slice());
}

/** Elementwise select: out = cond ≠ 0 ? a : b, all three broadcast to `outShape`. */
export function whereKernel(cond: Tensor, a: Tensor, b: Tensor, outShape: number[], dtype: DType): Tensor {
  const out = allocateOutput(dtype, sizeOf(outShape), false);
  if (out.length === 0) return fromData(out, outShape);
  const sc = broadcastStrides(cond.shape, cond.strides, outShape);
  const sa = broadcastStrides(a.shape, a.strides, outShape);
  const sb = broadcastStrides(b.shape, b.strides, outShape);
  const last = outShape.length - 1;
  const len = last >= 0 ? outShape[last] : 1;
  const [cL, aL, bL] = last >= 0 ? [sc[last], sa[last], sb[last]] : [0, 0, 0];
  forEachRow(outShape, [sc, sa, sb], [cond.offset, a.offset, b.offset], (pos, r) => {
    let pc = pos[0], pa = pos[1], pb = pos[2];
    for (let j = 0, k = r * len; j < len; j++, pc += cL, pa += aL, pb += bL) out[k + j] = cond.data[pc] !== 0 ? a.data[pa] : b.data[pb];
  });
  return fromData(out, outShape);
}

/** A contiguous copy of any view (reshape of a non-contiguous tensor, materialising broadcasts). */
export function copyKernel(x: Tensor): Tensor {
  const out = allocateOutput(x.dtype, x.size, false);
  copyInto(x, out);
  return fromData(out, x.shape.slice());
}

/** The element offsets (relative to the view's offset) of every element of a view, in row-major order. */
function elementOffsets(shape: Shape, strides: readonly number[]): Int32Array {
  const out = new Int32Array(sizeOf(shape));
  if (out.length === 0) return out;
  if (shape.length === 0) return out;
  const last = shape.length - 1;
  const len = shape[last];
  const s = strides[last];
  forEachRow(shape, [strides], [0], (pos, r) => {
    for (let j = 0, p = pos[0], k = r * len; j < len; j++, p += s) out[k + j] = p;
  });
  return out;
}

export type ReduceKind = "sum" | "max" | "min" | "logsumexp";

/**
 * Reduces `x` over the sorted, distinct `axes`. The output is contiguous with
 * the kept axes in their original order (keepdims is a reshape the caller does).
 * max/min propagate NaN; logsumexp follows SciPy on ±∞ (shift by the finite max).
 */
export function reduceKernel(x: Tensor, axes: readonly number[], kind: ReduceKind): Tensor {
  if (axes.length === x.ndim && kind === "sum" && x.contiguous) return fromData(sumAll(x), []);
  const kept: number[] = [];
  for (let i = 0; i < x.ndim; i++) if (!axes.includes(i)) kept.push(i);
  const outShape = kept.map((i) => x.shape[i]);
  const innerShape = axes.map((i) => x.shape[i]);
  const outer = elementOffsets(outShape, kept.map((i) => x.strides[i]));
  const inner = elementOffsets(innerShape, axes.map((i) => x.strides[i]));
  const out = allocateOutput(x.dtype, outer.length, false);
  const { data, offset } = x;
  const m = inner.length;
  for (let o = 0; o < outer.length; o++) {
    const base = offset + outer[o];
    let acc: number;
    if (kind === "sum") {
      acc = 0;
      for (let r = 0; r < m; r++) acc += data[base + inner[r]];
    } else if (kind === "max" || kind === "min") {
      acc = kind === "max" ? -Infinity : Infinity;
      for (let r = 0; r < m; r++) {
        const v = data[base + inner[r]];
        if (v !== v) { acc = NaN; break; }
        if (kind === "max" ? v > acc : v < acc) acc = v;
      }
    } else {
      let hi = -Infinity;
      let nan = false;
      for (let r = 0; r < m; r++) {
        const v = data[base + inner[r]];
        if (v !== v) nan = true;
        else if (v > hi) hi = v;
      }
      if (nan) acc = NaN;
      else if (hi === Infinity) acc = Infinity;
      else if (hi === -Infinity) acc = -Infinity;
      else {
        let s = 0;
        for (let r = 0; r < m; r++) s += Math.exp(data[base + inner[r]] - hi);
        acc = hi + Math.log(s);
      }
    }
    out[o] = acc;
  }
  return fromData(out, outShape);
}

/** The sum of every entry of a contiguous x (no index table). */
function sumAll(x: Tensor): FloatArray {
  const out = allocateOutput(x.dtype, 1, false);
  const { data } = x;
  let acc = 0;
  for (let i = x.offset, end = x.offset + x.size; i < end; i++) acc += data[i];
  out[0] = acc;
  return out;
}

/** Reads a 2-D operand (matrix `index` of a batch) as data + strides. */
interface MatrixView {
  data: FloatArray;
  offset: number;
  rowStride: number;
  colStride: number;
}

const BLOCK_K = 128;

/** Σₚ a[ia + p·sa] · b[ib + p·sb] over p < k (BLAS dot), with a fast path for unit strides. */
function dot(a: FloatArray, ia: number, sa: number, b: FloatArray, ib: number, sb: number, k: number): number {
  if (sa === 1 && sb === 1) {
    // Four partial sums break the chain of dependent additions.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      s0 += a[ia + p] * b[ib + p];
      s1 += a[ia + p + 1] * b[ib + p + 1];
      s2 += a[ia + p + 2] * b[ib + p + 2];
      s3 += a[ia + p + 3] * b[ib + p + 3];
    }
    for (; p < k; p++) s0 += a[ia + p] * b[ib + p];
    return (s0 + s1) + (s2 + s3);
  }
  let s = 0;
  for (let p = 0; p < k; p++, ia += sa, ib += sb) s += a[ia] * b[ib];
  return s;
}

/** y[iy + j] += alpha · x[ix + j·sx] over j < n (BLAS axpy), with a fast path for unit stride. */
function axpy(alpha: number, x: FloatArray, ix: number, sx: number, y: FloatArray, iy: number, n: number): void {
  if (sx === 1) {
    for (let j = 0; j < n; j++) y[iy + j] += alpha * x[ix + j];
    return;
  }
  for (let j = 0; j < n; j++, ix += sx) y[iy + j] += alpha * x[ix];
}

/**
 * Four axpys at once on unit-stride rows x[i0…], x[i0 + step…], …: y is read and
 * written once for four rows instead of four times.
 */
function axpy4(a0: number, a1: number, a2: number, a3: number, x: FloatArray, i0: number, step: number, y: FloatArray, iy: number, n: number): void {
  const i1 = i0 + step, i2 = i1 + step, i3 = i2 + step;
  for (let j = 0; j < n; j++) y[iy + j] += a0 * x[i0 + j] + a1 * x[i1 + j] + a2 * x[i2 + j] + a3 * x[i3 + j];
}

/**
 * C (m×n, contiguous, zero-filled, at cOff) += A (m×k) · B (k×n) for strided views.
 * Loop order i-k-j with k blocked, so that B's rows stream through cache and
 * C's row stays hot (each step an axpy of a row of B into a row of C); when A is
 * column-major (a transposed view) and B is thin, the k-i-j order reads A
 * contiguously instead; otherwise a product with one column is a dot per row.
 */
function gemm(A: MatrixView, B: MatrixView, C: FloatArray, cOff: number, m: number, k: number, n: number): void {
  const { data: a, rowStride: ars, colStride: acs } = A;
  const { data: b, rowStride: brs, colStride: bcs } = B;
  if (ars === 1 && acs !== 1 && n <= 4) {
    // Aᵀ·B with A stored row-major and B thin (the pullback of X·w): read each stored row once.
    if (n === 1) {
      let p = 0;
      for (; p + 3 < k; p += 4) {
        const bRow = B.offset + p * brs;
        axpy4(b[bRow], b[bRow + brs], b[bRow + 2 * brs], b[bRow + 3 * brs], a, A.offset + p * acs, acs, C, cOff, m);
      }
      for (; p < k; p++) axpy(b[B.offset + p * brs], a, A.offset + p * acs, 1, C, cOff, m);
      return;
    }
    for (let p = 0; p < k; p++) {
      const aCol = A.offset + p * acs;
      const bRow = B.offset + p * brs;
      for (let i = 0; i < m; i++) {
        const av = a[aCol + i];
        const cRow = cOff + i * n;
        for (let j = 0; j < n; j++) C[cRow + j] += av * b[bRow + j * bcs];
      }
    }
    return;
  }
  if (n === 1) {
    for (let i = 0; i < m; i++) C[cOff + i] += dot(a, A.offset + i * ars, acs, b, B.offset, brs, k);
    return;
  }
  for (let p0 = 0; p0 < k; p0 += BLOCK_K) {
    const p1 = Math.min(k, p0 + BLOCK_K);
    for (let i = 0; i < m; i++) {
      const aRow = A.offset + i * ars;
      let p = p0;
      if (bcs === 1) {
        for (; p + 3 < p1; p += 4) {
          const ap = aRow + p * acs;
          axpy4(a[ap], a[ap + acs], a[ap + 2 * acs], a[ap + 3 * acs], b, B.offset + p * brs, brs, C, cOff + i * n, n);
        }
      }
      for (; p < p1; p++) axpy(a[aRow + p * acs], b, B.offset + p * brs, bcs, C, cOff + i * n, n);
    }
  }
}

/**
 * Batched matrix product of operands of rank ≥ 2 whose leading (batch) dimensions
 * broadcast. Products above a size threshold run in WebAssembly SIMD where it is
 * available; the JavaScript loops below make B row-contiguous first when its
 * rows are strided (cheap relative to the product).
 */
export function matmulKernel(a: Tensor, b: Tensor, batchShape: number[], dtype: DType): Tensor {
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const n = b.shape[b.ndim - 1];
  const outShape = [...batchShape, m, n];
  const out = allocateOutput(dtype, sizeOf(outShape));
  if (out.length === 0 || k === 0) return fromData(out, outShape);
  const batchOffsets = (x: Tensor): Int32Array => elementOffsets(batchShape, broadcastStrides(x.shape.slice(0, -2), x.strides.slice(0, -2), batchShape));
  const matrix = (x: Tensor): MatrixView => ({ data: x.data, offset: x.offset, rowStride: x.strides[x.ndim - 2], colStride: x.strides[x.ndim - 1] });
  const aOffsets = batchOffsets(a);
  // WebAssembly SIMD above a size threshold (lib/tensor/wasm/dense.ts): it reads any strides as they are.
  if (matmulWasm(matrix(a), aOffsets, matrix(b), batchOffsets(b), m, k, n, out)) return fromData(out, outShape);
  const bt = n > 4 && b.strides[b.ndim - 1] !== 1 ? copyKernel(b) : b;
  const bOffsets = batchOffsets(bt);
  for (let t = 0; t < aOffsets.length; t++) {
    gemm(
      { data: a.data, offset: a.offset + aOffsets[t], rowStride: a.strides[a.ndim - 2], colStride: a.strides[a.ndim - 1] },
      { data: bt.data, offset: bt.offset + bOffsets[t], rowStride: bt.strides[bt.ndim - 2], colStride: bt.strides[bt.ndim - 1] },
      out, t * m * n, m, k, n,
    );
  }
  return fromData(out, outShape);
}

/** An LU factorisation with partial pivoting: P A = L U, stored packed (row-major n×n). */
export interface LUFactors {
  n: number;
  lu: Float64Array;
  pivots: Int32Array;
}

/**
 * Factorises a square matrix by Gaussian elimination with partial pivoting
 * (Golub & Van Loan, Matrix Computations, Alg. 3.4.1). Cost (2/3)n³.
 * Returns null when a pivot is exactly zero (the matrix is singular).
 */
export function luFactor(A: Tensor): LUFactors | null {
  const n = A.shape[0];
  const lu = Float64Array.from(contiguousData(A, "float64"));
  const pivots = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    let p = c;
    let best = Math.abs(lu[c * n + c]);
    for (let r = c + 1; r < n; r++) {
      const v = Math.abs(lu[r * n + c]);
      if (v > best) { best = v; p = r; }
    }
    pivots[c] = p;
    if (p !== c) {
      for (let j = 0; j < n; j++) {
        const t = lu[c * n + j];
        lu[c * n + j] = lu[p * n + j];
        lu[p * n + j] = t;
      }
    }
    const pivot = lu[c * n + c];
    if (pivot === 0) return null;
    for (let r = c + 1; r < n; r++) {
      const factor = (lu[r * n + c] /= pivot);
      if (factor === 0) continue;
      for (let j = c + 1; j < n; j++) lu[r * n + j] -= factor * lu[c * n + j];
    }
  }
  return { n, lu, pivots };
}

/** Solves A X = B (or Aᵀ X = B) for k right-hand sides stored row-major as n×k, in place. */
export function luSolveInPlace(f: LUFactors, B: Float64Array, k: number, transpose = false): void {
  const { n, lu, pivots } = f;
  if (!transpose) {
    for (let c = 0; c < n; c++) {
      const p = pivots[c];
      if (p !== c) for (let j = 0; j < k; j++) { const t = B[c * k + j]; B[c * k + j] = B[p * k + j]; B[p * k + j] = t; }
    }
    for (let r = 0; r < n; r++) for (let c = 0; c < r; c++) { const l = lu[r * n + c]; if (l !== 0) for (let j = 0; j < k; j++) B[r * k + j] -= l * B[c * k + j]; }
    for (let r = n - 1; r >= 0; r--) {
      for (let c = r + 1; c < n; c++) { const u = lu[r * n + c]; if (u !== 0) for (let j = 0; j < k; j++) B[r * k + j] -= u * B[c * k + j]; }
      const d = lu[r * n + r];
      for (let j = 0; j < k; j++) B[r * k + j] /= d;
    }
  } else {
    // Aᵀ = Uᵀ Lᵀ P: solve Uᵀ z = b, then Lᵀ w = z, then x = Pᵀ w.
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < r; c++) { const u = lu[c * n + r]; if (u !== 0) for (let j = 0; j < k; j++) B[r * k + j] -= u * B[c * k + j]; }
      const d = lu[r * n + r];
      for (let j = 0; j < k; j++) B[r * k + j] /= d;
    }
    for (let r = n - 1; r >= 0; r--) for (let c = r + 1; c < n; c++) { const l = lu[c * n + r]; if (l !== 0) for (let j = 0; j < k; j++) B[r * k + j] -= l * B[c * k + j]; }
    for (let c = n - 1; c >= 0; c--) {
      const p = pivots[c];
      if (p !== c) for (let j = 0; j < k; j++) { const t = B[c * k + j]; B[c * k + j] = B[p * k + j]; B[p * k + j] = t; }
    }
  }
}

/** Dense solve of A x = b (b of shape [n] or [n,k]) by LU with partial pivoting. */
export function solveKernel(op: string, A: Tensor, b: Tensor): Tensor {
  const f = luFactor(A);
  if (f === null) throw new Error(`${op}: matrix of shape ${shapeToString(A.shape)} is singular (a zero pivot in LU with partial pivoting)`);
  const k = b.ndim === 1 ? 1 : b.shape[1];
  const x = Float64Array.from(contiguousData(b, "float64"));
  luSolveInPlace(f, x, k);
  const out = allocateOutput(A.dtype, x.length);
  out.set(x);
  return fromData(out, b.shape.slice());
}

/** Strides of a view that reads `x` with its axes permuted. */
export function permutedView(x: Tensor, perm: readonly number[]): Tensor {
  return new Tensor(x.data, perm.map((p) => x.shape[p]), perm.map((p) => x.strides[p]), x.offset);
}

/** A view with a new shape when the data is contiguous, otherwise a reshaped copy. */
export function reshapeView(x: Tensor, shape: number[]): Tensor {
  if (isContiguous(x.shape, x.strides)) return new Tensor(x.data, shape, contiguousStrides(shape), x.offset);
  const c = copyKernel(x);
  return new Tensor(c.data, shape, contiguousStrides(shape), 0);
}

/** A broadcast view (stride 0 along new or stretched dimensions). */
export function broadcastView(x: Tensor, shape: number[]): Tensor {
  return new Tensor(x.data, shape, broadcastStrides(x.shape, x.strides, shape), x.offset);
}

/** A view of the box [begin, begin + size). */
export function sliceView(x: Tensor, begin: readonly number[], size: number[]): Tensor {
  let offset = x.offset;
  for (let i = 0; i < begin.length; i++) if (size[i] > 0) offset += begin[i] * x.strides[i];
  return new Tensor(x.data, size, x.strides.slice(), offset);
}

/** Writes `src` into the box of `dst` (contiguous, of shape dstShape) starting at `begin`. */
export function writeBox(dst: FloatArray, dstShape: Shape, begin: readonly number[], src: Tensor): void {
  if (src.size === 0) return;
  const dstStrides = contiguousStrides(dstShape);
  let base = 0;
  for (let i = 0; i < begin.length; i++) base += begin[i] * dstStrides[i];
  if (src.ndim === 0) {
    dst[base] = src.data[src.offset];
    return;
  }
  // Row by row: both sides walked in step, no index table.
  const last = src.ndim - 1;
  const len = src.shape[last];
  const s = src.strides[last];
  const data = src.data;
  forEachRow(src.shape, [src.strides, dstStrides], [src.offset, base], (pos) => {
    for (let j = 0, p = pos[0], q = pos[1]; j < len; j++, p += s, q++) dst[q] = data[p];
  });
}
