/**
 * Finite differences, the independent truth that derivatives are checked
 * against. Central differences have error O(h²) from truncation and O(ε/h) from
 * rounding, balanced at h ≈ ε^{1/3}·scale (Nocedal & Wright, Numerical
 * Optimization, §8.1); Richardson extrapolation of h and h/2 cancels the h² term
 * (error O(h⁴)). Everything here runs on plain values, with no transformation.
 */
import { Tensor, fromData } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { concrete, untraced } from "../primitives/core.js";
import { operand } from "../primitives/operands.js";
import { callWith, type UserFunction } from "../primitives/util.js";

export interface FiniteDifferenceOptions {
  /** Relative step: h = step · max(1, scale of the input). Default ε^{1/3} ≈ 6e-6. */
  step?: number;
  /** Combine h and h/2 to cancel the O(h²) error (twice the evaluations). Default false. */
  richardson?: boolean;
  /** The magnitude of the moved inputs (default: the largest |entry| of the moved arguments, at least 1). */
  scale?: number;
}

export const DEFAULT_STEP = Math.cbrt(Number.EPSILON);

/** Evaluates f on plain values and returns its output as a flat Float64Array. */
export function evaluateFlat(op: string, f: UserFunction<unknown>, args: unknown[]): Float64Array {
  return untraced(() => {
    const out = callWith(f, args);
    if (!(out instanceof Tensor) && typeof out !== "number") throw new Error(`${op}: the function must return a Tensor or a number, got ${describe(out)}`);
    return concrete(operand(op, out)).toFloat64Array();
  });
}

function scaleOf(values: Float64Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) m = Math.max(m, Math.abs(values[i]));
  return Math.max(1, m);
}

/** args with args[k] replaced by args[k] + t·direction (numbers stay numbers). */
function shifted(args: unknown[], k: number, base: Float64Array, shape: number[], direction: Float64Array, t: number, wasNumber: boolean): unknown[] {
  const moved = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) moved[i] = base[i] + t * direction[i];
  const copy = args.slice();
  copy[k] = wasNumber ? moved[0] : fromData(moved, shape.slice());
  return copy;
}

/**
 * Central-difference directional derivative of f at `args` along `directions`
 * (one per argument; null = not moved): (f(x + h d) − f(x − h d)) / 2h, flat.
 */
export function directionalDerivative(
  op: string, f: UserFunction<unknown>, args: unknown[], directions: (Float64Array | null)[], opts: FiniteDifferenceOptions = {},
): Float64Array {
  const step = opts.step ?? DEFAULT_STEP;
  const moved = args.map((a, k) => directions[k] === null ? null : concrete(operand(op, a)));
  let scale = opts.scale ?? 1;
  if (opts.scale === undefined) for (const m of moved) if (m !== null) scale = Math.max(scale, scaleOf(m.toFloat64Array()));
  let dirScale = 0;
  for (const d of directions) if (d !== null) for (let i = 0; i < d.length; i++) dirScale = Math.max(dirScale, Math.abs(d[i]));
  const h = (step * scale) / Math.max(dirScale, 1e-300);
  const at = (t: number): Float64Array => {
    let shiftedArgs = args;
    directions.forEach((d, k) => {
      if (d === null) return;
      const m = moved[k]!;
      shiftedArgs = shifted(shiftedArgs, k, m.toFloat64Array(), m.shape, d, t, typeof args[k] === "number");
    });
    return evaluateFlat(op, f, shiftedArgs);
  };
  const central = (hh: number): Float64Array => {
    const plus = at(hh);
    const minus = at(-hh);
    return plus.map((p, i) => (p - minus[i]) / (2 * hh));
  };
  const d1 = central(h);
  if (!opts.richardson) return d1;
  const d2 = central(h / 2);
  return d2.map((v, i) => (4 * v - d1[i]) / 3);
}

/** The FD column ∂f/∂(args[k])_j as a flat vector (one directional derivative along a basis vector). */
export function partialColumn(op: string, f: UserFunction<unknown>, args: unknown[], k: number, j: number, size: number, opts: FiniteDifferenceOptions = {}): Float64Array {
  const e = new Float64Array(size);
  e[j] = 1;
  const dirs = args.map((_, m) => (m === k ? e : null));
  const xj = concrete(operand(op, args[k])).toFloat64Array()[j];
  return directionalDerivative(op, f, args, dirs, { ...opts, scale: Math.max(1, Math.abs(xj)) });
}

/** Where f is sampled to judge a finite difference: t·(h/2) for these t (the FD grid ±h/2, ±h, then scattered points). */
const SAMPLE_OFFSETS: readonly number[] = [-2, -1, 0, 1, 2, ...Array.from({ length: 10 }, (_, i) => 6 * (((i + 1) * 0.6180339887498949) % 1) - 3)];

/**
 * Samples of f for judging a finite difference ∂f/∂(args[k])_j: f at
 * x + t·(h/2)·e_j for t in SAMPLE_OFFSETS, flat. The first five are the grid of
 * the central differences at h and h/2 (and of Richardson's combination); the
 * others are scattered over [−3, 3] at irrational positions, so that noise of a
 * regular pattern (a solver's stopping rule, a quantised output) looks random.
 */
export function partialSamples(op: string, f: UserFunction<unknown>, args: unknown[], k: number, j: number, size: number, opts: FiniteDifferenceOptions = {}): { spacing: number; offsets: readonly number[]; samples: Float64Array[] } {
  const x = concrete(operand(op, args[k]));
  const base = x.toFloat64Array();
  const spacing = ((opts.step ?? DEFAULT_STEP) * Math.max(1, Math.abs(base[j]))) / 2;
  const e = new Float64Array(size);
  e[j] = 1;
  const samples = SAMPLE_OFFSETS.map((t) => evaluateFlat(op, f, shifted(args, k, base, x.shape, e, t * spacing, typeof args[k] === "number")));
  return { spacing, offsets: SAMPLE_OFFSETS, samples };
}

/**
 * How far a finite difference itself may be off, from samples g(t·s) of a
 * scalar series (one output, or outputs contracted with a cotangent) taken by
 * `partialSamples`: truncation, from how the value moves between the steps
 * h = 2s and h/2, plus three standard deviations of the noise in g (rounding,
 * an inexact solver) carried into the difference quotient. The noise is the
 * residual of a least-squares cubic through the samples: at these steps a
 * smooth g is a cubic to far below rounding, so what is left is noise (the idea
 * of Moré & Wild 2011, "Estimating computational noise").
 */
export function finiteDifferenceError(offsets: readonly number[], g: readonly number[], spacing: number, richardson: boolean): number {
  // g at t = −2, −1, 0, 1, 2 comes first (SAMPLE_OFFSETS).
  const atH = (g[4] - g[0]) / (4 * spacing);
  const atHalf = (g[3] - g[1]) / (2 * spacing);
  const noise = Math.sqrt(cubicResidual(offsets, g.map((v) => v - g[2])) / (g.length - 4));
  // Noise gain of each formula: (g₂ − g₋₂)/4s, and (2(g₁ − g₋₁) − (g₂ − g₋₂)/4)/3s for Richardson.
  const gain = richardson ? Math.sqrt(8 + 2 / 16) / (3 * spacing) : Math.SQRT2 / (4 * spacing);
  const truncation = richardson ? Math.abs(atHalf - atH) / 3 : (4 / 3) * Math.abs(atH - atHalf);
  const error = truncation + 3 * gain * noise;
  return Number.isNaN(error) ? Infinity : error;
}

/** The residual sum of squares of the least-squares cubic in t through (t, y) (normal equations, t of order 1). */
function cubicResidual(t: readonly number[], y: readonly number[]): number {
  const m = 4;
  const A = Array.from({ length: m }, () => new Float64Array(m + 1));
  for (let i = 0; i < t.length; i++) {
    const powers = [1, t[i], t[i] ** 2, t[i] ** 3];
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < m; c++) A[r][c] += powers[r] * powers[c];
      A[r][m] += powers[r] * y[i];
    }
  }
  for (let col = 0; col < m; col++) {
    let pivot = col;
    for (let r = col + 1; r < m; r++) if (Math.abs(A[r][col]) > Math.abs(A[pivot][col])) pivot = r;
    [A[col], A[pivot]] = [A[pivot], A[col]];
    for (let r = 0; r < m; r++) {
      if (r === col) continue;
      const factor = A[r][col] / A[col][col];
      for (let c = col; c <= m; c++) A[r][c] -= factor * A[col][c];
    }
  }
  const coef = A.map((row, r) => row[m] / row[r]);
  let rss = 0;
  for (let i = 0; i < t.length; i++) {
    const fit = coef[0] + t[i] * (coef[1] + t[i] * (coef[2] + t[i] * coef[3]));
    rss += (y[i] - fit) ** 2;
  }
  return rss;
}
