/**
 * Proximal gradient for min f(x) + g(x), f smooth, g given by its proximal
 * operator prox(v, η) = argmin_x g(x) + ‖x − v‖²/(2η):
 * - accelerated (default): FISTA with backtracking (Beck & Teboulle 2009, "A
 *   fast iterative shrinkage-thresholding algorithm for linear inverse
 *   problems", SIAM J. Imaging Sci. 2, §4, FISTA with backtracking), with the
 *   gradient-based adaptive restart of O'Donoghue & Candès 2015 ("Adaptive
 *   restart for accelerated gradient schemes", Found. Comput. Math. 15), which
 *   keeps the fast rate and recovers linear convergence on strongly convex f;
 * - plain (accelerated: false): ISTA, the same steps without momentum.
 * The step η = 1/L shrinks (L doubles) until the quadratic upper bound
 * f(z) ≤ f(y) + ⟨∇f(y), z − y⟩ + L/2‖z − y‖² holds at z = prox(y − η∇f(y), η);
 * L starts from a local estimate of ∇f's Lipschitz constant, unless a fixed
 * `stepSize` is given.
 * Residual: the gradient mapping ‖x − prox(x − η∇f(x), η)‖₂/η at the current η
 * (‖∇f‖ when g = 0). Cost per iteration: one gradient of f, one value of f and
 * one prox per backtracking trial, and a gradient at x for the residual.
 */
import type { ScalarObjective } from "./objective.js";
import { combine, finiteVector, norm } from "./problem.js";
import type { Monitor, Outcome } from "./result.js";

export interface ProximalProblem {
  f: ScalarObjective;
  prox: (v: Float64Array, step: number) => Float64Array;
  x0: Float64Array;
  tol: number;
  maxIter: number;
  monitor: Monitor;
  accelerated: boolean;
  /** A fixed step η (no backtracking), or null. */
  stepSize: number | null;
}

export interface ProximalOutcome extends Outcome {
  /** The step η at which the residual was measured (the conditions use it). */
  step: number;
}

export function proximalGradientMethod(problem: ProximalProblem): ProximalOutcome {
  const { f, prox, tol, maxIter, monitor, accelerated } = problem;
  const n = problem.x0.length;
  let x: Float64Array = problem.x0.slice();
  let [fx, gx] = f.valueAndGradient(x);
  if (!Number.isFinite(fx) || !finiteVector(gx)) return { x, value: fx, iterations: 0, residualNorm: NaN, status: "nonFinite", detail: "the smooth part or its gradient is not finite at the initial point", step: 1 };
  let L: number;
  if (problem.stepSize !== null) L = 1 / problem.stepSize;
  else {
    // A local Lipschitz estimate ‖∇f(x + δ) − ∇f(x)‖/‖δ‖ along −∇f.
    const gNorm = norm(gx);
    const h = (1e-3 * (1 + norm(x))) / (gNorm || 1);
    const probe = combine(x, -h, gx);
    const [, gp] = f.valueAndGradient(probe);
    let diff = 0;
    for (let i = 0; i < n; i++) diff += (gp[i] - gx[i]) ** 2;
    const estimate = Math.sqrt(diff) / (h * (gNorm || 1));
    L = Number.isFinite(estimate) && estimate > 0 ? estimate : 1;
  }
  /** The gradient mapping's norm at x for step 1/L. */
  const mappingNorm = (point: Float64Array, gradient: Float64Array): number => {
    const eta = 1 / L;
    const z = prox(combine(point, -eta, gradient), eta);
    let s = 0;
    for (let i = 0; i < n; i++) s += (point[i] - z[i]) ** 2;
    return Math.sqrt(s) / eta;
  };
  let residualNorm = mappingNorm(x, gx);
  if (!Number.isFinite(residualNorm)) return { x, value: fx, iterations: 0, residualNorm, status: "nonFinite", detail: "prox returned a NaN or ∞ at the initial point", step: 1 / L };
  let y: Float64Array = x.slice();
  let fy = fx;
  let gy = gx;
  let t = 1;
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x, value: fx, iterations: k, residualNorm, status: "converged", step: 1 / L };
    if (k >= maxIter) return { x, value: fx, iterations: k, residualNorm, status: "maxIter", step: 1 / L };
    // z = prox(y − ∇f(y)/L, 1/L), with L doubled until the quadratic bound holds.
    let z: Float64Array | null = null;
    let fz = NaN;
    for (let trial = 0; trial < 60; trial++) {
      const eta = 1 / L;
      const candidate = prox(combine(y, -eta, gy), eta);
      if (!finiteVector(candidate)) return { x, value: fx, iterations: k, residualNorm, status: "nonFinite", detail: "prox returned a NaN or ∞", step: eta };
      const value = f.value(candidate);
      let linear = 0;
      let squared = 0;
      for (let i = 0; i < n; i++) {
        const d = candidate[i] - y[i];
        linear += gy[i] * d;
        squared += d * d;
      }
      if (problem.stepSize !== null || (Number.isFinite(value) && value <= fy + linear + (L / 2) * squared * (1 + 1e-12) + 1e-15 * Math.abs(fy))) {
        z = candidate;
        fz = value;
        break;
      }
      L *= 2;
    }
    if (z === null) return { x, value: fx, iterations: k, residualNorm, status: "lineSearchFailed", detail: "no step satisfied the quadratic upper bound of the smooth part (is its gradient consistent with its values?)", step: 1 / L };
    if (!Number.isFinite(fz)) return { x, value: fx, iterations: k, residualNorm, status: "nonFinite", detail: "the smooth part is not finite at an iterate", step: 1 / L };
    const previous = x;
    x = z;
    let momentum = 0;
    if (accelerated) {
      // Gradient-based restart: drop the momentum when it points uphill, ⟨y − z, z − x_prev⟩ > 0.
      let uphill = 0;
      for (let i = 0; i < n; i++) uphill += (y[i] - z[i]) * (z[i] - previous[i]);
      if (uphill > 0) t = 1;
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      momentum = (t - 1) / tNext;
      t = tNext;
    }
    [fx, gx] = f.valueAndGradient(x);
    if (!finiteVector(gx)) return { x: previous, value: fx, iterations: k, residualNorm, status: "nonFinite", detail: "the gradient of the smooth part is not finite at an iterate", step: 1 / L };
    residualNorm = mappingNorm(x, gx);
    if (momentum === 0) {
      y = x;
      fy = fx;
      gy = gx;
    } else {
      y = combine(x, momentum, combine(x, -1, previous));
      [fy, gy] = f.valueAndGradient(y);
      if (!Number.isFinite(fy) || !finiteVector(gy)) {
        y = x;
        fy = fx;
        gy = gx;
        t = 1;
      }
    }
    if (monitor.step(k + 1, x, residualNorm, fx)) return { x, value: fx, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped", step: 1 / L };
  }
}
