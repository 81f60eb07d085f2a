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
 * classic bilevel-learning problem for regularisation weights. `forward` is a
 * plain gradient descent on Float64Arrays (a black box to the library); the
 * conditions are the stationarity of the energy, written with library ops. The
 * hypergradient ∂L/∂λ of L = ½‖u(λ, f) − clean‖² comes from one conjugate-gradient
 * solve with the energy's Hessian, applied matrix-free through a linearisation of
 * the conditions recorded once per call (forward over reverse mode), and the same
 * call gives ∂L/∂f, the sensitivity to every noisy pixel.
 *
 * The story: λ starts far too small (the denoised image keeps the noise), and
 * hypergradient descent on log λ drives the error on a *validation* image (the
 * same scene, fresh noise) down. bench/denoise.ts runs the same problem at a
 * million unknowns against a hand-written derivative.
 */
import { ImplicitFunction, Tensor, add, grad, mul, slice, sqrt, stationarityConditions, sub, sum, tensor } from "../lib/index.js";
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

/**
 * ∇E(u) = (u − f) + λ (D_xᵀ φ'(D_x u) + D_yᵀ φ'(D_y u)) into `g`, with φ'(t) = t/√(t² + ε²);
 * returns ‖∇E‖₂.
 */
export function energyGradient(u: Float64Array, f: Float64Array, lambda: number, N: number, g: Float64Array, epsilon = EPSILON): number {
  const e2 = epsilon * epsilon;
  for (let k = 0; k < N * N; k++) g[k] = u[k] - f[k];
  for (let i = 0; i + 1 < N; i++) {
    for (let j = 0, k = i * N; j < N; j++, k++) {
      const t = u[k + N] - u[k];
      const p = (lambda * t) / Math.sqrt(t * t + e2);
      g[k + N] += p;
      g[k] -= p;
    }
  }
  for (let i = 0; i < N; i++) {
    for (let j = 0, k = i * N; j + 1 < N; j++, k++) {
      const t = u[k + 1] - u[k];
      const p = (lambda * t) / Math.sqrt(t * t + e2);
      g[k + 1] += p;
      g[k] -= p;
    }
  }
  let s = 0;
  for (let k = 0; k < N * N; k++) s += g[k] * g[k];
  return Math.sqrt(s);
}

/**
 * The lower-level solver: gradient descent from u = f with step 1/(1 + 8λ/ε)
 * (the inverse of a bound on the energy's curvature) until ‖∇E‖ < tolFactor·N.
 */
export function denoise(lambda: number, f: Float64Array, N: number, opts: { tolFactor?: number; maxSteps?: number; epsilon?: number } = {}): { u: Float64Array; steps: number } {
  const epsilon = opts.epsilon ?? EPSILON;
  const tol = (opts.tolFactor ?? 1e-11) * N;
  const maxSteps = opts.maxSteps ?? 20000;
  const step = 1 / (1 + (8 * lambda) / epsilon);
  const u = Float64Array.from(f);
  const g = new Float64Array(N * N);
  for (let steps = 0; steps < maxSteps; steps++) {
    if (energyGradient(u, f, lambda, N, g, epsilon) < tol) return { u, steps };
    for (let k = 0; k < u.length; k++) u[k] -= step * g[k];
  }
  throw new Error(`denoise: gradient descent did not reach ‖∇E‖ < ${tol} in ${maxSteps} steps`);
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

/** u(λ, f) as an implicit function: forward is the plain solver, the conditions ∇_u E = 0. */
export function denoiser(N: number, opts: { tol?: number } = {}): ImplicitFunction {
  return new ImplicitFunction({
    forward: (lambda: Tensor, f: Tensor) => tensor(denoise(lambda.item(), f.toFloat64Array(), N).u, { shape: [N, N] }),
    ...stationarityConditions(denoisingEnergy(N), { positiveDefinite: true }),
    tol: opts.tol ?? 1e-8,
    name: "denoiser",
  });
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
  /** The first hypergradient ∂L/∂log λ against central differences of the plain solver. */
  check: { implicit: number; finiteDifference: number; relativeError: number };
  cgIterations: number;
}

export async function main(opts: { quiet?: boolean; N?: number; steps?: number } = {}): Promise<DenoisingResult> {
  const print = opts.quiet ? () => {} : console.log;
  const N = opts.N ?? 48;
  const steps = opts.steps ?? 10;
  const learningRate = 0.8;
  const train = denoisingProblem(N, 1);
  const validation = denoisingProblem(N, 2);
  const u = denoiser(N);
  const clean = tensor(train.clean, { shape: [N, N] });
  const noisy = tensor(train.noisy, { shape: [N, N] });
  const loss = (theta: Tensor): Tensor => {
    const d = sub(u.call(theta.exp(), noisy), clean);
    return mul(0.5, sum(mul(d, d)));
  };
  const hypergradient = grad(loss);

  print(`Bilevel denoising of a ${N}×${N} disc image: λ tuned on one noisy copy, checked on another.`);
  print("step        λ   training error   validation error   ∂L/∂log λ   CG iterations");
  let theta = Math.log(0.002);
  const lambdas: number[] = [];
  const validationErrors: number[] = [];
  const trainingErrors: number[] = [];
  let lastGradient = 0;
  let firstGradient = 0;
  for (let step = 0; step <= steps; step++) {
    const lambda = Math.exp(theta);
    lambdas.push(lambda);
    trainingErrors.push(reconstructionError(denoise(lambda, train.noisy, N).u, train.clean));
    validationErrors.push(reconstructionError(denoise(lambda, validation.noisy, N).u, validation.clean));
    lastGradient = hypergradient(tensor(theta)).item();
    if (step === 0) firstGradient = lastGradient;
    print(`${String(step).padStart(4)}  ${lambda.toFixed(5)}  ${trainingErrors[step].toFixed(5).padStart(15)}  ${validationErrors[step].toFixed(5).padStart(17)}  ${lastGradient.toExponential(3).padStart(10)}  ${String(u.lastSolve?.iterations).padStart(14)}`);
    theta -= learningRate * lastGradient;
  }

  // The first hypergradient (far from the optimum, where it is large) against
  // central differences of the plain solver in θ = log λ.
  const h = 1e-4;
  const at = (t: number): number => reconstructionError(denoise(Math.exp(t), train.noisy, N).u, train.clean);
  const theta0 = Math.log(lambdas[0]);
  const finiteDifference = (at(theta0 + h) - at(theta0 - h)) / (2 * h);
  const relativeError = Math.abs(firstGradient - finiteDifference) / Math.abs(finiteDifference);
  print(`\n∂L/∂log λ at λ = ${lambdas[0]}: implicit ${firstGradient.toExponential(8)}, central differences ${finiteDifference.toExponential(8)} (relative difference ${relativeError.toExponential(2)})`);
  print(`Validation error ${validationErrors[0].toFixed(4)} → ${validationErrors[validationErrors.length - 1].toFixed(4)} as λ went ${lambdas[0].toFixed(4)} → ${lambdas[lambdas.length - 1].toFixed(4)}.`);
  return { lambdas, validationErrors, trainingErrors, check: { implicit: firstGradient, finiteDifference, relativeError }, cgIterations: u.lastSolve?.iterations ?? -1 };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
