/**
 * BiCGStab for general square A.
 *
 * van der Vorst, "Bi-CGSTAB: a fast and smoothly converging variant of Bi-CG
 * for the solution of nonsymmetric linear systems", SIAM J. Sci. Stat. Comput.
 * 13 (1992); right-preconditioned as in Barrett et al., "Templates for the
 * Solution of Linear Systems" (1994), §2.3.8.
 */
import { dot, normFromSquares, residualInto, guarded, type OperatorLike } from "./operator.js";
import { finish, initialResidual, prepare, reportIteration, trivialResult, type KrylovOptions, type KrylovResult, type VectorLike } from "./result.js";

/**
 * Solves A x = b for square A by BiCGStab: two products with A per iteration,
 * short recurrences, no restarts. `M` (v => M⁻¹ v) preconditions on the right,
 * so the residual r the recurrences carry is that of the unpreconditioned
 * system; the stopping rule ‖b − A x‖ ≤ max(tol·‖b‖, atol) is tested on r (and
 * at the half step on s) and confirmed on the true residual. If the true
 * residual does not confirm it, the iteration restarts from the true residual.
 *
 * A zero denominator (r̂ᵀr = 0, r̂ᵀv = 0, tᵀt = 0 or ω = 0) is a breakdown of
 * the method: status "breakdown". Cost per iteration: two products with A (and
 * two with M) plus ~12n flops.
 */
export function bicgstab(A: OperatorLike, b: VectorLike, opts?: KrylovOptions): KrylovResult {
  return guarded("bicgstab", () => solveBicgstab(A, b, opts));
}

function solveBicgstab(A: OperatorLike, b: VectorLike, opts?: KrylovOptions): KrylovResult {
  const p = prepare("bicgstab", A, b, opts, { square: true, transpose: false, preconditioner: true, restart: false });
  const trivial = trivialResult(p);
  if (trivial !== null) return trivial;
  const { n, x, threshold, maxIter, M } = p;
  const op = p.A;

  const r = new Float64Array(n);
  const start = initialResidual(p, r);
  if (typeof start !== "number") return start;
  let rnorm = start;

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
      reportIteration(p, k, sNorm);
      rnorm = residualInto(op, p.b, x, r);
      if (!Number.isFinite(rnorm)) return finish(p, x, k, "nonFinite");
      if (rnorm <= threshold) return finish(p, x, k, "converged", rnorm);
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
    rnorm = normFromSquares(r, squares);
    if (!Number.isFinite(rnorm)) return finish(p, x, k, "nonFinite");
    reportIteration(p, k, rnorm);
    if (rnorm <= threshold) {
      rnorm = residualInto(op, p.b, x, r);
      if (!Number.isFinite(rnorm)) return finish(p, x, k, "nonFinite");
      if (rnorm <= threshold) return finish(p, x, k, "converged", rnorm);
      shadow.set(r);
      fresh = true;
      continue;
    }
    // ω = 0 (s ⟂ A ŝ) would divide the next β by zero.
    if (omega === 0) return finish(p, x, k, "breakdown");
  }
  return finish(p, x, maxIter, "maxIter");
}
