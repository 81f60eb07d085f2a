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
