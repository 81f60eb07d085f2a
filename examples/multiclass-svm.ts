/**
 * Example: the regularisation of a multiclass SVM, its hypergradient by implicit differentiation and by unrolling.
 *
 * The experiment of Blondel et al. 2022 ("Efficient and Modular Implicit
 * Differentiation", Section 4), at laptop scale. A linear multiclass SVM
 * (Crammer & Singer 2001) with k classes and weights W (p×k) is trained through
 * its dual: one probability vector βᵢ per training sample,
 *
 *   β*(λ) = argmin_{βᵢ ∈ Δᵏ}  f(β, λ) = (1/2λ)‖Xᵀ(Y − β)‖²_F + ⟨β, Y⟩,
 *   W(β, λ) = Xᵀ(Y − β)/λ                                  (the primal–dual link),
 *
 * Y the one-hot labels, Δᵏ the simplex. The outer objective is the validation
 * loss L(λ) = ½·mean_i ‖x_iᵛ W − y_iᵛ‖², and what we want is dL/dλ.
 *
 * Three solvers of the dual, each written here on Tensors with library ops so
 * that the same code runs untraced (the forward of an implicit function) or
 * traced (unrolled, every iteration on the tape):
 *   - projected gradient: β ← Π_Δ(β − η∇f(β)), η = 1/L = λ/σ_max(X)²;
 *   - mirror descent (exponentiated gradient, the KL geometry of the simplex):
 *     βᵢ ← βᵢ ⊙ exp(−η∇ᵢf) / ⟨βᵢ, exp(−η∇ᵢf)⟩, same η. The solution lies on the
 *     simplices' faces, which mirror descent only approaches (sublinearly here),
 *     so it runs a fixed budget and the table shows the residual it reached;
 *   - block coordinate descent: one sample's βᵢ at a time, projected gradient on
 *     the block with step λ/‖xᵢ‖², keeping W up to date (an O(pk) update).
 * Projected and mirror descent take ∇f from `grad` of the dual objective (written
 * once). Block coordinate descent needs ∇ᵢf = yᵢ − xᵢW, one row of it, at O(pk):
 * it reads it off the primal–dual link, as every dual coordinate solver does.
 *
 * Two hypergradients of each solve:
 *   implicit — the solver's output differentiated through optimality conditions
 *     (`ImplicitFunction`): the projected-gradient fixed point
 *     β = Π_Δ(β − η∇f(β)) for projected gradient and BCD, and the mirror-descent
 *     fixed point β = β ⊙ exp(−η∇f)/⟨·⟩ for mirror descent; one GMRES solve;
 *   unrolled — `grad` through every iteration of the solver.
 * They agree once the solver has converged; the paper's finding is that implicit
 * differentiation is the faster of the two, and more so as the problem grows.
 * bench/svm.ts times both for growing numbers of features.
 *
 * Run: npx tsx examples/multiclass-svm.ts
 */
import {
  ImplicitFunction, Tensor, tensor, add, sub, mul, div, exp, matmul, outer, sum, max, mean, neg, slice, stack, where, grad, valueAndGrad,
  stopGradient, projectSimplex, projectedGradientConditions, fixedPointConditions,
} from "../lib/index.js";
import { seededNormal, seededPermutation } from "./data/random.js";

export interface SvmProblem {
  /** Training inputs [m, p] and one-hot labels [m, k]. */
  X: Tensor;
  Y: Tensor;
  /** Validation inputs and one-hot labels. */
  Xval: Tensor;
  Yval: Tensor;
  /** σ_max(X)², the curvature of the dual objective times λ. */
  curvature: number;
  /** ‖xᵢ‖² per training sample, the block curvatures times λ. */
  rowCurvatures: number[];
}

/**
 * Synthetic k-class data: class centres with `informative` non-zero features
 * (standard normal, times `separation`), samples = centre + standard normal
 * noise in all p features, everything divided by √p so that ‖x‖ is about 1
 * whatever p is (and one λ suits every size).
 */
export function svmProblem(opts: { samples?: number; validation?: number; features?: number; classes?: number; informative?: number; separation?: number; seed?: number } = {}): SvmProblem {
  const m = opts.samples ?? 100;
  const mVal = opts.validation ?? 50;
  const p = opts.features ?? 40;
  const k = opts.classes ?? 5;
  const informative = Math.min(opts.informative ?? 10, p);
  const separation = opts.separation ?? 1;
  const normal = seededNormal(opts.seed ?? 11);
  const centres = Array.from({ length: k }, () => Array.from({ length: p }, (_, j) => (j < informative ? separation * normal() : 0)));
  const draw = (count: number, seed: number) => {
    const order = seededPermutation(count, seed);
    const labels = order.map((i) => i % k);
    const rows = labels.map((c) => centres[c].map((mu) => (mu + normal()) / Math.sqrt(p)));
    const onehot = labels.map((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0)));
    return { X: rows, Y: onehot };
  };
  const train = draw(m, 1);
  const val = draw(mVal, 2);
  return {
    X: tensor(train.X),
    Y: tensor(train.Y),
    Xval: tensor(val.X),
    Yval: tensor(val.Y),
    curvature: largestSquaredSingularValue(train.X),
    rowCurvatures: train.X.map((r) => r.reduce((s, v) => s + v * v, 0)),
  };
}

/** σ_max(X)² by power iteration on XᵀX (plain arithmetic, relative accuracy 1e-12). */
function largestSquaredSingularValue(X: number[][]): number {
  const p = X[0].length;
  let v = new Array<number>(p).fill(1 / Math.sqrt(p));
  let estimate = 0;
  for (let it = 0; it < 10000; it++) {
    const Xv = X.map((r) => r.reduce((s, x, j) => s + x * v[j], 0));
    const next = v.map((_, j) => X.reduce((s, r, i) => s + r[j] * Xv[i], 0));
    const size = Math.hypot(...next);
    v = next.map((x) => x / size);
    if (Math.abs(size - estimate) <= 1e-12 * size) return size;
    estimate = size;
  }
  return estimate;
}

/** The primal–dual link W(β, λ) = Xᵀ(Y − β)/λ. */
export function primalWeights(problem: SvmProblem, lambda: Tensor | number, beta: Tensor): Tensor {
  return div(matmul(problem.X.T, sub(problem.Y, beta)), lambda);
}

/** The dual objective f(β, λ) = (1/2λ)‖Xᵀ(Y − β)‖² + ⟨β, Y⟩ (λ first, β last, as the stock conditions want). */
export function dualObjective(problem: SvmProblem): (lambda: Tensor | number, beta: Tensor) => Tensor {
  return (lambda, beta) => {
    const V = matmul(problem.X.T, sub(problem.Y, beta));
    return add(div(mul(0.5, sum(mul(V, V))), lambda), sum(mul(beta, problem.Y)));
  };
}

/** The validation loss ½·mean_i ‖xᵢᵛ W − yᵢᵛ‖² of the SVM whose dual solution is β. */
export function validationLoss(problem: SvmProblem, lambda: Tensor | number, beta: Tensor): Tensor {
  const residual = sub(matmul(problem.Xval, primalWeights(problem, lambda, beta)), problem.Yval);
  return mul(0.5, mean(sum(mul(residual, residual), 1)));
}

/**
 * Euclidean projection of every row of V [m, k] onto the simplex (Held, Wolfe &
 * Crowder 1974; Duchi et al. 2008), with library ops: each row's support S and
 * its size are read off the values, τᵢ = (Σ_{j∈S} v_ij − 1)/|S| is written with
 * ops, so the Jacobian diag(s) − s sᵀ/|S| per row comes from the engine.
 */
export function projectRowsOntoSimplex(V: Tensor): Tensor {
  const [m, k] = V.shape;
  const values = stopGradient(V).toFloat64Array();
  const support = new Float64Array(m * k);
  const sizes = new Float64Array(m);
  const row = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < k; j++) row[j] = values[i * k + j];
    row.sort().reverse();
    let cumulative = 0;
    let tau = 0;
    for (let j = 0; j < k; j++) {
      cumulative += row[j];
      const t = (cumulative - 1) / (j + 1);
      if (row[j] > t) tau = t;
    }
    for (let j = 0; j < k; j++) {
      if (values[i * k + j] > tau) {
        support[i * k + j] = 1;
        sizes[i]++;
      }
    }
  }
  const mask = tensor(support, { shape: [m, k] });
  const tau = div(sub(sum(where(mask, V, 0), 1, true), 1), tensor(sizes, { shape: [m, 1] }));
  return where(mask, sub(V, tau), 0);
}

/** One mirror-descent step in the KL geometry, row by row: βᵢ ⊙ exp(−η gᵢ) / ⟨βᵢ, exp(−η gᵢ)⟩. */
function mirrorStep(beta: Tensor, gradient: Tensor, stepSize: Tensor | number): Tensor {
  const scores = neg(mul(stepSize, gradient));
  // Shifting each row by its largest score changes nothing after normalising, and keeps exp finite.
  const weighted = mul(beta, exp(sub(scores, max(stopGradient(scores), 1, true))));
  return div(weighted, sum(weighted, 1, true));
}

export type SvmSolverName = "projected-gradient" | "mirror-descent" | "block-coordinate";
export const SVM_SOLVERS: SvmSolverName[] = ["projected-gradient", "mirror-descent", "block-coordinate"];

/** Called after iteration t (1-based) with the current β; returning false stops the solver. */
export type IterationHook = (t: number, beta: Tensor) => boolean;

/**
 * Runs `iterations` iterations (epochs over the samples for block coordinate
 * descent) of a dual solver from β = 1/k, with library ops: untraced it is a
 * plain solver, under `grad` it is unrolled. λ is a rank-0 Tensor (traced or not).
 */
export function runSolver(name: SvmSolverName, problem: SvmProblem, lambda: Tensor, iterations: number, onIteration?: IterationHook): Tensor {
  const [m, k] = problem.Y.shape;
  let beta = tensor(new Float64Array(m * k).fill(1 / k), { shape: [m, k] });
  if (name === "block-coordinate") return blockCoordinateDescent(problem, lambda, beta, iterations, onIteration);
  const f = dualObjective(problem);
  const gradient = grad((b: Tensor) => f(lambda, b));
  const stepSize = div(lambda, problem.curvature);
  for (let t = 1; t <= iterations; t++) {
    const g = gradient(beta);
    beta = name === "projected-gradient" ? projectRowsOntoSimplex(sub(beta, mul(stepSize, g))) : mirrorStep(beta, g, stepSize);
    if (onIteration !== undefined && !onIteration(t, beta)) break;
  }
  return beta;
}

/**
 * Cyclic block coordinate descent on the dual (the samples in order, each block
 * a projected-gradient step with its own curvature ‖xᵢ‖²/λ), keeping V = Xᵀ(Y − β)
 * so that a block's gradient yᵢ − xᵢV/λ costs O(pk).
 */
function blockCoordinateDescent(problem: SvmProblem, lambda: Tensor, start: Tensor, epochs: number, onIteration?: IterationHook): Tensor {
  const [m] = problem.Y.shape;
  const rowsX = Array.from({ length: m }, (_, i) => slice(problem.X, [i, 0], [1, -1]).reshape([-1]));
  const rowsY = Array.from({ length: m }, (_, i) => slice(problem.Y, [i, 0], [1, -1]).reshape([-1]));
  const rows = Array.from({ length: m }, (_, i) => slice(start, [i, 0], [1, -1]).reshape([-1]));
  let V = matmul(problem.X.T, sub(problem.Y, start));
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let i = 0; i < m; i++) {
      const g = sub(rowsY[i], div(matmul(rowsX[i], V), lambda));
      const updated = projectSimplex(sub(rows[i], mul(div(lambda, problem.rowCurvatures[i]), g)));
      V = add(V, outer(rowsX[i], sub(rows[i], updated)));
      rows[i] = updated;
    }
    if (onIteration !== undefined && !onIteration(epoch, stack(rows))) break;
  }
  return stack(rows);
}

/** The norm of the projected-gradient fixed-point residual Π(β − η∇f) − β (the convergence measure of all three solvers). */
export function fixedPointResidual(problem: SvmProblem, lambda: number, beta: Tensor): number {
  const g = grad((b: Tensor) => dualObjective(problem)(lambda, b))(beta);
  const r = sub(projectRowsOntoSimplex(sub(beta, mul(lambda / problem.curvature, g))), beta);
  return Math.sqrt(sum(mul(r, r)).item());
}

/**
 * Runs the solver untraced until the projected-gradient fixed-point residual is
 * ≤ tol, checking after every iteration (the checks are not part of the timed
 * solves), or until `maxIterations`. Returns the iterations (epochs) run and the
 * residual reached.
 */
export function iterationsFor(name: SvmSolverName, problem: SvmProblem, lambda: number, tol: number, maxIterations: number): { iterations: number; residual: number } {
  let iterations = maxIterations;
  let residual = Infinity;
  runSolver(name, problem, tensor(lambda), maxIterations, (t, beta) => {
    residual = fixedPointResidual(problem, lambda, beta);
    iterations = t;
    return residual > tol;
  });
  return { iterations, residual };
}

/**
 * β*(λ) as an implicit function: `forward` runs `iterations` of the solver
 * untraced; the conditions are the fixed point of projected gradient (for it and
 * for block coordinate descent) or of mirror descent. `residualTol` is the
 * ImplicitFunction's guard against differentiating far from a solution.
 */
export function implicitSolution(name: SvmSolverName, problem: SvmProblem, iterations: number, lambdaForStep: number, residualTol?: number): ImplicitFunction {
  const f = dualObjective(problem);
  // Any positive step gives the same fixed points; the solver's own keeps ∂F/∂β well scaled.
  const stepSize = lambdaForStep / problem.curvature;
  const conditions = name === "mirror-descent"
    ? fixedPointConditions((lambda: Tensor, beta: Tensor) => mirrorStep(beta, grad((b: Tensor) => f(lambda, b))(beta), stepSize))
    : projectedGradientConditions(f, projectRowsOntoSimplex, stepSize);
  return new ImplicitFunction({
    forward: (lambda: Tensor) => runSolver(name, problem, lambda, iterations),
    ...conditions,
    linearSolver: "gmres",
    ...(residualTol === undefined ? {} : { residualTol }),
    name: `svmDual(${name})`,
  });
}

export interface HypergradientComparison {
  solver: SvmSolverName;
  features: number;
  iterations: number;
  /** The projected-gradient fixed-point residual after `iterations`. */
  residual: number;
  /** The validation loss at the solver's β. */
  loss: number;
  /** dL/dλ by implicit differentiation and by unrolling the same iterations. */
  implicit: number;
  unrolled: number;
  /** Best of `repeats` timed calls of value-and-hypergradient (solve included), the two routes alternated. */
  implicitMs: number;
  unrolledMs: number;
  linearSolveIterations: number;
}

/**
 * The validation loss and dL/dλ at λ by both routes, each call solving the inner
 * problem with `iterations` iterations and differentiating; timed after one
 * untimed call of each, alternating the two routes, the best of `repeats` kept.
 */
export function compareHypergradients(name: SvmSolverName, problem: SvmProblem, lambda: number, iterations: number, opts: { repeats?: number; residual?: number; residualTol?: number } = {}): HypergradientComparison {
  const solution = implicitSolution(name, problem, iterations, lambda, opts.residualTol);
  const implicitRoute = valueAndGrad((l: Tensor) => validationLoss(problem, l, solution.call(l)));
  const unrolledRoute = valueAndGrad((l: Tensor) => validationLoss(problem, l, runSolver(name, problem, l, iterations)));
  const routes = [implicitRoute, unrolledRoute].map((route) => ({ route, value: NaN, gradient: NaN, ms: Infinity }));
  for (let r = 0; r <= (opts.repeats ?? 1); r++) {
    for (const timed of routes) {
      const start = performance.now();
      const [value, gradient] = timed.route(tensor(lambda)) as [Tensor, Tensor];
      if (r > 0) timed.ms = Math.min(timed.ms, performance.now() - start);
      timed.value = value.item();
      timed.gradient = gradient.item();
    }
  }
  const [implicit, unrolled] = routes;
  return {
    solver: name,
    features: problem.X.shape[1],
    iterations,
    residual: opts.residual ?? NaN,
    loss: implicit.value,
    implicit: implicit.gradient,
    unrolled: unrolled.gradient,
    implicitMs: implicit.ms,
    unrolledMs: unrolled.ms,
    linearSolveIterations: solution.lastSolve?.iterations ?? -1,
  };
}

export interface MulticlassSvmResult {
  lambda: number;
  tol: number;
  rows: HypergradientComparison[];
  /** Block coordinate descent on the first problem: unrolled dL/dλ after growing epoch counts, and the implicit one at convergence. */
  convergence: { epochs: number; residual: number; unrolled: number }[];
  implicitAtConvergence: number;
}

/** Mirror descent converges sublinearly here (the solution lies on the simplices' faces); it gets this many iterations at most. */
export const MIRROR_DESCENT_BUDGET = 3000;

export async function main(opts: { quiet?: boolean; features?: number[]; lambda?: number; tol?: number; repeats?: number } = {}): Promise<MulticlassSvmResult> {
  const print = opts.quiet ? () => {} : console.log;
  const lambda = opts.lambda ?? 1;
  const tol = opts.tol ?? 1e-6;
  const featureCounts = opts.features ?? [25, 50, 100];
  print(`Multiclass SVM, 5 classes, 100 training / 50 validation samples: validation loss L and dL/dλ at λ = ${lambda}.`);
  print(`Each solver runs until its projected-gradient residual is ≤ ${tol} (mirror descent: at most ${MIRROR_DESCENT_BUDGET} iterations);`);
  print("the times are one value-and-hypergradient call each (the solve included), best of a few.\n");
  print("solver                p  iterations  residual   L          dL/dλ implicit   dL/dλ unrolled   |difference|  implicit ms  unrolled ms");
  const rows: HypergradientComparison[] = [];
  for (const p of featureCounts) {
    const problem = svmProblem({ features: p });
    for (const name of SVM_SOLVERS) {
      const budget = name === "mirror-descent" ? MIRROR_DESCENT_BUDGET : 100000;
      const { iterations, residual } = iterationsFor(name, problem, lambda, tol, budget);
      // Mirror descent may stop short of tol: the guard is loosened to what it reached (printed beside).
      const residualTol = residual > tol ? 10 * residual : undefined;
      const r = compareHypergradients(name, problem, lambda, iterations, { residual, residualTol, repeats: opts.repeats ?? 2 });
      rows.push(r);
      print(`${name.padEnd(19)} ${String(p).padStart(4)}  ${String(iterations).padStart(10)}  ${residual.toExponential(1).padStart(8)}  ${r.loss.toFixed(6)}  ${r.implicit.toExponential(8).padStart(15)}  ${r.unrolled.toExponential(8).padStart(15)}  ${Math.abs(r.implicit - r.unrolled).toExponential(1).padStart(12)}  ${r.implicitMs.toFixed(0).padStart(11)}  ${r.unrolledMs.toFixed(0).padStart(11)}`);
    }
  }

  // Unrolling converges to the implicit derivative as the solver converges.
  const problem = svmProblem({ features: featureCounts[0] });
  const converged = iterationsFor("block-coordinate", problem, lambda, 1e-10, 100000).iterations;
  const implicitAtConvergence = grad((l: Tensor) => validationLoss(problem, l, implicitSolution("block-coordinate", problem, converged, lambda).call(l)))(tensor(lambda)).item();
  const convergence = [2, 5, 10, 20, 40, 80].filter((t) => t < converged).concat([converged]).map((epochs) => ({
    epochs,
    residual: fixedPointResidual(problem, lambda, runSolver("block-coordinate", problem, tensor(lambda), epochs)),
    unrolled: grad((l: Tensor) => validationLoss(problem, l, runSolver("block-coordinate", problem, l, epochs)))(tensor(lambda)).item(),
  }));
  print(`\nBlock coordinate descent, p = ${featureCounts[0]}: dL/dλ unrolled through t epochs, against the implicit ${implicitAtConvergence.toExponential(10)} (${converged} epochs)`);
  for (const c of convergence) print(`  t = ${String(c.epochs).padStart(4)}  residual ${c.residual.toExponential(1)}  unrolled ${c.unrolled.toExponential(10)}  |difference| ${Math.abs(c.unrolled - implicitAtConvergence).toExponential(1)}`);
  return { lambda, tol, rows, convergence, implicitAtConvergence };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
