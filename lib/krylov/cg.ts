/**
 * Conjugate gradients for symmetric positive definite A: the iteration of `cg`
 * (lib/krylov/solvers.ts), which has done the setup and iteration 0.
 *
 * Hestenes & Stiefel, "Methods of conjugate gradients for solving linear
 * systems", J. Res. NBS 49 (1952); the preconditioned form is Saad, "Iterative
 * Methods for Sparse Linear Systems", 2nd ed. (2003), Algorithm 9.1.
 */
import { dot, normFromSquares } from "./operator.js";
import { confirm, finish, type KrylovProblem, type KrylovResult } from "./result.js";

/**
 * CG from r = b − A x₀. A curvature pᵀAp ≤ 0 (A indefinite or singular) or
 * rᵀM⁻¹r ≤ 0 (M not positive definite) ends it with status "breakdown"; the
 * updated residual is confirmed on the true one, and replaced by it when it
 * has drifted.
 */
export function cgIteration(p: KrylovProblem, r: Float64Array, rnorm: number): KrylovResult {
  const { n, x, maxIter, M } = p;
  const op = p.A;

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
    const next = confirm(p, k, x, r, normFromSquares(r, squares));
    if (typeof next !== "number") return next;
    rnorm = next;
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
