/**
 * Where "auto" should switch from "direct" (materialise ∂F/∂y with n products,
 * LU once per call) to its Krylov method: both measured side by side, with the
 * same conditions and inputs, over sizes n and right-hand-side counts. Prints
 * JSON lines {workload, impl, ms, ...}; the "direct" line carries
 * directOverKrylov (< 1: direct is faster).
 *
 * Conditions (all with a cheap forward that returns a precomputed y*, so that
 * only the derivative is timed):
 *   equilibrium  z = tanh(W z + U x) − z, W = 0.9·V/√(1 + ‖V‖²_F) (a
 *                deep-equilibrium layer of n units; A = diag(tanh′)·W − I dense,
 *                nonsymmetric): Krylov default gmres.
 *   dense        M y − x with M = I + R/(2√n), R random (dense, nonsymmetric,
 *                well conditioned): gmres.
 *   stationarity ∇_y of ½yᵀ(XᵀX/m + λI)y − xᵀy (dense, symmetric positive
 *                definite, declared): cg.
 *   elementwise  y + y³/3 − x (A diagonal: each product O(n)): gmres.
 * Right-hand sides: "grad" (one adjoint solve, a scalar loss) and "jacobian"
 * (rev mode: n adjoint solves in one call, which "direct" serves from one LU).
 * The "auto" line is the default rule (lib/implicit/auto-policy.ts
 * autoSolverFor), with autoOverBest = its time over the better of the two.
 *
 * Each timing is the median of interleaved repeats (the machine is shared).
 * Run: npx tsx bench/auto-solver.ts [sizes...]   (default 8 16 24 32 48 64 100 128 200 400)
 */
import { ImplicitFunction, Tensor, add, grad, jacobian, matmul, mul, pow, stationarityConditions, sub, sum, tanh, tensor } from "../lib/index.js";
import type { SolverName } from "../lib/index.js";
import { emit, lcg, median } from "./util.js";

function matrix(rows: number, cols: number, seed: number, scale = 1): Tensor {
  const r = lcg(seed);
  return tensor(Float64Array.from({ length: rows * cols }, () => scale * (r() - 0.5)), { shape: [rows, cols] });
}

/** A problem: the conditions, the flags they declare, an input x and the solution y* there. */
interface Problem {
  conditions: (x: Tensor, y: Tensor) => Tensor;
  flags: { symmetric?: boolean; positiveDefinite?: boolean };
  krylov: SolverName;
  x: Tensor;
  y: Tensor;
}

/** y* by Newton's method on F(x, ·) with dense Jacobians from the library (plain, untimed). */
function solveNewton(F: (y: Tensor) => Tensor, y0: Tensor): Tensor {
  let y = y0;
  for (let it = 0; it < 50; it++) {
    const r = F(y);
    const J = jacobian(F)(y);
    const step = denseSolve(J, r);
    y = sub(y, step);
    if (Math.max(...Array.from(r.toFloat64Array(), Math.abs)) < 1e-14) break;
  }
  return y;
}

/** x = J⁻¹ r by Gaussian elimination with partial pivoting, on plain arrays. */
function denseSolve(J: Tensor, r: Tensor): Tensor {
  const n = r.size;
  const a = J.toFloat64Array().slice();
  const x = r.toFloat64Array().slice();
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i * n + k]) > Math.abs(a[p * n + k])) p = i;
    for (let j = 0; j < n; j++) [a[k * n + j], a[p * n + j]] = [a[p * n + j], a[k * n + j]];
    [x[k], x[p]] = [x[p], x[k]];
    for (let i = k + 1; i < n; i++) {
      const m = a[i * n + k] / a[k * n + k];
      for (let j = k; j < n; j++) a[i * n + j] -= m * a[k * n + j];
      x[i] -= m * x[k];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let j = i + 1; j < n; j++) s -= a[i * n + j] * x[j];
    x[i] = s / a[i * n + i];
  }
  return tensor(x);
}

function problem(kind: string, n: number): Problem {
  const x = matrix(n, 1, 7, 2).reshape([n]);
  if (kind === "equilibrium") {
    const V = matrix(n, n, 11, 1);
    const W = mul(0.9 / Math.sqrt(1 + sum(mul(V, V)).item()), V);
    const U = matrix(n, n, 13, 1);
    const conditions = (xx: Tensor, z: Tensor) => sub(tanh(add(matmul(W, z), matmul(U, xx))), z);
    return { conditions, flags: {}, krylov: "gmres", x, y: solveNewton((z) => conditions(x, z), tensor(new Float64Array(n))) };
  }
  if (kind === "dense") {
    const M = add(matrix(n, n, 17, 1 / (2 * Math.sqrt(n))), tensor(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)))));
    const conditions = (xx: Tensor, y: Tensor) => sub(matmul(M, y), xx);
    return { conditions, flags: {}, krylov: "gmres", x, y: denseSolve(M, x) };
  }
  if (kind === "stationarity") {
    const m = 2 * n;
    const X = matrix(m, n, 19, 1);
    const objective = (xx: Tensor, y: Tensor) => sub(add(mul(0.5 / m, sum(pow(matmul(X, y), 2))), mul(0.05, sum(mul(y, y)))), sum(mul(xx, y)));
    const { conditions } = stationarityConditions(objective, { positiveDefinite: true });
    const H = add(mul(1 / m, matmul(X.T, X)), mul(0.1, tensor(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))))));
    return { conditions: conditions as Problem["conditions"], flags: { positiveDefinite: true }, krylov: "cg", x, y: denseSolve(H, x) };
  }
  // elementwise: y + y³/3 = x
  const conditions = (xx: Tensor, y: Tensor) => sub(add(y, mul(1 / 3, pow(y, 3))), xx);
  const y = tensor(Array.from(x.toFloat64Array(), (v) => {
    let t = v;
    for (let i = 0; i < 60; i++) t -= (t + t ** 3 / 3 - v) / (1 + t * t);
    return t;
  }));
  return { conditions, flags: {}, krylov: "gmres", x, y };
}

/** The derivative under test: a gradient of a scalar loss (one adjoint solve) or the full reverse-mode Jacobian (n solves). */
function derivative(p: Problem, solver: SolverName, rhs: "grad" | "jacobian"): { run: () => void; f: ImplicitFunction } {
  const f = new ImplicitFunction({ forward: () => p.y, conditions: p.conditions, linearSolver: solver, ...p.flags });
  const weights = matrix(p.y.size, 1, 23, 1).reshape([p.y.size]);
  const run = rhs === "grad"
    ? () => void grad((x: Tensor) => sum(mul(weights, f.call(x))))(p.x)
    : () => void jacobian((x: Tensor) => f.call(x), { mode: "rev" })(p.x);
  return { run, f };
}

/** Medians of interleaved timings (the order rotates), repeated until each has `minRuns` runs and `budgetMs` is spent. */
function sideBySide(runs: (() => void)[], minRuns = 7, budgetMs = 400): number[] {
  for (const run of runs) run(); // warm-up
  const times: number[][] = runs.map(() => []);
  const start = performance.now();
  for (let round = 0; times[0].length < minRuns || (performance.now() - start < budgetMs && times[0].length < 200); round++) {
    for (let k = 0; k < runs.length; k++) {
      const which = (k + round) % runs.length;
      const t0 = performance.now();
      runs[which]();
      times[which].push(performance.now() - t0);
    }
  }
  return times.map(median);
}

export async function main(sizes = [8, 16, 24, 32, 48, 64, 100, 128, 200, 400]): Promise<void> {
  for (const kind of ["equilibrium", "dense", "stationarity", "elementwise"]) {
    for (const n of sizes) {
      const p = problem(kind, n);
      for (const rhs of ["grad", "jacobian"] as const) {
        if (rhs === "jacobian" && n > 200) continue; // n Krylov solves per run: seconds, and the answer is clear by then
        const direct = derivative(p, "direct", rhs);
        const krylov = derivative(p, p.krylov, rhs);
        const auto = derivative(p, "auto", rhs);
        const [directMs, krylovMs, autoMs] = sideBySide([direct.run, krylov.run, auto.run], rhs === "jacobian" && n >= 100 ? 3 : 7);
        const common = { workload: "auto-threshold", conditions: kind, n, rhs: rhs === "grad" ? 1 : n };
        emit({ ...common, impl: "direct", ms: directMs, krylov: p.krylov, krylovMs, directOverKrylov: directMs / krylovMs });
        emit({ ...common, impl: p.krylov, ms: krylovMs, iterations: krylov.f.lastSolve?.iterations });
        emit({ ...common, impl: "auto", ms: autoMs, lastSolver: auto.f.lastSolve?.solver, autoOverBest: autoMs / Math.min(directMs, krylovMs) });
      }
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number).filter((v) => Number.isInteger(v) && v > 0);
  await main(sizes.length > 0 ? sizes : undefined);
}
