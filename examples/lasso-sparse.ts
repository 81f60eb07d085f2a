/**
 * Example: differentiating a sparse solution, the lasso.
 *
 *   w(λ) = argmin_w ½·mean((Xw − y)²) + λ‖w‖₁
 *
 * The ℓ1 penalty makes w(λ) sparse, and the objective is not differentiable, so
 * "∇ = 0" is not the right condition. The proximal-gradient fixed point is:
 *
 *   w = S_{ηλ}(w − η ∇f(w)),   S_τ(v) = sign(v)·max(|v| − τ, 0)  (soft thresholding)
 *
 * which holds exactly at the lasso solution for any step η > 0. `proximalGradient`
 * (FISTA) solves the problem from the smooth part, written once with library ops,
 * and the prox `softThreshold`; its solution is differentiable in λ through that
 * fixed point, so dw/dλ comes out directly. On the support S (the nonzero
 * coefficients) the solution is w_S = (X_SᵀX_S/n)⁻¹(X_Sᵀy/n − λ sign(w_S)), so
 *
 *   dw_S/dλ = −(X_SᵀX_S/n)⁻¹ sign(w_S),   dw_j/dλ = 0 off the support,
 *
 * which the implicit derivative reproduces without being told what S is.
 *
 * Run: npx tsx examples/lasso-sparse.ts
 */
import { Tensor, tensor, zeros, mul, sub, mean, matmul, solve, jacobian, proximalGradient, softThreshold, type SolverResult } from "../lib/index.js";
import { seededNormal } from "./data/random.js";

export interface LassoData {
  X: Tensor;
  y: Tensor;
  trueWeights: number[];
}

/** 60 samples, 10 features, 3 of them informative, Gaussian noise (seeded). */
export function syntheticLassoData(seed = 7): LassoData {
  const normal = seededNormal(seed);
  const n = 60;
  const trueWeights = [2, 0, -1.5, 0, 0, 1, 0, 0, 0, 0];
  const rows = Array.from({ length: n }, () => trueWeights.map(() => normal()));
  const y = rows.map((r) => r.reduce((s, v, j) => s + v * trueWeights[j], 0) + 0.5 * normal());
  return { X: tensor(rows), y: tensor(y), trueWeights };
}

/**
 * w(λ) by accelerated proximal gradient on ½·mean((Xw − y)²) with the prox of
 * λ‖·‖₁ (soft thresholding at step·λ), to a gradient-mapping norm ≤ tol. λ is
 * an argument of the solve, so the result's x is differentiable in it.
 */
export function solveLasso(data: LassoData, lambda: Tensor | number, tol = 1e-12): SolverResult {
  const smooth = (w: Tensor) => mul(0.5, mean(sub(matmul(data.X, w), data.y).pow(2)));
  return proximalGradient(smooth, zeros([data.X.shape[1]]), {
    args: [lambda],
    prox: (v: Tensor, step: number, l: Tensor) => softThreshold(v, mul(step, l)),
    tol,
  });
}

export interface LassoSparseResult {
  lambda: number;
  weights: number[];
  support: number[];
  /** FISTA iterations of the solve at λ. */
  iterations: number;
  /** dw/dλ by forward mode and by reverse mode through the implicit function. */
  derivative: { forward: number[]; reverse: number[] };
  /** −(X_SᵀX_S/n)⁻¹ sign(w_S) on the support, 0 elsewhere. */
  closedForm: number[];
  maxAbsError: number;
}

export async function main(opts: { quiet?: boolean; lambda?: number } = {}): Promise<LassoSparseResult> {
  const print = opts.quiet ? () => {} : console.log;
  const lambda = opts.lambda ?? 0.3;
  const data = syntheticLassoData();
  const { X } = data;
  const [n, p] = X.shape;

  const solution = solveLasso(data, lambda);
  const w = solution.x.toFloat64Array();
  const support = Array.from(w.keys()).filter((j) => w[j] !== 0);

  // dw/dλ: one forward-mode column (λ is a scalar, so this is the whole Jacobian) ...
  const forwardJacobian: Tensor = jacobian((l: Tensor) => solveLasso(data, l).x, { mode: "fwd" })(tensor(lambda));
  const forward = Array.from(forwardJacobian.toFloat64Array());
  // ... and the same by reverse mode (one pullback per coefficient).
  const reverseJacobian: Tensor = jacobian((l: Tensor) => solveLasso(data, l).x, { mode: "rev" })(tensor(lambda));
  const reverse = Array.from(reverseJacobian.toFloat64Array());

  // The closed form on the support.
  const rows = X.toArray() as number[][];
  const XS = tensor(rows.map((r) => support.map((j) => r[j])));
  const onSupport = solve(matmul(XS.T, XS).div(n), tensor(support.map((j) => -Math.sign(w[j])))).toFloat64Array();
  const closedForm = new Array<number>(p).fill(0);
  support.forEach((j, k) => (closedForm[j] = onSupport[k]));
  const maxAbsError = Math.max(...closedForm.map((c, j) => Math.max(Math.abs(c - forward[j]), Math.abs(c - reverse[j]))));

  const row = (v: ArrayLike<number>) => Array.from(v, (x) => x.toFixed(6).padStart(10)).join("");
  print(`Lasso, n = ${n}, p = ${p}, λ = ${lambda}; proximalGradient (FISTA) converged in ${solution.iterations} iterations (gradient mapping ${solution.residualNorm.toExponential(1)})`);
  print(`support S = {${support.join(", ")}} (true nonzeros: 0, 2, 5)\n`);
  print(`w*               ${row(w)}`);
  print(`dw/dλ (forward)  ${row(forward)}`);
  print(`dw/dλ (reverse)  ${row(reverse)}`);
  print(`closed form      ${row(closedForm)}`);
  print(`\nmax |implicit − closed form| = ${maxAbsError.toExponential(2)}`);

  return { lambda, weights: Array.from(w), support, iterations: solution.iterations, derivative: { forward, reverse }, closedForm, maxAbsError };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
