/**
 * implicit-diff demo: a ridge penalty on Iris tuned by hypergradient descent.
 *
 * Run with `npm run demo`: hyperparameter optimisation through an implicit function.
 *
 * Ridge regression on the Iris flowers predicts petal width from degree-2
 * features of the other three measurements, trained on only 20 flowers, so the
 * penalty strength λ matters. We minimise the validation loss over θ = log λ:
 *
 *   w(θ) = argmin_w ½·mean((X_train w − y_train)²) + ½·e^θ‖w‖²     (inner)
 *   L(θ) = ½·mean((X_val w(θ) − y_val)²)                            (outer)
 *
 * The inner problem is solved by any code (here a dense solve on plain
 * values); `ImplicitFunction` differentiates its solution through the
 * stationarity condition ∇_w(inner) = 0, solving one linear system with the
 * inner Hessian per hypergradient, by conjugate gradients (the Hessian is
 * symmetric positive definite), matrix-free (Hessian-vector products by AD).
 * examples/ridge-hyperparameter.ts tells the same story at more length.
 */
import { ImplicitFunction, Tensor, tensor, add, mul, sub, sum, mean, exp, matmul, valueAndGrad, stationarityConditions } from "../lib/index.js";
import { irisRidgeData, ridgeClosedForm, validationLoss } from "./ridge-hyperparameter.js";

export interface DemoResult {
  losses: number[];
  thetaFinal: number;
  lambdaFinal: number;
  hypergradientCheck: { implicit: number; finiteDifference: number; relativeError: number };
  lastSolve: { solver: string; iterations: number; residualNorm: number; converged: boolean };
  milliseconds: number;
}

export async function main(opts: { quiet?: boolean; steps?: number } = {}): Promise<DemoResult> {
  const print = opts.quiet ? () => {} : console.log;
  const started = performance.now();
  const steps = opts.steps ?? 12;
  const learningRate = 60;
  const data = irisRidgeData();

  const innerObjective = (theta: Tensor | number, w: Tensor) =>
    add(mul(0.5, mean(sub(matmul(data.Xtrain, w), data.ytrain).pow(2))), mul(mul(0.5, exp(theta)), sum(mul(w, w))));
  const ridge = new ImplicitFunction({
    forward: (theta: Tensor | number) => ridgeClosedForm(data, Math.exp(typeof theta === "number" ? theta : theta.item())),
    ...stationarityConditions(innerObjective, { positiveDefinite: true }),
    linearSolver: "cg",
    tol: 1e-12,
    strict: true,
    name: "ridge",
  });
  const lossAndHypergradient = valueAndGrad((theta: Tensor) => validationLoss(data, ridge.call(theta)));

  print("implicit-diff demo: hyperparameter optimisation through an implicit function");
  print("─".repeat(78));
  print(`task       predict Iris petal width from 9 quadratic features of the other measurements`);
  print(`data       ${data.Xtrain.shape[0]} training flowers, ${data.Xval.shape[0]} validation flowers (seeded shuffle)`);
  print(`optimised  θ = log λ, the ridge strength, by gradient descent on the validation loss`);
  print(`inner      w(θ) = argmin ½·mean((Xw − y)²) + ½·e^θ‖w‖², differentiated implicitly via ∇_w = 0\n`);

  // The hypergradient at the start, against central differences of the closed form.
  let theta = 0;
  const implicit = (lossAndHypergradient(tensor(theta))[1] as Tensor).item();
  const closedLoss = (t: number) => validationLoss(data, ridgeClosedForm(data, Math.exp(t))).item();
  const h = 1e-5;
  const finiteDifference = (closedLoss(theta + h) - closedLoss(theta - h)) / (2 * h);
  const relativeError = Math.abs(implicit - finiteDifference) / Math.abs(finiteDifference);
  print(`check      dL/dθ at θ = 0: implicit ${implicit.toExponential(10)}`);
  print(`                           finite differences ${finiteDifference.toExponential(10)}  (relative error ${relativeError.toExponential(1)})\n`);

  const losses: number[] = [];
  print("step        θ           λ   validation loss        dL/dθ");
  for (let step = 0; step <= steps; step++) {
    const [loss, gradient] = lossAndHypergradient(tensor(theta));
    const g = (gradient as Tensor).item();
    losses.push(loss.item());
    print(`${String(step).padStart(4)}  ${theta.toFixed(5).padStart(8)}  ${Math.exp(theta).toExponential(3).padStart(10)}  ${loss.item().toFixed(8).padStart(16)}  ${g.toExponential(3).padStart(11)}`);
    if (step < steps) theta -= learningRate * g;
  }
  const s = ridge.lastSolve!;
  const milliseconds = performance.now() - started;
  print(`\nresult     λ = ${Math.exp(theta).toExponential(4)} (from 1); validation loss ${losses[0].toFixed(5)} → ${losses[losses.length - 1].toFixed(5)} (×${(losses[0] / losses[losses.length - 1]).toFixed(2)} lower)`);
  print(`solver     ${s.solver} on the ${s.system} system: ${s.iterations} iterations, residual ${s.residualNorm.toExponential(2)} (tol ${s.tol}), ${s.converged ? "converged" : "NOT converged"}`);
  print(`time       ${milliseconds.toFixed(0)} ms`);

  return {
    losses,
    thetaFinal: theta,
    lambdaFinal: Math.exp(theta),
    hypergradientCheck: { implicit, finiteDifference, relativeError },
    lastSolve: { solver: s.solver, iterations: s.iterations, residualNorm: s.residualNorm, converged: s.converged },
    milliseconds,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
