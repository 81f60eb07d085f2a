/**
 * BFGS with a dense inverse-Hessian approximation H (Nocedal & Wright,
 * "Numerical Optimization", 2nd ed., Algorithm 6.1: the update (6.17)
 * H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1/yᵀs, with H₀ scaled by
 * yᵀs/yᵀy after the first step, eq. 6.20), and the strong-Wolfe line search
 * of their Algorithms 3.5–3.6. Residual: ‖∇f‖₂.
 *
 * Cost per iteration: n² memory and about 4n² flops besides the evaluations:
 * for small problems (up to a few hundred unknowns); L-BFGS scales.
 */
import { dot } from "../krylov/operator.js";
import { linePoint, strongWolfe } from "./line-search.js";
import { failed, STALL_ITERATIONS } from "./lbfgs.js";
import { finiteVector, negligibleStep, startAt, type MinimizeProblem } from "./problem.js";
import type { Outcome } from "./result.js";

export function bfgs(problem: MinimizeProblem): Outcome {
  const { f, tol, maxIter, monitor } = problem;
  const n = problem.x0.length;
  const evaluate = (x: Float64Array): [number, Float64Array] => f.valueAndGradient(x);
  const start = startAt(problem);
  if (start.failure !== null) return start.failure;
  let { x, value, g, residualNorm } = start;
  let H: Float64Array | null = null; // null: the identity, before the first step's scaling
  const Hy = new Float64Array(n);
  let flatSteps = 0;
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x, value, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x, value, iterations: k, residualNorm, status: "maxIter" };
    const p = new Float64Array(n);
    if (H === null) for (let i = 0; i < n; i++) p[i] = -g[i];
    else for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += H[i * n + j] * g[j];
      p[i] = -s;
    }
    let slope = dot(g, p);
    if (!(slope < 0) && H !== null) {
      H = null;
      for (let i = 0; i < n; i++) p[i] = -g[i];
      slope = dot(g, p);
    }
    const alpha1 = H === null ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    const search = strongWolfe((alpha) => linePoint(x, p, alpha, evaluate), { value, slope }, alpha1);
    if (search.point === null) {
      if (H === null) return failed(x, value, k, residualNorm, search.kind === "nonFinite", search.flat);
      H = null;
      k--;
      continue;
    }
    const { x: xNew, value: vNew, gradient: gNew } = search.point;
    if (!finiteVector(gNew)) return { x, value, iterations: k, residualNorm, status: "nonFinite", detail: "the gradient is not finite at a point the line search accepted" };
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-10 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (H === null) {
        H = new Float64Array(n * n);
        const scale = sy / dot(y, y);
        for (let i = 0; i < n; i++) H[i * n + i] = scale;
      }
      // H ← H − ρ(H y sᵀ + s yᵀ H) + (ρ² yᵀHy + ρ) s sᵀ  (H symmetric)
      const rho = 1 / sy;
      for (let i = 0; i < n; i++) {
        let t = 0;
        for (let j = 0; j < n; j++) t += H[i * n + j] * y[j];
        Hy[i] = t;
      }
      const yHy = dot(y, Hy);
      const c = rho * rho * yHy + rho;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) H[i * n + j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j]) + c * s[i] * s[j];
    }
    flatSteps = negligibleStep(x, xNew) ? flatSteps + 1 : 0;
    x = xNew;
    value = vNew;
    g = gNew;
    residualNorm = Math.sqrt(dot(g, g));
    if (monitor.step(k + 1, x, residualNorm, value)) return { x, value, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
    if (flatSteps >= STALL_ITERATIONS && residualNorm > tol) return { x, value, iterations: k + 1, residualNorm, status: "stalled", detail: `x did not move beyond rounding over ${STALL_ITERATIONS} iterations` };
  }
}
