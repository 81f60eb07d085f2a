/**
 * Example: a ridge penalty tuned by hypergradient descent (bilevel optimisation) on Iris.
 *
 * Task: predict petal width from sepal length, sepal width and petal length.
 * With degree-2 features (9 of them) and only 20 training flowers, least squares
 * overfits, so the ridge penalty matters. Two nested problems:
 *
 *   inner:  w(λ) = argmin_w ½·mean((X_train w − y_train)²) + ½·λ‖w‖²
 *   outer:  min_θ  L(θ) = ½·mean((X_val w(e^θ) − y_val)²),  λ = e^θ
 *
 * (θ = log λ keeps λ positive and makes the steps scale-free.) The hypergradient
 * dL/dθ needs dw/dλ. The inner solution satisfies the stationarity condition
 * ∇_w(inner objective) = 0, so `ImplicitFunction` with `stationarityConditions`
 * gives dw/dλ = −H⁻¹ ∂(∇_w)/∂λ, H the inner Hessian, whatever solved the inner
 * problem (here a dense linear solve, run on plain values and never traced).
 *
 * Run: npx tsx examples/ridge-hyperparameter.ts
 */
import { ImplicitFunction, Tensor, tensor, add, mul, sub, mean, sum, exp, matmul, solve, eye, valueAndGrad, stationarityConditions } from "../lib/index.js";
import { columnStats, loadIris, seededSplit, standardise } from "./data/iris.js";

/** The three standardised measurements and their degree-2 products (no constant term: y is centred). */
function quadraticFeatures([a, b, c]: number[]): number[] {
  return [a, b, c, a * a, b * b, c * c, a * b, a * c, b * c];
}

export interface RidgeData {
  Xtrain: Tensor;
  ytrain: Tensor;
  Xval: Tensor;
  yval: Tensor;
}

/**
 * 20 training and 130 validation flowers (seeded shuffle); features
 * standardised, and the target centred, with training-set statistics only.
 */
export function irisRidgeData(seed = 1, trainSize = 20): RidgeData {
  const iris = loadIris();
  const [train, val] = seededSplit(150, [trainSize, 150 - trainSize], seed);
  const measurements = (rows: number[]) => rows.map((i) => iris.features[i].slice(0, 3));
  const rawStats = columnStats(measurements(train));
  const features = (rows: number[]) => standardise(measurements(rows), rawStats).map(quadraticFeatures);
  const featureStats = columnStats(features(train));
  const target = (rows: number[]) => rows.map((i) => iris.features[i][3]);
  const yMean = target(train).reduce((s, v) => s + v, 0) / trainSize;
  return {
    Xtrain: tensor(standardise(features(train), featureStats)),
    ytrain: tensor(target(train).map((v) => v - yMean)),
    Xval: tensor(standardise(features(val), featureStats)),
    yval: tensor(target(val).map((v) => v - yMean)),
  };
}

/** The inner ridge solution in closed form, w = (XᵀX/n + λI)⁻¹ Xᵀy/n (plain values). */
export function ridgeClosedForm(data: RidgeData, lambda: number): Tensor {
  const { Xtrain: X, ytrain: y } = data;
  const n = X.shape[0];
  return solve(add(matmul(X.T, X).div(n), mul(lambda, eye(X.shape[1]))), matmul(X.T, y).div(n));
}

export function validationLoss(data: RidgeData, w: Tensor): Tensor {
  return mul(0.5, mean(sub(matmul(data.Xval, w), data.yval).pow(2)));
}

/** w(θ), λ = e^θ, as a differentiable implicit function of θ. */
export function ridgeSolution(data: RidgeData): ImplicitFunction {
  const innerObjective = (theta: Tensor | number, w: Tensor) =>
    add(mul(0.5, mean(sub(matmul(data.Xtrain, w), data.ytrain).pow(2))), mul(mul(0.5, exp(theta)), sum(mul(w, w))));
  return new ImplicitFunction({
    forward: (theta: Tensor | number) => ridgeClosedForm(data, Math.exp(typeof theta === "number" ? theta : theta.item())),
    // ∇_w(inner objective) = 0; its Jacobian in w is the Hessian XᵀX/n + λI, symmetric positive definite.
    ...stationarityConditions(innerObjective, { positiveDefinite: true }),
    strict: true,
    name: "ridge",
  });
}

export interface RidgeHyperparameterResult {
  thetaStart: number;
  thetaFinal: number;
  lambdaFinal: number;
  /** Validation loss per outer step (index 0: at the start). */
  losses: number[];
  /** The hypergradient dL/dθ at the start: implicit, and central differences of the closed form. */
  hypergradientCheck: { implicit: number; finiteDifference: number; relativeError: number };
  /** The hypergradient at the final θ (≈ 0 at a minimum). */
  finalHypergradient: number;
  solver: string;
}

export async function main(opts: { quiet?: boolean; steps?: number; learningRate?: number; thetaStart?: number } = {}): Promise<RidgeHyperparameterResult> {
  const print = opts.quiet ? () => {} : console.log;
  const steps = opts.steps ?? 25;
  const learningRate = opts.learningRate ?? 60;
  const thetaStart = opts.thetaStart ?? 0;

  const data = irisRidgeData();
  const ridge = ridgeSolution(data);
  const outerLoss = (theta: Tensor) => validationLoss(data, ridge.call(theta));
  const lossAndHypergradient = valueAndGrad(outerLoss);

  // Check the hypergradient once against finite differences of the closed form,
  // an independent route that never touches the implicit machinery.
  const closedLoss = (theta: number) => validationLoss(data, ridgeClosedForm(data, Math.exp(theta))).item();
  const h = 1e-5;
  const fd = (closedLoss(thetaStart + h) - closedLoss(thetaStart - h)) / (2 * h);
  const implicit = (lossAndHypergradient(tensor(thetaStart))[1] as Tensor).item();
  const relativeError = Math.abs(implicit - fd) / Math.abs(fd);
  print(`Ridge on Iris (petal width from 9 quadratic features, ${data.Xtrain.shape[0]} train / ${data.Xval.shape[0]} validation flowers)`);
  print(`hypergradient dL/dθ at θ = ${thetaStart}: implicit ${implicit.toExponential(8)}, finite differences ${fd.toExponential(8)} (relative error ${relativeError.toExponential(1)})\n`);

  // Hypergradient descent on θ = log λ.
  let theta = thetaStart;
  const losses: number[] = [];
  let gradient = 0;
  for (let step = 0; step <= steps; step++) {
    const [loss, g] = lossAndHypergradient(tensor(theta));
    losses.push(loss.item());
    gradient = (g as Tensor).item();
    if (step % 5 === 0 || step === steps) {
      print(`step ${String(step).padStart(2)}  θ = ${theta.toFixed(4).padStart(8)}  λ = ${Math.exp(theta).toExponential(3)}  validation loss ${loss.item().toFixed(6)}  dL/dθ ${gradient.toExponential(2)}`);
    }
    if (step < steps) theta -= learningRate * gradient;
  }
  print(`\nλ: ${Math.exp(thetaStart)} → ${Math.exp(theta).toExponential(4)}; validation loss ${losses[0].toFixed(5)} → ${losses[losses.length - 1].toFixed(5)}`);
  print(`linear solver for the hypergradient: ${ridge.lastSolve?.solver} (residual ${ridge.lastSolve?.residualNorm.toExponential(1)})`);

  return {
    thetaStart,
    thetaFinal: theta,
    lambdaFinal: Math.exp(theta),
    losses,
    hypergradientCheck: { implicit, finiteDifference: fd, relativeError },
    finalHypergradient: gradient,
    solver: ridge.lastSolve?.solver ?? "none",
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
