/**
 * The smallest implicit function: y = √a as the root of F(a, y) = y² − a,
 * found by Newton's method. The derivative comes from the implicit function
 * theorem, dy/da = −(∂F/∂y)⁻¹ ∂F/∂a = 1/(2y), without looking at the
 * iterations; the unrolled alternative differentiates T Newton steps on the tape.
 */
import { ImplicitFunction, grad, jacobian, mul, add, div, sub, traceTape, Tensor, type SolveDiagnostics, type TapeTrace } from "../../lib/index.js";
import { scalarOf, scalarTape, timePerCall, type ScalarTape } from "./mechanics.js";


export interface NewtonIterate {
  iteration: number;
  y: number;
  /** F(a, y) = y² − a. */
  residual: number;
}

/** The starting guess, above √a so that Newton decreases monotonically. A constant: no derivative flows through it. */
export function startingGuess(a: number): number {
  return Math.max(1, a);
}

/** Newton's method for y² = a on plain numbers: y ← (y + a/y)/2, stopping when the residual stops shrinking. */
export function newtonSqrt(a: number, maxIter = 100): { y: number; iterates: NewtonIterate[] } {
  let y = startingGuess(a);
  const iterates: NewtonIterate[] = [{ iteration: 0, y, residual: y * y - a }];
  for (let k = 1; k <= maxIter; k++) {
    const next = 0.5 * (y + a / y);
    if (!(next < y)) break;
    y = next;
    iterates.push({ iteration: k, y, residual: y * y - a });
  }
  return { y, iterates };
}

/** y² − a: zero exactly at the solution. */
export function sqrtConditions(a: Tensor | number, y: Tensor | number): Tensor {
  return sub(mul(y, y), a);
}

// #region snippet sqrt-define
export const implicitSqrt = new ImplicitFunction({
  name: "implicitSqrt",
  forward: (a: Tensor | number) => newtonSqrt(typeof a === "number" ? a : a.item()).y, // Newton on plain numbers
  conditions: sqrtConditions, // F(a, y) = y·y − a, zero at the answer
});
// #endregion

/** T Newton steps from the constant starting guess, with library ops so that a tape records them. */
export function unrolledNewton(a: Tensor | number, T: number, start: number): Tensor | number {
  let y: Tensor | number = start;
  for (let k = 0; k < T; k++) y = mul(0.5, add(y, div(a, y)));
  return y;
}

export interface SqrtAnalysis {
  a: number;
  y: number;
  iterates: NewtonIterate[];
  /** ∂F/∂y and ∂F/∂a at (a, y*), by jacobian. */
  A: number;
  B: number;
  implicit: number;
  solve: SolveDiagnostics | null;
  exact: number;
  fd: { h: number; value: number };
  unrolled: { T: number; value: number; tapeLength: number; ms: number };
  implicitMs: number;
  /** The tape of a ↦ implicitSqrt.call(a), and the entries that are the ImplicitFunction's solve. */
  tape: ScalarTape;
  solveNodes: number[];
}

/**
 * The entries of a tape that stand for an ImplicitFunction's solve: the custom
 * rules' nodes named after it, or else every custom rule's node.
 */
export function solveNodesOf(trace: TapeTrace, name: string): number[] {
  const custom = trace.entries.filter((e) => e.custom);
  const named = custom.filter((e) => e.op === name);
  return (named.length > 0 ? named : custom).map((e) => e.index);
}

export function analyseSqrt(a: number, T: number): SqrtAnalysis {
  const { y, iterates } = newtonSqrt(a);
  const A = scalarOf((jacobian((yy: Tensor) => sqrtConditions(a, yy))(y) as Tensor).toArray());
  const B = scalarOf((jacobian((aa: Tensor) => sqrtConditions(aa, y))(a) as Tensor).toArray());
  // #region snippet sqrt-calls
  const dyda = grad((a: Tensor) => implicitSqrt.call(a))(a); // reverse mode through the solve: −A⁻¹B
  // #endregion
  const implicitMs = timePerCall(3, () => grad((aa: Tensor) => implicitSqrt.call(aa))(a), 200);
  const solve = implicitSqrt.lastSolve === null ? null : { ...implicitSqrt.lastSolve };
  // #region snippet sqrt-calls-tape
  const implicitTape = traceTape((a: Tensor) => implicitSqrt.call(a), a); // the tape shown in part 1's format
  // #endregion
  const tape = scalarTape(implicitTape);
  // A step relative to a (never max(1, a)): a − h must stay in forward's domain a > 0 however small a is.
  const h = Math.cbrt(Number.EPSILON) * a;
  const fd = { h, value: (newtonSqrt(a + h).y - newtonSqrt(a - h).y) / (2 * h) };
  const start = startingGuess(a);
  const unrolledTape = traceTape((aa: Tensor) => unrolledNewton(aa, T, start), a);
  const ms = timePerCall(3, () => grad((aa: Tensor) => unrolledNewton(aa, T, start))(a), 200);
  return {
    a, y, iterates, A, B, implicit: dyda.item(), solve, exact: 1 / (2 * Math.sqrt(a)), fd,
    unrolled: { T, value: scalarOf(unrolledTape.gradients[0]), tapeLength: unrolledTape.entries.length, ms },
    implicitMs, tape, solveNodes: solveNodesOf(implicitTape, implicitSqrt.name),
  };
}

// #region snippet sqrt-early
/** forward stopped after K Newton iterations; the residual check is loosened on purpose, to see the cost. */
export function stoppedEarly(K: number): ImplicitFunction {
  return new ImplicitFunction({
    name: "stoppedEarly",
    forward: (a: Tensor | number) => newtonSqrt(typeof a === "number" ? a : a.item(), K).y,
    conditions: sqrtConditions,
    residualTol: Infinity, // the default (1e-5) refuses a y this far from a solution
  });
}
// #endregion

export interface EarlyStop {
  K: number;
  /** forward's answer after K iterations and its error |y_K − √a|. */
  y: number;
  solutionError: number;
  /** The implicit derivative at y_K (the library, with the check loosened) and its error against 1/(2√a). */
  derivative: number;
  derivativeError: number;
  /** What the library says with its default residual check, or null when it accepts y_K. */
  refusal: string | null;
}

/** The implicit derivative when forward stops after K iterations (Blondel et al. 2022, Theorem 1: its error is bounded by a constant times |y_K − y*|). */
export function analyseEarlyStop(a: number, K: number): EarlyStop {
  const y = newtonSqrt(a, K).y;
  const exact = 1 / (2 * Math.sqrt(a));
  const derivative = grad((aa: Tensor) => stoppedEarly(K).call(aa))(a).item();
  let refusal: string | null = null;
  const strict = new ImplicitFunction({ forward: (aa: Tensor | number) => newtonSqrt(typeof aa === "number" ? aa : aa.item(), K).y, conditions: sqrtConditions });
  try {
    grad((aa: Tensor) => strict.call(aa))(a);
  } catch (err) {
    if (!(err instanceof Error) || !/residualTol/.test(err.message)) throw err;
    refusal = err.message;
  }
  return { K, y, solutionError: Math.abs(y - Math.sqrt(a)), derivative, derivativeError: Math.abs(derivative - exact), refusal };
}

/**
 * The three errors against the iteration count k = 0 … kMax: forward's
 * solution error |y_k − √a|, the implicit derivative's error at y_k, and the
 * unrolled derivative's error after T = k steps (from the constant y₀).
 */
export function errorCurves(a: number, kMax: number): { k: number; solution: number; implicit: number; unrolled: number }[] {
  const exact = 1 / (2 * Math.sqrt(a));
  const start = startingGuess(a);
  return Array.from({ length: kMax + 1 }, (_, k) => {
    const y = newtonSqrt(a, k).y;
    const implicit = grad((aa: Tensor) => stoppedEarly(k).call(aa))(a).item();
    const unrolled = k === 0 ? 0 : grad((aa: Tensor) => unrolledNewton(aa, k, start) as Tensor)(a).item();
    return { k, solution: Math.abs(y - Math.sqrt(a)), implicit: Math.abs(implicit - exact), unrolled: Math.abs(unrolled - exact) };
  });
}
