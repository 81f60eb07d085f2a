/**
 * Plain fixed-point iteration y ← T(y) (Picard iteration; Banach's fixed-point
 * theorem gives linear convergence at the contraction rate of T). Returns the
 * last y whose residual ‖T(y) − y‖₂ was measured. Stops as "stalled" when the
 * residual has not improved over 50 iterations while above tol (T is not a
 * contraction there: try "anderson"). Cost: one evaluation of T per iteration.
 */
import type { VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";

const PATIENCE = 50;

export function iterate(problem: VectorProblem): Outcome {
  const { F: T, tol, maxIter, monitor } = problem;
  const n = problem.y0.length;
  let y: Float64Array = problem.y0.slice();
  let image = T.value(y);
  const residual = (a: Float64Array, b: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (a[i] - b[i]) ** 2;
    return Math.sqrt(s);
  };
  let residualNorm = residual(image, y);
  if (!Number.isFinite(residualNorm)) return { x: y, iterations: 0, residualNorm, status: "nonFinite", detail: "fn is not finite at the initial point" };
  let best = residualNorm;
  let sinceBest = 0;
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x: y, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x: y, iterations: k, residualNorm, status: "maxIter" };
    const nextImage = T.value(image);
    const nextNorm = residual(nextImage, image);
    if (!Number.isFinite(nextNorm)) return { x: y, iterations: k, residualNorm, status: "nonFinite", detail: "fn is not finite at the next iterate" };
    y = image;
    image = nextImage;
    residualNorm = nextNorm;
    if (residualNorm < best) {
      best = residualNorm;
      sinceBest = 0;
    } else if (++sinceBest >= PATIENCE) return { x: y, iterations: k + 1, residualNorm, status: "stalled", detail: `the residual has not decreased over ${PATIENCE} iterations: fn is not a contraction here (try method "anderson")` };
    if (monitor.step(k + 1, y, residualNorm)) return { x: y, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
  }
}
