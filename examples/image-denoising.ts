/**
 * Example: bilevel image denoising, a regularisation weight learned by its hypergradient.
 *
 * Run with `npm run example -- image-denoising`.
 *
 * A noisy image f is denoised by minimising a smoothed total-variation energy
 *
 *   u(λ, f) = argmin_u ½‖u − f‖² + λ Σ φ(u[i+1,j] − u[i,j]) + λ Σ φ(u[i,j+1] − u[i,j]),
 *   φ(t) = √(t² + ε²),
 *
 * and the weight λ is chosen to make u(λ, f) close to the clean image: the
 * classic bilevel-learning problem for regularisation weights. The energy is
 * written once, with library ops; `minimize` (L-BFGS) finds u, and its result
 * is differentiable: the hypergradient ∂L/∂λ of L = ½‖u(λ, f) − clean‖² comes
 * from one conjugate-gradient solve with the energy's Hessian, applied
 * matrix-free (forward over reverse mode), and the same call gives ∂L/∂f, the
 * sensitivity to every noisy pixel. No gradient is derived by hand.
 *
 * The story: λ starts far too small (the denoised image keeps the noise), and
 * hypergradient descent on log λ drives the error on a *validation* image (the
 * same scene, fresh noise) down. bench/denoise.ts runs the same problem at a
 * million unknowns against a hand-written derivative, and bench/solvers.ts the
 * whole pipeline written this way against the hand-written one.
 */
import { Tensor, add, grad, minimize, mul, slice, sqrt, sub, sum, tensor, type Operand, type SolverResult } from "../lib/index.js";
import { seededUniform } from "./data/random.js";

/** The smoothing of |t| in the total variation. */
export const EPSILON = 0.05;

export interface DenoisingProblem {
  /** Side of the N×N image. */
  N: number;
  /** 1 inside the disc (i/N − ½)² + (j/N − ½)² < 0.1, 0 outside (row-major). */
  clean: Float64Array;
  /** clean + 0.2·(r − ½), r uniform from a seeded generator. */
  noisy: Float64Array;
}

/** The disc image and a noisy copy of it (noise seed `seed`). */
export function denoisingProblem(N: number, seed = 1): DenoisingProblem {
  const clean = new Float64Array(N * N);
  const noisy = new Float64Array(N * N);
  const random = seededUniform(seed);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const inside = (i / N - 0.5) ** 2 + (j / N - 0.5) ** 2 < 0.1 ? 1 : 0;
      clean[i * N + j] = inside;
      noisy[i * N + j] = inside + 0.2 * (random() - 0.5);
    }
  }
  return { N, clean, noisy };
}

/** The energy E(λ, f, u) with library ops: u and f are N×N tensors, λ a scalar. */
export function denoisingEnergy(N: number, epsilon = EPSILON): (lambda: Tensor, f: Tensor, u: Tensor) => Tensor {
  const smoothedAbs = (t: Tensor): Tensor => sum(sqrt(add(mul(t, t), epsilon * epsilon)));
  return (lambda, f, u) => {
    const dx = sub(slice(u, [1, 0], [N - 1, N]), slice(u, [0, 0], [N - 1, N]));
    const dy = sub(slice(u, [0, 1], [N, N - 1]), slice(u, [0, 0], [N, N - 1]));
    const r = sub(u, f);
    return add(mul(0.5, sum(mul(r, r))), mul(lambda, add(smoothedAbs(dx), smoothedAbs(dy))));
  };
}

/**
 * u(λ, f) = argmin_u E(λ, f, u) by `minimize` (L-BFGS from u = f, the energy's
 * gradient from reverse mode), to ‖∇E‖ ≤ tol (default 1e-11·N). The result's `x`
 * is differentiable in λ and f: minimize attaches the implicit derivative
 * through the stationarity conditions ∇_u E = 0 (CG with the energy's Hessian,
 * applied matrix-free).
 */
export function denoise(lambda: Operand, f: Tensor, opts: { tol?: number; epsilon?: number } = {}): SolverResult {
  const N = f.shape[0];
  const energy = denoisingEnergy(N, opts.epsilon);
  return minimize((u: Tensor, l: Tensor, g: Tensor) => energy(l, g, u), f, { args: [lambda, f], tol: opts.tol ?? 1e-11 * N });
}

/** ½‖u − clean‖². */
export function reconstructionError(u: Float64Array, clean: Float64Array): number {
  let s = 0;
  for (let k = 0; k < u.length; k++) s += (u[k] - clean[k]) ** 2;
  return 0.5 * s;
}

export interface DenoisingResult {
  lambdas: number[];
  validationErrors: number[];
  trainingErrors: number[];
  /** The first hypergradient ∂L/∂log λ against central differences of re-solved problems. */
  check: { implicit: number; finiteDifference: number; relativeError: number };
  /** L-BFGS iterations of the last training solve. */
  solverIterations: number;
}

export async function main(opts: { quiet?: boolean; N?: number; steps?: number } = {}): Promise<DenoisingResult> {
  const print = opts.quiet ? () => {} : console.log;
  const N = opts.N ?? 48;
  const steps = opts.steps ?? 10;
  const learningRate = 0.8;
  const train = denoisingProblem(N, 1);
  const validation = denoisingProblem(N, 2);
  const clean = tensor(train.clean, { shape: [N, N] });
  const noisy = tensor(train.noisy, { shape: [N, N] });
  const noisyValidation = tensor(validation.noisy, { shape: [N, N] });
  let solverIterations = 0;
  const loss = (theta: Tensor): Tensor => {
    const solution = denoise(theta.exp(), noisy);
    solverIterations = solution.iterations;
    const d = sub(solution.x, clean);
    return mul(0.5, sum(mul(d, d)));
  };
  const hypergradient = grad(loss);
  const errorOf = (lambda: number, f: Tensor, reference: Float64Array) => reconstructionError(denoise(lambda, f).x.toFloat64Array(), reference);

  print(`Bilevel denoising of a ${N}×${N} disc image: λ tuned on one noisy copy, checked on another.`);
  print("step        λ   training error   validation error   ∂L/∂log λ   L-BFGS iterations");
  let theta = Math.log(0.002);
  const lambdas: number[] = [];
  const validationErrors: number[] = [];
  const trainingErrors: number[] = [];
  let lastGradient = 0;
  let firstGradient = 0;
  for (let step = 0; step <= steps; step++) {
    const lambda = Math.exp(theta);
    lambdas.push(lambda);
    trainingErrors.push(errorOf(lambda, noisy, train.clean));
    validationErrors.push(errorOf(lambda, noisyValidation, validation.clean));
    lastGradient = hypergradient(tensor(theta)).item();
    if (step === 0) firstGradient = lastGradient;
    print(`${String(step).padStart(4)}  ${lambda.toFixed(5)}  ${trainingErrors[step].toFixed(5).padStart(15)}  ${validationErrors[step].toFixed(5).padStart(17)}  ${lastGradient.toExponential(3).padStart(10)}  ${String(solverIterations).padStart(18)}`);
    theta -= learningRate * lastGradient;
  }

  // The first hypergradient (far from the optimum, where it is large) against
  // central differences in θ = log λ of problems re-solved (no derivative used).
  const h = 1e-4;
  const at = (t: number): number => errorOf(Math.exp(t), noisy, train.clean);
  const theta0 = Math.log(lambdas[0]);
  const finiteDifference = (at(theta0 + h) - at(theta0 - h)) / (2 * h);
  const relativeError = Math.abs(firstGradient - finiteDifference) / Math.abs(finiteDifference);
  print(`\n∂L/∂log λ at λ = ${lambdas[0]}: implicit ${firstGradient.toExponential(8)}, central differences ${finiteDifference.toExponential(8)} (relative difference ${relativeError.toExponential(2)})`);
  print(`Validation error ${validationErrors[0].toFixed(4)} → ${validationErrors[validationErrors.length - 1].toFixed(4)} as λ went ${lambdas[0].toFixed(4)} → ${lambdas[lambdas.length - 1].toFixed(4)}.`);
  return { lambdas, validationErrors, trainingErrors, check: { implicit: firstGradient, finiteDifference, relativeError }, solverIterations };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
