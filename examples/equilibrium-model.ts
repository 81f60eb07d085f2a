/**
 * Example: a deep-equilibrium layer, trained through its fixed point.
 *
 * The hidden state of a sample u is not the output of a stack of layers but the
 * fixed point of one layer applied forever:
 *
 *   z = tanh(W z + U u + c),      prediction = rᵀz + r₀
 *
 * The forward pass finds z with `fixedPoint` (Anderson acceleration, Walker &
 * Ni 2011; any number of steps, nothing recorded), the layer written once with
 * library ops. The backward pass needs dz/d(W, U, c); backprop through the
 * iterations would store every one of them, while the implicit function theorem
 * needs only the fixed-point condition F = tanh(W z + U u + c) − z: one linear
 * solve with ∂F/∂z per gradient (24 samples × 8 hidden units = 192 unknowns,
 * and ∂F/∂z is not symmetric), which `fixedPoint` attaches to its result.
 *
 * W = γ·V/√(1 + ‖V‖²_F) keeps ‖W‖₂ < γ = 0.9 whatever V is, so the layer is a
 * contraction (tanh is 1-Lipschitz) and the fixed point exists, is unique, and
 * the iteration converges. W is computed upstream of the implicit function from
 * the trained V, and the injection U u + c is passed in as an explicit input:
 * gradients reach V, U and c through the inputs of `call`.
 *
 * Run: npx tsx examples/equilibrium-model.ts
 */
import {
  Tensor, tensor, zeros, add, mul, div, sub, sqrt, sum, mean, tanh, matmul, grad, valueAndGrad, fixedPoint, stopGradient, type SolverResult,
} from "../lib/index.js";
import { seededNormal } from "./data/random.js";

const HIDDEN = 8;
const CONTRACTION = 0.9;

/** 24 inputs on a 6×4 grid of [−1, 1]², target t(u) = sin(2u₁)·cos(1.5u₂). */
export function targetMap(): { inputs: Tensor; targets: Tensor } {
  const points: number[][] = [];
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) points.push([-1 + (2 * i) / 5, -1 + (2 * j) / 3]);
  return { inputs: tensor(points), targets: tensor(points.map(([u1, u2]) => Math.sin(2 * u1) * Math.cos(1.5 * u2))) };
}

export interface Parameters {
  V: Tensor;
  U: Tensor;
  c: Tensor;
  r: Tensor;
  r0: Tensor;
}

export function initialParameters(seed = 5): Parameters {
  const normal = seededNormal(seed);
  const matrix = (rows: number, cols: number, scale: number) => tensor(Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * normal())));
  return {
    V: matrix(HIDDEN, HIDDEN, 0.3),
    U: matrix(HIDDEN, 2, 1),
    c: tensor(Array.from({ length: HIDDEN }, () => 0.1 * normal())),
    r: tensor(Array.from({ length: HIDDEN }, () => 0.3 * normal())),
    r0: tensor(0),
  };
}

/** The contraction W = γ·V/√(1 + ‖V‖²_F). */
export function contraction(V: Tensor): Tensor {
  return div(mul(CONTRACTION, V), sqrt(add(1, sum(mul(V, V)))));
}

/** One application of the layer to the hidden states Z [N, HIDDEN]: tanh(Z Wᵀ + injection). */
export function layer(Z: Tensor, W: Tensor, injection: Tensor): Tensor {
  return tanh(add(matmul(Z, W.T), injection));
}

/**
 * The equilibrium layer: Z(W, injection) solving Z = tanh(Z Wᵀ + injection), by
 * `fixedPoint` (Anderson), warm-started from the previous equilibrium (training
 * moves the parameters a little per step). Z is differentiable in W and the
 * injection. `last` holds the most recent solver result.
 */
export function equilibriumLayer(tol = 1e-12): { solve: (W: Tensor, injection: Tensor) => Tensor; last: () => SolverResult | null } {
  let warmStart: Tensor | null = null;
  let last: SolverResult | null = null;
  return {
    solve: (W, injection) => {
      const start = warmStart !== null && warmStart.shape[0] === injection.shape[0] ? warmStart : zeros([injection.shape[0], HIDDEN]);
      last = fixedPoint(layer, start, { args: [W, injection], tol });
      warmStart = stopGradient(last.x);
      return last.x;
    },
    last: () => last,
  };
}

/** Mean squared error of the model on (inputs, targets). */
export function modelLoss(equilibrium: ReturnType<typeof equilibriumLayer>, p: Parameters, inputs: Tensor, targets: Tensor): Tensor {
  const injection = add(matmul(inputs, p.U.T), p.c);
  const Z = equilibrium.solve(contraction(p.V), injection);
  const prediction = add(matmul(Z, p.r), p.r0);
  return mean(sub(prediction, targets).pow(2));
}

/** Adam (Kingma & Ba 2015) on plain arrays, one state per parameter. */
class Adam {
  private readonly first: Float64Array[];
  private readonly second: Float64Array[];
  private step = 0;
  constructor(sizes: number[], private readonly rate: number) {
    this.first = sizes.map((n) => new Float64Array(n));
    this.second = sizes.map((n) => new Float64Array(n));
  }
  update(values: Tensor[], gradients: Tensor[]): Tensor[] {
    this.step++;
    const [b1, b2] = [0.9, 0.999];
    return values.map((value, k) => {
      const v = value.toFloat64Array();
      const g = gradients[k].toFloat64Array();
      for (let i = 0; i < v.length; i++) {
        this.first[k][i] = b1 * this.first[k][i] + (1 - b1) * g[i];
        this.second[k][i] = b2 * this.second[k][i] + (1 - b2) * g[i] * g[i];
        const m = this.first[k][i] / (1 - b1 ** this.step);
        const s = this.second[k][i] / (1 - b2 ** this.step);
        v[i] -= (this.rate * m) / (Math.sqrt(s) + 1e-8);
      }
      return tensor(v, { shape: value.shape });
    });
  }
}

export interface EquilibriumModelResult {
  /** Training loss per step (index 0: before training). */
  losses: number[];
  /** At the initial parameters: the implicit gradient w.r.t. U vs backprop through the unrolled iteration. */
  unrolledComparison: { maxAbsDifference: number; unrolledIterations: number };
  /** ‖W‖₂ bound: the Frobenius norm of the final W (< 0.9). */
  finalWeightNorm: number;
  /** The last forward solve: Anderson iterations and ‖Z − layer(Z)‖. */
  lastSolve: { method: string; iterations: number; residualNorm: number };
}

export async function main(opts: { quiet?: boolean; steps?: number } = {}): Promise<EquilibriumModelResult> {
  const print = opts.quiet ? () => {} : console.log;
  const steps = opts.steps ?? 150;
  const { inputs, targets } = targetMap();
  const equilibrium = equilibriumLayer();
  let params = initialParameters();
  const names = ["V", "U", "c", "r", "r0"] as const;

  const loss = (V: Tensor, U: Tensor, c: Tensor, r: Tensor, r0: Tensor) => modelLoss(equilibrium, { V, U, c, r, r0 }, inputs, targets);
  const lossAndGradient = valueAndGrad(loss, { argnums: [0, 1, 2, 3, 4] });

  // The implicit gradient equals backprop through the unrolled iteration (once converged).
  const implicitGradU = (lossAndGradient(params.V, params.U, params.c, params.r, params.r0)[1] as Tensor[])[1].toFloat64Array();
  // As many plain iterations as converge from Z = 0 (to a change of 1e-14), unrolled on the tape.
  const W0 = contraction(params.V);
  const injection0 = add(matmul(inputs, params.U.T), params.c);
  const unrolledIterations = fixedPoint(layer, zeros([inputs.shape[0], HIDDEN]), { args: [W0, injection0], method: "iterate", tol: 1e-14 }).iterations;
  const unrolledLoss = (U: Tensor) => {
    const W = contraction(params.V);
    const injection = add(matmul(inputs, U.T), params.c);
    let Z = zeros([inputs.shape[0], HIDDEN]);
    for (let k = 0; k < unrolledIterations; k++) Z = layer(Z, W, injection);
    return mean(sub(add(matmul(Z, params.r), params.r0), targets).pow(2));
  };
  const unrolledGradU = grad(unrolledLoss)(params.U).toFloat64Array();
  const maxAbsDifference = Math.max(...Array.from(implicitGradU, (v, i) => Math.abs(v - unrolledGradU[i])));
  print(`Deep-equilibrium model z = tanh(Wz + Uu + c), ${HIDDEN} hidden units, fitting sin(2u₁)cos(1.5u₂) on ${inputs.shape[0]} points`);
  print(`implicit dL/dU vs backprop through ${unrolledIterations} unrolled iterations: max |difference| = ${maxAbsDifference.toExponential(2)}\n`);

  const adam = new Adam(names.map((k) => params[k].size), 0.05);
  const losses: number[] = [];
  for (let step = 0; step <= steps; step++) {
    const values = names.map((k) => params[k]);
    const [value, gradients] = lossAndGradient(params.V, params.U, params.c, params.r, params.r0);
    const current = value.item();
    losses.push(current);
    if (step % 25 === 0 || step === steps) {
      const s = equilibrium.last();
      print(`step ${String(step).padStart(3)}  training MSE ${current.toExponential(4)}${s ? `  (Anderson: ${s.iterations} iterations, ‖Z − layer(Z)‖ ${s.residualNorm.toExponential(1)})` : ""}`);
    }
    if (step === steps) break;
    const updated = adam.update(values, gradients as Tensor[]);
    params = { V: updated[0], U: updated[1], c: updated[2], r: updated[3], r0: updated[4] };
  }
  const finalWeightNorm = Math.sqrt(sum(contraction(params.V).pow(2)).item());
  print(`\ntraining MSE ${losses[0].toExponential(3)} → ${losses[losses.length - 1].toExponential(3)}; ‖W‖_F = ${finalWeightNorm.toFixed(4)} < ${CONTRACTION}`);
  const s = equilibrium.last()!;
  return {
    losses,
    unrolledComparison: { maxAbsDifference, unrolledIterations },
    finalWeightNorm,
    lastSolve: { method: "anderson", iterations: s.iterations, residualNorm: s.residualNorm },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
