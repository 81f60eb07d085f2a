/**
 * Implicit derivatives at scale: bilevel image denoising (examples/image-denoising.ts)
 * on N×N images, N = 256, 512, 1000 (10⁶ unknowns).
 *
 * The derivative asked for: ∂L/∂λ and ∂L/∂f (N² entries) of L = ½‖u(λ, f) − clean‖²
 * in one call, with CG (tol 1e-8) on the adjoint system H w = u − clean, H the
 * energy's Hessian. Two implementations, each in a fresh child process so that its
 * peak memory can be read:
 *   implicit-diff — grad through the ImplicitFunction of the example (conditions
 *                   written with library ops, the Hessian applied by the library);
 *   hand-js       — the same math written by hand on Float64Arrays: φ'' weights
 *                   computed once, the Hessian-vector product in two passes, CG.
 * Reported: ms (the derivative's time beyond the forward solve, median of warm
 * runs; two children per implementation, alternating, the lower median kept),
 * cgIterations, bytesPerUnknown (peak resident memory beyond what is live after
 * the forward solve: the child's peak resident size, see peakResident; the
 * larger of the two children), dLdλ and its relative difference to central
 * differences of the plain solver (fdRelError), and the agreement of the two
 * implementations' gradients.
 *
 * Run: npm run bench -- denoise   (or npx tsx bench/denoise.ts [N ...])
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ImplicitFunction, Tensor, grad, mul, stationarityConditions, sub, sum, tensor } from "../lib/index.js";
import { denoisingEnergy, denoisingProblem, EPSILON, reconstructionError } from "../examples/image-denoising.js";
import { emit, round } from "./util.js";

const LAMBDA = 0.02;
const CG_TOL = 1e-8;
const SIZES = [256, 512, 1000];

// ---------------------------------------------------------------------------
// The hand-written reference: the forward solver (gradient descent on the
// energy's hand-derived gradient) and the derivative

/**
 * ∇E(u) = (u − f) + λ (D_xᵀ φ'(D_x u) + D_yᵀ φ'(D_y u)) into `g`, with φ'(t) = t/√(t² + ε²);
 * returns ‖∇E‖₂.
 */
export function energyGradient(u: Float64Array, f: Float64Array, lambda: number, N: number, g: Float64Array, epsilon = EPSILON): number {
  energyGradientInto(u, f, lambda, N, g, epsilon);
  let s = 0;
  for (let k = 0; k < N * N; k++) s += g[k] * g[k];
  return Math.sqrt(s);
}

/** ∇E(u) into `g`, as `energyGradient` without the norm. */
export function energyGradientInto(u: Float64Array, f: Float64Array, lambda: number, N: number, g: Float64Array, epsilon = EPSILON): void {
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
}

/**
 * The hand-written lower-level solver: gradient descent from u = f with step 1/(1 + 8λ/ε)
 * (the inverse of a bound on the energy's curvature) until ‖∇E‖ < tolFactor·N.
 */
export function handDenoise(lambda: number, f: Float64Array, N: number, opts: { tolFactor?: number; maxSteps?: number; epsilon?: number } = {}): { u: Float64Array; steps: number } {
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
  throw new Error(`handDenoise: gradient descent did not reach ‖∇E‖ < ${tol} in ${maxSteps} steps`);
}


interface Gradients { dLambda: number; dF: Float64Array; iterations: number }

/**
 * ∂L/∂λ and ∂L/∂f by hand. With F = ∇_u E = (u − f) + λ Dᵀφ'(Du):
 * H = I + λ Dᵀ diag(φ''(Du)) D, solve H w = u − clean by CG, then
 * ∂L/∂f = −(∂F/∂f)ᵀ w = w and ∂L/∂λ = −⟨Dᵀφ'(Du), w⟩ = −⟨φ'(Du), D w⟩.
 */
export function handDerivative(u: Float64Array, clean: Float64Array, lambda: number, N: number): Gradients {
  const n = N * N;
  const e2 = EPSILON * EPSILON;
  // λ φ''(t) = λ ε² / (t² + ε²)^{3/2} on the vertical (wx) and horizontal (wy) differences.
  const wx = new Float64Array(n);
  const wy = new Float64Array(n);
  for (let i = 0; i + 1 < N; i++) {
    for (let j = 0, k = i * N; j < N; j++, k++) {
      const t = u[k + N] - u[k];
      const s = t * t + e2;
      wx[k] = (lambda * e2) / (s * Math.sqrt(s));
    }
  }
  for (let i = 0; i < N; i++) {
    for (let j = 0, k = i * N; j + 1 < N; j++, k++) {
      const t = u[k + 1] - u[k];
      const s = t * t + e2;
      wy[k] = (lambda * e2) / (s * Math.sqrt(s));
    }
  }
  const hvp = (v: Float64Array, out: Float64Array): void => {
    out.set(v);
    // Pass 1: vertical differences; pass 2: horizontal ones.
    for (let k = 0; k < n - N; k++) {
      const q = wx[k] * (v[k + N] - v[k]);
      out[k + N] += q;
      out[k] -= q;
    }
    for (let i = 0; i < N; i++) {
      for (let j = 0, k = i * N; j + 1 < N; j++, k++) {
        const q = wy[k] * (v[k + 1] - v[k]);
        out[k + 1] += q;
        out[k] -= q;
      }
    }
  };
  // CG from 0 on H w = u − clean.
  const w = new Float64Array(n);
  const r = new Float64Array(n);
  for (let k = 0; k < n; k++) r[k] = u[k] - clean[k];
  const p = Float64Array.from(r);
  const Hp = new Float64Array(n);
  let rr = 0;
  for (let k = 0; k < n; k++) rr += r[k] * r[k];
  const threshold = CG_TOL * Math.sqrt(rr);
  let iterations = 0;
  while (Math.sqrt(rr) > threshold && iterations < 1000) {
    iterations++;
    hvp(p, Hp);
    let pHp = 0;
    for (let k = 0; k < n; k++) pHp += p[k] * Hp[k];
    const alpha = rr / pHp;
    let rrNext = 0;
    for (let k = 0; k < n; k++) {
      w[k] += alpha * p[k];
      const rk = r[k] - alpha * Hp[k];
      r[k] = rk;
      rrNext += rk * rk;
    }
    const beta = rrNext / rr;
    rr = rrNext;
    for (let k = 0; k < n; k++) p[k] = r[k] + beta * p[k];
  }
  // ∂L/∂λ = −⟨φ'(Du), D w⟩.
  let dLambda = 0;
  for (let i = 0; i + 1 < N; i++) {
    for (let j = 0, k = i * N; j < N; j++, k++) {
      const t = u[k + N] - u[k];
      dLambda -= (t / Math.sqrt(t * t + e2)) * (w[k + N] - w[k]);
    }
  }
  for (let i = 0; i < N; i++) {
    for (let j = 0, k = i * N; j + 1 < N; j++, k++) {
      const t = u[k + 1] - u[k];
      dLambda -= (t / Math.sqrt(t * t + e2)) * (w[k + 1] - w[k]);
    }
  }
  return { dLambda, dF: w, iterations };
}

// ---------------------------------------------------------------------------
// One measurement in a child process

interface ChildResult {
  impl: string;
  N: number;
  ms: number;
  coldMs: number;
  forwardMs: number;
  forwardSteps: number;
  cgIterations: number;
  bytesPerUnknown: number;
  dLambda: number;
  dFSample: number[];
  dFNorm: number;
}

function norm(x: Float64Array): number {
  let s = 0;
  for (let k = 0; k < x.length; k++) s += x[k] * x[k];
  return Math.sqrt(s);
}

/**
 * Linux: clears the process's peak resident size (VmHWM), so that what follows
 * sets it. Without this the peak includes the module loading before the forward
 * solve and, through exec, the parent's size when it spawned the child (the
 * kernel carries the pre-exec high-water mark into ru_maxrss; a bench run that
 * spawns the child late, from a large parent, would charge the parent's memory).
 */
export function resetPeakResident(): void {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // Not Linux, or not permitted: peakResident falls back to maxRSS.
  }
}

/** Peak resident bytes since resetPeakResident: VmHWM where /proc has it, else maxRSS. */
export function peakResident(): number {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm !== null) return Number(hwm[1]) * 1024;
  } catch {
    // fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}

function child(impl: string, N: number): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const { clean, noisy } = denoisingProblem(N, 1);
  const t0 = performance.now();
  const { u: uStar, steps } = handDenoise(LAMBDA, noisy, N);
  const forwardMs = performance.now() - t0;
  // What is measured is the derivative beyond the forward solve, for both implementations: the
  // library's forward hands back the solution computed above (as the hand-written derivative
  // starts from it), so neither its time nor its memory is counted.
  const uStarTensor = tensor(uStar, { shape: [N, N] });
  const u = new ImplicitFunction({
    forward: (lambda: Tensor, f: Tensor) => {
      if (lambda.item() !== LAMBDA || f.toNdarray().data !== noisy) throw new Error("bench/denoise: forward called at another point");
      return uStarTensor;
    },
    ...stationarityConditions(denoisingEnergy(N), { positiveDefinite: true }),
    tol: CG_TOL,
  });
  const cleanT = tensor(clean, { shape: [N, N] });
  const noisyT = tensor(noisy, { shape: [N, N] });
  const lambdaT = tensor(LAMBDA);
  const loss = (lambda: Tensor, f: Tensor): Tensor => {
    const d = sub(u.call(lambda, f), cleanT);
    return mul(0.5, sum(mul(d, d)));
  };
  const gradient = grad(loss, { argnums: [0, 1] });
  /** One derivative; returns it and its time beyond the forward solve. */
  const run = (): [Gradients, number] => {
    if (impl === "hand-js") {
      // The hand derivative starts from forward's output (computed before, as the library's forward runs before its derivative).
      const start = performance.now();
      const g = handDerivative(uStar, clean, LAMBDA, N);
      return [g, performance.now() - start];
    }
    const start = performance.now();
    const [dl, df] = gradient(lambdaT, noisyT);
    // The gradient's own storage (a view, not a copy), as the hand-written one returns its array.
    const nd = df.toNdarray();
    const own = nd.offset === 0 && nd.stride[0] === N && nd.stride[1] === 1 && nd.data.length === N * N;
    const g = { dLambda: dl.item(), dF: own ? (nd.data as Float64Array) : df.toFloat64Array(), iterations: u.lastSolve?.iterations ?? -1 };
    return [g, performance.now() - start];
  };
  gc();
  gc();
  resetPeakResident();
  const base = process.memoryUsage().rss;
  let [result, coldMs] = run();
  const peak = peakResident();
  const times: number[] = [];
  const repeats = N >= 1000 ? 3 : 5;
  for (let r = 0; r < repeats; r++) {
    const [g, ms] = run();
    result = g;
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const out: ChildResult = {
    impl, N,
    ms: times[Math.floor(times.length / 2)],
    coldMs,
    forwardMs,
    forwardSteps: steps,
    cgIterations: result.iterations,
    bytesPerUnknown: Math.max(0, peak - base) / (N * N),
    dLambda: result.dLambda,
    dFSample: [0, 1, (N * N) >> 1, N * N - 1].map((k) => result.dF[k]),
    dFNorm: norm(result.dF),
  };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

function runChild(impl: string, N: number): ChildResult {
  return runBenchChild<ChildResult>("bench/denoise", fileURLToPath(import.meta.url), "--child", impl, N);
}

/**
 * Runs `script flag impl N` in a fresh Node process (bench/denoise.ts and bench/solvers.ts measure each
 * implementation alone) and reads the JSON it prints after "RESULT ".
 */
export function runBenchChild<R>(bench: string, script: string, flag: string, impl: string, N: number): R {
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", script, flag, impl, String(N)], { encoding: "utf8", maxBuffer: 1 << 24, env: process.env });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (r.status !== 0 || line === undefined) throw new Error(`${bench}: the ${impl} child for N = ${N} failed (status ${r.status}):\n${r.stderr}`);
  return JSON.parse(line.slice(7)) as R;
}

/** Of two runs of one implementation: the lower time, the larger memory figure. */
export function better<R extends { ms: number; coldMs: number; bytesPerUnknown: number }>(a: R, b: R): R {
  const fast = a.ms <= b.ms ? a : b;
  return { ...fast, coldMs: Math.min(a.coldMs, b.coldMs), bytesPerUnknown: Math.max(a.bytesPerUnknown, b.bytesPerUnknown) };
}

/** ∂L/∂λ at λ = 0.02 by central differences of the hand solver run to ‖∇E‖ ≤ 1e-12·N (its own tight tolerance). */
export function finiteDifference(N: number): number {
  const { clean, noisy } = denoisingProblem(N, 1);
  const h = 1e-5;
  const L = (lambda: number): number => reconstructionError(handDenoise(lambda, noisy, N, { tolFactor: 1e-12 }).u, clean);
  return (L(LAMBDA + h) - L(LAMBDA - h)) / (2 * h);
}

export async function main(sizes = SIZES): Promise<void> {
  for (const N of sizes) {
    const fd = finiteDifference(N);
    // Two children each, alternating, so that both see the same machine (it is shared
    // and its load varies over minutes); each keeps its lower median time and its
    // higher peak memory.
    const runs = [runChild("hand-js", N), runChild("implicit-diff", N), runChild("hand-js", N), runChild("implicit-diff", N)];
    const hand = better(runs[0], runs[2]);
    const lib = better(runs[1], runs[3]);
    const agree = Math.abs(lib.dLambda - hand.dLambda) / Math.abs(hand.dLambda);
    const dfAgree = Math.max(...lib.dFSample.map((v, i) => Math.abs(v - hand.dFSample[i]))) / (hand.dFNorm / N);
    for (const r of [hand, lib]) {
      emit({
        workload: "denoise", impl: r.impl, N, unknowns: N * N, ms: round(r.ms), coldMs: round(r.coldMs), forwardMs: round(r.forwardMs), forwardSteps: r.forwardSteps,
        cgIterations: r.cgIterations, bytesPerUnknown: round(r.bytesPerUnknown, 3), dLdLambda: r.dLambda, fdRelError: round(Math.abs(r.dLambda - fd) / Math.abs(fd), 3),
        ...(r === lib ? { ratioToHand: round(lib.ms / hand.ms, 3), dLambdaRelDiffToHand: round(agree, 3), dfSampleRelDiffToHand: round(dfAgree, 3), targetRatioToHand: 3, targetBytesPerUnknown: 200 } : {}),
      });
    }
  }
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") child(argv[1], Number(argv[2]));
else if (import.meta.url === `file://${process.argv[1]}`) await main(argv.length > 0 ? argv.map(Number) : SIZES);
