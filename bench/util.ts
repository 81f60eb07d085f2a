/**
 * What every benchmark file shares: seeded generators (so each run times the
 * same data), the timing loop, the choice of dense kernels, and the JSON-line
 * output. Each workload file keeps its own problem and its hand-written reference.
 */
import { Tensor, add, denseKernels, logsumexp, matmul, mean, mul, sub, sum, tanh, tensor } from "../lib/index.js";
import { seededUniform } from "../examples/data/random.js";

/** Deterministic uniform numbers in [0, 1): mulberry32 (the examples' generator). */
export { seededUniform as mulberry32 } from "../examples/data/random.js";

/** Deterministic uniform numbers in [0, 1): a 32-bit linear congruential generator (Numerical Recipes' constants). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** The middle value (the upper of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

/**
 * Median ms of one call of `run`: `samples` timed batches of `reps` calls each,
 * after `warmup` untimed batches.
 */
export function timeCalls(run: () => unknown, { reps = 1, samples = 15, warmup = 3 }: { reps?: number; samples?: number; warmup?: number } = {}): number {
  for (let w = 0; w < warmup; w++) for (let r = 0; r < reps; r++) run();
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    times.push((performance.now() - t0) / reps);
  }
  return median(times);
}

/**
 * `measure` with the default dense kernels (`ms`) and with the JavaScript ones
 * only (`jsMs`), alternated twice so that both see the same machine, the lower
 * of each kept. Leaves the default kernels selected.
 */
export function withBothKernels(measure: () => number): { ms: number; jsMs: number } {
  let ms = Infinity;
  let jsMs = Infinity;
  try {
    for (let round = 0; round < 2; round++) {
      denseKernels("auto");
      ms = Math.min(ms, measure());
      denseKernels("js");
      jsMs = Math.min(jsMs, measure());
    }
  } finally {
    denseKernels("auto");
  }
  return { ms, jsMs };
}

/** Prints one result as a JSON line. */
export function emit(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

/** `v` to `digits` significant digits, for printing. */
export const round = (v: number, digits = 4): number => Number(v.toPrecision(digits));

/** n entries uniform in [−scale, scale). */
export function randomArray(n: number, scale: number, random: () => number): Float64Array {
  return new Float64Array(n).map(() => (2 * random() - 1) * scale);
}

/** Mean over the batch of logsumexp(logits) − logits[label], with logits = tanh(X W1 + b1) W2 + b2. */
export function mlpLoss(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, X: Tensor, Y: Tensor): Tensor {
  const hidden = tanh(add(matmul(X, W1), b1));
  const logits = add(matmul(hidden, W2), b2);
  return mean(sub(logsumexp(logits, 1), sum(mul(logits, Y), 1)));
}

/** The MLP 784-128-10 workload of bench/ad.ts and bench/jit.ts: a seeded batch of 256 with one-hot labels and weights. */
export function mlpProblem(): { batch: number; layers: number[]; X: Tensor; Y: Tensor; W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor } {
  const batch = 256;
  const [nIn, nHidden, nOut] = [784, 128, 10];
  const random = seededUniform(2);
  const X = tensor(randomArray(batch * nIn, 1, random), { shape: [batch, nIn] });
  const oneHot = new Float64Array(batch * nOut);
  for (let i = 0; i < batch; i++) oneHot[i * nOut + Math.floor(random() * nOut)] = 1;
  const Y = tensor(oneHot, { shape: [batch, nOut] });
  const W1 = tensor(randomArray(nIn * nHidden, 1 / Math.sqrt(nIn), random), { shape: [nIn, nHidden] });
  const b1 = tensor(randomArray(nHidden, 0.1, random));
  const W2 = tensor(randomArray(nHidden * nOut, 1 / Math.sqrt(nHidden), random), { shape: [nHidden, nOut] });
  const b2 = tensor(randomArray(nOut, 0.1, random));
  return { batch, layers: [nIn, nHidden, nOut], X, Y, W1, b1, W2, b2 };
}
