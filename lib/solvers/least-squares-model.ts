/**
 * The linear model r(y + p) ≈ r + J p that Gauss–Newton and Levenberg–Marquardt
 * steps minimise, at one point: the residuals r, the gradient Jᵀr of ½‖r‖², and
 * the damped step p = argmin ‖J p + r‖² + λ‖D p‖², solved as the least-squares
 * problem of [J; √λ D] by Householder QR (dense J, up to DENSE_LSQ_MAX
 * unknowns) or by LSQR on J's products (larger problems). The normal
 * equations JᵀJ are never formed.
 */
import { fromData } from "../tensor/tensor.js";
import { lsqr } from "../krylov/index.js";
import { flatOperator, qrSolve } from "./dense.js";
import type { VectorProblem } from "./problem.js";

/** Problems up to this many unknowns form J densely (min(m, n) products). */
export const DENSE_LSQ_MAX = 200;

export interface LinearModel {
  r: Float64Array;
  /** Jᵀr. */
  gradient: Float64Array;
  /** ‖J_:,j‖ per column (the Moré scaling's ingredients); dense only, else null. */
  columnNorms: Float64Array | null;
  /** out = J v. */
  apply(v: Float64Array, out: Float64Array): void;
  /**
   * p = argmin ‖J p + r‖² + λ‖D p‖² (D a diagonal, as a vector), with the
   * triangular factor R of [J; √λ D] when J is dense (null: matrix-free); null
   * when the system is rank-deficient (λ = 0 and J singular).
   */
  step(lambda: number, D: Float64Array): { p: Float64Array; R: Float64Array | null } | null;
}

export function linearModel(problem: VectorProblem, y: Float64Array): LinearModel {
  const n = y.length;
  if (n <= DENSE_LSQ_MAX) {
    const { value: r, J, m } = problem.F.jacobianAt(y);
    const gradient = new Float64Array(n);
    const columnNorms = new Float64Array(n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      gradient[j] += J[i * n + j] * r[i];
      columnNorms[j] += J[i * n + j] ** 2;
    }
    for (let j = 0; j < n; j++) columnNorms[j] = Math.sqrt(columnNorms[j]);
    return {
      r, gradient, columnNorms,
      apply: (v, out) => {
        for (let i = 0; i < m; i++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += J[i * n + j] * v[j];
          out[i] = s;
        }
      },
      step: (lambda, D) => {
        const rows = lambda > 0 ? m + n : m;
        if (rows < n) return null;
        const A = new Float64Array(rows * n);
        A.set(J);
        const b = new Float64Array(rows);
        for (let i = 0; i < m; i++) b[i] = -r[i];
        if (lambda > 0) for (let j = 0; j < n; j++) A[(m + j) * n + j] = Math.sqrt(lambda) * D[j];
        const solved = qrSolve(A, b, rows, n);
        return solved === null ? null : { p: solved.x, R: solved.R };
      },
    };
  }
  const { value: r, matvec, rmatvec } = problem.F.linearizeAt(y);
  const m = r.length;
  const gradient = new Float64Array(n);
  rmatvec(r, gradient);
  return {
    r, gradient, columnNorms: null,
    apply: matvec,
    step: (lambda, D) => {
      const root = Math.sqrt(lambda);
      const head = new Float64Array(m);
      const operator = flatOperator(m + n, n, (v, out) => {
        matvec(v, head);
        out.set(head);
        for (let j = 0; j < n; j++) out[m + j] = root * D[j] * v[j];
      }, (u, out) => {
        rmatvec(u.subarray(0, m), out);
        for (let j = 0; j < n; j++) out[j] += root * D[j] * u[m + j];
      });
      const b = new Float64Array(m + n);
      for (let i = 0; i < m; i++) b[i] = -r[i];
      const result = lsqr(operator, fromData(b, [m + n]), { tol: 1e-10, maxIter: Math.max(100, 4 * n) });
      return { p: result.x.toFloat64Array(), R: null };
    },
  };
}

/** ½‖v‖². */
export function halfSquaredNorm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s / 2;
}
