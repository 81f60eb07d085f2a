/**
 * The wording of the linear solves' failures: numbers as messages print them,
 * and the sentences that say why a solve failed and what to change. Every
 * function here only formats what the analysis (rounding.ts, probes.ts, the
 * solves) found; none computes a product.
 */
import { ConvergenceError, LinearSolveError, type SolveDiagnostics, type SolveStatus } from "../errors.js";
import { SOLVERS, type KrylovSolverName } from "../krylov/solvers.js";
import { defaultTol, type SolveSettings } from "./settings.js";

/** A number for messages: 1e-10 rather than 0.0000000001, 0.25 rather than 2.5e-1. */
export function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(4)));
  const shortest = x.toExponential();
  return shortest.length <= 6 ? shortest : x.toExponential(3);
}

/** The smallest power of ten ≥ x, as a literal ("1e-3", "1"). */
export function powerOfTenAbove(x: number): string {
  const k = Math.ceil(Math.log10(x) - 1e-12);
  return k === 0 ? "1" : `1e${k}`;
}

/** The flag that declared symmetry, as the user wrote it. */
export function symmetryFlag(s: SolveSettings): string {
  return s.positiveDefinite ? "positiveDefinite: true (which implies symmetric: true)" : "symmetric: true";
}

/** The Error for a right-hand side with a NaN or ∞: where such a vector comes from, per system. */
export function nonFiniteRightHandSide(op: string, diag: SolveDiagnostics): LinearSolveError {
  return new LinearSolveError(diag.system === "tangent"
    ? `${op}: the tangent system's right-hand side ∂F/∂x·ẋ has a NaN or ∞: a tangent is not finite, or ∂F/∂x (the conditions' derivative in an input or a captured value) is not finite at forward's output, so no derivative can be computed`
    : `${op}: the adjoint system's right-hand side, the cotangent of forward's y, has a NaN or ∞ (the computation after the call produced it), so no derivative can be computed`, diag);
}

/** The Error for a solve that stopped above its tolerance; `note` (when not empty) replaces the general advice. */
export function notConverged(op: string, d: SolveDiagnostics, note = ""): ConvergenceError {
  const limit = d.status === "maxIter" ? ` It stopped at its iteration limit (maxIter, here ${d.iterations}).` : "";
  const advice = note !== "" ? note : `${limit} Try linearSolver "direct" or "lsqr", a preconditioner (preconditioner: "jacobi" when the diagonal of ∂F/∂y varies widely), a larger maxIter, or check that the conditions determine y.`;
  return new ConvergenceError(`${op}: the ${d.system} linear solve with ${d.solver} did not converge: ${d.iterations} iterations, residual ${d.residualNorm.toExponential(3)} (tol ${formatNumber(d.tol)}, status ${d.status}).${advice}`, d);
}

/**
 * The sentence for a solve whose tolerance lies below the rounding `level` of
 * the products (rounding.ts, roundingLevel): tol cannot be reached, ∂F/∂y is
 * not the problem, and a tol the precision allows.
 */
export function roundingNote(level: number, res: number, bNorm: number, s: SolveSettings): string {
  return ` The residual is at the level of ${s.precision} rounding in the products of ∂F/∂y (about ${formatNumber(level)} here): tol ${formatNumber(s.tol)} cannot be reached in ${s.precision}, and ∂F/∂y is not the problem. Use tol: ${powerOfTenAbove(Math.max(10 * res, level) / bNorm)} or larger (the ${s.precision} default is ${formatNumber(defaultTol(s.precision))})${s.precision === "float32" ? ", or float64 values" : ""}.`;
}

/** A solve that stopped at its iteration limit: the limit, named with the ways past it (then `more`). */
function limitNote(s: SolveSettings, more: string): string {
  return ` It stopped at the iteration limit maxIter: ${s.maxIter}${s.maxIter === 1000 ? " (the default)" : ""}: raise maxIter, add a preconditioner, or use linearSolver "direct" (an LU of ∂F/∂y, for systems small enough to factorise).${more}`;
}

/** What the symmetry probe found (probes.ts): ⟨u, A v⟩ and ⟨A u, v⟩ for pseudo-random u, v. */
export interface SymmetryEvidence {
  uKv: number;
  Kuv: number;
  symmetric: boolean;
}

/**
 * What a failure says about `symmetric`/`positiveDefinite`, when they were
 * declared or the method assumes what they declare (cg, minres: the table's
 * flags): the symmetry probe's evidence (asked for on failure only; null when
 * a solve of this call already confirmed symmetry) and CG's breakdown
 * (pᵀAp ≤ 0) for positive definiteness.
 */
export function flagNote(label: string, method: string, status: SolveStatus, s: SolveSettings, symmetry: () => SymmetryEvidence | null, probedSymmetric = false): string {
  const row = Object.hasOwn(SOLVERS, method) ? SOLVERS[method as KrylovSolverName] : null;
  // "auto" chose minres from its own probe: no flag to blame, the general advice applies.
  if (probedSymmetric || (!s.symmetric && !row?.symmetric)) return "";
  const auto = label.startsWith("auto");
  const why = auto
    ? `${method} was chosen because of ${row?.positiveDefinite ? "positiveDefinite" : "symmetric"}: true`
    : `linearSolver "${method}" needs ∂F/∂y ${row?.positiveDefinite ? "symmetric positive definite" : "symmetric"}`;
  const probe = symmetry();
  if (probe !== null && !probe.symmetric) {
    const evidence = `for pseudo-random u, v, ⟨u, A v⟩ = ${formatNumber(probe.uKv)} but ⟨A u, v⟩ = ${formatNumber(probe.Kuv)}`;
    if (s.symmetric) return ` ${symmetryFlag(s)} declares ∂F/∂y symmetric, but ∂F/∂y is not symmetric (${evidence}): remove the flag (then "auto" uses gmres on large systems).`;
    return ` ${why}, but ∂F/∂y is not symmetric (${evidence}): use linearSolver "gmres" (or "auto", which picks it).`;
  }
  if (row?.positiveDefinite) {
    // Advice about a flag only when the user set it; an explicit "cg" gets the methods for other matrices.
    const instead = s.positiveDefinite ? `drop positiveDefinite and keep symmetric: true (then "auto" uses minres)` : `use linearSolver "minres" (symmetric ∂F/∂y) or "gmres"`;
    if (method === "cg" && status === "breakdown") {
      return ` ${why}, but CG met a direction p with pᵀAp ≤ 0: ∂F/∂y is not positive definite (a saddle point or a maximum rather than a minimum?). ${instead[0].toUpperCase()}${instead.slice(1)}.`;
    }
    if (status === "maxIter") return limitNote(s, ` (${why}; ∂F/∂y passed a symmetry probe. Only if it is not positive definite, ${instead}.)`);
    return ` ${why}; ∂F/∂y passed a symmetry probe, but if it is not positive definite, ${instead}.`;
  }
  if (row?.symmetric) return status === "maxIter" ? limitNote(s, ` (${why}; ∂F/∂y passed a symmetry probe, so the flag is not the problem.)`) : ` ${why}; ∂F/∂y passed a symmetry probe, so the flag is not the problem.`;
  return "";
}

/** The Error for a declared symmetry that a solve's free check refutes (probes.ts, symmetryAfterSolve). */
export function notSymmetricAfterSolve(op: string, system: "tangent" | "adjoint", s: SolveSettings, KvX: number, vB: number): Error {
  return new Error(`${op}: ${symmetryFlag(s)} declares ∂F/∂y symmetric, but ∂F/∂y is not symmetric at forward's output: with x the solution of the ${system} system A x = b and a pseudo-random v, ⟨A v, x⟩ = ${formatNumber(KvX)} but ⟨v, A x⟩ = ⟨v, b⟩ = ${formatNumber(vB)}. The adjoint system would be solved with A in place of Aᵀ and the derivative would be wrong. Remove the flag (then "auto" uses gmres on large systems), or fix the conditions if ∂F/∂y should be symmetric (stationarity conditions ∇_y f = 0 have a symmetric Hessian)`);
}

/** The Error for a declared symmetry the dense ∂F/∂y refutes, at its most asymmetric pair of entries. */
export function notSymmetricDense(op: string, s: SolveSettings, A: Float64Array, n: number, i: number, j: number, relative: number): Error {
  return new Error(`${op}: ${symmetryFlag(s)} declares ∂F/∂y symmetric, but ∂F/∂y is not symmetric at forward's output: A[${i}][${j}] = ${formatNumber(A[i * n + j])} but A[${j}][${i}] = ${formatNumber(A[j * n + i])} (‖A − Aᵀ‖/‖A‖ = ${formatNumber(relative)}). Its higher derivatives would use A in place of Aᵀ and be wrong. Remove the flag, or fix the conditions if ∂F/∂y should be symmetric (stationarity conditions ∇_y f = 0 have a symmetric Hessian)`);
}
