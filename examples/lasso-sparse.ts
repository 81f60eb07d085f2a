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
 * which holds exactly at the lasso solution for any step η > 0. We solve the
 * problem with FISTA in plain code, hand that fixed point to `ImplicitFunction`
 * via `lassoConditions`, and get dw/dλ. On the support S (the nonzero
 * coefficients) the solution is w_S = (X_SᵀX_S/n)⁻¹(X_Sᵀy/n − λ sign(w_S)), so
 *
 *   dw_S/dλ = −(X_SᵀX_S/n)⁻¹ sign(w_S),   dw_j/dλ = 0 off the support,
 *
 * which the implicit derivative reproduces without being told what S is.
 *
 * Run: npx tsx examples/lasso-sparse.ts
 */
import { ImplicitFunction, Tensor, tensor, mul, sub, mean, matmul, solve, jacobian, lassoConditions } from "../lib/index.js";
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

/** The largest eigenvalue of XᵀX/n by power iteration: the Lipschitz constant of ∇f. */
function lipschitzConstant(gram: Float64Array, p: number): number {
  let v = new Float64Array(p).fill(1 / Math.sqrt(p));
  let estimate = 0;
  for (let it = 0; it < 500; it++) {
    const next = new Float64Array(p);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) next[i] += gram[i * p + j] * v[j];
    const size = Math.hypot(...next);
    v = next.map((x) => x / size);
    if (Math.abs(size - estimate) <= 1e-14 * size) return size;
    estimate = size;
  }
  return estimate;
}

/** FISTA (Beck & Teboulle 2009) with adaptive restart (O'Donoghue & Candès 2015), on plain arrays. */
export function fista(gram: Float64Array, correlation: Float64Array, lambda: number, stepSize: number): { w: Float64Array; iterations: number } {
  const p = correlation.length;
  let w = new Float64Array(p);
  let momentum = new Float64Array(p);
  let t = 1;
  for (let iterations = 1; iterations <= 100000; iterations++) {
    const next = new Float64Array(p);
    let change = 0;
    for (let i = 0; i < p; i++) {
      let g = -correlation[i];
      for (let j = 0; j < p; j++) g += gram[i * p + j] * momentum[j];
      const v = momentum[i] - stepSize * g;
      next[i] = Math.sign(v) * Math.max(Math.abs(v) - stepSize * lambda, 0);
      change = Math.max(change, Math.abs(next[i] - w[i]));
    }
    if (change <= 1e-14) return { w: next, iterations };
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    // Restart the momentum when it points uphill (the step and the last move disagree).
    let uphill = 0;
    for (let i = 0; i < p; i++) uphill += (momentum[i] - next[i]) * (next[i] - w[i]);
    const beta = uphill > 0 ? 0 : (t - 1) / tNext;
    t = uphill > 0 ? 1 : tNext;
    momentum = next.map((v, i) => v + beta * (v - w[i]));
    w = next;
  }
  return { w, iterations: 100000 };
}

export interface LassoSparseResult {
  lambda: number;
  weights: number[];
  support: number[];
  fistaIterations: number;
  /** dw/dλ by forward mode and by reverse mode through the implicit function. */
  derivative: { forward: number[]; reverse: number[] };
  /** −(X_SᵀX_S/n)⁻¹ sign(w_S) on the support, 0 elsewhere. */
  closedForm: number[];
  maxAbsError: number;
  solver: string;
}

export async function main(opts: { quiet?: boolean; lambda?: number } = {}): Promise<LassoSparseResult> {
  const print = opts.quiet ? () => {} : console.log;
  const lambda = opts.lambda ?? 0.3;
  const { X, y } = syntheticLassoData();
  const [n, p] = X.shape;

  // The smooth part f(w) = ½·mean((Xw − y)²) and what FISTA needs of it.
  const smooth = (_lambda: Tensor | number, w: Tensor) => mul(0.5, mean(sub(matmul(X, w), y).pow(2)));
  const gram = matmul(X.T, X).div(n).toFloat64Array();
  const correlation = matmul(X.T, y).div(n).toFloat64Array();
  const stepSize = 1 / lipschitzConstant(gram, p);

  let fistaIterations = 0;
  const lasso = new ImplicitFunction({
    forward: (l: Tensor | number) => {
      const { w, iterations } = fista(gram, correlation, typeof l === "number" ? l : l.item(), stepSize);
      fistaIterations = iterations;
      return tensor(w);
    },
    // F(λ, w) = S_{ηλ}(w − η∇f(w)) − w, with λ the input at index 0.
    ...lassoConditions(smooth, stepSize, 0),
    strict: true,
    strictTol: 1e-9,
    name: "lasso",
  });

  const w = lasso.call(lambda).toFloat64Array();
  const support = Array.from(w.keys()).filter((j) => w[j] !== 0);

  // dw/dλ: one forward-mode column (λ is a scalar, so this is the whole Jacobian) ...
  const forwardJacobian: Tensor = jacobian((l: Tensor) => lasso.call(l), { mode: "fwd" })(tensor(lambda));
  const forward = Array.from(forwardJacobian.toFloat64Array());
  // ... and the same by reverse mode (one pullback per coefficient).
  const reverseJacobian: Tensor = jacobian((l: Tensor) => lasso.call(l), { mode: "rev" })(tensor(lambda));
  const reverse = Array.from(reverseJacobian.toFloat64Array());

  // The closed form on the support.
  const rows = X.toArray() as number[][];
  const XS = tensor(rows.map((r) => support.map((j) => r[j])));
  const onSupport = solve(matmul(XS.T, XS).div(n), tensor(support.map((j) => -Math.sign(w[j])))).toFloat64Array();
  const closedForm = new Array<number>(p).fill(0);
  support.forEach((j, k) => (closedForm[j] = onSupport[k]));
  const maxAbsError = Math.max(...closedForm.map((c, j) => Math.max(Math.abs(c - forward[j]), Math.abs(c - reverse[j]))));

  const row = (v: ArrayLike<number>) => Array.from(v, (x) => x.toFixed(6).padStart(10)).join("");
  print(`Lasso, n = ${n}, p = ${p}, λ = ${lambda}, step η = 1/L = ${stepSize.toFixed(4)}; FISTA converged in ${fistaIterations} iterations`);
  print(`support S = {${support.join(", ")}} (true nonzeros: 0, 2, 5)\n`);
  print(`w*               ${row(w)}`);
  print(`dw/dλ (forward)  ${row(forward)}`);
  print(`dw/dλ (reverse)  ${row(reverse)}`);
  print(`closed form      ${row(closedForm)}`);
  print(`\nmax |implicit − closed form| = ${maxAbsError.toExponential(2)}; linear solver: ${lasso.lastSolve?.solver}`);

  return { lambda, weights: Array.from(w), support, fistaIterations, derivative: { forward, reverse }, closedForm, maxAbsError, solver: lasso.lastSolve?.solver ?? "none" };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
