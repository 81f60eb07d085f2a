/**
 * Dense products: the WebAssembly SIMD kernels against the JavaScript ones,
 * measured side by side in one process (the kernel backend switched between
 * them), with a hand-written Float64Array loop as the plain-JS reference.
 *
 *   matmul     — C = A B through `matmul` (allocation and copies included) for
 *                the MLP's shapes, 512³, and small squares around the size
 *                threshold; also with A transposed (a view, as in a pullback).
 *   matvec     — A x through `matmul` for 1000², 2000×100 and Aᵀ x (2000×100 read as
 *                its transpose), and small squares around the threshold.
 *   first-call — a fresh Node process: its first and second 256×784×128 product with
 *                each backend; with WebAssembly the first includes loading the module
 *                (decoding, compiling, instantiating, the memory): loadMs.
 *
 * Prints JSON lines {workload, impl, ms, ...}; ms is the median of timed runs
 * after warm-up; `speedup` is js ms / wasm ms. Run: `npm run bench -- dense`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { denseKernels, matmul, tensor, transpose, type Tensor } from "../lib/index.js";
import { wasmKernelInfo, type KernelBackend } from "../lib/tensor/wasm/dense.js";
import { emit, mulberry32, round, timeCalls } from "./util.js";

function randomTensor(shape: number[], seed: number): Tensor {
  const next = mulberry32(seed);
  return tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() - 0.5), { shape });
}

/** Median ms of one call, over 9 batches of `reps` calls after as many warm-up batches. */
const time = (run: () => unknown, reps: number): number => timeCalls(run, { reps, samples: 9, warmup: 9 });

/** Times `run` with each backend in turn (interleaved twice, best median kept) and prints both lines. */
function compare(workload: string, fields: Record<string, unknown>, flops: number, run: () => unknown): void {
  const reps = Math.max(1, Math.min(2000, Math.round(3e6 / flops)));
  const best: Record<string, number> = { js: Infinity, wasm: Infinity };
  for (let round = 0; round < 2; round++) {
    for (const backend of ["js", "wasm"] as KernelBackend[]) {
      denseKernels(backend);
      best[backend] = Math.min(best[backend], time(run, reps));
    }
  }
  denseKernels("auto");
  const auto = time(run, reps);
  emit({ workload, impl: "js", ...fields, ms: round(best.js), gflops: round(flops / best.js / 1e6, 3) });
  emit({ workload, impl: "wasm", ...fields, ms: round(best.wasm), gflops: round(flops / best.wasm / 1e6, 3), speedup: round(best.js / best.wasm, 3) });
  emit({ workload, impl: "auto", ...fields, ms: round(auto) });
}

/** The plainest i-p-j loop over Float64Arrays: the reference any library should beat. */
function handMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[p * n + j];
    }
  }
  return c;
}

function matmuls(): void {
  for (const [m, k, n] of [[256, 784, 128], [784, 256, 128], [256, 128, 10], [512, 512, 512]]) {
    const A = randomTensor([m, k], 1);
    const B = randomTensor([k, n], 2);
    compare("matmul", { m, k, n }, 2 * m * k * n, () => matmul(A, B));
    const At = transpose(randomTensor([k, m], 3));
    compare("matmul", { m, k, n, a: "transposed view" }, 2 * m * k * n, () => matmul(At, B));
    const a = A.toFloat64Array();
    const b = B.toFloat64Array();
    const hand = time(() => handMatmul(a, b, m, k, n), Math.max(1, Math.round(3e6 / (2 * m * k * n))));
    emit({ workload: "matmul", impl: "hand-f64", m, k, n, ms: round(hand), gflops: round((2 * m * k * n) / hand / 1e6, 3) });
  }
  for (const size of [4, 6, 8, 12, 16, 24, 32]) {
    const A = randomTensor([size, size], size);
    const B = randomTensor([size, size], size + 1);
    compare("matmul-small", { m: size, k: size, n: size }, 2 * size ** 3, () => matmul(A, B));
  }
}

function matvecs(): void {
  for (const [m, k] of [[1000, 1000], [2000, 100]]) {
    const A = randomTensor([m, k], 4);
    const x = randomTensor([k], 5);
    compare("matvec", { m, k }, 2 * m * k, () => matmul(A, x));
    const y = randomTensor([m], 6);
    compare("matvec", { m: k, k: m, a: "transposed view" }, 2 * m * k, () => matmul(transpose(A), y));
  }
  for (const size of [8, 12, 16, 24, 32, 64]) {
    const A = randomTensor([size, size], size);
    const x = randomTensor([size], size + 1);
    compare("matvec-small", { m: size, k: size }, 2 * size * size, () => matmul(A, x));
  }
}

/** The first product of a fresh process, with each backend, measured inside a child process. */
function firstCall(): void {
  const here = fileURLToPath(import.meta.url);
  for (const backend of ["js", "wasm"]) {
    const child = spawnSync(process.execPath, ["--import", "tsx", here, "--first-call"], {
      env: { ...process.env, IMPLICIT_DIFF_KERNELS: backend },
      encoding: "utf8",
    });
    if (child.status !== 0) throw new Error(`bench/dense: first-call child failed: ${child.stderr}`);
    const line = JSON.parse(child.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
    emit({ workload: "first-call", impl: backend, ...line });
  }
}

function firstCallChild(): void {
  const A = randomTensor([256, 784], 1);
  const B = randomTensor([784, 128], 2);
  const t0 = performance.now();
  matmul(A, B);
  const firstMs = performance.now() - t0;
  const t1 = performance.now();
  matmul(A, B);
  const secondMs = performance.now() - t1;
  // With the wasm backend the first product includes loading the module (decode, compile, instantiate, the memory).
  const loading = process.env.IMPLICIT_DIFF_KERNELS === "wasm" ? { loadMs: round(wasmKernelInfo().loadMs) } : {};
  console.log(JSON.stringify({ what: "256×784×128 matmul in a fresh process", firstMs: round(firstMs), secondMs: round(secondMs), ...loading }));
}

export async function main(): Promise<void> {
  const info = wasmKernelInfo();
  emit({ workload: "wasm-kernels", available: info.available, moduleBytes: info.moduleBytes, memoryMB: info.memoryBytes / 2 ** 20 });
  firstCall();
  matmuls();
  matvecs();
}

if (process.argv.includes("--first-call")) firstCallChild();
else if (import.meta.url === `file://${process.argv[1]}`) await main();
