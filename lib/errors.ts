/**
 * How the library reports failure: the statuses a linear solve ends with, and
 * the Error classes a caller can tell apart with `instanceof`.
 *
 * Misuse (a wrong shape, an unknown option) is a plain `Error` whose message
 * begins with the public name called; the classes here mark the failures a
 * program may want to handle. What user code throws (a `forward`, the
 * conditions, a matvec, a callback) is none of these: it reaches the caller
 * unchanged, the same object.
 *
 * This module imports nothing from the library, so every layer can use it.
 */

/**
 * Why a Krylov solver stopped (`KrylovResult.status`). Only "converged" means
 * that the stopping rule ‖b − A x‖ ≤ max(tol·‖b‖, atol) holds for the x returned.
 */
export type KrylovStatus =
  /** The stopping rule holds for the returned x (checked on the true residual). */
  | "converged"
  /** The iteration limit was reached first. */
  | "maxIter"
  /** The method cannot continue (a zero denominator, pᵀAp ≤ 0 in CG, b outside range(A)). */
  | "breakdown"
  /** A NaN or ∞ appeared in b, a product or the residual; the iteration stopped at once. */
  | "nonFinite";

/**
 * How a linear solve ended: every status a Krylov result (`KrylovStatus`) or an
 * ImplicitFunction's `lastSolve` can report. Besides the Krylov statuses, the
 * implicit layer's own solves report:
 * - "notConverged": a dense ("direct") or user solve whose residual is above tol;
 * - "inconsistent": lsqr stopped at a least-squares solution that does not solve
 *   the system (∂F/∂y singular, the system inconsistent);
 * - "singular": ∂F/∂y is singular and its minimum-norm solution ("direct" falling
 *   back to lsqr) does not solve the system either;
 * - "invalid": a user linear solver returned something that is not a solution vector.
 */
export type SolveStatus = KrylovStatus | "notConverged" | "inconsistent" | "singular" | "invalid";

/** Diagnostics of one linear solve of an ImplicitFunction (`f.lastSolve`, `LinearSolveError.diagnostics`). */
export interface SolveDiagnostics {
  /** The method, as it ran: "cg", "direct", "auto(gmres)", "direct→lsqr", "user", … */
  solver: string;
  iterations: number;
  /** ‖b − A x‖ of the solution returned or refused (NaN when a NaN or ∞ stopped the solve). */
  residualNorm: number;
  converged: boolean;
  status: SolveStatus;
  /** Which system: "tangent" (A ẏ = −Ḟ) or "adjoint" (Aᵀ u = ȳ); "solver" for a solver's own run (a solver's ConvergenceError). */
  system: "tangent" | "adjoint" | "solver";
  tol: number;
  /** Krylov methods: the residual norm after each iteration (entry 0: the initial residual). */
  residualHistory?: number[];
}

/**
 * A linear solve of an ImplicitFunction failed, so no derivative was returned:
 * a NaN or ∞ in the system, a singular ∂F/∂y with an inconsistent system, or a
 * user solver returning junk. `diagnostics` are those of the failed solve (also
 * in the function's `lastSolve`). Non-convergence is the subclass ConvergenceError.
 */
export class LinearSolveError extends Error {
  constructor(message: string, readonly diagnostics: SolveDiagnostics) {
    super(message);
  }
}

/**
 * A linear solve stopped above its tolerance (iteration limit, breakdown, or a
 * residual at the rounding level of the products): the message says which and
 * what to try. The Krylov functions themselves never throw this; they return
 * `converged: false` and a status.
 *
 * The solvers (`minimize`, `root`, `fixedPoint`, `leastSquares`,
 * `proximalGradient`) throw it too when they stop unconverged with `throw: true`:
 * then `result` holds their result (x, iterations, residualNorm, status, …) and
 * `diagnostics` describe the run (`system: "solver"`).
 */
export class ConvergenceError<R = unknown> extends LinearSolveError {
  /** A solver's result (undefined for a linear solve of the implicit layer). */
  readonly result: R | undefined;
  constructor(message: string, diagnostics: SolveDiagnostics, result?: R) {
    super(message, diagnostics);
    this.result = result;
  }
}

/**
 * An ImplicitFunction's `forward` returned a y that does not satisfy the
 * conditions: F(x, y) is not finite, too far from zero for a derivative
 * (`residualTol`), or above `strictTol` with `strict: true`. `residualNorm` is
 * ‖F(x, y)‖₂ (NaN or ∞ when an entry is).
 */
export class ResidualError extends Error {
  constructor(message: string, readonly residualNorm: number) {
    super(message);
  }
}

/** Operands of different dtypes met in one op (float64 with float32): convert one with `astype()`. */
export class DtypeMismatchError extends Error {}

/**
 * A value that a live transformation differentiates was read as plain numbers
 * (`item()`, `toArray()`, `data`, …), which would drop its derivative; read
 * `stopGradient(x)` instead.
 */
export class TracedReadError extends Error {}

// Each class's name, for stack traces and String(e); set from this table rather
// than from the classes themselves, whose names a minifier may shorten.
for (const [name, type] of Object.entries({ LinearSolveError, ConvergenceError, ResidualError, DtypeMismatchError, TracedReadError })) {
  Object.defineProperty(type.prototype, "name", { value: name, writable: true, configurable: true });
}
