/**
 * Levenberg–Marquardt for min ½‖r(y)‖² (Moré 1978, "The Levenberg–Marquardt
 * algorithm: implementation and theory", Lecture Notes in Math. 630: the
 * scaling D = diag of the largest column norms of J seen so far, the step
 * p = argmin ‖J p + r‖² + λ‖D p‖² solved by QR of [J; √λ D] rather than by the
 * normal equations, and acceptance by the ratio ρ of actual to predicted
 * reduction). λ follows the gain ratio as in Nielsen 1999 ("Damping parameter
 * in Marquardt's method", IMM-REP-1999-05; Madsen, Nielsen & Tingleff 2004):
 * λ ← λ·max(1/3, 1 − (2ρ − 1)³) on success, λ ← νλ, ν ← 2ν on failure, instead
 * of Moré's trust-region radius. Where the change in ½‖r‖² is below its rounding,
 * ρ is noise and a step is accepted when it lowers ‖Jᵀr‖. Residual: ‖Jᵀr‖₂ (the gradient of ½‖r‖²).
 *
 * Cost per iteration: one linearisation (dense J: min(m, n) products) and one
 * evaluation per trial step; the QR costs O((m + n) n²).
 */
import { linearModel, halfSquaredNorm, type LinearModel } from "./least-squares-model.js";
import { ROUNDING_BAND, finiteVector, norm, type VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";

/** Consecutive rejected steps before giving up. */
const MAX_REJECTIONS = 40;

export function levenbergMarquardt(problem: VectorProblem): Outcome {
  const { F, tol, maxIter, monitor } = problem;
  const n = problem.y0.length;
  let y: Float64Array = problem.y0.slice();
  let model: LinearModel = linearModel(problem, y);
  let cost = halfSquaredNorm(model.r);
  if (!Number.isFinite(cost) || !finiteVector(model.gradient)) return { x: y, value: cost, iterations: 0, residualNorm: NaN, status: "nonFinite", detail: "fn or its Jacobian is not finite at the initial point" };
  let residualNorm = norm(model.gradient);
  // Moré's scaling: the largest norm each column of J has had (1 for a column that has only been zero, or matrix-free).
  const largestNorms = new Float64Array(n);
  const D = new Float64Array(n).fill(1);
  const updateScaling = (): void => {
    if (model.columnNorms === null) return;
    for (let j = 0; j < n; j++) {
      largestNorms[j] = Math.max(largestNorms[j], model.columnNorms[j]);
      D[j] = largestNorms[j] > 0 ? largestNorms[j] : 1;
    }
  };
  updateScaling();
  let lambda = 1e-3 * Math.max(...Array.from(D, (d) => d * d));
  let nu = 2;
  let rejections = 0;
  let flat = true;
  const Jp = new Float64Array(model.r.length);
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x: y, value: cost, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x: y, value: cost, iterations: k, residualNorm, status: "maxIter" };
    const p = model.step(lambda, D);
    let accepted = false;
    if (p !== null && finiteVector(p)) {
      const trial = new Float64Array(n);
      for (let i = 0; i < n; i++) trial[i] = y[i] + p[i];
      const rTrial = F.value(trial);
      const costTrial = halfSquaredNorm(rTrial);
      model.apply(p, Jp);
      let linearized = 0;
      for (let i = 0; i < Jp.length; i++) linearized += (model.r[i] + Jp[i]) ** 2;
      const predicted = cost - linearized / 2;
      const rho = (cost - costTrial) / predicted;
      if (Number.isFinite(costTrial) && Math.abs(costTrial - cost) > ROUNDING_BAND * cost) flat = false;
      // Below the rounding of ½‖r‖² the ratio ρ is noise: there, a step that lowers ‖Jᵀr‖ is accepted.
      const indistinct = Number.isFinite(costTrial) && Math.abs(costTrial - cost) <= ROUNDING_BAND * cost;
      const trialModel = indistinct ? linearModel(problem, trial) : null;
      const lowers = trialModel !== null && finiteVector(trialModel.gradient) && norm(trialModel.gradient) < residualNorm;
      if (Number.isFinite(costTrial) && ((!indistinct && predicted > 0 && rho > 0) || lowers)) {
        accepted = true;
        y = trial;
        model = trialModel ?? linearModel(problem, y);
        cost = halfSquaredNorm(model.r);
        if (!finiteVector(model.gradient)) return { x: y, value: cost, iterations: k + 1, residualNorm: NaN, status: "nonFinite", detail: "the Jacobian is not finite at an accepted point" };
        residualNorm = norm(model.gradient);
        updateScaling();
        lambda *= indistinct ? 1 / 3 : Math.max(1 / 3, 1 - (2 * rho - 1) ** 3);
        nu = 2;
        rejections = 0;
        flat = true;
      }
    }
    if (!accepted) {
      lambda *= nu;
      nu *= 2;
      if (++rejections >= MAX_REJECTIONS || !Number.isFinite(lambda)) {
        return flat
          ? { x: y, value: cost, iterations: k + 1, residualNorm, status: "stalled", detail: "½‖r‖² cannot be decreased measurably: the residual is at the rounding level of fn" }
          : { x: y, value: cost, iterations: k + 1, residualNorm, status: "lineSearchFailed", detail: `${MAX_REJECTIONS} damped steps in a row failed to decrease ½‖r‖²` };
      }
    }
    if (monitor.step(k + 1, y, residualNorm, cost)) return { x: y, value: cost, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
  }
}
