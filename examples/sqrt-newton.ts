/**
 * Example: the smallest implicit function, y = √x.
 *
 * y is defined by a condition, F(x, y) = y² − x = 0 (with y > 0), and computed by
 * a solver that knows nothing about derivatives: Newton's method on plain numbers.
 * Differentiating through Newton's iterations would be wasteful (and wrong if
 * they stopped early). The implicit function theorem instead reads the
 * derivative off the condition at the solution:
 *
 *   ∂F/∂y · dy/dx + ∂F/∂x = 0   ⇒   dy/dx = −(2y)⁻¹ · (−1) = 1/(2√x).
 *
 * `ImplicitFunction` does exactly this with AD applied to F, and because its
 * derivative rule is itself built from differentiable operations, the second
 * derivative −1/(4 x^{3/2}) comes out too.
 *
 * Run: npx tsx examples/sqrt-newton.ts
 */
import { ImplicitFunction, Tensor, tensor, grad, jvp, sub, mul } from "../lib/index.js";

/** Newton's method for y² = x, on plain numbers: y ← (y + x/y)/2, until it stops moving. */
export function newtonSqrt(x: number): { y: number; iterations: number } {
  if (!(x > 0)) throw new Error(`newtonSqrt: x must be positive, got ${x}`);
  let y = Math.max(x, 1);
  for (let iterations = 1; iterations <= 100; iterations++) {
    const next = 0.5 * (y + x / y);
    if (Math.abs(next - y) <= 1e-15 * next) return { y: next, iterations };
    y = next;
  }
  return { y, iterations: 100 };
}

/**
 * √x as an implicit function. `forward` runs untraced (it receives plain values);
 * `conditions` is traced, so its derivatives in x and y drive the result.
 */
export const sqrtImplicit = new ImplicitFunction({
  forward: (x: Tensor | number) => tensor(newtonSqrt(typeof x === "number" ? x : x.item()).y),
  conditions: (x: Tensor | number, y: Tensor) => sub(mul(y, y), x),
  strict: true, // check ‖F(x, y*)‖ after every forward: a solver that did not converge is an error, not a wrong derivative
  name: "sqrtImplicit",
});

export interface SqrtNewtonResult {
  x: number;
  y: number;
  newtonIterations: number;
  /** dy/dx by reverse mode and by forward mode through the implicit function. */
  derivative: { reverse: number; forward: number; closedForm: number };
  /** d²y/dx² by grad of grad, and by forward-over-reverse. */
  secondDerivative: { reverse: number; forwardOverReverse: number; closedForm: number };
}

export async function main(opts: { quiet?: boolean; x?: number } = {}): Promise<SqrtNewtonResult> {
  const print = opts.quiet ? () => {} : console.log;
  const x = opts.x ?? 2;

  const { y, iterations } = newtonSqrt(x);
  const y0 = sqrtImplicit.call(x).item();

  // First derivative, both modes.
  const dydx = grad((t: Tensor) => sqrtImplicit.call(t));
  const reverse = dydx(tensor(x)).item();
  const forward = jvp((t: Tensor) => sqrtImplicit.call(t), [tensor(x)], [tensor(1)])[1].item();

  // Second derivative: differentiate the derivative. Each level solves its own
  // (1×1) linear system with ∂F/∂y = 2y; nothing of Newton's loop is ever traced.
  const secondReverse = grad((t: Tensor) => dydx(t))(tensor(x)).item();
  const secondForward = jvp((t: Tensor) => dydx(t), [tensor(x)], [tensor(1)])[1].item();

  const closedForm = 1 / (2 * Math.sqrt(x));
  const secondClosedForm = -1 / (4 * x ** 1.5);
  print(`y = √${x} by Newton: ${y0} (${iterations} iterations; Math.sqrt gives ${Math.sqrt(x)})`);
  print(`dy/dx   reverse ${reverse.toPrecision(16)}  forward ${forward.toPrecision(16)}  1/(2√x)       ${closedForm.toPrecision(16)}`);
  print(`d²y/dx² reverse ${secondReverse.toPrecision(16)}  fwd∘rev ${secondForward.toPrecision(16)}  −1/(4x^{3/2}) ${secondClosedForm.toPrecision(16)}`);
  print(`last linear solve: ${JSON.stringify(sqrtImplicit.lastSolve)}`);

  return {
    x,
    y: y0,
    newtonIterations: iterations,
    derivative: { reverse, forward, closedForm },
    secondDerivative: { reverse: secondReverse, forwardOverReverse: secondForward, closedForm: secondClosedForm },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
