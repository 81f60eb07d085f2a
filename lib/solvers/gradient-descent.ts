/**
 * Gradient descent with Armijo backtracking (Nocedal & Wright, "Numerical
 * Optimization", 2nd ed., Algorithm 3.1, on p = −∇f); with bounds, projected
 * gradient descent with backtracking along the projection arc P(x − α∇f)
 * (Bertsekas, "Nonlinear Programming", 3rd ed., §2.3, the Armijo rule along the
 * projection arc). Each iteration starts from twice the last accepted step, so
 * the step adapts up as well as down. Residual: ‖x − P(x − ∇f)‖₂.
 *
 * Cost per iteration: one gradient plus one value per backtracking trial.
 * Linear convergence, at a rate set by the condition number: a baseline and a
 * robust fallback, not a fast method.
 */
import { backtracking } from "./line-search.js";
import { finiteVector, negligibleStep, project, projectedGradientNorm, startAt, type MinimizeProblem } from "./problem.js";
import { STALL_ITERATIONS, failed } from "./lbfgs.js";
import type { Outcome } from "./result.js";

export function gradientDescent(problem: MinimizeProblem): Outcome {
  const { f, bounds, tol, maxIter, monitor } = problem;
  const start = startAt(problem);
  if (start.failure !== null) return start.failure;
  let { x, value, g, residualNorm } = start;
  let alpha = Math.min(1, 1 / residualNorm);
  let flatSteps = 0;
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x, value, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x, value, iterations: k, residualNorm, status: "maxIter" };
    const gradient = g;
    const start = x;
    const trial = (a: number): { x: Float64Array; value: number } => {
      const xa = new Float64Array(start.length);
      for (let i = 0; i < xa.length; i++) xa[i] = start[i] - a * gradient[i];
      project(xa, bounds, xa);
      return { x: xa, value: f.value(xa) };
    };
    // In the rounding regime, a step is accepted when it lowers the residual (its gradient is kept).
    let kept: { x: Float64Array; value: number; gradient: Float64Array } | null = null;
    const lowersResidual = (xa: Float64Array): boolean => {
      const [v, ga] = f.valueAndGradient(xa);
      kept = { x: xa, value: v, gradient: ga };
      return finiteVector(ga) && projectedGradientNorm(xa, ga, bounds) < residualNorm;
    };
    const step = backtracking(trial, x, value, g, alpha, lowersResidual);
    if (typeof step === "string") return failed(x, value, k, residualNorm, step === "nonFinite", step === "flat");
    const reuse = kept as { x: Float64Array; value: number; gradient: Float64Array } | null;
    const [vNew, gNew] = reuse !== null && reuse.x === step.x ? [reuse.value, reuse.gradient] : f.valueAndGradient(step.x);
    if (!finiteVector(gNew)) return { x, value, iterations: k, residualNorm, status: "nonFinite", detail: "the gradient is not finite at an accepted point" };
    flatSteps = negligibleStep(x, step.x) ? flatSteps + 1 : 0;
    alpha = 2 * step.alpha;
    x = step.x;
    value = vNew;
    g = gNew;
    residualNorm = projectedGradientNorm(x, g, bounds);
    if (monitor.step(k + 1, x, residualNorm, value)) return { x, value, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
    if (flatSteps >= STALL_ITERATIONS && residualNorm > tol) return { x, value, iterations: k + 1, residualNorm, status: "stalled", detail: `x did not move beyond rounding over ${STALL_ITERATIONS} iterations` };
  }
}
