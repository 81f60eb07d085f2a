/**
 * Restarted GMRES for general square A: the iteration of `gmres`
 * (lib/krylov/solvers.ts), which has done the setup and iteration 0.
 *
 * Saad & Schultz, "GMRES: a generalized minimal residual algorithm for solving
 * nonsymmetric linear systems", SIAM J. Sci. Stat. Comput. 7 (1986); Arnoldi by
 * modified Gram–Schmidt and the least-squares problem by Givens rotations as in
 * Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., Algorithms 6.9
 * and 9.5 (right preconditioning).
 */
import { dot, norm2, residualInto } from "./operator.js";
import { finish, reportIteration, singularityTolerance, type KrylovProblem, type KrylovResult } from "./result.js";

/**
 * GMRES(restart) from r = b − A x₀. Right preconditioning, A M⁻¹ u = b, keeps
 * the residual the rotations track that of the unpreconditioned system; each
 * cycle ends with the true residual, which decides convergence, and a cycle
 * that cannot lower it further (an invariant space, A singular on the space,
 * no progress) ends the iteration as a breakdown.
 */
export function gmresIteration(p: KrylovProblem, r: Float64Array, rnorm: number): KrylovResult {
  const { n, x, threshold, maxIter, M } = p;
  const op = p.A;
  // A cycle longer than n only adds rounding noise (the space has dimension ≤ n).
  const m = Math.min(p.restart, n, maxIter);
  const ld = m + 1;

  const basis: Float64Array[] = [];
  for (let i = 0; i <= m; i++) basis.push(new Float64Array(n));
  const H = new Float64Array(ld * m); // column j holds H[0..j+1, j]
  const cosines = new Float64Array(m);
  const sines = new Float64Array(m);
  const g = new Float64Array(ld);
  const coef = new Float64Array(m);
  const w = new Float64Array(n);
  const z = M === null ? null : new Float64Array(n);

  const dependence = singularityTolerance(p.tol);
  let operatorScale = 0;
  let total = 0;
  let exhausted = false;
  for (;;) {
    // rnorm is a true residual here: at the start and after every cycle.
    if (rnorm <= threshold) return finish(p, x, total, "converged", rnorm);
    if (exhausted) return finish(p, x, total, "breakdown", rnorm);
    if (total >= maxIter) return finish(p, x, total, "maxIter", rnorm);

    const v0 = basis[0];
    for (let i = 0; i < n; i++) v0[i] = r[i] / rnorm;
    g.fill(0);
    g[0] = rnorm;
    let k = 0;
    let invariant = false;
    for (let j = 0; j < m && total < maxIter; j++) {
      total++;
      let src = basis[j];
      if (z !== null && M !== null) {
        if (!M.apply(src, z)) return finish(p, x, total - 1, "nonFinite");
        src = z;
      }
      if (!op.apply(src, w)) return finish(p, x, total - 1, "nonFinite");
      const wNorm = norm2(w);
      const col = j * ld;
      for (let i = 0; i <= j; i++) {
        const vi = basis[i];
        const h = dot(w, vi);
        H[col + i] = h;
        for (let l = 0; l < n; l++) w[l] -= h * vi[l];
      }
      const hNext = norm2(w);
      for (let i = 0; i < j; i++) {
        const upper = H[col + i];
        const lower = H[col + i + 1];
        H[col + i] = cosines[i] * upper + sines[i] * lower;
        H[col + i + 1] = -sines[i] * upper + cosines[i] * lower;
      }
      const diag = H[col + j];
      const rho = Math.hypot(diag, hNext);
      // ρ is the part of A v outside the span of the earlier A vᵢ, so ρ ≥ σ_min(A)
      // for nonsingular A (A M⁻¹ when preconditioned) while ‖A‖ ≥ the largest ‖A v‖ seen. A ρ below θ·‖A‖
      // means A is singular on the Krylov space (b is not in its range): v's
      // coefficient would be rounding noise blown up, so the column is left out
      // and the space counts as exhausted.
      if (wNorm > operatorScale) operatorScale = wNorm;
      if (rho <= dependence * operatorScale) {
        reportIteration(p, total, Math.abs(g[j]));
        invariant = true;
        break;
      }
      const c = diag / rho;
      const s = hNext / rho;
      cosines[j] = c;
      sines[j] = s;
      H[col + j] = c * diag + s * hNext;
      g[j + 1] = -s * g[j];
      g[j] = c * g[j];
      k = j + 1;
      const estimate = Math.abs(g[j + 1]);
      if (!Number.isFinite(estimate)) return finish(p, x, total, "nonFinite");
      reportIteration(p, total, estimate);
      // What is left after orthogonalisation is rounding noise: A·v lies in the basis.
      if (hNext <= 4 * (j + 1) * Number.EPSILON * wNorm) {
        invariant = true;
        break;
      }
      const next = basis[j + 1];
      const inv = 1 / hNext;
      for (let l = 0; l < n; l++) next[l] = w[l] * inv;
      if (estimate <= threshold) break;
    }

    // Back substitution R y = g over the k columns kept (every pivot is a ρ above).
    for (let i = k - 1; i >= 0; i--) {
      let s = g[i];
      for (let l = i + 1; l < k; l++) s -= H[l * ld + i] * coef[l];
      coef[i] = s / H[i * ld + i];
    }
    w.fill(0);
    for (let i = 0; i < k; i++) {
      const vi = basis[i];
      const yi = coef[i];
      for (let l = 0; l < n; l++) w[l] += yi * vi[l];
    }
    if (z !== null && M !== null) {
      if (!M.apply(w, z)) return finish(p, x, total, "nonFinite");
      for (let l = 0; l < n; l++) x[l] += z[l];
    } else {
      for (let l = 0; l < n; l++) x[l] += w[l];
    }
    const previous = rnorm;
    rnorm = residualInto(op, p.b, x, r);
    if (!Number.isFinite(rnorm)) return finish(p, x, total, "nonFinite");
    // The next cycle would rebuild the same invariant space from a residual this
    // one barely lowered: call it a breakdown instead of spinning to maxIter.
    // A cycle that did not lower the residual at all (beyond rounding) leaves the
    // next one the same residual, hence the same space and the same outcome: it
    // would stagnate until maxIter (GMRES(1) on a rotation); that is a breakdown too.
    exhausted = (invariant && !(rnorm < 0.5 * previous)) || !(rnorm < previous * (1 - 16 * Number.EPSILON));
  }
}
