/**
 * The smallest implicit function: y = √a as the root of F(a, y) = y² − a,
 * found by Newton's method. The derivative comes from the implicit function
 * theorem, dy/da = −(∂F/∂y)⁻¹ ∂F/∂a = 1/(2y), without looking at the
 * iterations; the unrolled alternative differentiates T Newton steps on the tape.
 */
import { ImplicitFunction, grad, jacobian, mul, add, div, sub, traceTape, Tensor, type SolveDiagnostics, type TapeTrace } from "../../lib/index.js";
import { scalarOf, scalarTape, type ScalarTape } from "./mechanics.js";

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
  const t0 = performance.now();
  // #region snippet sqrt-calls
  const dyda = grad((a: Tensor) => implicitSqrt.call(a))(a); // reverse mode through the solve: −A⁻¹B
  // #endregion
  const implicitMs = performance.now() - t0;
  const solve = implicitSqrt.lastSolve === null ? null : { ...implicitSqrt.lastSolve };
  // #region snippet sqrt-calls-tape
  const implicitTape = traceTape((a: Tensor) => implicitSqrt.call(a), a); // the tape shown in part 1's format
  // #endregion
  const tape = scalarTape(implicitTape);
  const h = Math.cbrt(Number.EPSILON) * Math.max(1, a);
  const fd = { h, value: (newtonSqrt(a + h).y - newtonSqrt(a - h).y) / (2 * h) };
  const start = startingGuess(a);
  const t1 = performance.now();
  const unrolledTape = traceTape((aa: Tensor) => unrolledNewton(aa, T, start), a);
  const ms = performance.now() - t1;
  return {
    a, y, iterates, A, B, implicit: dyda.item(), solve, exact: 1 / (2 * Math.sqrt(a)), fd,
    unrolled: { T, value: scalarOf(unrolledTape.gradients[0]), tapeLength: unrolledTape.entries.length, ms },
    implicitMs, tape, solveNodes: solveNodesOf(implicitTape, implicitSqrt.name),
  };
}
