/**
 * Conjugate gradients for symmetric positive definite A.
 *
 * Hestenes & Stiefel, "Methods of conjugate gradients for solving linear
 * systems", J. Res. NBS 49 (1952); the preconditioned form is Saad, "Iterative
 * Methods for Sparse Linear Systems", 2nd ed. (2003), Algorithm 9.1.
 */
import { dot, normFromSquares, residualInto, guarded, type OperatorLike } from "./operator.js";
import { finish, initialResidual, prepare, reportIteration, trivialResult, type KrylovOptions, type KrylovResult, type VectorLike } from "./result.js";

/**
 * Solves A x = b for symmetric positive definite A (n×n) by conjugate
 * gradients, with an optional SPD preconditioner `M` (v => M⁻¹ v).
 *
 * Stops when ‖b − A x‖ ≤ max(tol·‖b‖, atol) (checked on the updated residual,
 * confirmed on the true one). A curvature pᵀAp ≤ 0 (A indefinite or singular)
 * or rᵀM⁻¹r ≤ 0 (M not positive definite) ends the iteration with status
 * "breakdown"; a NaN or ∞ anywhere with "nonFinite". Never throws on numerical
 * trouble. Cost per iteration: one product with A (and one with M) plus ~10n flops.
 */
export function cg(A: OperatorLike, b: VectorLike, opts?: KrylovOptions): KrylovResult {
  return guarded("cg", () => solveCg(A, b, opts));
}

function solveCg(A: OperatorLike, b: VectorLike, opts?: KrylovOptions): KrylovResult {
  const p = prepare("cg", A, b, opts, { square: true, transpose: false, preconditioner: true, restart: false });
  const trivial = trivialResult(p);
  if (trivial !== null) return trivial;
  const { n, x, threshold, maxIter, M } = p;
  const op = p.A;

  const r = new Float64Array(n);
  const start = initialResidual(p, r);
  if (typeof start !== "number") return start;
  let rnorm = start;

  // Without a preconditioner z is r itself and rᵀz is ‖r‖², already known.
  const z = M === null ? r : new Float64Array(n);
  let rz = rnorm * rnorm;
  if (M !== null) {
    if (!M.apply(r, z)) return finish(p, x, 0, "nonFinite");
    rz = dot(r, z);
    if (!(rz > 0)) return finish(p, x, 0, rz - rz === 0 ? "breakdown" : "nonFinite");
  }
  const direction = Float64Array.from(z);
  const Ad = new Float64Array(n);

  for (let k = 1; k <= maxIter; k++) {
    if (!op.apply(direction, Ad)) return finish(p, x, k - 1, "nonFinite");
    const curvature = dot(direction, Ad);
    // pᵀAp ≤ 0 cannot happen for SPD A: the matrix is indefinite (or singular) along p.
    if (!(curvature > 0)) return finish(p, x, k - 1, curvature - curvature === 0 ? "breakdown" : "nonFinite");
    const alpha = rz / curvature;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      x[i] += alpha * direction[i];
      const ri = r[i] - alpha * Ad[i];
      r[i] = ri;
      squares += ri * ri;
    }
    rnorm = normFromSquares(r, squares);
    if (!Number.isFinite(rnorm)) return finish(p, x, k, "nonFinite");
    reportIteration(p, k, rnorm);
    if (rnorm <= threshold) {
      // The updated residual drifts from b − A x in floating point: confirm, and
      // if it does not hold, carry on from the true residual (residual replacement).
      rnorm = residualInto(op, p.b, x, r);
      if (!Number.isFinite(rnorm)) return finish(p, x, k, "nonFinite");
      if (rnorm <= threshold) return finish(p, x, k, "converged", rnorm);
    }
    let rzNext = rnorm * rnorm;
    if (M !== null) {
      if (!M.apply(r, z)) return finish(p, x, k, "nonFinite");
      rzNext = dot(r, z);
      if (!(rzNext > 0)) return finish(p, x, k, rzNext - rzNext === 0 ? "breakdown" : "nonFinite");
    }
    const beta = rzNext / rz;
    rz = rzNext;
    for (let i = 0; i < n; i++) direction[i] = z[i] + beta * direction[i];
  }
  return finish(p, x, maxIter, "maxIter");
}
