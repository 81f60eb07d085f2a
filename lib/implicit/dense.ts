/**
 * The dense ∂F/∂y of one call and its LU factors: formed from n products with
 * unit vectors on the first direct solve, kept for every later solve of the
 * call (both systems, every right-hand side, every order), and the dense solve
 * with them, LSQR's minimum-norm solution when ∂F/∂y is singular.
 */
import { Tensor, fromData } from "../tensor/tensor.js";
import { luFactor, luSolveInPlace, type LUFactors } from "../tensor/kernels.js";
import type { LinearSystem } from "../program/root.js";
import { lsqr, type LinearOperator } from "../krylov/index.js";
import { norm2 } from "../krylov/operator.js";
import { LinearSolveError, type SolveDiagnostics } from "../errors.js";
import { luRounding } from "./rounding.js";
import { residualOf } from "./probes.js";
import type { SolveSettings } from "./settings.js";

/** A dense ∂F/∂y with its LU factors and how far it is from symmetric. */
export interface DenseFactors {
  A: Float64Array;
  lu: LUFactors | null;
  rank: "full" | "deficient";
  /** ‖A‖_F (NaN or ∞ when an entry is). */
  norm: number;
  /** The entry (i, j) where |A_ij − A_ji| is largest, and ‖A − Aᵀ‖_F/‖A‖_F. */
  asymmetry: { i: number; j: number; relative: number };
}

/**
 * The dense ∂F/∂y of one call (n in-place products with unit vectors) and its
 * LU factors: made on the first direct solve of the call, kept for every later
 * one (both systems, every right-hand side, every order).
 */
export class DenseJacobian {
  private dense: DenseFactors | null = null;

  /** Whether this call has formed (and factorised) ∂F/∂y already. */
  get formed(): boolean {
    return this.dense !== null;
  }

  /** The dense A, from the system's products (A is K for "tangent", Kᵀ for "adjoint"). */
  factor(K: LinearSystem, system: "tangent" | "adjoint"): DenseFactors {
    if (this.dense !== null) return this.dense;
    const n = K.shape[0];
    const product = system === "tangent" ? K.matvec : K.rmatvec;
    const A = new Float64Array(n * n);
    const e = new Float64Array(n);
    const col = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      e.fill(0);
      e[j] = 1;
      product.into(e, col);
      for (let i = 0; i < n; i++) A[i * n + j] = col[i];
    }
    const lu = luFactor(fromData(A, [n, n]));
    this.dense = { A, lu, rank: lu !== null && wellConditioned(lu) ? "full" : "deficient", norm: norm2(A), asymmetry: asymmetryOf(A, n) };
    return this.dense;
  }
}

function asymmetryOf(A: Float64Array, n: number): DenseFactors["asymmetry"] {
  let worst = { i: 0, j: 0, relative: 0 };
  let largest = -1;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const d = Math.abs(A[i * n + j] - A[j * n + i]);
      squares += 2 * d * d;
      if (d > largest) {
        largest = d;
        worst = { i, j, relative: 0 };
      }
    }
  }
  const norm = norm2(A);
  worst.relative = norm > 0 ? Math.sqrt(squares) / norm : 0;
  return worst;
}

/** Pivot growth check: the smallest |pivot| relative to the largest, against n·ε. */
function wellConditioned(f: LUFactors): boolean {
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < f.n; i++) {
    const p = Math.abs(f.lu[i * f.n + i]);
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
  }
  return hi > 0 && lo > hi * f.n * 1e3 * Number.EPSILON;
}

/**
 * Dense solve of K x = b with the LU factors of the materialised ∂F/∂y
 * (finite, checked by the caller). A singular matrix falls back to LSQR's
 * minimum-norm solution, accepted only when the system is consistent (its
 * residual meets tol): a derivative is never silently wrong.
 */
export function solveDense(op: string, dense: DenseFactors, K: LinearSystem, b: Tensor, bNorm: number, system: "tangent" | "adjoint", s: SolveSettings, auto: boolean): [Tensor, SolveDiagnostics] {
  const n = K.shape[0];
  const { lu, rank, norm } = dense;
  if (rank === "full" && lu !== null) {
    const x = Float64Array.from(b.toFloat64Array());
    luSolveInPlace(lu, x, 1, system === "adjoint");
    const sol = fromData(x, [n]);
    const res = residualOf(K, sol, b);
    // LU with partial pivoting is backward stable: its residual is at the rounding level.
    const ok = res <= Math.max(s.tol * bNorm, s.atol, luRounding(n, norm, norm2(x), bNorm, s.precision)) && Number.isFinite(res);
    const diag: SolveDiagnostics = { solver: "direct", iterations: 0, residualNorm: res, converged: ok, status: ok ? "converged" : "notConverged", system, tol: s.tol };
    if (ok) return [sol, diag];
  }
  // Singular or ill-conditioned ∂F/∂y: the minimum-norm solution of a consistent system.
  const result = lsqr(K as LinearOperator, b, { tol: Math.min(s.tol, 1e-12), atol: 0, maxIter: Math.max(s.maxIter, 10 * n) });
  const res = residualOf(K, result.x, b);
  const level = luRounding(n, norm, norm2(result.x.toFloat64Array()), bNorm, s.precision);
  const ok = res <= Math.max(s.tol * bNorm, 1e-9 * bNorm, s.atol, level) && Number.isFinite(res);
  const diag: SolveDiagnostics = { solver: auto ? "auto(direct→lsqr)" : "direct→lsqr", iterations: result.iterations, residualNorm: res, converged: ok, status: ok ? "converged" : "singular", system, tol: s.tol };
  if (!ok) {
    throw new LinearSolveError(`${op}: ∂F/∂y is singular and the ${system} system is inconsistent (least-squares residual ${res.toExponential(3)} vs ‖b‖ ${bNorm.toExponential(3)}): the derivative is not defined here`, diag);
  }
  return [result.x, diag];
}
