/**
 * A solver's x made differentiable: x = x(inputs) defined by the solver's
 * optimality conditions F(...inputs, x) = 0 through `customRoot`
 * (lib/program/root.ts), exactly as an ImplicitFunction does, with the linear systems
 * of ∂F/∂x solved by the implicit layer's methods (lib/implicit/linear-solve.ts):
 * "auto" (dense LU up to 16 unknowns, then MINRES for symmetric conditions such
 * as stationarity, GMRES otherwise). Traced values the conditions capture (what
 * fn or prox closes over) are differentiated as customRoot differentiates them.
 *
 * An unconverged x has no derivative: the first linear solve a derivative
 * needs throws instead.
 */
import type { Tensor } from "../tensor/tensor.js";
import { isTracing } from "../primitives/core.js";
import { customRoot, type LinearSystem, type RootSolver } from "../program/root.js";
import { CallSolves, solveSystem, type SolveSettings } from "../implicit/linear-solve.js";
import { defaultTol } from "../implicit/settings.js";
import type { ImplicitOptions, SolverResult } from "./result.js";

export interface DerivativeSettings {
  /** ∂F/∂x is symmetric (stationarity, the Gauss–Newton normal conditions Jᵀr = 0): MINRES (or CG) instead of GMRES. */
  symmetric: boolean;
  /** The user's `implicit` options. */
  implicit: ImplicitOptions;
}

/**
 * x as a differentiable function of `inputs` (and of what `conditions`
 * captures). Without a live transformation, x itself.
 */
export function withDerivative(op: string, conditions: (...inputsAndX: Tensor[]) => Tensor, inputs: Tensor[], result: SolverResult, settings: DerivativeSettings): Tensor {
  const x = result.x;
  if (!isTracing()) return x;
  const o = settings.implicit;
  const positiveDefinite = settings.symmetric && (o.positiveDefinite ?? false);
  const solveSettings: SolveSettings = {
    solver: o.linearSolver ?? "auto", tol: o.tol ?? defaultTol(x.dtype), atol: 0, maxIter: o.maxIter ?? Math.max(1000, 10 * x.size), symmetric: settings.symmetric, positiveDefinite, directMaxSize: 16, precision: x.dtype,
  };
  // What the call's solves share, made on the first solve from the tangent system A (K, or Kᵀ for the adjoint one).
  let state: CallSolves | null = null;
  const tangentOf = (K: LinearSystem, system: "tangent" | "adjoint"): LinearSystem =>
    system === "tangent" ? K : { shape: [K.shape[1], K.shape[0]], matvec: K.rmatvec, rmatvec: K.matvec, symmetric: K.symmetric };
  const solve: RootSolver = (K, b, system) => {
    if (!result.converged) {
      throw new Error(`${op}: x did not converge (status "${result.status}", residual norm ${result.residualNorm.toExponential(3)}), so it has no derivative: the implicit function theorem holds at a solution only, and the derivative at this x would be silently wrong. Make the solver converge (raise maxIter, loosen tol, warm-start from this x), or use stopGradient(result.x) to treat x as a constant`);
    }
    state ??= new CallSolves(tangentOf(K, system));
    return solveSystem(op, K, b, system, solveSettings, state)[0];
  };
  return customRoot(conditions, inputs, x, solve, { symmetric: settings.symmetric, name: op });
}
