/**
 * LSQR for least squares and (rectangular, rank-deficient) linear systems.
 *
 * Paige & Saunders, "LSQR: An algorithm for sparse linear equations and sparse
 * least squares", ACM Trans. Math. Softw. 8 (1982): Golub–Kahan
 * bidiagonalisation of A and a QR factorisation of the bidiagonal by Givens
 * rotations, with their estimates of ‖r‖, ‖Aᵀr‖ and ‖A‖.
 */
import { norm2, residualInto, guarded, type OperatorLike } from "./operator.js";
import { prepare, reportIteration, toOutput, type KrylovProblem, type KrylovStatus, type LsqrOptions, type LsqrResult, type VectorLike } from "./result.js";

/**
 * Minimises ‖b − A x‖ for A of shape [m, n] (any m, n, any rank); needs Aᵀ v,
 * so A is a dense matrix or a LinearOperator with `rmatvec`. From x0 = 0 the
 * iterates stay in range(Aᵀ), so a rank-deficient problem gets the minimum-norm
 * least-squares solution (from x0 ≠ 0: x0 plus the minimum-norm correction).
 *
 * Stops when ‖b − A x‖ ≤ max(tol·‖b‖, atol) (a consistent system is solved) or
 * ‖Aᵀ(b − A x)‖ ≤ tol·‖A‖·‖b − A x‖ (x is a least-squares solution), where ‖A‖
 * is Paige and Saunders' running estimate (a lower bound on the Frobenius
 * norm). The estimates steer the iteration; the true residuals decide
 * `converged` and are reported as `residualNorm` and `normalResidualNorm`.
 * Cost per iteration: one product with A, one with Aᵀ, ~10(m+n) flops.
 */
export function lsqr(A: OperatorLike, b: VectorLike, opts?: LsqrOptions): LsqrResult {
  return guarded("lsqr", () => solveLsqr(A, b, opts));
}

function solveLsqr(A: OperatorLike, b: VectorLike, opts?: LsqrOptions): LsqrResult {
  const p = prepare("lsqr", A, b, opts, { square: false, transpose: true, preconditioner: false, restart: false });
  const { m, n, x, threshold, maxIter, tol } = p;
  const op = p.A;
  const applyTranspose = op.applyTranspose!;
  const r = new Float64Array(m);
  const Atr = new Float64Array(n);
  let anorm = 0;

  /** True ‖r‖ and ‖Aᵀr‖ of x, and whether either stopping rule holds for them. */
  const check = (): { rnorm: number; arnorm: number; ok: boolean } => {
    const rnorm = residualInto(op, p.b, x, r);
    const arnorm = Number.isFinite(rnorm) && applyTranspose(r, Atr) ? norm2(Atr) : NaN;
    return { rnorm, arnorm, ok: rnorm <= threshold || arnorm <= tol * anorm * rnorm };
  };
  const done = (iterations: number, status: KrylovStatus, known?: { rnorm: number; arnorm: number; ok: boolean }): LsqrResult =>
    lsqrResult(p, x, iterations, status, status === "nonFinite" ? undefined : (known ?? check()));

  if (!Number.isFinite(p.bNorm)) return done(0, "nonFinite");
  if (p.bNorm === 0) {
    x.fill(0);
    if (p.history !== null) p.history.push(0);
    return lsqrResult(p, x, 0, "converged", { rnorm: 0, arnorm: 0, ok: true });
  }

  // Bidiagonalisation of the correction problem min ‖r0 − A dx‖, x = x0 + dx.
  const u = new Float64Array(m);
  const Av = new Float64Array(m);
  let beta: number;
  if (p.x0Given) beta = residualInto(op, p.b, x, u);
  else {
    u.set(p.b);
    beta = p.bNorm;
  }
  if (!Number.isFinite(beta)) return done(0, "nonFinite");
  reportIteration(p, 0, beta);
  if (beta <= threshold) return done(0, "converged");
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
      const state = check();
      if (!Number.isFinite(state.rnorm) || !Number.isFinite(state.arnorm)) return done(k, "nonFinite");
      if (state.ok) return done(k, "converged", state);
    }
    // The bidiagonalisation has ended: nothing further can be gained.
    if (beta === 0 || alpha === 0) return done(k, "breakdown");
  }
  return done(maxIter, "maxIter");
}

function lsqrResult(p: KrylovProblem, x: Float64Array, iterations: number, status: KrylovStatus, state?: { rnorm: number; arnorm: number; ok: boolean }): LsqrResult {
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
