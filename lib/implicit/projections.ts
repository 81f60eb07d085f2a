/**
 * Differentiable Euclidean projections and proximal operators, written with
 * library ops so that their derivatives come from the engine. Each is the
 * building block of a projected- or proximal-gradient fixed point.
 */
import { Tensor } from "../tensor/tensor.js";
import { broadcastShapes, describe, shapeToString } from "../tensor/shape.js";
import { operand, operands, type Operand } from "../primitives/operands.js";
import { abs, div, greater, maximum, minimum, mul, relu, sign, sub, where } from "../primitives/elementwise.js";
import { norm, sum } from "../primitives/reduce.js";
import { concrete } from "../primitives/core.js";
import { stagedCall, staging } from "../program/host.js";
import { tensor } from "../tensor/tensor.js";

/** Soft thresholding sign(v)·max(|v| − τ, 0): the proximal operator of τ‖·‖₁. */
export function softThreshold(v: Operand, tau: Operand): Tensor {
  const [x, t] = broadcastOperands("softThreshold", [v, tau], ["v", "tau"]);
  return mul(sign(x), relu(sub(abs(x), t)));
}

/**
 * The operands of a projection as Tensors of one dtype whose shapes broadcast
 * together, so that misuse is an Error naming the projection, not an op inside it.
 */
function broadcastOperands(op: string, xs: unknown[], names: string[]): Tensor[] {
  xs.forEach((x, i) => {
    if (x === undefined) throw new Error(`${op}: ${names[i]} is missing (got undefined)`);
  });
  const ts = operands(op, xs);
  ts.reduce<number[]>((shape, t) => broadcastShapes(op, shape, t.shape), []);
  return ts;
}

/** Projection onto the non-negative orthant: max(v, 0). */
export function projectNonNegative(v: Operand): Tensor {
  return relu(operand("projectNonNegative", v));
}

/** Projection onto the box [lower, upper] (bounds broadcast against v). */
export function projectBox(v: Operand, lower: Operand, upper: Operand): Tensor {
  const [x, lo, hi] = broadcastOperands("projectBox", [v, lower, upper], ["v", "lower", "upper"]);
  return minimum(maximum(x, lo), hi);
}

/**
 * Projection onto the ℓ2 ball of radius r: v·min(1, r/‖v‖). Derivatives
 * outside the ball: ∂p/∂r = v/‖v‖ and ∂p/∂v = (r/‖v‖)(I − v vᵀ/‖v‖²).
 * Infinite entries act as their limit: the m entries that are ±∞ give the
 * direction (±1/√m each, the finite ones 0), so p = r·that direction, with
 * ∂p/∂v = 0 (the limit of r/‖v‖ → 0) and ∂p/∂r the direction; an infinite
 * radius leaves v unchanged.
 */
export function projectL2Ball(v: Operand, radius: Operand = 1): Tensor {
  const [x, r] = operands("projectL2Ball", [v, radius]);
  if (r.ndim !== 0) throw new Error(`projectL2Ball: the radius must be a scalar (rank 0 or a number), got shape ${shapeToString(r.shape)}`);
  // It reads the values (a negative radius, infinite entries): under jit it runs when the program runs.
  if (staging()) return stagedCall("projectL2Ball", (a, b) => projectL2Ball(a, b), [x, r], { shape: x.shape, dtype: x.dtype });
  if (concrete(r).item() < 0) throw new Error(`projectL2Ball: the radius must be non-negative, got ${concrete(r).item()}`);
  const values = concrete(x).toFloat64Array();
  let infinite = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === Infinity || values[i] === -Infinity) infinite++;
  if (infinite > 0 && concrete(r).item() !== Infinity) {
    const direction = tensor(Float64Array.from(values, (vi) => (vi === Infinity ? 1 : vi === -Infinity ? -1 : 0) / Math.sqrt(infinite)), { dtype: x.dtype, shape: x.shape });
    return mul(r, direction);
  }
  const n = norm(x);
  const outside = greater(n, r);
  return where(outside, mul(x, div(r, where(outside, n, 1))), x);
}

/**
 * Projection onto the simplex {p ≥ 0, Σp = s} (sparsemax for s = 1), by sorting
 * (Held, Wolfe & Crowder 1974; Duchi et al. 2008): p = max(v − τ, 0). The support
 * S is found on the values; τ = (Σ_S v − s)/|S| is then written with library ops,
 * which gives the Jacobian diag(m) − m mᵀ/|S| (m the support indicator).
 * Works on a 1-D tensor. Infinite scores act as their limits, as in softmax: a
 * −∞ score gets no mass (and no derivative); the m scores that are +∞ share the
 * mass equally (s/m each, derivative 0 w.r.t. v, 1/m w.r.t. s); every score −∞,
 * or any NaN, gives NaN.
 */
export function projectSimplex(v: Operand, s: Operand = 1): Tensor {
  const x = operand("projectSimplex", v);
  if (x.ndim !== 1 || x.size === 0) throw new Error(`projectSimplex: expects a non-empty 1-D tensor, got shape ${shapeToString(x.shape)}`);
  const total = operand("projectSimplex", s, x.dtype);
  if (total.size !== 1) throw new Error(`projectSimplex: the simplex sum must be a scalar, got shape ${shapeToString(total.shape)}`);
  // The support is found on the values: under jit it runs when the program runs.
  if (staging()) return stagedCall("projectSimplex", (a, b) => projectSimplex(a, b), [x, total], { shape: x.shape, dtype: x.dtype });
  const values = concrete(x).toFloat64Array();
  const sTotal = concrete(total).item();
  if (!(sTotal > 0)) throw new Error(`projectSimplex: the simplex sum must be positive, got ${describe(sTotal)}`);
  const indicator = (pick: (vi: number) => boolean): Tensor => tensor(Float64Array.from(values, (vi) => (pick(vi) ? 1 : 0)), { dtype: x.dtype });
  if (values.some((vi) => Number.isNaN(vi)) || values.every((vi) => vi === -Infinity)) return mul(x, NaN);
  if (values.some((vi) => vi === Infinity)) {
    const top = indicator((vi) => vi === Infinity);
    return where(top, div(total, sum(top)), 0);
  }
  const sorted = Array.from(values).sort((a, b) => b - a);
  let cumulative = 0;
  let tau = 0;
  for (let k = 0; k < sorted.length && sorted[k] > -Infinity; k++) {
    cumulative += sorted[k];
    const t = (cumulative - sTotal) / (k + 1);
    if (sorted[k] - t > 0) tau = t;
  }
  // `where`, not a product with the mask: a −∞ outside the support must not meet a 0 (∞·0 = NaN).
  const mask = indicator((vi) => vi - tau > 0);
  const supportSize = sum(mask);
  const tauTraced = div(sub(sum(where(mask, x, 0)), total), supportSize);
  return where(mask, sub(x, tauTraced), 0);
}
