/**
 * The Krylov solvers, one row each in `SOLVERS`: the public function, what it
 * needs of A and which options it takes. The implicit layer chooses and calls
 * its methods from this table, and the specs enumerate it.
 *
 * Every solver has the signature `(A, b, opts?)` and one result type, and runs
 * the same setup (`solveKrylov` in ./result.ts: the checks, the answers b
 * settles alone, iteration 0) before its own iteration, which lives in its own
 * file with its citation (./cg.ts, ./minres.ts, ./gmres.ts, ./bicgstab.ts,
 * ./lsqr.ts). A new solver is its file, a function here and one row.
 */
import type { OperatorLike } from "./operator.js";
import { finish, solveKrylov, type GmresOptions, type KrylovOptions, type KrylovResult, type LsqrOptions, type LsqrResult, type SolverTraits, type VectorLike } from "./result.js";
import { cgIteration } from "./cg.js";
import { minresIteration } from "./minres.js";
import { gmresIteration } from "./gmres.js";
import { bicgstabIteration } from "./bicgstab.js";
import { lsqrFinish, lsqrIteration } from "./lsqr.js";

/**
 * Solves A x = b for symmetric positive definite A (n×n) by conjugate
 * gradients, with an optional SPD preconditioner `M` (v => M⁻¹ v).
 *
 * Stops when ‖b − A x‖ ≤ max(tol·‖b‖, atol) (checked on the updated residual,
 * confirmed on the true one). A curvature pᵀAp ≤ 0 (A indefinite or singular)
 * or rᵀM⁻¹r ≤ 0 (M not positive definite) ends the iteration with status
 * "breakdown"; a NaN or ∞ anywhere with "nonFinite". Never throws on numerical
 * trouble. Cost per iteration: one product with A (and one with M) plus ~10n flops.
 */
export function cg(A: OperatorLike, b: VectorLike, opts?: KrylovOptions): KrylovResult {
  return solveKrylov("cg", SOLVERS.cg, A, b, opts, cgIteration, finish);
}

/**
 * Solves A x = b for square A by GMRES(restart): each cycle builds an
 * orthonormal Krylov basis of up to `restart` vectors and takes the x that
 * minimises ‖b − A x‖ over it; `maxIter` counts inner iterations (products with
 * A) over all cycles. `M` (v => M⁻¹ v) preconditions on the right, A M⁻¹ u = b,
 * so the residual the rotations track is that of the unpreconditioned system
 * and the stopping rule ‖b − A x‖ ≤ max(tol·‖b‖, atol) applies to it directly;
 * each cycle ends with the true residual, which is what decides convergence.
 *
 * When the Arnoldi vector vanishes (the Krylov space is invariant) or A v
 * falls into the span of the earlier products (to θ = tol clamped to
 * [10⁶ε, √ε]: A is singular on the space) and the resulting x does not lower
 * the true residual, no further cycle can help (b is not in range(A)): status
 * "breakdown", with x a least-squares solution over the space; so is a cycle that
 * does not lower the residual at all (the next would repeat it). Cost per inner iteration
 * j: one product with A (and with M) plus ~4jn flops; memory (restart+1)·n.
 */
export function gmres(A: OperatorLike, b: VectorLike, opts?: GmresOptions): KrylovResult {
  return solveKrylov("gmres", SOLVERS.gmres, A, b, opts, gmresIteration, finish);
}

/**
 * Solves A x = b for square A by BiCGStab: two products with A per iteration,
 * short recurrences, no restarts. `M` (v => M⁻¹ v) preconditions on the right,
 * so the residual r the recurrences carry is that of the unpreconditioned
 * system; the stopping rule ‖b − A x‖ ≤ max(tol·‖b‖, atol) is tested on r (and
 * at the half step on s) and confirmed on the true residual. If the true
 * residual does not confirm it, the iteration restarts from the true residual.
 *
 * A zero denominator (r̂ᵀr = 0, r̂ᵀv = 0, tᵀt = 0 or ω = 0) is a breakdown of
 * the method: status "breakdown". Cost per iteration: two products with A (and
 * two with M) plus ~12n flops.
 */
export function bicgstab(A: OperatorLike, b: VectorLike, opts?: KrylovOptions): KrylovResult {
  return solveKrylov("bicgstab", SOLVERS.bicgstab, A, b, opts, bicgstabIteration, finish);
}

/**
 * Solves A x = b for symmetric A (n×n), minimising ‖b − A x‖ over the Krylov
 * space at every step, so it handles indefinite A and singular consistent
 * systems (from x0 = 0 it then returns the minimum-norm solution, since the
 * iterates stay in range(A)). `M` (v => M⁻¹ v) must be symmetric positive
 * definite; if it is not, the iteration ends with status "breakdown".
 *
 * The stopping rule ‖b − A x‖ ≤ max(tol·‖b‖, atol) is tested on the
 * unpreconditioned residual, updated as x is, then confirmed on the true
 * residual. When x becomes a least-squares solution (‖A r‖ ≤ θ·‖A‖·‖r‖ by
 * Paige and Saunders' estimates, θ = tol clamped to [10⁶ε, √ε]) or the Lanczos
 * process ends (β = 0) without the rule being met, b is not in range(A) to
 * working precision: the status is "breakdown" and x is a least-squares
 * solution, not necessarily the minimum-norm one (use lsqr for that). Cost per
 * iteration: one product with A (and one with M) plus ~20n flops.
 */
export function minres(A: OperatorLike, b: VectorLike, opts?: KrylovOptions): KrylovResult {
  return solveKrylov("minres", SOLVERS.minres, A, b, opts, minresIteration, finish);
}

/**
 * Minimises ‖b − A x‖ for A of shape [m, n] (any m, n, any rank); needs Aᵀ v,
 * so A is a dense matrix or a LinearOperator with `rmatvec`. From x0 = 0 the
 * iterates stay in range(Aᵀ), so a rank-deficient problem gets the minimum-norm
 * least-squares solution (from x0 ≠ 0: x0 plus the minimum-norm correction).
 *
 * Stops when ‖b − A x‖ ≤ max(tol·‖b‖, atol) (a consistent system is solved) or
 * ‖Aᵀ(b − A x)‖ ≤ tol·‖A‖·‖b − A x‖ (x is a least-squares solution), where ‖A‖
 * is Paige and Saunders' running estimate (a lower bound on the Frobenius
 * norm). The estimates steer the iteration; the true residuals decide
 * `converged` and are reported as `residualNorm` and `normalResidualNorm`.
 * Cost per iteration: one product with A, one with Aᵀ, ~10(m+n) flops.
 */
export function lsqr(A: OperatorLike, b: VectorLike, opts?: LsqrOptions): LsqrResult {
  return solveKrylov("lsqr", SOLVERS.lsqr, A, b, opts, lsqrIteration, lsqrFinish);
}

/** A row of the table: the solver and what it needs. */
export interface SolverRow extends SolverTraits {
  /** The public function `(A, b, opts?)`. */
  readonly solve: (A: OperatorLike, b: VectorLike, opts?: never) => KrylovResult;
  /** The method assumes A symmetric (it is not checked: a nonsymmetric A gives a wrong x or a breakdown). */
  readonly symmetric: boolean;
  /** The method assumes A symmetric positive definite. */
  readonly positiveDefinite: boolean;
}

/**
 * Every Krylov solver. `square`: A must be n×n; `transpose`: needs Aᵀ v (a
 * dense matrix or a LinearOperator with `rmatvec`); `preconditioner`: takes
 * `M`; `restart`: takes `restart`. The order is that of the docs and messages.
 */
export const SOLVERS = {
  cg:       { solve: cg,       square: true,  symmetric: true,  positiveDefinite: true,  transpose: false, preconditioner: true,  restart: false },
  gmres:    { solve: gmres,    square: true,  symmetric: false, positiveDefinite: false, transpose: false, preconditioner: true,  restart: true },
  bicgstab: { solve: bicgstab, square: true,  symmetric: false, positiveDefinite: false, transpose: false, preconditioner: true,  restart: false },
  minres:   { solve: minres,   square: true,  symmetric: true,  positiveDefinite: false, transpose: false, preconditioner: true,  restart: false },
  lsqr:     { solve: lsqr,     square: false, symmetric: false, positiveDefinite: false, transpose: true,  preconditioner: false, restart: false },
} as const satisfies Record<string, SolverRow>;

/** The name of a Krylov solver: a key of `SOLVERS`. */
export type KrylovSolverName = keyof typeof SOLVERS;

/** The names of `SOLVERS`, in table order. */
export const KRYLOV_SOLVER_NAMES = Object.keys(SOLVERS) as KrylovSolverName[];
