/**
 * Example: what reverse and forward mode actually do, on one small function.
 *
 *   f(x₁, x₂) = ln(x₁) + x₁·x₂ − sin(x₂)     at (x₁, x₂) = (2, 5)
 *
 * Reverse mode runs f once, recording every primitive on a tape, then sweeps the
 * tape backwards carrying a cotangent ("how much does the output change per unit
 * change of this intermediate"); one sweep gives the whole gradient. Forward mode
 * instead pushes a tangent (a direction in input space) through f alongside the
 * values, and gets one directional derivative J·v per pass. Finite differences
 * give the same number the slow, approximate way, which is why we use them as
 * an independent check.
 *
 * By hand: ∂f/∂x₁ = 1/x₁ + x₂ = 5.5 and ∂f/∂x₂ = x₁ − cos(x₂) ≈ 1.7163378.
 *
 * Run: npx tsx examples/tape-walkthrough.ts
 */
import { Tensor, tensor, add, sub, mul, log, sin, grad, jvp, traceTape, traceToString } from "../lib/index.js";

/** The function under study, written with library ops so it can be traced. */
export const f = (x1: Tensor, x2: Tensor): Tensor => sub(add(log(x1), mul(x1, x2)), sin(x2));

export interface TapeWalkthroughResult {
  value: number;
  /** Reverse mode: [∂f/∂x₁, ∂f/∂x₂] from one backward sweep. */
  gradient: [number, number];
  /** Number of entries on the tape (inputs included). */
  tapeLength: number;
  /** Forward mode: the directional derivative along `direction`. */
  direction: [number, number];
  jvp: number;
  /** Central finite differences of f, per input and along `direction`. */
  finiteDifferences: { gradient: [number, number]; directional: number };
  /** The hand-derived gradient. */
  closedForm: [number, number];
}

export async function main(opts: { quiet?: boolean } = {}): Promise<TapeWalkthroughResult> {
  const print = opts.quiet ? () => {} : console.log;
  const x1 = tensor(2);
  const x2 = tensor(5);

  // 1. Reverse mode, made visible. The tape lists each primitive with the tape
  //    entries it read; the sweep visits them in reverse order. Each node's
  //    cotangent is the sum over its uses of (use's cotangent × local partial):
  //    x₁ is used by log and mul, so it collects 1·(1/x₁) + 1·x₂ = 5.5.
  print("f(x1, x2) = ln(x1) + x1*x2 - sin(x2) at (2, 5)\n");
  print(traceToString(f, x1, x2));
  const trace = traceTape(f, x1, x2);

  // The public `grad` is the same sweep without the bookkeeping.
  const [g1, g2] = grad(f, { argnums: [0, 1] })(x1, x2) as Tensor[];
  const gradient: [number, number] = [g1.item(), g2.item()];

  // 2. Forward mode: push the tangent v = (1, 0.5) through f with the values.
  //    The result is ∇f · v, computed without ever forming the gradient.
  const direction: [number, number] = [1, 0.5];
  const [value, tangentOut] = jvp(f, [x1, x2], [tensor(direction[0]), tensor(direction[1])]);

  // 3. Finite differences: (f(x + h e) − f(x − h e)) / 2h, error O(h²).
  const plain = (a: number, b: number): number => f(tensor(a), tensor(b)).item();
  const h = 1e-5;
  const fdGradient: [number, number] = [
    (plain(2 + h, 5) - plain(2 - h, 5)) / (2 * h),
    (plain(2, 5 + h) - plain(2, 5 - h)) / (2 * h),
  ];
  const fdDirectional = (plain(2 + h * direction[0], 5 + h * direction[1]) - plain(2 - h * direction[0], 5 - h * direction[1])) / (2 * h);
  const closedForm: [number, number] = [1 / 2 + 5, 2 - Math.cos(5)];

  print("\nreverse mode (one backward sweep):  ∇f =", gradient.map((v) => v.toFixed(10)).join(", "));
  print(`forward mode (one pass, v = (${direction.join(", ")})): ∇f·v = ${tangentOut.item().toFixed(10)}`);
  print("finite differences (h = 1e-5):     ∇f =", fdGradient.map((v) => v.toFixed(10)).join(", "), ` ∇f·v = ${fdDirectional.toFixed(10)}`);
  print("by hand:                            ∇f =", closedForm.map((v) => v.toFixed(10)).join(", "));

  return {
    value: value.item(),
    gradient,
    tapeLength: trace.entries.length,
    direction,
    jvp: tangentOut.item(),
    finiteDifferences: { gradient: fdGradient, directional: fdDirectional },
    closedForm,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
