/**
 * The linear systems of implicit differentiation, matrix-free.
 *
 * With A = ∂F/∂y at the solution, the pushforward solves A ẏ = −Ḟ and the
 * pullback solves Aᵀ u = ȳ. `customRoot` (lib/ad/root.ts) hands each system over
 * as products of the conditions' linearisation; here they are solved by the
 * method the options name, with diagnostics and honest failures. A is never
 * formed unless "direct" is asked for (then n products, once per call).
 */
import { Tensor, astype, fromData, type DType } from "../tensor/tensor.js";
import { luFactor, luSolveInPlace, type LUFactors } from "../tensor/kernels.js";
import { describe, shapeToString } from "../tensor/shape.js";
import type { LinearSystem } from "../ad/root.js";
import { cg, gmres, bicgstab, minres, lsqr, type LinearOperator, type KrylovResult } from "../krylov/index.js";

export type SolverName = "auto" | "cg" | "gmres" | "bicgstab" | "minres" | "lsqr" | "direct";

/** A user-supplied solver: solves `A x = b` for the operator given, returns x or a Krylov-style result. */
export type UserSolver = (A: LinearOperator, b: Tensor) => Tensor | KrylovResult;

/** Diagnostics of the most recent linear solve (`f.lastSolve`). */
export interface SolveDiagnostics {
  solver: string;
  iterations: number;
  residualNorm: number;
  converged: boolean;
  status: string;
  /** Which system: "tangent" (A ẏ = −Ḟ) or "adjoint" (Aᵀ u = ȳ). */
  system: "tangent" | "adjoint";
  tol: number;
  /** Krylov methods: the residual norm after each iteration (entry 0: the initial residual). */
  residualHistory?: number[];
}

export interface SolveSettings {
  solver: SolverName | UserSolver;
  tol: number;
  atol: number;
  maxIter: number;
  preconditioner?: (v: Tensor) => Tensor;
  symmetric: boolean;
  positiveDefinite: boolean;
  /** Systems with at most this many unknowns are solved densely under "auto". */
  directMaxSize: number;
}

/** A flat, untraced float64 copy of a tensor's values. */
function plainFlat(t: Tensor): Tensor {
  return fromData(t.toFloat64Array(), [t.size]);
}

/**
 * The dense ∂F/∂y of one call (n in-place products with unit vectors) and its
 * LU factors: made on the first direct solve of the call, kept for every later
 * one (both systems, every right-hand side, every order).
 */
export class DenseJacobian {
  private dense: { A: Float64Array; lu: LUFactors | null; rank: "full" | "deficient" } | null = null;

  /** The dense A, from the system's products (A is K for "tangent", Kᵀ for "adjoint"). */
  factor(K: LinearSystem, system: "tangent" | "adjoint"): { A: Float64Array; lu: LUFactors | null; rank: "full" | "deficient" } {
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
    this.dense = { A, lu, rank: lu !== null && wellConditioned(lu) ? "full" : "deficient" };
    return this.dense;
  }
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

function norm2(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** Which method "auto" uses for a system of n unknowns (documented in the README). */
export function autoSolverFor(n: number, s: SolveSettings): Exclude<SolverName, "auto"> {
  if (n <= s.directMaxSize) return "direct";
  if (s.symmetric) return s.positiveDefinite ? "cg" : "minres";
  return "gmres";
}

/** The diagnostics of solves that failed, keyed by the Error thrown, so that `lastSolve` reports failures too. */
const failures = new WeakMap<Error, SolveDiagnostics>();

/** Records `diag` as the diagnostics of the failure `error` (which is returned, to be thrown). */
function failed(diag: SolveDiagnostics, error: Error): Error {
  failures.set(error, diag);
  return error;
}

/** The diagnostics of the failed solve that threw `e`, if it is one. */
export function failedSolve(e: unknown): SolveDiagnostics | undefined {
  return e instanceof Error ? failures.get(e) : undefined;
}

/**
 * Solves K x = b for the implicit layer (K = A for the tangent system, Aᵀ for
 * the adjoint one), throwing an Error naming the solver, the iterations and the
 * residual when it fails. Returns the solution and the diagnostics.
 */
export function solveSystem(op: string, K: LinearSystem, b: Tensor, system: "tangent" | "adjoint", s: SolveSettings, dense: DenseJacobian): [Tensor, SolveDiagnostics] {
  const bNorm = norm2(b.toFloat64Array());
  const n = K.shape[0];
  if (typeof s.solver === "function") {
    const out = s.solver(K as LinearOperator, b);
    const x = out instanceof Tensor ? out : (out as KrylovResult)?.x;
    if (!(x instanceof Tensor) || x.size !== n) {
      throw failed({ solver: "user", iterations: 0, residualNorm: NaN, converged: false, status: "invalid", system, tol: s.tol }, new Error(`${op}: the user linear solver must return a Tensor of ${n} entries or a result { x, ... }, got ${describe(out)}`));
    }
    const res = residual(K, x, b);
    const diag: SolveDiagnostics = { solver: "user", iterations: out instanceof Tensor ? 0 : (out as KrylovResult).iterations, residualNorm: res, converged: res <= Math.max(s.tol * bNorm, s.atol) || res === 0, status: "", system, tol: s.tol };
    diag.status = diag.converged ? "converged" : "notConverged";
    if (!diag.converged) throw failed(diag, notConverged(op, diag));
    return [plainFlat(x), diag];
  }
  const method = s.solver === "auto" ? autoSolverFor(n, s) : s.solver;
  if (method === "direct") return solveDirect(op, K, b, bNorm, system, s, s.solver === "auto", dense);
  const result = runKrylov(op, method, K as LinearOperator, b, s);
  const diag: SolveDiagnostics = { solver: method, iterations: result.iterations, residualNorm: result.residualNorm, converged: result.converged, status: result.status, system, tol: s.tol, residualHistory: result.residualHistory };
  if (!result.converged) throw failed(diag, notConverged(op, diag));
  // lsqr also stops at a least-squares solution; on a singular A whose system is
  // inconsistent that x does not solve it, and the derivative is not defined.
  if (method === "lsqr" && !(result.residualNorm <= Math.max(s.tol * bNorm, 1e-9 * bNorm, s.atol))) {
    diag.converged = false;
    diag.status = "inconsistent";
    throw failed(diag, new Error(`${op}: ∂F/∂y is singular and the ${system} system is inconsistent (lsqr's least-squares residual ${result.residualNorm.toExponential(3)} vs ‖b‖ ${bNorm.toExponential(3)}, tol ${s.tol}): the derivative is not defined here`));
  }
  return [result.x, diag];
}

/** The user's preconditioner, checked: a Tensor of its input's shape, or an Error naming the implicit function. */
function checkedPreconditioner(op: string, M: (v: Tensor) => Tensor): (v: Tensor) => Tensor {
  return (v) => {
    const out: unknown = M(v);
    if (!(out instanceof Tensor) || out.ndim !== 1 || out.shape[0] !== v.shape[0]) {
      throw new Error(`${op}: the preconditioner must return a Tensor of shape ${shapeToString(v.shape)} (that of its input), got ${out instanceof Tensor ? `shape ${shapeToString(out.shape)}` : describe(out)}`);
    }
    return out;
  };
}

function runKrylov(op: string, method: Exclude<SolverName, "auto" | "direct">, A: LinearOperator, b: Tensor, s: SolveSettings): KrylovResult {
  const opts = { tol: s.tol, atol: s.atol, maxIter: s.maxIter, history: true, ...(s.preconditioner ? { M: checkedPreconditioner(op, s.preconditioner) } : {}) };
  switch (method) {
    case "cg": return cg(A, b, opts);
    case "minres": return minres(A, b, opts);
    case "gmres": return gmres(A, b, opts);
    case "bicgstab": return bicgstab(A, b, opts);
    case "lsqr": return lsqr(A, b, { tol: s.tol, atol: s.atol, maxIter: s.maxIter, history: true });
  }
}

/** ‖b − K x‖ computed independently of the solver. */
function residual(K: LinearSystem, x: Tensor, b: Tensor): number {
  const Kx = new Float64Array(K.shape[0]);
  K.matvec.into(x.toFloat64Array(), Kx);
  const bv = b.toFloat64Array();
  let s = 0;
  for (let i = 0; i < Kx.length; i++) s += (bv[i] - Kx[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * Dense solve with the LU factors of the materialised ∂F/∂y. A singular matrix
 * falls back to LSQR's minimum-norm solution, accepted only when the system is
 * consistent (its residual meets tol): a derivative is never silently wrong.
 */
function solveDirect(op: string, K: LinearSystem, b: Tensor, bNorm: number, system: "tangent" | "adjoint", s: SolveSettings, auto: boolean, dense: DenseJacobian): [Tensor, SolveDiagnostics] {
  const n = K.shape[0];
  const nonFinite: SolveDiagnostics = { solver: auto ? "auto(direct)" : "direct", iterations: 0, residualNorm: NaN, converged: false, status: "nonFinite", system, tol: s.tol };
  if (!Number.isFinite(bNorm)) throw failed(nonFinite, notConverged(op, nonFinite));
  const { A, lu, rank } = dense.factor(K, system);
  if (!A.every(Number.isFinite)) {
    throw failed(nonFinite, new Error(`${op}: ∂F/∂y has a NaN or ∞ entry at forward's output (check forward's y and the conditions there), so the ${system} system cannot be solved`));
  }
  if (rank === "full" && lu !== null) {
    const x = Float64Array.from(b.toFloat64Array());
    luSolveInPlace(lu, x, 1, system === "adjoint");
    const sol = fromData(x, [n]);
    const res = residual(K, sol, b);
    // LU with partial pivoting is backward stable: its residual is O(n·ε·‖A‖·‖x‖).
    const roundoff = 1e3 * n * Number.EPSILON * (norm2(A) * norm2(x) + bNorm);
    const ok = res <= Math.max(s.tol * bNorm, s.atol, roundoff) && Number.isFinite(res);
    const diag: SolveDiagnostics = { solver: "direct", iterations: 0, residualNorm: res, converged: ok, status: ok ? "converged" : "notConverged", system, tol: s.tol };
    if (ok) return [sol, diag];
  }
  // Singular or ill-conditioned ∂F/∂y: the minimum-norm solution of a consistent system.
  const result = lsqr(K as LinearOperator, b, { tol: Math.min(s.tol, 1e-12), atol: 0, maxIter: Math.max(s.maxIter, 10 * n) });
  const res = residual(K, result.x, b);
  const ok = res <= Math.max(s.tol * bNorm, 1e-9 * bNorm, s.atol) && Number.isFinite(res);
  const diag: SolveDiagnostics = { solver: auto ? "auto(direct→lsqr)" : "direct→lsqr", iterations: result.iterations, residualNorm: res, converged: ok, status: ok ? "converged" : "singular", system, tol: s.tol };
  if (!ok) {
    throw failed(diag, new Error(`${op}: ∂F/∂y is singular and the ${system} system is inconsistent (least-squares residual ${res.toExponential(3)} vs ‖b‖ ${bNorm.toExponential(3)}): the derivative is not defined here`));
  }
  return [result.x, diag];
}

function notConverged(op: string, d: SolveDiagnostics): Error {
  return new Error(`${op}: the ${d.system} linear solve with ${d.solver} did not converge: ${d.iterations} iterations, residual ${d.residualNorm.toExponential(3)} (tol ${d.tol}, status ${d.status}). Try linearSolver "direct" or "lsqr", a preconditioner, a larger maxIter, or check that the conditions determine y.`);
}
