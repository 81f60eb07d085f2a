/**
 * LSQR for least squares and (rectangular, rank-deficient) linear systems: the
 * iteration of `lsqr` (lib/krylov/solvers.ts), which has done the setup and
 * iteration 0.
 *
 * Paige & Saunders, "LSQR: An algorithm for sparse linear equations and sparse
 * least squares", ACM Trans. Math. Softw. 8 (1982): Golub–Kahan
 * bidiagonalisation of A and a QR factorisation of the bidiagonal by Givens
 * rotations, with their estimates of ‖r‖, ‖Aᵀr‖ and ‖A‖.
 */
import { norm2, residualInto } from "./operator.js";
import { reportIteration, toOutput, type KrylovProblem, type KrylovStatus, type LsqrResult } from "./result.js";

/**
 * LSQR from r = b − A x₀ (the correction problem min ‖r₀ − A dx‖, x = x₀ + dx).
 * Paige and Saunders' estimates of ‖r‖, ‖Aᵀr‖ and ‖A‖ steer the iteration;
 * the true residuals of x decide `converged` (either rule: ‖r‖ ≤ threshold, or
 * ‖Aᵀr‖ ≤ tol·‖A‖·‖r‖ with ‖A‖ the running estimate) and are reported.
 */
export function lsqrIteration(p: KrylovProblem, u: Float64Array, beta: number): LsqrResult {
  const { m, n, x, threshold, maxIter, tol } = p;
  const op = p.A;
  const applyTranspose = op.applyTranspose!;
  const r = new Float64Array(m);
  const Atr = new Float64Array(n);
  let anorm = 0;
  const done = (iterations: number, status: KrylovStatus, known?: TrueResiduals): LsqrResult =>
    lsqrResult(p, x, iterations, status, status === "nonFinite" ? undefined : (known ?? trueResiduals(p, x, r, Atr, anorm)));

  // Golub–Kahan bidiagonalisation, started from u = r₀/β.
  const Av = new Float64Array(m);
  for (let i = 0; i < m; i++) u[i] /= beta;
  const v = new Float64Array(n);
  const Atu = new Float64Array(n);
  if (!applyTranspose(u, v)) return done(0, "nonFinite");
  let alpha = norm2(v);
  // Aᵀ r0 = 0: x0 already is a least-squares solution (the check confirms it).
  if (alpha === 0) return done(0, "breakdown");
  for (let i = 0; i < n; i++) v[i] /= alpha;
  const w = Float64Array.from(v);
  let phibar = beta;
  let rhobar = alpha;

  for (let k = 1; k <= maxIter; k++) {
    if (!op.apply(v, Av)) return done(k - 1, "nonFinite");
    for (let i = 0; i < m; i++) u[i] = Av[i] - alpha * u[i];
    beta = norm2(u);
    if (!Number.isFinite(beta)) return done(k - 1, "nonFinite");
    anorm = Math.sqrt(anorm * anorm + alpha * alpha + beta * beta);
    if (beta > 0) {
      for (let i = 0; i < m; i++) u[i] /= beta;
      if (!applyTranspose(u, Atu)) return done(k - 1, "nonFinite");
      for (let i = 0; i < n; i++) v[i] = Atu[i] - beta * v[i];
      alpha = norm2(v);
      if (!Number.isFinite(alpha)) return done(k - 1, "nonFinite");
      if (alpha > 0) for (let i = 0; i < n; i++) v[i] /= alpha;
    }
    const rho = Math.hypot(rhobar, beta);
    if (rho === 0) return done(k - 1, "breakdown");
    const c = rhobar / rho;
    const s = beta / rho;
    const theta = s * alpha;
    rhobar = -c * alpha;
    const phi = c * phibar;
    phibar = s * phibar;
    const step = phi / rho;
    const turn = theta / rho;
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      x[i] += step * wi;
      w[i] = v[i] - turn * wi;
    }
    const rnormEstimate = phibar;
    const arnormEstimate = phibar * alpha * Math.abs(c);
    reportIteration(p, k, rnormEstimate);
    if (rnormEstimate <= threshold || arnormEstimate <= tol * anorm * rnormEstimate) {
      const state = trueResiduals(p, x, r, Atr, anorm);
      if (!Number.isFinite(state.rnorm) || !Number.isFinite(state.arnorm)) return done(k, "nonFinite");
      if (state.ok) return done(k, "converged", state);
    }
    // The bidiagonalisation has ended: nothing further can be gained.
    if (beta === 0 || alpha === 0) return done(k, "breakdown");
  }
  return done(maxIter, "maxIter");
}

/** True ‖r‖ and ‖Aᵀr‖ of an x, and whether either stopping rule holds for them. */
interface TrueResiduals {
  rnorm: number;
  arnorm: number;
  ok: boolean;
}

/** The true residuals of x (r and Atr are work vectors), judged with the running estimate `anorm` of ‖A‖. */
function trueResiduals(p: KrylovProblem, x: Float64Array, r: Float64Array, Atr: Float64Array, anorm: number): TrueResiduals {
  const rnorm = residualInto(p.A, p.b, x, r);
  const arnorm = Number.isFinite(rnorm) && p.A.applyTranspose!(r, Atr) ? norm2(Atr) : NaN;
  return { rnorm, arnorm, ok: rnorm <= p.threshold || arnorm <= p.tol * anorm * rnorm };
}

/**
 * lsqr's result before any iteration (`Finish` of the shared setup): b = 0
 * has x = 0 with both residuals 0; otherwise the true residuals of x₀ decide.
 */
export function lsqrFinish(p: KrylovProblem, x: Float64Array, iterations: number, status: KrylovStatus): LsqrResult {
  if (status === "nonFinite") return lsqrResult(p, x, iterations, status);
  if (p.bNorm === 0) return lsqrResult(p, x, iterations, status, { rnorm: 0, arnorm: 0, ok: true });
  return lsqrResult(p, x, iterations, status, trueResiduals(p, x, new Float64Array(p.m), new Float64Array(p.n), 0));
}

function lsqrResult(p: KrylovProblem, x: Float64Array, iterations: number, status: KrylovStatus, state?: TrueResiduals): LsqrResult {
  let rnorm = NaN;
  let arnorm = NaN;
  if (state !== undefined) {
    if (!Number.isFinite(state.rnorm) || !Number.isFinite(state.arnorm)) status = "nonFinite";
    else {
      rnorm = state.rnorm;
      arnorm = state.arnorm;
      if (state.ok) status = "converged";
      else if (status === "converged") status = "maxIter";
    }
  }
  const result: LsqrResult = { x: toOutput(x, p.dtype), iterations, residualNorm: rnorm, normalResidualNorm: arnorm, converged: status === "converged", status };
  if (p.history !== null) result.residualHistory = p.history;
  return result;
}
