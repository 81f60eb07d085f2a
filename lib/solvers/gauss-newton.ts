/**
 * Gauss–Newton for min ½‖r(y)‖² (Nocedal & Wright, "Numerical Optimization",
 * 2nd ed., §10.3): the step p = argmin ‖J p + r‖₂ (Householder QR of J, never
 * the normal equations; LSQR on J's products for large problems), then Armijo
 * backtracking on ½‖r‖² along p. A rank-deficient J gets a tiny Levenberg
 * damping (10⁻¹⁰ of the largest squared column norm). Converges quadratically
 * on zero-residual problems, linearly (or not at all) when the residual at the
 * solution is large: "levenberg-marquardt" is the robust choice.
 * Residual: ‖Jᵀr‖₂. Cost per iteration: one linearisation plus the line search.
 */
import { dot } from "../krylov/operator.js";
import { linearModel, halfSquaredNorm } from "./least-squares-model.js";
import { ROUNDING_BAND, finiteVector, norm, type VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";

export function gaussNewton(problem: VectorProblem): Outcome {
  const { F, tol, maxIter, monitor } = problem;
  const n = problem.y0.length;
  let y: Float64Array = problem.y0.slice();
  let model = linearModel(problem, y);
  let cost = halfSquaredNorm(model.r);
  if (!Number.isFinite(cost) || !finiteVector(model.gradient)) return { x: y, value: cost, iterations: 0, residualNorm: NaN, status: "nonFinite", detail: "fn or its Jacobian is not finite at the initial point" };
  let residualNorm = norm(model.gradient);
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x: y, value: cost, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x: y, value: cost, iterations: k, residualNorm, status: "maxIter" };
    let p = model.step(0, new Float64Array(n).fill(1))?.p ?? null;
    if (p === null || !finiteVector(p)) {
      const D = model.columnNorms ?? new Float64Array(n).fill(1);
      let largest = 0;
      for (let j = 0; j < n; j++) largest = Math.max(largest, D[j] * D[j]);
      p = model.step(1e-10 * (largest || 1), D.map((d) => d || 1))?.p ?? null;
    }
    if (p === null || !finiteVector(p)) return { x: y, value: cost, iterations: k, residualNorm, status: "stalled", detail: "no Gauss–Newton step: the Jacobian is singular here" };
    const slope = dot(model.gradient, p);
    let alpha = 1;
    let accepted: Float64Array | null = null;
    let flat = true;
    let sawFinite = false;
    for (let t = 0; t < 40 && slope < 0; t++, alpha /= 2) {
      const trial = new Float64Array(n);
      for (let i = 0; i < n; i++) trial[i] = y[i] + alpha * p[i];
      const c = halfSquaredNorm(F.value(trial));
      if (!Number.isFinite(c)) continue;
      sawFinite = true;
      if (Math.abs(c - cost) > ROUNDING_BAND * cost) flat = false;
      if (c <= cost + 1e-4 * alpha * slope) {
        accepted = trial;
        break;
      }
      // Below the rounding of ½‖r‖² the test cannot tell: a step that lowers ‖Jᵀr‖ is accepted.
      if (Math.abs(c - cost) <= ROUNDING_BAND * cost) {
        const trialModel = linearModel(problem, trial);
        if (finiteVector(trialModel.gradient) && norm(trialModel.gradient) < residualNorm) {
          accepted = trial;
          break;
        }
      }
    }
    if (accepted === null) {
      if (!sawFinite && slope < 0) return { x: y, value: cost, iterations: k, residualNorm, status: "nonFinite", detail: "fn was not finite at every step the line search tried" };
      if (flat) return { x: y, value: cost, iterations: k, residualNorm, status: "stalled", detail: "½‖r‖² cannot be decreased measurably: the residual is at the rounding level of fn" };
      return { x: y, value: cost, iterations: k, residualNorm, status: "lineSearchFailed", detail: "no step along the Gauss–Newton direction decreased ½‖r‖² enough (try levenberg-marquardt)" };
    }
    y = accepted;
    model = linearModel(problem, y);
    cost = halfSquaredNorm(model.r);
    if (!finiteVector(model.gradient)) return { x: y, value: cost, iterations: k + 1, residualNorm: NaN, status: "nonFinite", detail: "the Jacobian is not finite at an accepted point" };
    residualNorm = norm(model.gradient);
    if (monitor.step(k + 1, y, residualNorm, cost)) return { x: y, value: cost, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
  }
}
