/**
 * Newton-CG, line-search truncated Newton (Nocedal & Wright, "Numerical
 * Optimization", 2nd ed., Algorithm 7.1): the Newton system ∇²f p = −∇f is
 * solved approximately by conjugate gradients to the forcing tolerance
 * ε = min(0.01, √‖∇f‖)·‖∇f‖ (N&W take 0.5 for the first factor; either gives superlinear convergence, and 0.01 avoids near-steepest-descent steps in curved valleys: 22 iterations on Rosenbrock instead of 70), stopping at the first
 * direction of non-positive curvature (then the last iterate, or −∇f on the
 * first CG step, is a descent direction). Hessian-vector products come from
 * one `linearize` of the gradient per iteration (forward over reverse), so the
 * Hessian is never formed. Step by the strong-Wolfe line search. Residual: ‖∇f‖₂.
 *
 * Cost per iteration: one linearisation plus one product per CG step (at most
 * `n`, capped at 200), plus the line search's evaluations.
 */
import { dot } from "../krylov/operator.js";
import { linePoint, strongWolfe } from "./line-search.js";
import { failed, STALL_ITERATIONS } from "./lbfgs.js";
import { finiteVector, negated, negligibleStep, startAt, type MinimizeProblem } from "./problem.js";
import type { Outcome } from "./result.js";

/** CG on H p = −g to ‖H p + g‖ ≤ ε, stopping at non-positive curvature (N&W Algorithm 7.1, inner loop). */
function truncatedCG(hessian: (v: Float64Array, out: Float64Array) => void, g: Float64Array, epsilon: number, maxSteps: number): Float64Array {
  const n = g.length;
  const z = new Float64Array(n);
  const r = g.slice(); // residual of H z + g
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = -r[i];
  const Hd = new Float64Array(n);
  let rr = dot(r, r);
  for (let j = 0; j < maxSteps; j++) {
    hessian(d, Hd);
    const curvature = dot(d, Hd);
    if (!(curvature > 0)) {
      if (j === 0) return negated(g);
      return z;
    }
    const alpha = rr / curvature;
    for (let i = 0; i < n; i++) {
      z[i] += alpha * d[i];
      r[i] += alpha * Hd[i];
    }
    const rrNew = dot(r, r);
    if (Math.sqrt(rrNew) <= epsilon) return z;
    const beta = rrNew / rr;
    rr = rrNew;
    for (let i = 0; i < n; i++) d[i] = -r[i] + beta * d[i];
  }
  return z;
}

export function newtonCG(problem: MinimizeProblem): Outcome {
  const { f, tol, maxIter, monitor } = problem;
  const n = problem.x0.length;
  const evaluate = (x: Float64Array): [number, Float64Array] => f.valueAndGradient(x);
  const start = startAt(problem);
  if (start.failure !== null) return start.failure;
  let { x, value, g, residualNorm } = start;
  let flatSteps = 0;
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x, value, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x, value, iterations: k, residualNorm, status: "maxIter" };
    const epsilon = Math.min(0.01, Math.sqrt(residualNorm)) * residualNorm;
    let p = truncatedCG(f.hessianAt(x), g, epsilon, Math.min(n, 200) + 1);
    let slope = dot(g, p);
    if (!(slope < 0) || !finiteVector(p)) {
      p = negated(g);
      slope = dot(g, p);
    }
    const search = strongWolfe((alpha) => linePoint(x, p, alpha, evaluate), { value, slope }, 1);
    if (search.point === null) return failed(x, value, k, residualNorm, search.kind === "nonFinite", search.flat);
    const { x: xNew, value: vNew, gradient: gNew } = search.point;
    if (!finiteVector(gNew)) return { x, value, iterations: k, residualNorm, status: "nonFinite", detail: "the gradient is not finite at a point the line search accepted" };
    flatSteps = negligibleStep(x, xNew) ? flatSteps + 1 : 0;
    x = xNew;
    value = vNew;
    g = gNew;
    residualNorm = Math.sqrt(dot(g, g));
    if (monitor.step(k + 1, x, residualNorm, value)) return { x, value, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
    if (flatSteps >= STALL_ITERATIONS && residualNorm > tol) return { x, value, iterations: k + 1, residualNorm, status: "stalled", detail: `x did not move beyond rounding over ${STALL_ITERATIONS} iterations` };
  }
}
