/**
 * The linear systems of implicit differentiation, matrix-free.
 *
 * With A = ∂F/∂y at the solution, the pushforward solves A ẏ = −Ḟ and the
 * pullback solves Aᵀ u = ȳ. `customRoot` (lib/program/root.ts) hands each system over
 * as products of the conditions' linearisation; here they are solved by the
 * method the settings name, with diagnostics and honest failures. The parts,
 * one purpose each: the settings (settings.ts), the "auto" policy
 * (auto-policy.ts), the dense ∂F/∂y and its LU (dense.ts, formed only when
 * "direct" runs: n products, once per call), the probes of ∂F/∂y (probes.ts),
 * the rounding analysis (rounding.ts) and the wording of failures (wording.ts).
 */
import { Tensor, contiguousData, fromData } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import type { LinearSystem } from "../program/root.js";
import type { LinearOperator, KrylovOptions, KrylovResult } from "../krylov/index.js";
import { jacobiPreconditioner } from "../krylov/jacobi.js";
import { allFinite, norm2 } from "../krylov/operator.js";
import { LinearSolveError, type SolveDiagnostics } from "../errors.js";
import { SOLVERS, type KrylovSolverName } from "../krylov/solvers.js";
import { AUTO_DENSE_LIMIT, autoSolverFor, type AutoChoice, type AutoSpent } from "./auto-policy.js";
import { DenseJacobian, solveDense } from "./dense.js";
import { OperatorProbes, ProbeScratch, residualOf } from "./probes.js";
import { roundingLimit, symmetryTolerance } from "./rounding.js";
import type { SolveSettings } from "./settings.js";
import { flagNote, formatNumber, nonFiniteRightHandSide, notConverged, notSymmetricAfterSolve, notSymmetricDense, roundingNote, type SymmetryEvidence } from "./wording.js";

export type { SolveDiagnostics, SolveStatus } from "../errors.js";
export { SOLVER_NAMES, type SolveSettings, type SolverName, type UserSolver } from "./settings.js";

/** A flat, untraced float64 copy of a tensor's values. */
function plainFlat(t: Tensor): Tensor {
  return fromData(t.toFloat64Array(), [t.size]);
}

/**
 * What the solves of one call share: the dense ∂F/∂y and its factors (when
 * "direct" runs), the probes of ∂F/∂y, whether a declared symmetry has been
 * confirmed, and what the Krylov solves have spent (for "auto").
 */
export class CallSolves implements AutoSpent {
  readonly dense = new DenseJacobian();
  readonly probes: OperatorProbes;
  /** A declared symmetry was confirmed on this call (by a solve or the dense matrix). */
  symmetryConfirmed = false;
  krylovSolves = 0;
  krylovProducts = 0;

  /** `A`: the call's tangent system (the probes' operator). */
  constructor(A: LinearSystem, scratch: ProbeScratch = new ProbeScratch()) {
    this.probes = new OperatorProbes(A, scratch);
  }

  get denseFormed(): boolean {
    return this.dense.formed;
  }
}

/**
 * A declared symmetry, confirmed on the first solve of each call that has a
 * nonzero solution: with `symmetric` the adjoint system is solved with A's
 * products in place of Aᵀ's, so a nonsymmetric A would give a silently wrong
 * derivative. Costs no product (see OperatorProbes.symmetryAfterSolve); "direct"
 * checks its dense A entry by entry instead.
 */
function confirmSymmetry(op: string, x: Tensor, b: Float64Array, res: number, system: "tangent" | "adjoint", s: SolveSettings, state: CallSolves): void {
  if (!s.symmetric || state.symmetryConfirmed) return;
  const check = state.probes.symmetryAfterSolve(contiguousData(x, "float64") as Float64Array, b, res, s.precision);
  if (check === null) return;
  if (!check.symmetric) throw notSymmetricAfterSolve(op, system, s, check.KvX, check.vB);
  state.symmetryConfirmed = true;
}

/**
 * Solves K x = b for the implicit layer (K = A for the tangent system, Aᵀ for
 * the adjoint one), throwing a LinearSolveError (a ConvergenceError when the
 * solve stopped above tol) naming the solver, the iterations and the residual,
 * and carrying the diagnostics, when it fails. Returns the solution and the diagnostics.
 */
export function solveSystem(op: string, K: LinearSystem, b: Tensor, system: "tangent" | "adjoint", s: SolveSettings, state: CallSolves): [Tensor, SolveDiagnostics] {
  let solved = false;
  try {
    const out = solveWith(op, K, b, system, s, state);
    solved = true;
    return out;
  } finally {
    // The probes' work vectors go back unless a declared symmetry still waits for a solve to confirm it.
    if (!solved || !s.symmetric || state.symmetryConfirmed) state.probes.release();
  }
}

/** The symmetry probe's evidence for a failure's note (null when a solve of this call already confirmed symmetry). */
function symmetryEvidence(s: SolveSettings, state: CallSolves): () => SymmetryEvidence | null {
  return () => (state.symmetryConfirmed ? null : state.probes.symmetryProbe(s.precision));
}

/** The rounding note of a failed solve ("" when rounding does not explain it): one product, the call's gain probe. */
function roundingNoteFor(x: Tensor, res: number, bNorm: number, s: SolveSettings, state: CallSolves): string {
  const values = x.toFloat64Array();
  if (!allFinite(values) || !Number.isFinite(res) || !(bNorm > 0)) return "";
  const level = roundingLimit(state.probes.gain(), values, res, bNorm, s.tol, s.atol, s.precision);
  return level === null ? "" : roundingNote(level, res, bNorm, s);
}

function solveWith(op: string, K: LinearSystem, b: Tensor, system: "tangent" | "adjoint", s: SolveSettings, state: CallSolves): [Tensor, SolveDiagnostics] {
  const bValues = contiguousData(b, "float64") as Float64Array; // read only
  const bNorm = norm2(bValues);
  const n = K.shape[0];
  const auto = s.solver === "auto";
  if (!Number.isFinite(bNorm) && !allFinite(bValues)) {
    const method = typeof s.solver === "function" ? "user" : auto ? autoSolverFor(n, s, null, null).method : s.solver;
    const label = s.solver === "auto" ? `auto(${method})` : method;
    throw nonFiniteRightHandSide(op, { solver: label, iterations: 0, residualNorm: NaN, converged: false, status: "nonFinite", system, tol: s.tol });
  }
  const choice: AutoChoice | null = auto ? autoSolverFor(n, s, state, () => state.probes.symmetryProbe(s.precision).symmetric) : null;
  const method = typeof s.solver === "function" ? "user" : choice !== null ? choice.method : s.solver;
  if (typeof s.solver === "function") {
    const out = s.solver(K as LinearOperator, b);
    const x = out instanceof Tensor ? out : (out as KrylovResult)?.x;
    if (!(x instanceof Tensor) || x.size !== n) {
      throw new LinearSolveError(`${op}: the user linear solver must return a Tensor of ${n} entries or a result { x, ... }, got ${describe(out)}`, { solver: "user", iterations: 0, residualNorm: NaN, converged: false, status: "invalid", system, tol: s.tol });
    }
    const res = residualOf(K, x, b);
    const converged = res <= Math.max(s.tol * bNorm, s.atol) || res === 0;
    const diag: SolveDiagnostics = { solver: "user", iterations: out instanceof Tensor ? 0 : (out as KrylovResult).iterations, residualNorm: res, converged, status: converged ? "converged" : "notConverged", system, tol: s.tol };
    if (!diag.converged) throw notConverged(op, diag, roundingNoteFor(x, res, bNorm, s, state) || flagNote("user", "user", diag.status, s, symmetryEvidence(s, state)));
    confirmSymmetry(op, x, bValues, res, system, s, state);
    return [plainFlat(x), diag];
  }
  if (method === "direct") return solveDirect(op, K, b, bNorm, system, s, auto, state);
  // "auto" gives a Krylov solve about n products (what forming ∂F/∂y costs) when it could factorise instead.
  const canSwitch = auto && n <= AUTO_DENSE_LIMIT;
  const result = runKrylov(op, method as KrylovSolverName, K, b, s, state, canSwitch ? Math.min(s.maxIter, n) : s.maxIter);
  state.krylovSolves += 1;
  state.krylovProducts += result.iterations + 1;
  const label = auto ? `auto(${method})` : method;
  const diag: SolveDiagnostics = { solver: method, iterations: result.iterations, residualNorm: result.residualNorm, converged: result.converged, status: result.status, system, tol: s.tol, residualHistory: result.residualHistory };
  if (!result.converged) {
    // A CG breakdown under a declared positiveDefinite says the flag is wrong: reported, not papered over.
    const flagRefuted = result.status === "breakdown" && s.positiveDefinite;
    if (canSwitch && result.status !== "nonFinite" && !flagRefuted) {
      // Stalled (PDE-like conditioning, a restarted GMRES on a symmetric indefinite A, …): the LU of ∂F/∂y solves it within this solve.
      const [x, direct] = solveDirect(op, K, b, bNorm, system, s, true, state);
      return [x, { ...direct, solver: `${method}→${direct.solver}`, iterations: result.iterations + direct.iterations }];
    }
    const note = roundingNoteFor(result.x, result.residualNorm, bNorm, s, state) || flagNote(label, method, result.status, s, symmetryEvidence(s, state), choice?.probedSymmetric ?? false);
    throw notConverged(op, diag, note);
  }
  // A method for rectangular systems (lsqr) also stops at a least-squares solution; on a
  // singular A whose system is inconsistent that x does not solve it, and the derivative is not defined.
  if (!SOLVERS[method as KrylovSolverName].square && !(result.residualNorm <= Math.max(s.tol * bNorm, 1e-9 * bNorm, s.atol))) {
    diag.converged = false;
    diag.status = "inconsistent";
    const note = roundingNoteFor(result.x, result.residualNorm, bNorm, s, state);
    if (note) throw notConverged(op, diag, note);
    throw new LinearSolveError(`${op}: ∂F/∂y is singular and the ${system} system is inconsistent (lsqr's least-squares residual ${result.residualNorm.toExponential(3)} vs ‖b‖ ${bNorm.toExponential(3)}, tol ${formatNumber(s.tol)}): the derivative is not defined here`, diag);
  }
  confirmSymmetry(op, result.x, bValues, result.residualNorm, system, s, state);
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

/**
 * Runs the Krylov solver `method` of the table for at most `maxIter`
 * iterations, with the preconditioner when the method takes one: the user's,
 * or Jacobi's from the call's probed diagonal (by |dᵢ| for the symmetric
 * methods, whose M must be positive definite).
 */
function runKrylov(op: string, method: KrylovSolverName, K: LinearSystem, b: Tensor, s: SolveSettings, state: CallSolves, maxIter: number): KrylovResult {
  const row = SOLVERS[method];
  let M: KrylovOptions["M"] | undefined;
  if (row.preconditioner && s.preconditioner !== undefined) {
    M = s.preconditioner === "jacobi" ? jacobiPreconditioner(state.probes.diagonal(s.precision).diagonal, row.symmetric) : checkedPreconditioner(op, s.preconditioner);
  }
  const opts = { tol: s.tol, atol: s.atol, maxIter, history: true, ...(M !== undefined ? { M } : {}) };
  return (row.solve as (A: LinearOperator, b: Tensor, opts: KrylovOptions) => KrylovResult)(K as LinearOperator, b, opts);
}


/**
 * The direct solve: the call's dense ∂F/∂y (formed on the first direct solve),
 * refused when it is not finite or when it refutes a declared symmetry, then
 * solved with its LU (dense.ts).
 */
function solveDirect(op: string, K: LinearSystem, b: Tensor, bNorm: number, system: "tangent" | "adjoint", s: SolveSettings, auto: boolean, state: CallSolves): [Tensor, SolveDiagnostics] {
  const n = K.shape[0];
  const dense = state.dense.factor(K, system);
  const { A, norm, asymmetry } = dense;
  if (!Number.isFinite(norm) && !allFinite(A)) {
    const nonFinite: SolveDiagnostics = { solver: auto ? "auto(direct)" : "direct", iterations: 0, residualNorm: NaN, converged: false, status: "nonFinite", system, tol: s.tol };
    throw new LinearSolveError(`${op}: ∂F/∂y has a NaN or ∞ entry at forward's output (check forward's y and the conditions there), so the ${system} system cannot be solved`, nonFinite);
  }
  if (s.symmetric && asymmetry.relative > symmetryTolerance(s.precision)) throw notSymmetricDense(op, s, A, n, asymmetry.i, asymmetry.j, asymmetry.relative);
  if (s.symmetric) state.symmetryConfirmed = true;
  return solveDense(op, dense, K, b, bNorm, system, s, auto);
}
