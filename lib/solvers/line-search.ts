/**
 * Line searches on φ(α) = f(x + α p) for a descent direction p (φ'(0) < 0).
 *
 * - `strongWolfe`: the bracketing and zoom search of Nocedal & Wright, "Numerical
 *   Optimization" (2nd ed., 2006), Algorithms 3.5 and 3.6, with the safeguarded
 *   cubic interpolation of their eq. (3.59). Finds α with
 *     φ(α) ≤ φ(0) + c₁ α φ'(0)   and   |φ'(α)| ≤ c₂ |φ'(0)|.
 * - `backtracking`: Armijo backtracking (N&W Algorithm 3.1), here on any path
 *   x(α) (a straight line, or the projection arc P(x + α p) for bounds, after
 *   Bertsekas, "Nonlinear Programming", §2.3).
 *
 * A NaN or ∞ value at a trial step counts as "too far": the step shrinks.
 */
import { dot } from "../krylov/operator.js";
import { ROUNDING_BAND } from "./problem.js";

/** A trial point: α, x + α p, φ(α), ∇f there and φ'(α) = ∇f·p. */
export interface LinePoint {
  alpha: number;
  x: Float64Array;
  value: number;
  gradient: Float64Array;
  slope: number;
}

export interface LineSearchOutcome {
  /** The accepted point (null: none found). */
  point: LinePoint | null;
  /** "wolfe": both conditions hold; "decrease": only sufficient decrease (the search ran out); "failed"; "nonFinite": every trial was. */
  kind: "wolfe" | "decrease" | "failed" | "nonFinite";
  /** Every finite trial value equalled φ(0) to rounding: f cannot be decreased measurably along p. */
  flat: boolean;
}

export interface WolfeSettings {
  c1: number;
  c2: number;
  /** Largest α tried. */
  alphaMax: number;
  /** Evaluations allowed. */
  maxEvaluations: number;
}

export const WOLFE_DEFAULTS: WolfeSettings = { c1: 1e-4, c2: 0.9, alphaMax: 1e10, maxEvaluations: 30 };

/** The point x + α p with f's value and gradient there. */
export function linePoint(x: Float64Array, p: Float64Array, alpha: number, evaluate: (x: Float64Array) => [number, Float64Array]): LinePoint {
  const xa = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) xa[i] = x[i] + alpha * p[i];
  const [value, gradient] = evaluate(xa);
  return { alpha, x: xa, value, gradient, slope: dot(gradient, p) };
}

/** The minimiser of the cubic through (a, φa, φ'a) and (b, φb, φ'b) (N&W eq. 3.59), or NaN. */
function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - 3 * (fa - fb) / (a - b);
  const radicand = d1 * d1 - da * db;
  if (!(radicand >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(radicand);
  const denominator = db - da + 2 * d2;
  if (denominator === 0) return NaN;
  return b - (b - a) * ((db + d2 - d1) / denominator);
}

/**
 * Strong-Wolfe line search from φ(0) = `start` (its value and slope φ'(0) < 0),
 * first trial α = alpha1. Cost: one value-and-gradient per trial, at most
 * `maxEvaluations`.
 */
export function strongWolfe(phi: (alpha: number) => LinePoint, start: { value: number; slope: number }, alpha1: number, settings: WolfeSettings = WOLFE_DEFAULTS): LineSearchOutcome {
  const { c1, c2, alphaMax, maxEvaluations } = settings;
  const f0 = start.value;
  const d0 = start.slope;
  let evaluations = 0;
  let best: LinePoint | null = null;
  let flat = true;
  const sufficient = (pt: LinePoint): boolean => pt.value <= f0 + c1 * pt.alpha * d0;
  const curvature = (pt: LinePoint): boolean => Math.abs(pt.slope) <= -c2 * d0;
  // Hager & Zhang's approximate Wolfe conditions (SIAM J. Optim. 16, 2005), for a decrease below
  // f's rounding: φ(α) ≈ φ(0) to rounding, and the slopes alone certify the step.
  const approximate = (pt: LinePoint): boolean => Math.abs(pt.value - f0) <= ROUNDING_BAND * Math.abs(f0) && pt.slope <= -(1 - 2 * c1) * d0 && curvature(pt);
  const consider = (pt: LinePoint): void => {
    if (Math.abs(pt.value - f0) > ROUNDING_BAND * Math.abs(f0)) flat = false;
    if (Number.isFinite(pt.value) && sufficient(pt) && pt.value < f0 && (best === null || pt.value < best.value)) best = pt;
  };
  const fallback = (allNonFinite: boolean): LineSearchOutcome => (best !== null ? { point: best, kind: "decrease", flat } : { point: null, kind: allNonFinite ? "nonFinite" : "failed", flat: flat && !allNonFinite });

  const zoom = (lo: { alpha: number; value: number; slope: number }, hi: { alpha: number; value: number; slope: number }): LineSearchOutcome => {
    while (evaluations < maxEvaluations) {
      const left = Math.min(lo.alpha, hi.alpha);
      const width = Math.abs(hi.alpha - lo.alpha);
      if (width <= 1e-16 * Math.max(1, left)) break;
      let alpha = Number.isFinite(hi.value) ? cubicMinimizer(lo.alpha, lo.value, lo.slope, hi.alpha, hi.value, hi.slope) : NaN;
      // Safeguard: stay inside the bracket, away from its ends.
      if (!(alpha >= left + 0.1 * width && alpha <= left + 0.9 * width)) alpha = (lo.alpha + hi.alpha) / 2;
      const pt = phi(alpha);
      evaluations++;
      consider(pt);
      if (approximate(pt)) return { point: pt, kind: "wolfe", flat: false };
      if (!Number.isFinite(pt.value) || !sufficient(pt) || pt.value >= lo.value) {
        hi = pt;
      } else {
        if (curvature(pt)) return { point: pt, kind: "wolfe", flat: false };
        if (pt.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
        lo = pt;
      }
    }
    return fallback(false);
  };

  let previous = { alpha: 0, value: f0, slope: d0 };
  let alpha = Math.min(alpha1, alphaMax);
  let sawFinite = false;
  for (let i = 1; evaluations < maxEvaluations; i++) {
    const pt = phi(alpha);
    evaluations++;
    if (!Number.isFinite(pt.value) || !Number.isFinite(pt.slope)) {
      // Too far (outside fn's domain): shrink toward the last good step.
      alpha = previous.alpha + (alpha - previous.alpha) / 4;
      continue;
    }
    sawFinite = true;
    consider(pt);
    if (approximate(pt)) return { point: pt, kind: "wolfe", flat: false };
    if (!sufficient(pt) || (i > 1 && pt.value >= previous.value)) return zoom(previous, pt);
    if (curvature(pt)) return { point: pt, kind: "wolfe", flat: false };
    if (pt.slope >= 0) return zoom(pt, previous);
    if (alpha >= alphaMax) return fallback(false);
    previous = pt;
    alpha = Math.min(2 * alpha, alphaMax);
  }
  return fallback(!sawFinite);
}

/**
 * Armijo backtracking along a path: tries α = alpha0, alpha0/2, … until
 * f(x(α)) ≤ f(x) + c₁·⟨∇f(x), x(α) − x⟩. `trial(α)` returns x(α) and f there.
 * Near a minimiser f's decrease falls below its rounding (|Δf| ≤ ROUNDING_BAND·|f|) and the
 * test cannot tell; there `rounding(x(α))` decides instead (the methods accept
 * a step that lowers the gradient's norm, after Hager & Zhang's approximate
 * Wolfe conditions, SIAM J. Optim. 16, 2005). Returns the accepted
 * [α, x(α), f(x(α))], or after `maxHalvings` why none was: "flat" when f never
 * changed beyond its rounding, "nonFinite" when it never was finite.
 */
export function backtracking(trial: (alpha: number) => { x: Float64Array; value: number }, x: Float64Array, value: number, gradient: Float64Array, alpha0: number,
  rounding?: (x: Float64Array) => boolean, c1 = 1e-4, maxHalvings = 60): { alpha: number; x: Float64Array; value: number } | "failed" | "flat" | "nonFinite" {
  let alpha = alpha0;
  let sawFinite = false;
  let flat = true;
  for (let k = 0; k <= maxHalvings; k++) {
    const t = trial(alpha);
    if (Number.isFinite(t.value)) {
      sawFinite = true;
      let predicted = 0;
      for (let i = 0; i < x.length; i++) predicted += gradient[i] * (t.x[i] - x[i]);
      // A step that does not move x (predicted = 0) is no progress, whatever f says.
      if (predicted < 0) {
        if (Math.abs(t.value - value) <= ROUNDING_BAND * Math.abs(value) && rounding !== undefined) {
          if (rounding(t.x)) return { alpha, x: t.x, value: t.value };
        } else {
          flat = false;
          if (t.value <= value + c1 * predicted) return { alpha, x: t.x, value: t.value };
        }
      }
    }
    alpha /= 2;
  }
  return !sawFinite ? "nonFinite" : flat ? "flat" : "failed";
}
