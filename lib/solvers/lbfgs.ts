/**
 * L-BFGS: limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", 2nd
 * ed., Algorithm 7.4 with the two-loop recursion of Algorithm 7.5 and the
 * initial scaling γ = sᵀy/yᵀy of eq. 7.20), with the strong-Wolfe line search
 * of their Algorithms 3.5–3.6 (./line-search.ts).
 *
 * With bounds, a projected two-metric variant in the spirit of L-BFGS-B:
 * Bertsekas' ε-active set (Bertsekas 1982, "Projected Newton methods for
 * optimization problems with simple constraints", SIAM J. Control Optim. 20)
 * is held fixed, the quasi-Newton direction is taken in the free variables
 * only (as Kim, Sra & Dhillon 2010, "Tackling box-constrained optimization via
 * a new projected quasi-Newton approach", SIAM J. Sci. Comput. 32), and the
 * step is found by Armijo backtracking along the projection arc P(x + α p).
 * Residual: ‖x − P(x − ∇f)‖₂ (‖∇f‖₂ without bounds).
 *
 * Cost per iteration: one or a few value-and-gradient evaluations, plus
 * about 4·m·n flops for the two-loop recursion (m pairs kept, default 10).
 */
import { dot } from "../krylov/operator.js";
import { backtracking, linePoint, strongWolfe } from "./line-search.js";
import { activeSet, finiteVector, negligibleStep, project, projectedGradientNorm, startAt, type MinimizeProblem } from "./problem.js";
import type { Outcome } from "./result.js";

/** The correction pairs (s, y) of the last m steps, with ρ = 1/sᵀy. */
class Memory {
  private readonly s: Float64Array[] = [];
  private readonly y: Float64Array[] = [];
  private readonly rho: number[] = [];
  constructor(private readonly size: number) {}

  get empty(): boolean {
    return this.s.length === 0;
  }

  clear(): void {
    this.s.length = 0;
    this.y.length = 0;
    this.rho.length = 0;
  }

  /** A pair of arrays to fill with the next (s, y): the last evicted or rejected pair, reused (no allocation at scale). */
  private spare: [Float64Array, Float64Array] | null = null;

  buffers(n: number): [Float64Array, Float64Array] {
    const pair = this.spare ?? [new Float64Array(n), new Float64Array(n)];
    this.spare = null;
    return pair;
  }

  /** Keeps (s, y) when the curvature sᵀy is safely positive (else the update would lose positive definiteness). */
  push(s: Float64Array, y: Float64Array): void {
    const sy = dot(s, y);
    if (!(sy > 1e-10 * Math.sqrt(dot(y, y) * dot(s, s)))) {
      this.spare = [s, y];
      return;
    }
    if (this.s.length === this.size) {
      this.spare = [this.s.shift()!, this.y.shift()!];
      this.rho.shift();
    }
    this.s.push(s);
    this.y.push(y);
    this.rho.push(1 / sy);
  }

  /**
   * −H g by the two-loop recursion, H the L-BFGS inverse-Hessian approximation
   * with H₀ = γI. With `mask`, the recursion runs in the free variables only
   * (masked entries of every vector count as zero) and the masked entries get −γg.
   */
  direction(g: Float64Array, mask: Uint8Array | null): Float64Array {
    if (mask === null) return this.unmaskedDirection(g);
    const n = g.length;
    const q = g.slice();
    for (let i = 0; i < n; i++) if (mask[i]) q[i] = 0;
    // Every vector's masked entries count as zero: q's are zero, so ⟨v, q⟩ needs no mask.
    const k = this.s.length;
    const alpha = new Float64Array(k);
    for (let j = k - 1; j >= 0; j--) {
      const a = this.rho[j] * dot(this.s[j], q);
      alpha[j] = a;
      axpy(-a, this.y[j], q);
      for (let i = 0; i < n; i++) if (mask[i]) q[i] = 0;
    }
    let gamma = 1;
    if (k > 0) {
      const yy = maskedDot(this.y[k - 1], this.y[k - 1], mask);
      const sy = maskedDot(this.s[k - 1], this.y[k - 1], mask);
      if (yy > 0 && sy > 0) gamma = sy / yy;
    }
    for (let i = 0; i < n; i++) q[i] *= gamma;
    for (let j = 0; j < k; j++) {
      const beta = this.rho[j] * dot(this.y[j], q);
      axpy(alpha[j] - beta, this.s[j], q);
      for (let i = 0; i < n; i++) if (mask[i]) q[i] = 0;
    }
    // Masked (ε-active) entries take the scaled steepest-descent step, which the projection then clips
    // at their bound: Bertsekas' two-metric projection, diagonal on the active set.
    for (let i = 0; i < n; i++) q[i] = mask[i] ? -gamma * g[i] : -q[i];
    return q;
  }

  /**
   * The two-loop recursion without bounds, each update of q fused with the
   * inner product the next step needs (one pass over memory instead of two;
   * the same sums in the same order, so the same bits as the plain loops). At
   * scale the m pairs do not fit in cache and the recursion is bound by memory
   * traffic, so the passes are what it costs.
   */
  private unmaskedDirection(g: Float64Array): Float64Array {
    const n = g.length;
    const k = this.s.length;
    const q = g.slice();
    const alpha = new Float64Array(k);
    let sq = k > 0 ? dot(this.s[k - 1], q) : 0;
    for (let j = k - 1; j >= 0; j--) {
      const a = this.rho[j] * sq;
      alpha[j] = a;
      sq = j > 0 ? axpyDot(-a, this.y[j], q, this.s[j - 1]) : (axpy(-a, this.y[j], q), 0);
    }
    let gamma = 1;
    if (k > 0) {
      const yy = dot(this.y[k - 1], this.y[k - 1]);
      const sy = dot(this.s[k - 1], this.y[k - 1]);
      if (yy > 0 && sy > 0) gamma = sy / yy;
    }
    let yq = k > 0 ? scaleDot(gamma, q, this.y[0]) : (scaleDot(gamma, q, null), 0);
    for (let j = 0; j < k; j++) {
      const beta = this.rho[j] * yq;
      yq = j + 1 < k ? axpyDot(alpha[j] - beta, this.s[j], q, this.y[j + 1]) : (axpy(alpha[j] - beta, this.s[j], q), 0);
    }
    for (let i = 0; i < n; i++) q[i] = -q[i];
    return q;
  }
}

/** y ← y + a·x, returning ⟨w, y⟩ of the updated y (summed in index order, as `dot`). */
function axpyDot(a: number, x: Float64Array, y: Float64Array, w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i] + a * x[i];
    y[i] = v;
    s += w[i] * v;
  }
  return s;
}

/** q ← γ·q, returning ⟨w, q⟩ of the scaled q (0 without w). */
function scaleDot(gamma: number, q: Float64Array, w: Float64Array | null): number {
  let s = 0;
  if (w === null) for (let i = 0; i < q.length; i++) q[i] *= gamma;
  else for (let i = 0; i < q.length; i++) {
    const v = q[i] * gamma;
    q[i] = v;
    s += w[i] * v;
  }
  return s;
}

/** y ← y + a·x. */
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
}

/** ⟨v, w⟩ over the entries the mask leaves free (all without a mask). */
function maskedDot(v: Float64Array, w: Float64Array, mask: Uint8Array | null): number {
  if (mask === null) return dot(v, w);
  let s = 0;
  for (let i = 0; i < v.length; i++) if (mask[i] === 0) s += v[i] * w[i];
  return s;
}

/** Shared by the minimisation methods: this many steps in a row that leave x unchanged to rounding are a stall. */
export const STALL_ITERATIONS = 5;

export function lbfgs(problem: MinimizeProblem): Outcome {
  const { f, bounds, tol, maxIter, monitor } = problem;
  const evaluate = (x: Float64Array): [number, Float64Array] => f.valueAndGradient(x);
  const start = startAt(problem);
  if (start.failure !== null) return start.failure;
  let { x, value, g, residualNorm } = start;
  const memory = new Memory(problem.memory);
  let flatSteps = 0;
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x, value, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x, value, iterations: k, residualNorm, status: "maxIter" };
    const mask = activeSet(x, g, bounds, Math.min(residualNorm, 1e-3));
    let p = memory.direction(g, mask);
    let slope = dot(g, p);
    if (!(slope < 0)) {
      memory.clear();
      p = memory.direction(g, mask);
      slope = dot(g, p);
    }
    // The first step (and after a reset) has no curvature information: scale it to a unit move.
    const alpha1 = memory.empty ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let next: { x: Float64Array; value: number; gradient: Float64Array } | null = null;
    let failure: Outcome | null = null;
    if (bounds === null) {
      const search = strongWolfe((alpha) => linePoint(x, p, alpha, evaluate), { value, slope }, alpha1);
      if (search.point !== null) next = search.point;
      else failure = failed(x, value, k, residualNorm, search.kind === "nonFinite", search.flat);
    } else {
      const trial = (alpha: number): { x: Float64Array; value: number } => {
        const xa = new Float64Array(x.length);
        for (let i = 0; i < x.length; i++) xa[i] = x[i] + alpha * p[i];
        project(xa, bounds, xa);
        return { x: xa, value: f.value(xa) };
      };
      let kept: { x: Float64Array; value: number; gradient: Float64Array } | null = null;
      const lowersResidual = (xa: Float64Array): boolean => {
        const [v, ga] = evaluate(xa);
        kept = { x: xa, value: v, gradient: ga };
        return finiteVector(ga) && projectedGradientNorm(xa, ga, bounds) < residualNorm;
      };
      const step = backtracking(trial, x, value, g, alpha1, lowersResidual);
      const reuse = kept as { x: Float64Array; value: number; gradient: Float64Array } | null;
      if (typeof step === "string") failure = failed(x, value, k, residualNorm, step === "nonFinite", step === "flat");
      else if (reuse !== null && reuse.x === step.x) next = reuse;
      else {
        const [v, gNew] = evaluate(step.x);
        next = { x: step.x, value: v, gradient: gNew };
      }
    }
    if (failure !== null) {
      if (memory.empty) return failure;
      // Retry once from steepest descent before giving up: old pairs may describe another region.
      memory.clear();
      k--; // the same iteration, from steepest descent
      continue;
    }
    const { x: xNew, value: vNew, gradient: gNew } = next!;
    if (!finiteVector(gNew)) return { x, value, iterations: k, residualNorm, status: "nonFinite", detail: "the gradient is not finite at a point the line search accepted" };
    const [s, y] = memory.buffers(x.length);
    for (let i = 0; i < x.length; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    memory.push(s, y);
    flatSteps = negligibleStep(x, xNew) ? flatSteps + 1 : 0;
    x = xNew;
    value = vNew;
    g = gNew;
    residualNorm = projectedGradientNorm(x, g, bounds);
    if (monitor.step(k + 1, x, residualNorm, value)) return { x, value, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
    if (flatSteps >= STALL_ITERATIONS && residualNorm > tol) return { x, value, iterations: k + 1, residualNorm, status: "stalled", detail: `x did not move beyond rounding over ${STALL_ITERATIONS} iterations` };
  }
}

/** The outcome of a failed line search. */
export function failed(x: Float64Array, value: number, k: number, residualNorm: number, nonFinite: boolean, flat: boolean): Outcome {
  if (nonFinite) return { x, value, iterations: k, residualNorm, status: "nonFinite", detail: "fn was not finite at every step the line search tried" };
  if (flat) return { x, value, iterations: k, residualNorm, status: "stalled", detail: "fn cannot be decreased measurably along the search direction: the residual is at the rounding level of fn" };
  return { x, value, iterations: k, residualNorm, status: "lineSearchFailed", detail: "no step along the search direction decreased fn enough (check that fn is smooth and its gradient consistent with its values)" };
}
