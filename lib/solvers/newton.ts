/**
 * Newton's method for F(y) = 0 with a backtracking line search on ‖F‖
 * (Nocedal & Wright, "Numerical Optimization", 2nd ed., §11.1 Algorithm 11.1
 * and the merit-function globalisation of §11.2; Dennis & Schnabel 1983, §6.3).
 *
 * - Up to DENSE_MAX unknowns the Jacobian is formed from n forward products of
 *   one linearisation and the step solves J p = −F by LU; a singular J falls
 *   back to the least-squares step (QR), then to the steepest-descent direction
 *   −JᵀF of ½‖F‖².
 * - Above, matrix-free inexact Newton (Dembo, Eisenstat & Steihaug 1982): GMRES
 *   on the products J v of one `linearize` per iteration, to the relative
 *   forcing tolerance min(0.1, √‖F‖).
 *
 * The step is accepted when ‖F(y + αp)‖ ≤ (1 − 10⁻⁴α)‖F(y)‖, halving α from 1.
 * Residual: ‖F(y)‖₂. Cost per iteration: one linearisation plus n products
 * (dense) or one product per GMRES step, plus the line search's evaluations.
 */
import { gmres } from "../krylov/index.js";
import { dot } from "../krylov/operator.js";
import { fromData } from "../tensor/tensor.js";
import { flatOperator, luSolve, qrLeastSquares } from "./dense.js";
import { ROUNDING_BAND, finiteVector, negated, norm, type VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";

/** Systems up to this size use a dense Jacobian and LU. */
export const DENSE_MAX = 100;

/** Backtracking on the merit ‖F‖ from α = 1: the accepted point, or why none was. */
export function meritSearch(F: VectorProblem["F"], y: Float64Array, p: Float64Array, Fnorm: number): { y: Float64Array; value: Float64Array; norm: number } | "failed" | "flat" | "nonFinite" {
  let alpha = 1;
  let sawFinite = false;
  let flat = true;
  for (let k = 0; k < 40; k++) {
    const trial = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) trial[i] = y[i] + alpha * p[i];
    const value = F.value(trial);
    const n = norm(value);
    if (Number.isFinite(n)) {
      sawFinite = true;
      if (Math.abs(n - Fnorm) > ROUNDING_BAND * Fnorm) flat = false;
      if (n <= (1 - 1e-4 * alpha) * Fnorm) return { y: trial, value, norm: n };
    }
    alpha /= 2;
  }
  return !sawFinite ? "nonFinite" : flat ? "flat" : "failed";
}

/** The Newton direction at y: dense LU (least squares, then −JᵀF, when J is singular) or GMRES on J's products. */
function newtonStep(problem: VectorProblem, y: Float64Array): { value: Float64Array; p: Float64Array } {
  const n = y.length;
  if (n <= DENSE_MAX) {
    const { value, J, m } = problem.F.jacobianAt(y);
    const minusF = negated(value);
    const p = (m === n ? luSolve(J, minusF, n) : null) ?? (m >= n ? qrLeastSquares(J, minusF, m, n) : null);
    if (p !== null && finiteVector(p)) return { value, p };
    const descent = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += J[i * n + j] * minusF[i];
      descent[j] = s;
    }
    return { value, p: descent };
  }
  const { value, matvec } = problem.F.linearizeAt(y);
  const Fnorm = norm(value);
  const result = gmres(flatOperator(n, n, matvec), fromData(negated(value), [n]), { tol: Math.min(0.1, Math.sqrt(Fnorm)), maxIter: Math.min(n, 200) });
  return { value, p: result.x.toFloat64Array() };
}

export function newton(problem: VectorProblem): Outcome {
  const { F, tol, maxIter, monitor } = problem;
  let y: Float64Array = problem.y0.slice();
  let value = F.value(y);
  let residualNorm = norm(value);
  if (!Number.isFinite(residualNorm)) return { x: y, iterations: 0, residualNorm, status: "nonFinite", detail: "fn is not finite at the initial point" };
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x: y, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x: y, iterations: k, residualNorm, status: "maxIter" };
    const { p } = newtonStep(problem, y);
    if (!finiteVector(p) || dot(p, p) === 0) return { x: y, iterations: k, residualNorm, status: "stalled", detail: "the Newton step is zero or not finite: the Jacobian is singular here" };
    const step = meritSearch(F, y, p, residualNorm);
    if (step === "nonFinite") return { x: y, iterations: k, residualNorm, status: "nonFinite", detail: "fn was not finite at every step the line search tried" };
    if (step === "flat") return { x: y, iterations: k, residualNorm, status: "stalled", detail: "‖F‖ cannot be decreased measurably along the Newton step: the residual is at the rounding level of fn" };
    if (step === "failed") return { x: y, iterations: k, residualNorm, status: "lineSearchFailed", detail: "no step along the Newton direction decreased ‖F‖ (a local minimum of ‖F‖ that is not a root, or a singular Jacobian)" };
    y = step.y;
    value = step.value;
    residualNorm = step.norm;
    if (monitor.step(k + 1, y, residualNorm)) return { x: y, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
  }
}
