/**
 * Krylov benchmark: the dense matrix-vector product the solvers run on, against
 * a hand-written Float64Array loop, and 100 CG iterations (tol 0, maxIter 100)
 * on A = M Mᵀ/n + I against 100 products timed in alternation with them
 * (ratioTo100Matvecs: the whole solve, copying the matrix in included).
 *
 * Both run with the default dense kernels (WebAssembly SIMD, the matrix kept in
 * the WebAssembly memory for the solve: impl "implicit-diff") and with the
 * JavaScript kernels only ("implicit-diff-js"), in the same process. Targets:
 * matvec 1000² ≤ 0.3 ms; 100 CG iterations ≤ 1.15 × 100 matvecs.
 *
 * Prints JSON lines {workload, impl, n, ms, ...}; ms is the median of several
 * timed repetitions after warm-up. Run with `npx tsx bench/krylov.ts`.
 */
import { denseKernels } from "../lib/index.js";
import { fromData } from "../lib/tensor/tensor.js";
import { cg, denseOperator } from "../lib/krylov/index.js";
import { toLinearMap } from "../lib/krylov/operator.js";
import { emit, median, mulberry32, round, timeCalls } from "./util.js";

const SIZES = [500, 1000, 2000];

/** Deterministic uniform numbers in [-1, 1), so every run times the same matrix. */
function symmetricUniform(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 2 - 1;
}

/** A = M Mᵀ/n + I for a random n×n M: symmetric positive definite, eigenvalues in about [1, 5]. */
function spdMatrix(n: number, seed: number): Float64Array {
  const next = symmetricUniform(seed);
  const M = new Float64Array(n * n);
  for (let i = 0; i < M.length; i++) M[i] = next() * Math.sqrt(3);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = i; j < n; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = 0; k < n; k++) s += M[ri + k] * M[rj + k];
      const v = s / n + (i === j ? 1 : 0);
      A[ri + j] = v;
      A[rj + i] = v;
    }
  }
  return A;
}

/** The reference: the plainest row-major loop over a Float64Array. */
function handMatvec(a: Float64Array, n: number, x: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) s += a[row + j] * x[j];
    out[i] = s;
  }
}

/** Median ms of one call, over `samples` timed batches of `reps` calls after `warmup` untimed ones. */
const time = (run: () => void, reps: number, samples: number, warmup: number): number => timeCalls(run, { reps, samples, warmup });

export async function main(): Promise<void> {
  for (const n of SIZES) {
    const a = spdMatrix(n, 1234 + n);
    const A = fromData(a, [n, n]);
    const next = symmetricUniform(99 + n);
    const x = new Float64Array(n).map(() => next());
    const out = new Float64Array(n);
    const reps = Math.max(3, Math.round(2e7 / (n * n)));

    // One map, as within one solve: with WebAssembly its matrix stays in the memory after the first product.
    const map = toLinearMap("bench", "A", A, n, "float64");
    const hand = time(() => handMatvec(a, n, x, out), reps, 9, 3);
    const operator = denseOperator(A);
    const xT = fromData(x.slice(), [n]);
    const b = fromData(new Float64Array(n).map(() => next()), [n]);
    let iterations = 0;
    const solve = (): void => {
      iterations = cg(A, b, { tol: 0, atol: 0, maxIter: 100 }).iterations;
    };
    for (const kernels of ["auto", "js"] as const) {
      denseKernels(kernels);
      const impl = kernels === "auto" ? "implicit-diff" : "implicit-diff-js";
      const ours = time(() => map.apply(x, out), reps, 9, 3);
      const viaTensor = time(() => operator.matvec(xT), reps, 9, 3);
      emit({ workload: "matvec", impl, n, ms: round(ours), ratioToHand: round(ours / hand, 3), ...(n === 1000 ? { targetMs: 0.3 } : {}) });
      emit({ workload: "matvec", impl: `${impl}-tensor`, n, ms: round(viaTensor), ratioToHand: round(viaTensor / hand, 3), what: `denseOperator(A).matvec on Tensors${kernels === "auto" ? " (A copied into the WebAssembly memory at every product)" : ""}` });
      // CG and 100 products timed in alternation, so that both see the same machine: the ratio is the median of the pairs'.
      solve();
      solve();
      const cgMs: number[] = [];
      const productsMs: number[] = [];
      for (let sample = 0; sample < (n >= 2000 ? 5 : 9); sample++) {
        const t0 = performance.now();
        solve();
        cgMs.push(performance.now() - t0);
        const t1 = performance.now();
        for (let i = 0; i < 100; i++) map.apply(x, out);
        productsMs.push(performance.now() - t1);
      }
      const total = median(cgMs);
      emit({
        workload: "krylov-cg100", impl, n, ms: round(total), iterations, msPerIteration: round(total / 100),
        matvecsMs: round(median(productsMs)), ratioTo100Matvecs: round(median(cgMs.map((t, i) => t / productsMs[i])), 3), targetRatio: 1.15,
      });
    }
    denseKernels("auto");
    emit({ workload: "matvec", impl: "hand-f64", n, ms: round(hand) });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
