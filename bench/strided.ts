/**
 * Strided copies (a transpose, slice, broadcast or permutation made contiguous):
 * the library's own loops (lib/tensor/strided.ts) against ndarray-ops' `assign`,
 * which the library used before and which compiles its kernels from strings
 * (refused under a content security policy without 'unsafe-eval'). Both run
 * side by side in one process, alternated, best median kept; `ratio` is
 * own ms / ndarray-ops ms. Run: `npm run bench -- strided`.
 */
import ndarray from "ndarray";
import ops from "ndarray-ops";
import { copyStrided } from "../lib/tensor/strided.js";
import { emit, mulberry32, round, timeCalls } from "./util.js";

/** [workload, shape, strides, offset, length of the storage]. */
const views: [string, number[], number[], number, number][] = [
  ["transpose 1000²", [1000, 1000], [1, 1000], 0, 1e6],
  ["transpose 64²", [64, 64], [1, 64], 0, 4096],
  ["rows step 2, 1000×500", [1000, 500], [1000, 2], 0, 1e6],
  ["broadcast row to 1000²", [1000, 1000], [0, 1], 0, 1000],
  ["broadcast column to 1000²", [1000, 1000], [1, 0], 0, 1000],
  ["permute 100³ (2,1,0)", [100, 100, 100], [1, 100, 10000], 0, 1e6],
  ["permute 100³ (0,2,1)", [100, 100, 100], [10000, 1, 100], 0, 1e6],
  ["permute 100³ (1,0,2)", [100, 100, 100], [100, 10000, 1], 0, 1e6],
  ["reversed 10⁶", [1e6], [-1], 1e6 - 1, 1e6],
  ["transpose 4²", [4, 4], [1, 4], 0, 16],
  ["broadcast row to 8²", [8, 8], [0, 1], 0, 8],
  ["permute 3×4×5 (2,0,1)", [5, 3, 4], [1, 20, 5], 0, 60],
];

export async function main(): Promise<void> {
  for (const [workload, shape, strides, offset, length] of views) {
    const next = mulberry32(7);
    const data = Float64Array.from({ length }, () => next());
    const size = shape.reduce((a, b) => a * b, 1);
    const own = new Float64Array(size);
    const theirs = new Float64Array(size);
    const reps = Math.max(1, Math.round(2e6 / Math.max(size, 1000)));
    const runs = {
      own: () => copyStrided(data, shape, strides, offset, own),
      "ndarray-ops": () => ops.assign(ndarray(theirs, shape.slice()), ndarray(data, shape.slice(), strides.slice(), offset)),
    };
    const best = { own: Infinity, "ndarray-ops": Infinity };
    for (let round = 0; round < 2; round++) {
      for (const impl of ["own", "ndarray-ops"] as const) best[impl] = Math.min(best[impl], timeCalls(runs[impl], { reps, samples: 9, warmup: 3 }));
    }
    if (own.some((v, i) => v !== theirs[i])) throw new Error(`bench strided: ${workload}: the copies differ`);
    for (const impl of ["own", "ndarray-ops"] as const) emit({ workload: "strided", view: workload, impl, ms: round(best[impl]) });
    emit({ workload: "strided", view: workload, ratio: round(best.own / best["ndarray-ops"], 3) });
  }
}
