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
 * The inner problem is solved by accelerated gradient descent on plain arrays,
 * warm-started from the previous outer step; `ImplicitFunction` with
 * `stationarityConditions` differentiates its solution in θ through
 * ∇_{W,b}(inner objective) = 0. The hypergradient costs one 15×15 linear solve,
 * whatever the inner solver did.
 *
 * Run: npx tsx examples/logistic-hyperparameters.ts
 */
import {
  ImplicitFunction, Tensor, tensor, add, mul, sub, sum, mean, exp, matmul, reshape, slice, logsumexp, valueAndGrad, stationarityConditions,
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
 * The inner solver on plain arrays: Nesterov's accelerated gradient with
 * adaptive restart, step 1/L with L ≥ the largest Hessian eigenvalue. The
 * softmax cross-entropy's curvature is at most ½ per unit of ‖x̃‖², x̃ = [x, 1],
 * so L = ½·mean‖x̃ᵢ‖² + the largest penalty will do.
 */
export class InnerSolver {
  private readonly x: Float64Array;
  private readonly onehot: Float64Array;
  private readonly n: number;
  private readonly curvature: number;
  /** The last solution, the warm start of the next solve. */
  private warm = new Float64Array(UNKNOWNS);
  iterations = 0;

  constructor(train: ClassificationSet) {
    this.x = train.X.toFloat64Array();
    this.onehot = train.Y.toFloat64Array();
    this.n = train.X.shape[0];
    // λmax(X̃ᵀX̃/n) ≤ trace(X̃ᵀX̃/n) = mean ‖x̃ᵢ‖².
    let trace = 0;
    for (let i = 0; i < this.x.length; i++) trace += this.x[i] * this.x[i];
    this.curvature = 0.5 * (trace / this.n + 1);
  }

  /** ∇ of the inner objective at y, into `out`; returns ‖∇‖₂. */
  gradient(y: Float64Array, strengths: Float64Array, out: Float64Array): number {
    const { x, onehot, n } = this;
    out.fill(0);
    const p = new Float64Array(CLASSES);
    for (let i = 0; i < n; i++) {
      let top = -Infinity;
      for (let k = 0; k < CLASSES; k++) {
        let z = y[FEATURES * CLASSES + k];
        for (let j = 0; j < FEATURES; j++) z += x[i * FEATURES + j] * y[j * CLASSES + k];
        p[k] = z;
        top = Math.max(top, z);
      }
      let total = 0;
      for (let k = 0; k < CLASSES; k++) total += (p[k] = Math.exp(p[k] - top));
      for (let k = 0; k < CLASSES; k++) {
        const residual = (p[k] / total - onehot[i * CLASSES + k]) / n;
        for (let j = 0; j < FEATURES; j++) out[j * CLASSES + k] += x[i * FEATURES + j] * residual;
        out[FEATURES * CLASSES + k] += residual;
      }
    }
    for (let j = 0; j < FEATURES; j++) for (let k = 0; k < CLASSES; k++) out[j * CLASSES + k] += strengths[j] * y[j * CLASSES + k];
    for (let k = 0; k < CLASSES; k++) out[FEATURES * CLASSES + k] += BIAS_PENALTY * y[FEATURES * CLASSES + k];
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * out[i];
    return Math.sqrt(s);
  }

  solve(theta: Float64Array, tol = 1e-11): Tensor {
    const strengths = theta.map(Math.exp);
    const step = 1 / (this.curvature + Math.max(...strengths, BIAS_PENALTY));
    let y = this.warm.slice();
    let lookahead = y.slice();
    let t = 1;
    const g = new Float64Array(UNKNOWNS);
    for (this.iterations = 0; this.iterations < 200000; this.iterations++) {
      if (this.gradient(y, strengths, g) <= tol) break;
      this.gradient(lookahead, strengths, g);
      const next = lookahead.map((v, i) => v - step * g[i]);
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      let uphill = 0;
      for (let i = 0; i < UNKNOWNS; i++) uphill += (lookahead[i] - next[i]) * (next[i] - y[i]);
      const beta = uphill > 0 ? 0 : (t - 1) / tNext;
      t = uphill > 0 ? 1 : tNext;
      lookahead = next.map((v, i) => v + beta * (v - y[i]));
      y = next;
    }
    this.warm = y.slice();
    return tensor(y);
  }
}

export interface LogisticHyperparametersResult {
  thetaStart: number[];
  thetaFinal: number[];
  /** Validation cross-entropy per outer step (index 0: at the start). */
  losses: number[];
  /** Hypergradient at the start, implicit vs central differences of the re-solved inner problem. */
  hypergradientCheck: { implicit: number[]; finiteDifference: number[]; maxRelativeError: number };
  testAccuracy: { start: number; final: number };
  innerIterations: number[];
  solver: string;
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
  const inner = new InnerSolver(data.train);
  const innerIterations: number[] = [];

  const classifier = new ImplicitFunction({
    forward: (theta: Tensor) => {
      const y = inner.solve(theta.toFloat64Array());
      innerIterations.push(inner.iterations);
      return y;
    },
    ...stationarityConditions((theta: Tensor, y: Tensor) => innerObjective(data.train, theta, y), { positiveDefinite: true }),
    strict: true,
    name: "logisticRegression",
  });
  const validationLoss = (theta: Tensor) => crossEntropy(data.val, classifier.call(theta));
  const lossAndHypergradient = valueAndGrad(validationLoss);

  const thetaStart = [0, 0, 0, 0];
  let theta = Float64Array.from(thetaStart);
  const startSolution = inner.solve(theta);
  const startAccuracy = accuracy(data.test, startSolution);

  // One check of the hypergradient: central differences of the validation loss,
  // each point re-solved tightly by the inner solver (no implicit differentiation).
  const [, g0] = lossAndHypergradient(tensor(theta));
  const implicit = Array.from((g0 as Tensor).toFloat64Array());
  const h = 1e-5;
  const finiteDifference = thetaStart.map((_, j) => {
    const at = (delta: number) => {
      const shifted = Float64Array.from(theta);
      shifted[j] += delta;
      return crossEntropy(data.val, inner.solve(shifted, 1e-13)).item();
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
      print(`step ${String(step).padStart(2)}  validation CE ${loss.item().toFixed(5)}  λ = [${Array.from(theta, (v) => Math.exp(v).toExponential(2)).join(", ")}]  (inner iterations ${innerIterations[innerIterations.length - 1]})`);
    }
    if (step < steps) {
      const gv = (g as Tensor).toFloat64Array();
      theta = theta.map((v, j) => v - learningRate * gv[j]);
    }
  }
  const finalSolution = inner.solve(theta);
  const finalAccuracy = accuracy(data.test, finalSolution);
  print(`\nlearned strengths: ${IRIS_FEATURES.map((name, j) => `${name} ${Math.exp(theta[j]).toExponential(2)}`).join(", ")}`);
  print(`validation CE ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toFixed(4)}; test accuracy ${(100 * startAccuracy).toFixed(1)}% → ${(100 * finalAccuracy).toFixed(1)}%`);
  print(`hypergradient linear solve: ${JSON.stringify(classifier.lastSolve)}`);

  return {
    thetaStart,
    thetaFinal: Array.from(theta),
    losses,
    hypergradientCheck: { implicit, finiteDifference, maxRelativeError },
    testAccuracy: { start: startAccuracy, final: finalAccuracy },
    innerIterations,
    solver: classifier.lastSolve?.solver ?? "none",
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
