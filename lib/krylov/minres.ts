/**
 * MINRES for symmetric (possibly indefinite or singular) A: the iteration of
 * `minres` (lib/krylov/solvers.ts), which has done the setup and iteration 0.
 *
 * Paige & Saunders, "Solution of sparse indefinite systems of linear
 * equations", SIAM J. Numer. Anal. 12 (1975). The recurrences follow the
 * authors' published MINRES code: Lanczos tridiagonalisation of the
 * (preconditioned) operator, a QR factorisation of the tridiagonal by Givens
 * rotations, and the short recurrence for the search directions w.
 */
import { dot, normFromSquares } from "./operator.js";
import { confirm, finish, singularityTolerance, type KrylovProblem, type KrylovResult } from "./result.js";

/**
 * MINRES from r = b − A x₀. Besides the Lanczos vectors it carries A·w
 * alongside each direction w, so the unpreconditioned residual b − A x is
 * updated as x is (no extra product) and the stopping rule is tested on it,
 * then confirmed on the true residual. The least-squares test ‖A r‖ ≤
 * θ·‖A‖·‖r‖ uses Paige and Saunders' estimates, θ = singularityTolerance(tol).
 */
export function minresIteration(p: KrylovProblem, r: Float64Array): KrylovResult {
  const { n, x, maxIter, M } = p;
  const op = p.A;

  // Lanczos vectors: r1, r2 are the last two unpreconditioned ones, y = M⁻¹ r2.
  let r1 = Float64Array.from(r);
  let r2 = Float64Array.from(r);
  let y = new Float64Array(n);
  if (M === null) y.set(r);
  else if (!M.apply(r, y)) return finish(p, x, 0, "nonFinite");
  const beta1Squared = dot(r, y);
  if (!(beta1Squared > 0)) return finish(p, x, 0, beta1Squared - beta1Squared === 0 ? "breakdown" : "nonFinite");

  const v = new Float64Array(n);
  const Av = new Float64Array(n);
  let w = new Float64Array(n);
  let w1 = new Float64Array(n);
  let w2 = new Float64Array(n);
  let Aw = new Float64Array(n);
  let Aw1 = new Float64Array(n);
  let Aw2 = new Float64Array(n);

  let beta = Math.sqrt(beta1Squared);
  let oldBeta = 0;
  let dbar = 0;
  let epsilon = 0;
  let phibar = beta;
  let cs = -1;
  let sn = 0;
  // ‖T‖_F² of the Lanczos tridiagonal so far: the scale of A for the singularity test.
  let tSquared = 0;
  const lsTolerance = singularityTolerance(p.tol);

  for (let k = 1; k <= maxIter; k++) {
    const scale = 1 / beta;
    for (let i = 0; i < n; i++) v[i] = scale * y[i];
    if (!op.apply(v, Av)) return finish(p, x, k - 1, "nonFinite");
    // Three-term Lanczos recurrence y = A v − (β/β_old) r1 − (α/β) r2.
    const back = k >= 2 ? beta / oldBeta : 0;
    for (let i = 0; i < n; i++) y[i] = Av[i] - back * r1[i];
    const alpha = dot(v, y);
    const along = alpha / beta;
    for (let i = 0; i < n; i++) y[i] -= along * r2[i];
    const recycled = r1;
    r1 = r2;
    r2 = y;
    y = recycled;
    if (M === null) y.set(r2);
    else if (!M.apply(r2, y)) return finish(p, x, k - 1, "nonFinite");
    oldBeta = beta;
    const betaSquared = dot(r2, y);
    // Negative only when M is not positive definite (or A not symmetric).
    if (!(betaSquared >= 0)) return finish(p, x, k - 1, betaSquared - betaSquared === 0 ? "breakdown" : "nonFinite");
    beta = Math.sqrt(betaSquared);

    // Apply the previous rotation, then compute the one that annihilates β.
    const oldEpsilon = epsilon;
    const delta = cs * dbar + sn * alpha;
    const gbar = sn * dbar - cs * alpha;
    epsilon = sn * beta;
    dbar = -cs * beta;
    tSquared += alpha * alpha + oldBeta * oldBeta + beta * beta;
    const tNorm = Math.sqrt(tSquared);
    // ‖A r‖ of the current x is φ̄·hypot(γ̄, δ̄) (Paige–Saunders' Arnorm). When it is
    // below θ·‖A‖·‖r‖, x is a least-squares solution: b is not in range(A) and
    // the next rotation would divide by a γ made of rounding errors. For
    // consistent systems ‖A r‖ ≥ σ_min‖r‖, so this needs cond(A) ≳ 1/θ.
    if (Math.hypot(gbar, dbar) <= lsTolerance * tNorm) return finish(p, x, k - 1, "breakdown");
    const gamma = Math.hypot(gbar, beta);
    if (gamma <= 10 * Number.EPSILON * tNorm) return finish(p, x, k - 1, "breakdown");
    cs = gbar / gamma;
    sn = beta / gamma;
    const phi = cs * phibar;
    phibar = sn * phibar;

    // w = (v − ε w1 − δ w2)/γ with (w1, w2) ← (w2, w); the same for A w from A v.
    let t = w1;
    w1 = w2;
    w2 = w;
    w = t;
    t = Aw1;
    Aw1 = Aw2;
    Aw2 = Aw;
    Aw = t;
    const inv = 1 / gamma;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const wi = (v[i] - oldEpsilon * w1[i] - delta * w2[i]) * inv;
      w[i] = wi;
      x[i] += phi * wi;
      const Awi = (Av[i] - oldEpsilon * Aw1[i] - delta * Aw2[i]) * inv;
      Aw[i] = Awi;
      const ri = r[i] - phi * Awi;
      r[i] = ri;
      squares += ri * ri;
    }
    const next = confirm(p, k, x, r, normFromSquares(r, squares));
    if (typeof next !== "number") return next;
    // β = 0: the Krylov space is invariant and x is the best it holds.
    if (beta === 0) return finish(p, x, k, "breakdown");
  }
  return finish(p, x, maxIter, "maxIter");
}
