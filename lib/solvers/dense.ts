/**
 * Small dense linear algebra for the solvers' inner steps, on row-major
 * Float64Arrays: an LU solve (partial pivoting) for Newton steps, a Householder
 * QR least-squares solve for Gauss–Newton and Levenberg–Marquardt steps (the
 * normal equations JᵀJ are never formed: they square the condition number),
 * and a flat LinearOperator for the Krylov solvers.
 */
import { fromData, Tensor } from "../tensor/tensor.js";
import { luFactor, luSolveInPlace } from "../tensor/kernels.js";
import type { LinearOperator, MatvecFunction } from "../krylov/index.js";

/** x with A x = b (A n×n), or null when A is singular to working precision. */
export function luSolve(A: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const factors = luFactor(fromData(A.slice(), [n, n]));
  if (factors === null) return null;
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.abs(factors.lu[i * n + i]);
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
  }
  if (!(lo > hi * n * 1e3 * Number.EPSILON)) return null;
  const x = b.slice();
  luSolveInPlace(factors, x, 1);
  return x;
}

/**
 * argmin ‖A x − b‖₂ for A (rows × n, rows ≥ n) by Householder QR (Golub & Van
 * Loan, "Matrix Computations", 4th ed., Algorithm 5.3.2), with the triangular
 * factor R (n×n, row-major) of A = QR; null when A is rank-deficient to working
 * precision. A and b are not modified.
 */
export function qrSolve(A: Float64Array, b: Float64Array, rows: number, n: number): { x: Float64Array; R: Float64Array } | null {
  const W = A.slice();
  const c = b.slice();
  const v = new Float64Array(rows);
  let largest = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = j; i < rows; i++) s += W[i * n + j] * W[i * n + j];
    const normX = Math.sqrt(s);
    if (normX === 0) return null;
    const alpha = W[j * n + j] > 0 ? -normX : normX;
    for (let i = j; i < rows; i++) v[i] = W[i * n + j];
    v[j] -= alpha;
    let vv = 0;
    for (let i = j; i < rows; i++) vv += v[i] * v[i];
    if (vv > 0) {
      for (let k = j; k < n; k++) {
        let d = 0;
        for (let i = j; i < rows; i++) d += v[i] * W[i * n + k];
        const f = (2 * d) / vv;
        for (let i = j; i < rows; i++) W[i * n + k] -= f * v[i];
      }
      let d = 0;
      for (let i = j; i < rows; i++) d += v[i] * c[i];
      const f = (2 * d) / vv;
      for (let i = j; i < rows; i++) c[i] -= f * v[i];
    }
    largest = Math.max(largest, Math.abs(W[j * n + j]));
  }
  for (let j = 0; j < n; j++) if (!(Math.abs(W[j * n + j]) > largest * Math.max(rows, n) * 1e3 * Number.EPSILON)) return null;
  const x = new Float64Array(n);
  for (let j = n - 1; j >= 0; j--) {
    let s = c[j];
    for (let k = j + 1; k < n; k++) s -= W[j * n + k] * x[k];
    x[j] = s / W[j * n + j];
  }
  const R = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = i; k < n; k++) R[i * n + k] = W[i * n + k];
  return { x, R };
}

/** argmin ‖A x − b‖₂ (see qrSolve), or null when A is rank-deficient. */
export function qrLeastSquares(A: Float64Array, b: Float64Array, rows: number, n: number): Float64Array | null {
  return qrSolve(A, b, rows, n)?.x ?? null;
}

/** w with Rᵀ w = q for R upper triangular (n×n, row-major): forward substitution. */
export function solveTransposedTriangular(R: Float64Array, q: Float64Array, n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = q[i];
    for (let k = 0; k < i; k++) s -= R[k * n + i] * w[k];
    w[i] = s / R[i * n + i];
  }
  return w;
}

/** A LinearOperator over in-place products on flat vectors (the Tensor forms copy). */
export function flatOperator(m: number, n: number, matvec: (x: Float64Array, out: Float64Array) => void, rmatvec?: (y: Float64Array, out: Float64Array) => void): LinearOperator {
  const product = (inLen: number, outLen: number, into: (x: Float64Array, out: Float64Array) => void): MatvecFunction => {
    const f = (v: Tensor): Tensor => {
      const out = new Float64Array(outLen);
      into(v.toFloat64Array().slice(0, inLen), out);
      return fromData(out, [outLen]);
    };
    return Object.assign(f, { into });
  };
  return { shape: [m, n], matvec: product(n, m, matvec), ...(rmatvec === undefined ? {} : { rmatvec: product(m, n, rmatvec) }) };
}
