/**
 * The problem a minimisation method receives: the objective's evaluator, the
 * starting point, the box (when bounds are given), the stopping rule and the
 * monitor. Also the box's projection and the projected gradient x − P(x − ∇f),
 * whose 2-norm is the residual of a bounded problem (∇f itself without bounds).
 */
import type { ScalarObjective, VectorFunction } from "./objective.js";
import type { Monitor, Outcome } from "./result.js";

/** The box lower ≤ x ≤ upper (entries may be ±∞). */
export interface Box {
  lower: Float64Array;
  upper: Float64Array;
}

export interface MinimizeProblem {
  f: ScalarObjective;
  /** The starting point (inside the box; the method may not write to it). */
  x0: Float64Array;
  bounds: Box | null;
  tol: number;
  maxIter: number;
  monitor: Monitor;
  /** L-BFGS: the number of correction pairs kept. */
  memory: number;
}

/** Where a minimisation method starts: x = P(x₀) (a copy), f and ∇f there, and the residual. */
export interface Start {
  x: Float64Array;
  value: number;
  g: Float64Array;
  residualNorm: number;
  /** The "nonFinite" outcome when f or ∇f is not finite at x (then the method returns it at once). */
  failure: Outcome | null;
}

/** The first evaluation every minimisation method makes (see `Start`). */
export function startAt(problem: MinimizeProblem): Start {
  const x = project(problem.x0, problem.bounds);
  const [value, g] = problem.f.valueAndGradient(x);
  if (!Number.isFinite(value) || !finiteVector(g)) {
    return { x, value, g, residualNorm: NaN, failure: { x, value, iterations: 0, residualNorm: NaN, status: "nonFinite", detail: "fn or its gradient is not finite at the initial point" } };
  }
  return { x, value, g, residualNorm: projectedGradientNorm(x, g, problem.bounds), failure: null };
}

/** P(x): x clipped to the box, into `out` (may be x). */
export function project(x: Float64Array, box: Box | null, out: Float64Array = new Float64Array(x.length)): Float64Array {
  if (box === null) {
    if (out !== x) out.set(x);
    return out;
  }
  for (let i = 0; i < x.length; i++) out[i] = Math.min(Math.max(x[i], box.lower[i]), box.upper[i]);
  return out;
}

/** ‖x − P(x − g)‖₂: the projected gradient's norm (‖g‖₂ without bounds). */
export function projectedGradientNorm(x: Float64Array, g: Float64Array, box: Box | null): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = box === null ? g[i] : x[i] - Math.min(Math.max(x[i] - g[i], box.lower[i]), box.upper[i]);
    s += d * d;
  }
  return Math.sqrt(s);
}

/** True when every entry is finite. */
export function finiteVector(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

/**
 * Bertsekas' ε-active set for a projected two-metric step: the entries within
 * ε of a bound whose gradient pushes them out of the box. Returns a mask
 * (1: active) or null when none is.
 */
export function activeSet(x: Float64Array, g: Float64Array, box: Box | null, epsilon: number): Uint8Array | null {
  if (box === null) return null;
  let mask: Uint8Array | null = null;
  for (let i = 0; i < x.length; i++) {
    if ((x[i] <= box.lower[i] + epsilon && g[i] > 0) || (x[i] >= box.upper[i] - epsilon && g[i] < 0)) {
      mask ??= new Uint8Array(x.length);
      mask[i] = 1;
    }
  }
  return mask;
}

/** The problem a root, fixed-point or least-squares method receives. */
export interface VectorProblem {
  F: VectorFunction;
  y0: Float64Array;
  tol: number;
  maxIter: number;
  monitor: Monitor;
  /** Bisection: the bracket [a, b]. */
  bracket: [number, number] | null;
  /** Anderson: the history kept (default 5). */
  memory: number;
}

/** ‖v‖₂. */
export function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** The step from x to xNew is at the rounding level of x: ‖xNew − x‖∞ ≤ 4ε·‖x‖∞ (a stall when it repeats). */
export function negligibleStep(x: Float64Array, xNew: Float64Array): boolean {
  let step = 0;
  let size = 0;
  for (let i = 0; i < x.length; i++) {
    step = Math.max(step, Math.abs(xNew[i] - x[i]));
    size = Math.max(size, Math.abs(x[i]));
  }
  return step <= 4 * Number.EPSILON * size;
}

/**
 * Relative changes of an objective below this are treated as rounding noise
 * (then a step is judged by the gradient instead): 1000ε, since the noise of a
 * sum of squares of residuals that cancel (model − data) is far above ε.
 */
export const ROUNDING_BAND = 1e3 * Number.EPSILON;

/** a + c·b as a new vector (a plain loop: Float64Array.from with a map function is far slower on large vectors). */
export function combine(a: Float64Array, c: number, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + c * b[i];
  return out;
}

/** −v as a new vector. */
export function negated(v: Float64Array): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = -v[i];
  return out;
}
