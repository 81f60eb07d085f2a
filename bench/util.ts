/**
 * What every benchmark file shares: seeded generators (so each run times the
 * same data), the timing loop, the choice of dense kernels, and the JSON-line
 * output. Each workload file keeps its own problem and its hand-written reference.
 */
import { denseKernels } from "../lib/index.js";

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
