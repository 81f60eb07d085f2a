/**
 * Levenberg–Marquardt for min ½‖r(y)‖² as a trust-region method (Moré 1978,
 * "The Levenberg–Marquardt algorithm: implementation and theory", Lecture
 * Notes in Math. 630, the design behind MINPACK's lmder):
 * - scaling D = diag of the largest column norms of J seen so far (Moré §6);
 * - the step p(λ) = argmin ‖J p + r‖² + λ‖D p‖², from the QR factorisation of
 *   [J; √λ D] (never the normal equations JᵀJ);
 * - λ chosen so that ‖D p(λ)‖ ≈ Δ, within 10%, by Moré's safeguarded Newton
 *   iteration on φ(λ) = ‖D p(λ)‖ − Δ (his Algorithm 5.5, φ' from the triangular
 *   factor), or λ = 0 when the Gauss–Newton step fits in the region;
 * - the radius Δ updated from ρ, the ratio of actual to predicted reduction
 *   (Moré §4: shrink when ρ < ¼, grow to 2‖D p‖ when ρ > ¾), the step accepted
 *   when ρ > 10⁻⁴.
 * Above DENSE_LSQ_MAX unknowns J is applied by products and p(λ) by LSQR; φ'
 * is then unavailable and λ follows ‖D p‖/Δ multiplicatively. Where the change
 * in ½‖r‖² is below its rounding, ρ is noise: a step that lowers ‖Jᵀr‖ is accepted.
 * Residual: ‖Jᵀr‖₂ (the gradient of ½‖r‖²).
 *
 * Cost per iteration: one linearisation (dense J: min(m, n) products), one
 * evaluation per trial step, and a few QR factorisations of (m + n)×n.
 */
import { linearModel, halfSquaredNorm, type LinearModel } from "./least-squares-model.js";
import { solveTransposedTriangular } from "./dense.js";
import { ROUNDING_BAND, finiteVector, norm, type VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";

/** Consecutive rejected steps before giving up. */
const MAX_REJECTIONS = 40;

/** ‖D v‖₂. */
function scaledNorm(D: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (D[i] * v[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * The step of the trust region ‖D p‖ ≤ Δ (Moré's Algorithm 5.5): p(0) when it
 * fits, else p(λ) with |‖D p(λ)‖ − Δ| ≤ 0.1Δ (at most 10 solves). `lambda` is
 * the previous λ, the starting guess.
 */
function trustRegionStep(model: LinearModel, D: Float64Array, delta: number, lambda: number): { p: Float64Array; lambda: number } | null {
  const n = D.length;
  const gaussNewton = model.step(0, D);
  if (gaussNewton !== null && finiteVector(gaussNewton.p) && scaledNorm(D, gaussNewton.p) <= 1.1 * delta) return { p: gaussNewton.p, lambda: 0 };
  // Bounds on λ: u = ‖D⁻¹Jᵀr‖/Δ; l from φ'(0) when J has full rank.
  let gScaled = 0;
  for (let j = 0; j < n; j++) gScaled += (model.gradient[j] / D[j]) ** 2;
  let upper = Math.sqrt(gScaled) / delta;
  let lower = 0;
  if (gaussNewton !== null && gaussNewton.R !== null && finiteVector(gaussNewton.p)) {
    const normDp = scaledNorm(D, gaussNewton.p);
    const q = new Float64Array(n);
    for (let j = 0; j < n; j++) q[j] = (D[j] * D[j] * gaussNewton.p[j]) / normDp;
    const w = solveTransposedTriangular(gaussNewton.R, q, n);
    const ww = w.reduce((s, v) => s + v * v, 0);
    if (ww > 0 && Number.isFinite(ww)) lower = (normDp - delta) / (delta * ww);
  }
  if (!(upper > 0) || !Number.isFinite(upper)) upper = Number.MAX_VALUE;
  let best: { p: Float64Array; lambda: number } | null = null;
  for (let k = 0; k < 10; k++) {
    if (!(lambda > lower && lambda < upper)) lambda = Math.max(1e-3 * upper, Math.sqrt(lower * upper));
    const step = model.step(lambda, D);
    if (step === null || !finiteVector(step.p)) return best;
    const normDp = scaledNorm(D, step.p);
    best = { p: step.p, lambda };
    const phi = normDp - delta;
    if (Math.abs(phi) <= 0.1 * delta) break;
    if (phi > 0) lower = Math.max(lower, lambda);
    else upper = Math.min(upper, lambda);
    if (step.R !== null && normDp > 0) {
      // Newton's correction on 1/‖D p(λ)‖ (Moré eq. 5.3): λ ← λ + (φ/Δ)·‖Dp‖²/‖R⁻ᵀ D²p/‖Dp‖‖²·(1/‖Dp‖).
      const q = new Float64Array(n);
      for (let j = 0; j < n; j++) q[j] = (D[j] * D[j] * step.p[j]) / normDp;
      const w = solveTransposedTriangular(step.R, q, n);
      const ww = w.reduce((s, v) => s + v * v, 0);
      lambda = ww > 0 && Number.isFinite(ww) ? Math.max(lower, lambda + phi / (delta * ww)) : Math.sqrt(lower * upper);
    } else {
      // Matrix-free: ‖D p(λ)‖ falls like 1/λ for large λ.
      lambda = lambda * (normDp / delta);
    }
  }
  return best;
}

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
  const startSize = scaledNorm(D, y);
  let delta = startSize > 0 ? 100 * startSize : 100;
  let lambda = 0;
  let rejections = 0;
  let flat = true;
  const Jp = new Float64Array(model.r.length);
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x: y, value: cost, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x: y, value: cost, iterations: k, residualNorm, status: "maxIter" };
    const step = trustRegionStep(model, D, delta, lambda);
    let accepted = false;
    if (step !== null) {
      const p = step.p;
      lambda = step.lambda;
      const stepSize = scaledNorm(D, p);
      if (k === 0) delta = Math.min(delta, stepSize);
      const trial = new Float64Array(n);
      for (let i = 0; i < n; i++) trial[i] = y[i] + p[i];
      const rTrial = F.value(trial);
      const costTrial = halfSquaredNorm(rTrial);
      // Predicted reduction of the model: cost − ½‖r + J p‖² (≥ 0 for p = p(λ)).
      model.apply(p, Jp);
      let linearized = 0;
      for (let i = 0; i < Jp.length; i++) linearized += (model.r[i] + Jp[i]) ** 2;
      const predicted = cost - linearized / 2;
      const actual = cost - costTrial;
      const rho = predicted > 0 ? actual / predicted : -1;
      const indistinct = Number.isFinite(costTrial) && Math.abs(actual) <= ROUNDING_BAND * cost;
      if (Number.isFinite(costTrial) && !indistinct) flat = false;
      const trialModel = indistinct ? linearModel(problem, trial) : null;
      const lowers = trialModel !== null && finiteVector(trialModel.gradient) && norm(trialModel.gradient) < residualNorm;
      // The radius (Moré §4), from ρ; below the rounding band ρ is noise, and the gradient decides.
      const good = indistinct ? lowers : rho > 0.75 || (lambda === 0 && rho >= 0.25);
      const bad = !Number.isFinite(costTrial) || (indistinct ? !lowers : rho < 0.25);
      if (bad) {
        delta = 0.25 * Math.min(delta, 10 * stepSize);
        lambda *= 4;
      } else if (good) {
        delta = indistinct ? Math.max(delta, 2 * stepSize) : 2 * stepSize;
        lambda /= 2;
      }
      if (Number.isFinite(costTrial) && ((!indistinct && rho > 1e-4) || lowers)) {
        accepted = true;
        y = trial;
        model = trialModel ?? linearModel(problem, y);
        cost = halfSquaredNorm(model.r);
        if (!finiteVector(model.gradient)) return { x: y, value: cost, iterations: k + 1, residualNorm: NaN, status: "nonFinite", detail: "the Jacobian is not finite at an accepted point" };
        residualNorm = norm(model.gradient);
        updateScaling();
        rejections = 0;
        flat = true;
      }
    } else {
      delta *= 0.25;
    }
    if (!accepted && (++rejections >= MAX_REJECTIONS || !(delta > Number.EPSILON * scaledNorm(D, y)))) {
      return flat
        ? { x: y, value: cost, iterations: k + 1, residualNorm, status: "stalled", detail: "½‖r‖² cannot be decreased measurably: the residual is at the rounding level of fn" }
        : { x: y, value: cost, iterations: k + 1, residualNorm, status: "lineSearchFailed", detail: `the trust region shrank to nothing after ${rejections} rejected steps without decreasing ½‖r‖²` };
    }
    if (monitor.step(k + 1, y, residualNorm, cost)) return { x: y, value: cost, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
  }
}
