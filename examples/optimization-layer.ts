/**
 * Example: a quadratic program as a differentiable layer.
 *
 * A long-only portfolio: given expected returns θ ∈ R⁴ and a risk aversion γ,
 *
 *   z*(θ, γ) = argmin_z ½γ·zᵀΣz − θᵀz   subject to   1ᵀz = 1,  z ≥ 0.
 *
 * (Q = γΣ and q = −θ depend on the layer's inputs; A = 1ᵀ, b = 1; G = −I, h = 0.)
 * The forward pass solves the QP exactly by enumerating active sets, which is
 * fine for four variables and is plain code. The backward pass uses the KKT
 * conditions (`kktConditions`) in the unknown y = (z, ν, μ):
 *
 *   Qz + q + ν·1 − μ = 0,   1ᵀz − 1 = 0,   μ ⊙ (−z) = 0,
 *
 * whose Jacobian in y is nonsingular at a strictly complementary solution (each
 * asset held has z > 0, each asset dropped has μ > 0). Assets at zero then have
 * zero derivative, and the others move along the budget constraint.
 *
 * The layer sits inside a loss, the distance of the portfolio to a target
 * allocation, and we fit θ by gradient descent. At the start asset 2 is dropped
 * (z₂ = 0, μ₂ > 0), so the loss has zero derivative in θ₂; the other returns
 * move instead, the budget multiplier ν follows, and asset 2 re-enters the
 * portfolio after a few steps (the active set changes, the layer does not care).
 *
 * Run: npx tsx examples/optimization-layer.ts
 */
import {
  ImplicitFunction, Tensor, tensor, add, mul, sub, sum, matmul, reshape, neg, grad, valueAndGrad, checkGrad, kktConditions, packKKT, unpackKKT,
} from "../lib/index.js";
import { seededNormal } from "./data/random.js";

export const ASSETS = 4;
const SIZES = { primal: ASSETS, equality: 1, inequality: ASSETS };

/** A seeded covariance Σ = BBᵀ/4 + 0.05·I. */
export function covariance(seed = 4): Tensor {
  const normal = seededNormal(seed);
  const B = tensor(Array.from({ length: ASSETS }, () => Array.from({ length: ASSETS }, () => normal())));
  return add(matmul(B, B.T).div(ASSETS), mul(0.05, tensor(Array.from({ length: ASSETS }, (_, i) => Array.from({ length: ASSETS }, (_, j) => (i === j ? 1 : 0))))));
}

/** Solves the n×n system M x = r by Gaussian elimination with partial pivoting (plain arrays). */
function gaussSolve(M: number[][], r: number[]): number[] | null {
  const n = r.length;
  const a = M.map((row, i) => [...row, r[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(a[i][c]) > Math.abs(a[pivot][c])) pivot = i;
    if (Math.abs(a[pivot][c]) < 1e-14) return null;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    for (let i = c + 1; i < n; i++) {
      const factor = a[i][c] / a[c][c];
      for (let k = c; k <= n; k++) a[i][k] -= factor * a[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = a[i][n];
    for (let k = i + 1; k < n; k++) s -= a[i][k] * x[k];
    x[i] = s / a[i][i];
  }
  return x;
}

/**
 * The exact QP solution by active-set enumeration: for every set D of assets
 * forced to zero, solve the equality-constrained QP on the others (a KKT
 * linear system) and keep the one that is primal and dual feasible. Strict
 * convexity makes it unique. Returns z, ν, μ packed, and the dropped assets.
 */
export function solvePortfolioQP(Sigma: number[][], theta: number[], gamma: number): { z: number[]; nu: number; mu: number[]; dropped: number[] } {
  for (let mask = 0; mask < 1 << ASSETS; mask++) {
    const held = Array.from({ length: ASSETS }, (_, i) => i).filter((i) => !(mask & (1 << i)));
    if (held.length === 0) continue;
    // [γΣ_HH 1; 1ᵀ 0] [z_H; ν] = [θ_H; 1]
    const K = held.map((i) => [...held.map((j) => gamma * Sigma[i][j]), 1]);
    K.push([...held.map(() => 1), 0]);
    const solution = gaussSolve(K, [...held.map((i) => theta[i]), 1]);
    if (solution === null) continue;
    const z = new Array<number>(ASSETS).fill(0);
    held.forEach((i, k) => (z[i] = solution[k]));
    const nu = solution[held.length];
    // μ = Qz + q + ν·1, zero on held assets by construction.
    const mu = z.map((_, i) => (held.includes(i) ? 0 : gamma * Sigma[i].reduce((s, v, j) => s + v * z[j], 0) - theta[i] + nu));
    if (z.every((v) => v >= -1e-12) && mu.every((v) => v >= -1e-12)) {
      return { z: z.map((v) => Math.max(v, 0)), nu, mu: mu.map((v) => Math.max(v, 0)), dropped: Array.from({ length: ASSETS }, (_, i) => i).filter((i) => !held.includes(i)) };
    }
  }
  throw new Error("solvePortfolioQP: no feasible active set (is Σ positive definite and γ > 0?)");
}

/** The QP layer: (θ, γ) ↦ y = (z, ν, μ), differentiable through the KKT conditions. */
export function portfolioLayer(Sigma: Tensor): ImplicitFunction {
  const SigmaRows = Sigma.toArray() as number[][];
  return new ImplicitFunction({
    forward: (theta: Tensor, gamma: Tensor | number) => {
      const { z, nu, mu } = solvePortfolioQP(SigmaRows, Array.from(theta.toFloat64Array()), typeof gamma === "number" ? gamma : gamma.item());
      return packKKT(tensor(z), tensor([nu]), tensor(mu));
    },
    ...kktConditions({
      objective: (theta: Tensor, gamma: Tensor | number, z: Tensor) => sub(mul(mul(0.5, gamma), sum(mul(z, matmul(Sigma, z)))), sum(mul(theta, z))),
      equality: (_theta: Tensor, _gamma: Tensor | number, z: Tensor) => reshape(sub(sum(z), 1), [1]),
      inequality: (_theta: Tensor, _gamma: Tensor | number, z: Tensor) => neg(z),
      sizes: SIZES,
    }),
    strict: true,
    strictTol: 1e-10,
    name: "portfolioQP",
  });
}

export interface OptimizationLayerResult {
  allocation: number[];
  dropped: number[];
  multipliers: { nu: number; mu: number[] };
  /** dLoss/dθ and dLoss/dγ at the start, and the checkGrad comparison with finite differences. */
  gradient: { theta: number[]; gamma: number };
  check: { ok: boolean; maxError: number };
  /** Tracking loss per gradient step on θ (index 0: at the start). */
  losses: number[];
  finalAllocation: number[];
  solver: string;
}

export async function main(opts: { quiet?: boolean; steps?: number; learningRate?: number } = {}): Promise<OptimizationLayerResult> {
  const print = opts.quiet ? () => {} : console.log;
  const steps = opts.steps ?? 60;
  const learningRate = opts.learningRate ?? 0.01;
  const Sigma = covariance();
  const layer = portfolioLayer(Sigma);
  const target = tensor([0.4, 0.3, 0.2, 0.1]);

  /** The portfolio as a function of (θ, γ): the primal part of the layer's output. */
  const portfolio = (theta: Tensor, gamma: Tensor | number) => unpackKKT(layer.call(theta, gamma), SIZES).primal;
  const trackingLoss = (theta: Tensor, gamma: Tensor | number) => sum(sub(portfolio(theta, gamma), target).pow(2));

  let theta = tensor([0.15, 0.1, 0, 0.08]);
  const gamma = tensor(1.5);
  const { z, nu, mu, dropped } = solvePortfolioQP(Sigma.toArray() as number[][], Array.from(theta.toFloat64Array()), gamma.item());
  print(`Portfolio QP (4 assets, long-only, fully invested), θ = [${Array.from(theta.toFloat64Array()).join(", ")}], γ = ${gamma.item()}`);
  print(`z* = [${z.map((v) => v.toFixed(6)).join(", ")}], dropped assets {${dropped.join(", ")}}, ν = ${nu.toFixed(6)}, μ = [${mu.map((v) => v.toFixed(6)).join(", ")}]`);

  // The derivative through the layer, checked against central differences of
  // the exact solver (checkGrad compares reverse mode, forward mode and FD).
  const [gTheta, gGamma] = grad(trackingLoss, { argnums: [0, 1] })(theta, gamma) as Tensor[];
  const check = checkGrad(trackingLoss, [theta, gamma], { richardson: true, rtol: 1e-6 });
  print(`\ndLoss/dθ = [${Array.from(gTheta.toFloat64Array(), (v) => v.toFixed(8)).join(", ")}]  dLoss/dγ = ${gGamma.item().toFixed(8)}`);
  print(check.report);
  print(`KKT linear solve: ${layer.lastSolve?.solver}, residual ${layer.lastSolve?.residualNorm.toExponential(1)}`);

  // Fit θ so that the optimal portfolio approaches the target allocation.
  const lossAndGradient = valueAndGrad((t: Tensor) => trackingLoss(t, gamma));
  const losses: number[] = [];
  print(`\nfitting θ so that z*(θ) ≈ target [${Array.from(target.toFloat64Array()).join(", ")}]:`);
  for (let step = 0; step <= steps; step++) {
    const [loss, g] = lossAndGradient(theta);
    losses.push(loss.item());
    if (step % 10 === 0 || step === steps) print(`step ${String(step).padStart(2)}  loss ${loss.item().toExponential(4)}  z* = [${Array.from(portfolio(theta, gamma).toFloat64Array(), (v) => v.toFixed(4)).join(", ")}]`);
    if (step < steps) theta = sub(theta, mul(learningRate, g as Tensor));
  }
  const finalAllocation = Array.from(portfolio(theta, gamma).toFloat64Array());

  return {
    allocation: z,
    dropped,
    multipliers: { nu, mu },
    gradient: { theta: Array.from(gTheta.toFloat64Array()), gamma: gGamma.item() },
    check: { ok: check.ok, maxError: check.maxError },
    losses,
    finalAllocation,
    solver: layer.lastSolve?.solver ?? "none",
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
