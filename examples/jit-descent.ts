/**
 * Example: one objective written with library ops, its gradient compiled by jit.
 *
 * The image-denoising energy E(u) = ½‖u − f‖² + λ Σ √(|∇u|² + ε²) (image-denoising.ts)
 * is written with slice, sub, mul, sqrt and sum. Eagerly, every op of ∇E makes a
 * pass over memory into a fresh array. `jit(grad(E))` traces the gradient once
 * into a program and fuses it: the printout shows three loops, the two
 * difference fields and the gradient that pads them back, with the pads as
 * index guards rather than arrays. Gradient descent with the compiled step
 * follows the eager iterates exactly, and the gradient matches the hand-written
 * one in image-denoising.ts.
 *
 * Run: npx tsx examples/jit-descent.ts
 */
import { Tensor, grad, jit, mul, sub, tensor } from "../lib/index.js";
import { denoisingEnergy, denoisingProblem, energyGradient } from "./image-denoising.js";

export interface JitDescentResult {
  N: number;
  steps: number;
  energyStart: number;
  energyEnd: number;
  /** max |u_jit − u_eager| after `steps` steps. */
  iterateDifference: number;
  /** max |∇E_jit − ∇E_hand| / max |∇E_hand| at the start (the noisy image; near the minimum ∇E is a small difference of large terms). */
  gradientError: number;
  /** The compiled program, as `lower().toString()` prints it. */
  program: string;
  eagerMs: number;
  jitMs: number;
}

export async function main(opts: { quiet?: boolean; N?: number; steps?: number } = {}): Promise<JitDescentResult> {
  const print = opts.quiet ? () => {} : console.log;
  const N = opts.N ?? 128;
  const steps = opts.steps ?? 100;
  const lambda = 0.02;
  const { noisy } = denoisingProblem(N);
  const f = tensor(noisy, { shape: [N, N] });
  const energy = denoisingEnergy(N);
  const E = (u: Tensor): Tensor => energy(tensor(lambda), f, u);
  // ∇E is Lipschitz with constant about 1 + 8λ/ε = 4.2: a step of 0.2 descends.
  const eagerStep = (u: Tensor): Tensor => sub(u, mul(0.2, grad(E)(u)));
  const jitStep = jit(eagerStep);

  let uEager = f;
  let uJit = f;
  for (let k = 0; k < steps; k++) {
    uEager = eagerStep(uEager);
    uJit = jitStep(uJit);
  }
  const a = uJit.toFloat64Array();
  const b = uEager.toFloat64Array();
  let iterateDifference = 0;
  for (let i = 0; i < a.length; i++) iterateDifference = Math.max(iterateDifference, Math.abs(a[i] - b[i]));

  const gradient = jit(grad(E));
  const hand = new Float64Array(N * N);
  energyGradient(noisy, noisy, lambda, N, hand);
  const compiled = gradient(f).toFloat64Array();
  let gradientError = 0;
  let scale = 0;
  for (let i = 0; i < hand.length; i++) {
    gradientError = Math.max(gradientError, Math.abs(compiled[i] - hand[i]));
    scale = Math.max(scale, Math.abs(hand[i]));
  }
  gradientError /= scale;

  const time = (run: () => unknown): number => {
    for (let i = 0; i < 3; i++) run();
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) run();
    return (performance.now() - t0) / 10;
  };
  const eagerGradient = grad(E);
  const eagerMs = time(() => eagerGradient(uJit));
  const jitMs = time(() => gradient(uJit));
  const program = gradient.lower(uJit).toString();

  const energyStart = E(f).item();
  const energyEnd = E(uJit).item();
  print(program);
  print(`\n${steps} descent steps on a ${N}×${N} image: E from ${energyStart.toFixed(4)} to ${energyEnd.toFixed(4)}`);
  print(`jitted and eager iterates differ by at most ${iterateDifference.toExponential(2)}`);
  print(`compiled gradient vs the hand-written one at the noisy image: relative difference ${gradientError.toExponential(2)}`);
  print(`one gradient: eager ${eagerMs.toFixed(2)} ms, jit ${jitMs.toFixed(2)} ms`);
  return { N, steps, energyStart, energyEnd, iterateDifference, gradientError, program, eagerMs, jitMs };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
