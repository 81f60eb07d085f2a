/**
 * Bisection for a scalar equation f(y) = 0 on a bracket [a, b] with
 * f(a)·f(b) ≤ 0 (the intermediate value theorem; e.g. Burden & Faires,
 * "Numerical Analysis", §2.1). Halves the bracket keeping a sign change until
 * |f(mid)| ≤ tol; when the bracket can no longer be halved in floating point
 * the status is "stalled" (f jumps across zero: a discontinuity, not a root).
 * Residual: |f(y)|. Cost: one evaluation per iteration; the bracket shrinks
 * by 2 each time. Ignores the initial point.
 */
import type { VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";

export function bisection(problem: VectorProblem): Outcome {
  const { F, tol, maxIter, monitor } = problem;
  let [a, b] = problem.bracket!;
  const at = (y: number): number => F.value(Float64Array.of(y))[0];
  let fa = at(a);
  const fb = at(b);
  if (!Number.isFinite(fa) || !Number.isFinite(fb)) return { x: Float64Array.of(Number.isFinite(fa) ? b : a), iterations: 0, residualNorm: NaN, status: "nonFinite", detail: `fn is not finite at the bracket's end ${Number.isFinite(fa) ? b : a}` };
  if (Math.abs(fa) <= tol) return { x: Float64Array.of(a), iterations: 0, residualNorm: Math.abs(fa), status: "converged" };
  if (Math.abs(fb) <= tol) return { x: Float64Array.of(b), iterations: 0, residualNorm: Math.abs(fb), status: "converged" };
  if (Math.sign(fa) === Math.sign(fb)) throw new Error(`root: bisection needs a bracket [a, b] where fn changes sign, but fn(${a}) = ${fa} and fn(${b}) = ${fb} have the same sign; widen or move the bracket`);
  let best = Math.abs(fa) < Math.abs(fb) ? { y: a, r: Math.abs(fa) } : { y: b, r: Math.abs(fb) };
  for (let k = 0; ; k++) {
    if (k >= maxIter) return { x: Float64Array.of(best.y), iterations: k, residualNorm: best.r, status: "maxIter" };
    const mid = a + (b - a) / 2;
    if (mid === a || mid === b) return { x: Float64Array.of(a), iterations: k, residualNorm: Math.abs(fa), status: "stalled", detail: "the bracket cannot be halved further in floating point: fn changes sign without a point where |fn| ≤ tol (a discontinuity?)" };
    const fm = at(mid);
    if (!Number.isFinite(fm)) return { x: Float64Array.of(best.y), iterations: k + 1, residualNorm: best.r, status: "nonFinite", detail: `fn is not finite at ${mid}` };
    if (Math.abs(fm) < best.r) best = { y: mid, r: Math.abs(fm) };
    if (Math.abs(fm) <= tol) return { x: Float64Array.of(mid), iterations: k + 1, residualNorm: Math.abs(fm), status: "converged" };
    if (Math.sign(fm) === Math.sign(fa)) {
      a = mid;
      fa = fm;
    } else b = mid;
    if (monitor.step(k + 1, Float64Array.of(best.y), best.r)) return { x: Float64Array.of(best.y), iterations: k + 1, residualNorm: best.r, status: "stopped" };
  }
}
