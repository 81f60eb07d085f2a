/**
 * The "auto" policy of `linearSolver`: which method the next solve of a call
 * runs, as a plain function of the settings, the size, what the call's solves
 * have spent so far and (when asked) the symmetry probe's verdict. Measured in
 * bench/auto-solver.ts and documented in the README.
 */
import { KRYLOV_SOLVER_NAMES, SOLVERS, type KrylovSolverName } from "../krylov/solvers.js";
import type { SolveSettings, SolverName } from "./settings.js";

/**
 * The largest ∂F/∂y "auto" materialises after Krylov solves (n² doubles, 8 MB,
 * and its LU factors): between solves of a call, and within a solve that stalls.
 */
export const AUTO_DENSE_LIMIT = 1000;

/** What "auto" runs next, and why. */
export interface AutoChoice {
  method: Exclude<SolverName, "auto">;
  /** The Krylov method was chosen because the symmetry probe found ∂F/∂y symmetric (no flag declared it). */
  probedSymmetric: boolean;
}

/** What the solves of a call have spent so far, as the policy reads it. */
export interface AutoSpent {
  /** ∂F/∂y has been formed (and factorised) by this call. */
  denseFormed: boolean;
  /** Krylov solves of this call and the products they spent. */
  krylovSolves: number;
  krylovProducts: number;
}

/**
 * Which method "auto" uses for the next solve of a call with n unknowns:
 * "direct" up to directMaxSize unknowns, where forming ∂F/∂y (n products)
 * costs no more than a Krylov solve; above, a Krylov method (see autoKrylov)
 * until the Krylov solves of this call have spent n products, what forming
 * ∂F/∂y costs; then "direct" serves every further right-hand side of the call
 * (a jacobian, a Hessian) from one LU, up to AUTO_DENSE_LIMIT unknowns. Like
 * renting skis until the rent reaches the price of buying, this spends at most
 * about twice the products of the better of the two choices. An LU solve still
 * costs about two products (its residual check and the triangular solves), so
 * the switch waits while Krylov solves take fewer than three products each (a
 * diagonal ∂F/∂y and unit right-hand sides). A Krylov solve that stalls
 * switches to "direct" itself (lib/implicit/linear-solve.ts).
 *
 * `probeSymmetric` runs the call's symmetry probe (null: no probe, the flags
 * alone decide); `spent` null reads as a call that has spent nothing.
 */
export function autoSolverFor(n: number, s: SolveSettings, spent: AutoSpent | null, probeSymmetric: (() => boolean) | null): AutoChoice {
  if (n <= s.directMaxSize) return { method: "direct", probedSymmetric: false };
  if (spent !== null && n <= AUTO_DENSE_LIMIT && (spent.denseFormed || (spent.krylovProducts >= n && spent.krylovProducts > 3 * spent.krylovSolves))) {
    return { method: "direct", probedSymmetric: false };
  }
  return autoKrylov(s, probeSymmetric);
}

/**
 * The Krylov method "auto" takes: the one the flags declare (cg for
 * positiveDefinite, minres for symmetric); without flags, minres when the
 * symmetry probe (⟨u, A v⟩ against ⟨A u, v⟩ for pseudo-random u, v; one or two
 * products, once per call) finds ∂F/∂y symmetric, gmres otherwise. The probe
 * only picks the method: the adjoint system is still solved with Aᵀ's own
 * products, and every solve is accepted on its true residual, so a probe fooled
 * by rounding costs iterations, never a wrong derivative. MINRES rather than
 * CG, because a symmetric ∂F/∂y need not be positive definite (a saddle point,
 * or u'' = a·eᵘ, whose ∂F/∂y is negative definite): MINRES takes CG's number of
 * products on a definite system.
 */
function autoKrylov(s: SolveSettings, probeSymmetric: (() => boolean) | null): AutoChoice {
  if (s.symmetric || probeSymmetric === null) return { method: krylovFor(s.symmetric, s.positiveDefinite), probedSymmetric: false };
  const symmetric = probeSymmetric();
  return { method: krylovFor(symmetric, false), probedSymmetric: symmetric };
}

/**
 * The Krylov method of the table for a square ∂F/∂y with the declared flags:
 * among the methods that need only products with A, the most specialised one
 * whose assumptions the flags declare (cg for positiveDefinite, minres for
 * symmetric), the first general one of the table (gmres) otherwise.
 */
export function krylovFor(symmetric: boolean, positiveDefinite: boolean): KrylovSolverName {
  let best: KrylovSolverName | null = null;
  let bestScore = -1;
  for (const name of KRYLOV_SOLVER_NAMES) {
    const row = SOLVERS[name];
    if (!row.square || row.transpose || (row.symmetric && !symmetric) || (row.positiveDefinite && !positiveDefinite)) continue;
    const score = Number(row.symmetric) + Number(row.positiveDefinite);
    if (score > bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best!;
}
