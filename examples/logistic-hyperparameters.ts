/**
 * Example: per-feature L2 strengths of a softmax classifier, tuned on Iris.
 *
 * Multiclass logistic regression with one regularisation strength per feature,
 * tuned by hypergradient descent (the hyperparameter-optimisation experiment of
 * Blondel et al. 2022, at Iris scale).
 *
 * A softmax classifier of the three Iris species from the four standardised
 * measurements, with weights W (4×3) and biases b (3), trained on 30 flowers:
 *
 *   inner:  (W, b)(θ) = argmin  mean_i CE(softmax(x_i W + b), class_i)
 *                               + ½ Σ_j e^{θ_j} ‖W_j‖² + ½ β‖b‖²
 *   outer:  min_θ  validation cross-entropy of (W, b)(θ) on 60 other flowers
 *
 * θ ∈ R⁴ holds one log-strength per measurement, so the outer problem can learn
 * which measurements to trust. (The small fixed β removes the softmax's
 * shift invariance b → b + c·1, which would make the Hessian singular.)
 *
 * The inner objective is written once, with library ops; `minimize` (L-BFGS)
 * solves it, warm-started from the previous outer step, and its solution is
 * differentiable in θ through ∇_{W,b}(inner objective) = 0. The hypergradient
 * costs one 15×15 linear solve, whatever the inner solver did.
 *
 * Run: npx tsx examples/logistic-hyperparameters.ts
 */
import {
  Tensor, tensor, zeros, add, mul, sub, sum, mean, exp, matmul, reshape, slice, logsumexp, valueAndGrad, stopGradient, minimize, type SolverResult,
} from "../lib/index.js";
import { IRIS_FEATURES, columnStats, loadIris, seededSplit, standardise } from "./data/iris.js";

const CLASSES = 3;
const FEATURES = 4;
/** The unknown y packs W (row-major, 4×3) then b (3). */
const UNKNOWNS = FEATURES * CLASSES + CLASSES;
/** Fixed ridge on the biases. */
const BIAS_PENALTY = 1e-2;

export interface ClassificationSet {
  X: Tensor;
  /** One-hot labels, [n, 3]. */
  Y: Tensor;
  labels: number[];
}

export interface LogisticData {
  train: ClassificationSet;
  val: ClassificationSet;
  test: ClassificationSet;
}

/** 30 / 60 / 60 flowers (seeded shuffle), standardised with training statistics. */
export function irisClassificationData(seed = 3): LogisticData {
  const iris = loadIris();
  const [train, val, test] = seededSplit(150, [30, 60, 60], seed);
  const stats = columnStats(train.map((i) => iris.features[i]));
  const set = (rows: number[]): ClassificationSet => {
    const labels = rows.map((i) => iris.labels[i]);
    return {
      X: tensor(standardise(rows.map((i) => iris.features[i]), stats)),
      Y: tensor(labels.map((c) => Array.from({ length: CLASSES }, (_, k) => (k === c ? 1 : 0)))),
      labels,
    };
  };
  return { train: set(train), val: set(val), test: set(test) };
}

/** Mean cross-entropy of the softmax classifier packed in y, on a data set (library ops, differentiable). */
export function crossEntropy(set: ClassificationSet, y: Tensor): Tensor {
  const W = reshape(slice(y, [0], [FEATURES * CLASSES]), [FEATURES, CLASSES]);
  const b = slice(y, [FEATURES * CLASSES], [CLASSES]);
  const logits = add(matmul(set.X, W), b);
  return mean(sub(logsumexp(logits, 1), sum(mul(logits, set.Y), 1)));
}

/** The inner objective: training cross-entropy plus the penalties. */
export function innerObjective(train: ClassificationSet, theta: Tensor, y: Tensor): Tensor {
  const W = reshape(slice(y, [0], [FEATURES * CLASSES]), [FEATURES, CLASSES]);
  const b = slice(y, [FEATURES * CLASSES], [CLASSES]);
  const penalty = mul(0.5, sum(mul(reshape(exp(theta), [FEATURES, 1]), mul(W, W))));
  return add(add(crossEntropy(train, y), penalty), mul(0.5 * BIAS_PENALTY, sum(mul(b, b))));
}

/**
 * The inner problem solved by `minimize` (L-BFGS, the objective's gradient from
 * reverse mode) to ‖∇‖ ≤ tol, warm-started from `start`. The returned weights
 * are differentiable in θ: `minimize` attaches the implicit derivative through
 * the stationarity conditions ∇_{W,b} = 0.
 */
export function trainClassifier(train: ClassificationSet, theta: Tensor, start: Tensor = zeros([UNKNOWNS]), tol = 1e-12): SolverResult {
  return minimize((y: Tensor, t: Tensor) => innerObjective(train, t, y), start, { args: [theta], tol });
}

export interface LogisticHyperparametersResult {
  thetaStart: number[];
  thetaFinal: number[];
  /** Validation cross-entropy per outer step (index 0: at the start). */
  losses: number[];
  /** Hypergradient at the start, implicit vs central differences of the re-solved inner problem. */
  hypergradientCheck: { implicit: number[]; finiteDifference: number[]; maxRelativeError: number };
  testAccuracy: { start: number; final: number };
  /** L-BFGS iterations of each inner solve. */
  innerIterations: number[];
}

function accuracy(set: ClassificationSet, y: Tensor): number {
  const w = y.toFloat64Array();
  const x = set.X.toFloat64Array();
  let correct = 0;
  set.labels.forEach((label, i) => {
    const scores = Array.from({ length: CLASSES }, (_, k) => {
      let z = w[FEATURES * CLASSES + k];
      for (let j = 0; j < FEATURES; j++) z += x[i * FEATURES + j] * w[j * CLASSES + k];
      return z;
    });
    if (scores.indexOf(Math.max(...scores)) === label) correct++;
  });
  return correct / set.labels.length;
}

export async function main(opts: { quiet?: boolean; steps?: number; learningRate?: number } = {}): Promise<LogisticHyperparametersResult> {
  const print = opts.quiet ? () => {} : console.log;
  const steps = opts.steps ?? 30;
  const learningRate = opts.learningRate ?? 20;
  const data = irisClassificationData();
  const innerIterations: number[] = [];
  // The last inner solution, the warm start of the next solve (a constant: where a solver starts does not change its derivative).
  let warm: Tensor = zeros([UNKNOWNS]);

  const validationLoss = (theta: Tensor) => {
    const inner = trainClassifier(data.train, theta, warm);
    innerIterations.push(inner.iterations);
    warm = stopGradient(inner.x);
    return crossEntropy(data.val, inner.x);
  };
  const lossAndHypergradient = valueAndGrad(validationLoss);

  const thetaStart = [0, 0, 0, 0];
  let theta = Float64Array.from(thetaStart);
  const startAccuracy = accuracy(data.test, trainClassifier(data.train, tensor(theta)).x);

  // One check of the hypergradient: central differences of the validation loss,
  // each point re-solved from scratch (no implicit differentiation).
  const [, g0] = lossAndHypergradient(tensor(theta));
  const implicit = Array.from((g0 as Tensor).toFloat64Array());
  const h = 1e-5;
  const finiteDifference = thetaStart.map((_, j) => {
    const at = (delta: number) => {
      const shifted = Float64Array.from(theta);
      shifted[j] += delta;
      return crossEntropy(data.val, trainClassifier(data.train, tensor(shifted)).x).item();
    };
    return (at(h) - at(-h)) / (2 * h);
  });
  const maxRelativeError = Math.max(...implicit.map((g, j) => Math.abs(g - finiteDifference[j]) / Math.max(Math.abs(finiteDifference[j]), 1e-3)));
  print("Multiclass logistic regression on Iris, one L2 strength per measurement (30 train / 60 validation / 60 test flowers)");
  print(`hypergradient at θ = 0:  implicit [${implicit.map((v) => v.toExponential(5)).join(", ")}]`);
  print(`                finite differences [${finiteDifference.map((v) => v.toExponential(5)).join(", ")}]  (max relative error ${maxRelativeError.toExponential(1)})\n`);

  const losses: number[] = [];
  for (let step = 0; step <= steps; step++) {
    const [loss, g] = lossAndHypergradient(tensor(theta));
    losses.push(loss.item());
    if (step % 5 === 0 || step === steps) {
      print(`step ${String(step).padStart(2)}  validation CE ${loss.item().toFixed(5)}  λ = [${Array.from(theta, (v) => Math.exp(v).toExponential(2)).join(", ")}]  (L-BFGS iterations ${innerIterations[innerIterations.length - 1]})`);
    }
    if (step < steps) {
      const gv = (g as Tensor).toFloat64Array();
      theta = theta.map((v, j) => v - learningRate * gv[j]);
    }
  }
  const finalAccuracy = accuracy(data.test, trainClassifier(data.train, tensor(theta), warm).x);
  print(`\nlearned strengths: ${IRIS_FEATURES.map((name, j) => `${name} ${Math.exp(theta[j]).toExponential(2)}`).join(", ")}`);
  print(`validation CE ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toFixed(4)}; test accuracy ${(100 * startAccuracy).toFixed(1)}% → ${(100 * finalAccuracy).toFixed(1)}%`);

  return {
    thetaStart,
    thetaFinal: Array.from(theta),
    losses,
    hypergradientCheck: { implicit, finiteDifference, maxRelativeError },
    testAccuracy: { start: startAccuracy, final: finalAccuracy },
    innerIterations,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
