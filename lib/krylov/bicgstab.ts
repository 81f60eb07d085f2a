/**
 * BiCGStab for general square A: the iteration of `bicgstab`
 * (lib/krylov/solvers.ts), which has done the setup and iteration 0.
 *
 * van der Vorst, "Bi-CGSTAB: a fast and smoothly converging variant of Bi-CG
 * for the solution of nonsymmetric linear systems", SIAM J. Sci. Stat. Comput.
 * 13 (1992); right-preconditioned as in Barrett et al., "Templates for the
 * Solution of Linear Systems" (1994), §2.3.8.
 */
import { dot, normFromSquares } from "./operator.js";
import { confirm, finish, type KrylovProblem, type KrylovResult } from "./result.js";

/**
 * BiCGStab from r = b − A x₀. Right preconditioning keeps r the residual of
 * the unpreconditioned system, so the stopping rule is tested on r (and at the
 * half step on s) and confirmed on the true residual; when the true residual
 * does not confirm it, the iteration restarts from the true residual.
 */
export function bicgstabIteration(p: KrylovProblem, r: Float64Array): KrylovResult {
  const { n, x, threshold, maxIter, M } = p;
  const op = p.A;

  const shadow = Float64Array.from(r);
  const direction = new Float64Array(n);
  const v = new Float64Array(n);
  const s = new Float64Array(n);
  const t = new Float64Array(n);
  const pHat = M === null ? direction : new Float64Array(n);
  const sHat = M === null ? s : new Float64Array(n);
  let rho = 1;
  let alpha = 1;
  let omega = 1;
  let fresh = true;

  for (let k = 1; k <= maxIter; k++) {
    const rhoNext = dot(shadow, r);
    if (!Number.isFinite(rhoNext)) return finish(p, x, k - 1, "nonFinite");
    if (rhoNext === 0) return finish(p, x, k - 1, "breakdown");
    if (fresh) {
      direction.set(r);
      fresh = false;
    } else {
      const beta = (rhoNext / rho) * (alpha / omega);
      for (let i = 0; i < n; i++) direction[i] = r[i] + beta * (direction[i] - omega * v[i]);
    }
    rho = rhoNext;
    if (M !== null && !M.apply(direction, pHat)) return finish(p, x, k - 1, "nonFinite");
    if (!op.apply(pHat, v)) return finish(p, x, k - 1, "nonFinite");
    const shadowV = dot(shadow, v);
    if (!Number.isFinite(shadowV)) return finish(p, x, k - 1, "nonFinite");
    if (shadowV === 0) return finish(p, x, k - 1, "breakdown");
    alpha = rho / shadowV;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const si = r[i] - alpha * v[i];
      s[i] = si;
      squares += si * si;
    }
    const sNorm = normFromSquares(s, squares);
    if (!Number.isFinite(sNorm)) return finish(p, x, k - 1, "nonFinite");
    if (sNorm <= threshold) {
      // Half-step convergence: x + α p̂ already meets the rule (per the updated residual).
      for (let i = 0; i < n; i++) x[i] += alpha * pHat[i];
      const confirmed = confirm(p, k, x, r, sNorm);
      if (typeof confirmed !== "number") return confirmed;
      shadow.set(r);
      fresh = true;
      continue;
    }
    if (M !== null && !M.apply(s, sHat)) return finish(p, x, k - 1, "nonFinite");
    if (!op.apply(sHat, t)) return finish(p, x, k - 1, "nonFinite");
    const tt = dot(t, t);
    const ts = dot(t, s);
    if (!Number.isFinite(tt) || !Number.isFinite(ts)) return finish(p, x, k - 1, "nonFinite");
    if (tt === 0) return finish(p, x, k - 1, "breakdown");
    omega = ts / tt;
    squares = 0;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * pHat[i] + omega * sHat[i];
      const ri = s[i] - omega * t[i];
      r[i] = ri;
      squares += ri * ri;
    }
    const rnorm = normFromSquares(r, squares);
    const confirmed = confirm(p, k, x, r, rnorm);
    if (typeof confirmed !== "number") return confirmed;
    if (rnorm <= threshold) {
      // The true residual replaced r without confirming convergence.
      shadow.set(r);
      fresh = true;
      continue;
    }
    // ω = 0 (s ⟂ A ŝ) would divide the next β by zero.
    if (omega === 0) return finish(p, x, k, "breakdown");
  }
  return finish(p, x, maxIter, "maxIter");
}
