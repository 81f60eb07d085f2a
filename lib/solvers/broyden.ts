/**
 * Broyden's ("good") method for F(y) = 0 (Broyden 1965, "A class of methods
 * for solving nonlinear simultaneous equations", Math. Comp. 19; Nocedal &
 * Wright, 2nd ed., §11.1, eq. 11.27), in its inverse form by Sherman–Morrison:
 *   H ← H + (s − H ΔF) sᵀH / (sᵀ H ΔF),   p = −H F,
 * started from the inverse of the true Jacobian at y0 (n products of one
 * linearisation and an LU), and restarted from it when the secant model stops
 * giving descent. Steps by backtracking on ‖F‖ (./newton.ts). Residual: ‖F‖₂.
 *
 * Cost per iteration: one evaluation of F (plus backtracking) and O(n²) flops;
 * H is dense (n² memory), so this is for small and medium systems.
 */
import { dot } from "../krylov/operator.js";
import { luSolve } from "./dense.js";
import { meritSearch } from "./newton.js";
import { finiteVector, norm, type VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";

/** J(y)⁻¹ (dense, row-major), or the identity scaled by −1 when J is singular. */
function inverseJacobian(problem: VectorProblem, y: Float64Array): Float64Array {
  const n = y.length;
  const { J, m } = problem.F.jacobianAt(y);
  const H = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let j = 0; j < n && m === n; j++) {
    e.fill(0);
    e[j] = 1;
    const col = luSolve(J, e, n);
    if (col === null || !finiteVector(col)) {
      H.fill(0);
      break;
    }
    for (let i = 0; i < n; i++) H[i * n + j] = col[i];
  }
  if (H.every((v) => v === 0)) for (let i = 0; i < n; i++) H[i * n + i] = -1;
  return H;
}

function multiply(H: Float64Array, v: Float64Array, n: number, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += H[i * n + j] * v[j];
    out[i] = s;
  }
  return out;
}

export function broyden(problem: VectorProblem): Outcome {
  const { F, tol, maxIter, monitor } = problem;
  const n = problem.y0.length;
  let y: Float64Array = problem.y0.slice();
  let value = F.value(y);
  let residualNorm = norm(value);
  if (!Number.isFinite(residualNorm)) return { x: y, iterations: 0, residualNorm, status: "nonFinite", detail: "fn is not finite at the initial point" };
  if (residualNorm <= tol) return { x: y, iterations: 0, residualNorm, status: "converged" };
  let H = inverseJacobian(problem, y);
  let fresh = true;
  for (let k = 0; ; k++) {
    if (residualNorm <= tol) return { x: y, iterations: k, residualNorm, status: "converged" };
    if (k >= maxIter) return { x: y, iterations: k, residualNorm, status: "maxIter" };
    const p = multiply(H, value, n);
    for (let i = 0; i < n; i++) p[i] = -p[i];
    const step = finiteVector(p) ? meritSearch(F, y, p, residualNorm) : "failed";
    if (typeof step === "string") {
      if (!fresh) {
        // The secant model went stale: restart from the true Jacobian, same iteration.
        H = inverseJacobian(problem, y);
        fresh = true;
        k--;
        continue;
      }
      if (step === "nonFinite") return { x: y, iterations: k, residualNorm, status: "nonFinite", detail: "fn was not finite at every step the line search tried" };
      if (step === "flat") return { x: y, iterations: k, residualNorm, status: "stalled", detail: "‖F‖ cannot be decreased measurably: the residual is at the rounding level of fn" };
      return { x: y, iterations: k, residualNorm, status: "lineSearchFailed", detail: "no step along the Newton direction decreased ‖F‖ (a local minimum of ‖F‖ that is not a root, or a singular Jacobian)" };
    }
    const s = new Float64Array(n);
    const dF = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = step.y[i] - y[i];
      dF[i] = step.value[i] - value[i];
    }
    const HdF = multiply(H, dF, n);
    const sTH = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += s[i] * H[i * n + j];
      sTH[j] = t;
    }
    const denominator = dot(s, HdF);
    if (Math.abs(denominator) > 1e-14 * Math.sqrt(dot(s, s) * dot(HdF, HdF))) {
      for (let i = 0; i < n; i++) {
        const u = (s[i] - HdF[i]) / denominator;
        for (let j = 0; j < n; j++) H[i * n + j] += u * sTH[j];
      }
    }
    fresh = false;
    y = step.y;
    value = step.value;
    residualNorm = step.norm;
    if (monitor.step(k + 1, y, residualNorm)) return { x: y, iterations: k + 1, residualNorm, status: residualNorm <= tol ? "converged" : "stopped" };
  }
}
