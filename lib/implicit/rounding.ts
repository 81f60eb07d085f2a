/**
 * Rounding analysis of the linear solves: the residual that rounding alone
 * leaves in ‖b − K x‖ when K's products are computed in a given precision, so
 * that a solve can be accepted at that level and a failure caused by a tol
 * below it can be told apart from a hard system.
 */
import type { DType } from "../tensor/tensor.js";
import { allFinite, norm2 } from "../krylov/operator.js";

/** Machine epsilon of a dtype. */
export function epsilonOf(precision: DType): number {
  return precision === "float32" ? 2 ** -23 : Number.EPSILON;
}

/** How far from symmetric (relative) rounding can take the products of a symmetric ∂F/∂y: √ε. */
export function symmetryTolerance(precision: DType): number {
  return Math.sqrt(epsilonOf(precision));
}

/**
 * The residual that rounding alone leaves in ‖b − K x‖ when K's products are
 * computed in `precision`: each entry of K x carries an error of about
 * ε·Σⱼ|Kᵢⱼ xⱼ|, at most ε·‖K‖_F‖x‖ in norm, plus ε·‖b‖ for b.
 */
export function productRounding(normK: number, xNorm: number, bNorm: number, precision: DType): number {
  return epsilonOf(precision) * (normK * xNorm + bNorm);
}

/**
 * The residual a backward-stable LU solve may leave: O(n·ε·‖K‖‖x‖) from the
 * factorisation in float64 (Higham, "Accuracy and Stability of Numerical
 * Algorithms", 2nd ed., §9.3) plus the rounding of the products it is checked with.
 */
export function luRounding(n: number, normK: number, xNorm: number, bNorm: number, precision: DType): number {
  return 1e3 * n * Number.EPSILON * (normK * xNorm + bNorm) + 10 * productRounding(normK, xNorm, bNorm, precision);
}

/**
 * Whether a solve that stopped at residual `res` with tolerance max(tol·‖b‖,
 * atol) was stopped by rounding: the tolerance lies below the rounding level
 * of the products and the residual near it (Krylov recurrences lose up to a
 * hundred times that level before they stall). Returns the level, or null when
 * rounding does not explain the failure. ‖K‖_F ≈ gain·√n.
 */
export function roundingLimit(gain: number, x: Float64Array, res: number, bNorm: number, tol: number, atol: number, precision: DType): number | null {
  if (!allFinite(x) || !Number.isFinite(res) || !(bNorm > 0)) return null;
  const level = productRounding(gain * Math.sqrt(x.length), norm2(x), bNorm, precision);
  return Math.max(tol * bNorm, atol) < 10 * level && res <= 100 * level ? level : null;
}
