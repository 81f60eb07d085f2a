/**
 * Anderson acceleration of the fixed-point iteration y ← T(y) (Anderson 1965;
 * in the form of Walker & Ni 2011, "Anderson acceleration for fixed-point
 * iterations", SIAM J. Numer. Anal. 49, Algorithm AA with mixing β = 1):
 * with fₖ = T(yₖ) − yₖ and the differences ΔF, ΔG of the last m residuals and
 * images,
 *   γ = argmin ‖fₖ − ΔF γ‖₂ (Householder QR; the oldest columns are dropped
 *   while ΔF is rank-deficient),   yₖ₊₁ = T(yₖ) − ΔG γ.
 * A step whose residual grows tenfold over the best so far clears the history
 * (a restart, as Walker & Ni's safeguards suggest). Residual: ‖T(y) − y‖₂.
 * Cost per iteration: one evaluation of T and O(n m²) flops; memory 2·m·n.
 */
import { qrLeastSquares } from "./dense.js";
import { norm, type VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";

export function anderson(problem: VectorProblem): Outcome {
  const { F: T, tol, maxIter, monitor, memory } = problem;
  const n = problem.y0.length;
  let y: Float64Array = problem.y0.slice();
  let image = T.value(y);
  let f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = image[i] - y[i];
  let residualNorm = norm(f);
  if (!Number.isFinite(residualNorm)) return { x: y, iterations: 0, residualNorm, status: "nonFinite", detail: "fn is not finite at the initial point" };
  let best = residualNorm;
  const dF: Float64Array[] = [];
  const dG: Float64Array[] = [];
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x: y, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x: y, iterations: k, residualNorm, status: "maxIter" };
    // yₖ₊₁ = T(yₖ) − ΔG γ
    const next = image.slice();
    for (let m = dF.length; m > 0; m--) {
      const first = dF.length - m;
      const A = new Float64Array(n * m);
      for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) A[i * m + j] = dF[first + j][i];
      const gamma = n >= m ? qrLeastSquares(A, f, n, m) : null;
      if (gamma === null) continue;
      for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) next[i] -= gamma[j] * dG[first + j][i];
      break;
    }
    const nextImage = T.value(next);
    const nextF = new Float64Array(n);
    for (let i = 0; i < n; i++) nextF[i] = nextImage[i] - next[i];
    const nextNorm = norm(nextF);
    if (!Number.isFinite(nextNorm)) return { x: y, iterations: k, residualNorm, status: "nonFinite", detail: "fn is not finite at the next iterate" };
    if (nextNorm > 10 * best) {
      dF.length = 0;
      dG.length = 0;
    } else {
      const df = new Float64Array(n);
      const dg = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        df[i] = nextF[i] - f[i];
        dg[i] = nextImage[i] - image[i];
      }
      dF.push(df);
      dG.push(dg);
      if (dF.length > memory) {
        dF.shift();
        dG.shift();
      }
    }
    y = next;
    image = nextImage;
    f = nextF;
    residualNorm = nextNorm;
    best = Math.min(best, residualNorm);
    if (monitor.step(k + 1, y, residualNorm)) return { x: y, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
  }
}
