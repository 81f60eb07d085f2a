/**
 * Example: checking that an implicit function's conditions are right.
 *
 * An ImplicitFunction trusts its conditions: the derivative comes from F alone,
 * never from the forward solver. If F does not characterise what forward
 * computes (a sign slip, a term left out, a value detached from the graph), the
 * derivatives are silently wrong. `verifyImplicit` tests the pair property by
 * property on random inputs (fast-check), and on failure throws with the
 * property that failed and a shrunk counterexample:
 *
 *   (1) F(x, forward(x)) = 0;
 *   (2) the pushforward (jvp through the implicit function) matches central
 *       differences of forward itself;
 *   (3) the pullback is the adjoint of the pushforward;
 *   (4) ∂F/∂y is nonsingular and the linear solves converge.
 *
 * The subject: the equilibrium y = tanh(W y + x) of a small contractive layer,
 * for inputs x ∈ [0.5, 2]³. We verify the correct conditions, then two broken ones:
 *   - a sign slip, tanh(W y − x) − y: it does not vanish at forward's output, and
 *     property (1) catches it;
 *   - a detached unknown, tanh(W·stopGradient(y) + x) − y: it vanishes at the
 *     solution (so the residual check (1), and `strict` mode, pass!), but the
 *     Jacobian AD reports for it is −I instead of D W − I (D = diag(1 − y²)), so
 *     the derivative is wrong, and property (2) catches it. (At other inputs the
 *     linearisation test of property (4) can fire first: it compares that
 *     Jacobian with how F actually changes, F(y + δ) − F(y) versus Aδ.)
 * Inputs start at 0.5 because at x = 0 the sign slip is invisible in value:
 * both versions of F vanish at y = 0 and only their derivatives differ. The
 * report gives the first counterexample found and the shrunk one; shrinking only
 * keeps inputs where the same property fails, so it never trades the sign slip
 * for another property at x = 0 (with min: −2 it ends just above the tolerance
 * near 0, and the first counterexample shows the size of the error).
 *
 * Run: npx tsx examples/verify-conditions.ts
 */
import { ImplicitFunction, Tensor, tensor, add, sub, tanh, matmul, stopGradient, verifyImplicit, tensorArbitrary } from "../lib/index.js";

const W = tensor([
  [0.3, -0.4, 0.1],
  [0.2, 0.25, -0.35],
  [-0.3, 0.1, 0.4],
]);

/** Fixed-point iteration (‖W‖ < 1 and tanh is 1-Lipschitz: a contraction). */
function equilibrium(x: Tensor): Tensor {
  const w = W.toFloat64Array();
  const u = x.toFloat64Array();
  let y = new Float64Array(3);
  for (let it = 0; it < 1000; it++) {
    const next = y.map((_, i) => Math.tanh(w[3 * i] * y[0] + w[3 * i + 1] * y[1] + w[3 * i + 2] * y[2] + u[i]));
    const change = Math.max(...next.map((v, i) => Math.abs(v - y[i])));
    y = next;
    if (change <= 1e-15) break;
  }
  return tensor(y);
}

const variants = {
  correct: (x: Tensor, y: Tensor) => sub(tanh(add(matmul(W, y), x)), y),
  signSlip: (x: Tensor, y: Tensor) => sub(tanh(sub(matmul(W, y), x)), y),
  detached: (x: Tensor, y: Tensor) => sub(tanh(add(matmul(W, stopGradient(y)), x)), y),
};

export interface VerifyConditionsResult {
  correct: { ok: boolean; runs: number; worst: { conditions: number; pushforward: number; adjoint: number } };
  /** The error messages verifyImplicit threw for the broken conditions (null if it did not throw). */
  signSlip: string | null;
  detached: string | null;
}

export async function main(opts: { quiet?: boolean; numRuns?: number } = {}): Promise<VerifyConditionsResult> {
  const print = opts.quiet ? () => {} : console.log;
  const numRuns = opts.numRuns ?? 20;
  const make = (conditions: (x: Tensor, y: Tensor) => Tensor, name: string) =>
    new ImplicitFunction({ forward: equilibrium, conditions, name });
  const inputs = [tensorArbitrary([3], { min: 0.5, max: 2 })];

  const summary = verifyImplicit(make(variants.correct, "equilibrium"), inputs, { numRuns, seed: 7 });
  print(`correct conditions tanh(W y + x) − y: all ${summary.runs} runs pass`);
  print(`  worst ‖F‖ ${summary.worst.conditions.toExponential(1)}, worst pushforward vs FD ${summary.worst.pushforward.toExponential(1)}, worst adjoint mismatch ${summary.worst.adjoint.toExponential(1)}\n`);

  const failure = (conditions: (x: Tensor, y: Tensor) => Tensor, name: string): string | null => {
    try {
      verifyImplicit(make(conditions, name), inputs, { numRuns, seed: 7 });
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  };
  const signSlip = failure(variants.signSlip, "equilibriumSignSlip");
  print(`sign slip tanh(W y − x) − y:\n${signSlip ?? "(not caught)"}\n`);
  const detached = failure(variants.detached, "equilibriumDetached");
  print(`detached unknown tanh(W·stopGradient(y) + x) − y:\n${detached ?? "(not caught)"}`);

  return { correct: { ok: summary.ok, runs: summary.runs, worst: summary.worst }, signSlip, detached };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
