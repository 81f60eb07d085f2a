/**
 * Part 1b without the DOM: why reverse mode wins for a function of many inputs
 * and one output. f(x₁, …, xₙ) = log(e^x₁ + … + e^xₙ) is recorded once; one
 * backward sweep gives all n partials, while forward mode needs one pass per
 * input. The counts are read off the tape and the library's own sweep.
 */
import { add, exp, grad, jacobian, jvp, linearize, log, mul, sin, tensor, traceTape, Tensor, type TapeTrace } from "../../lib/index.js";
import { scalarOf, scalarTape, timePerCall, type ScalarTape } from "./mechanics.js";

export const MAX_INPUTS = 16;

// #region snippet modes-f
/** f(x₁, …, xₙ) = log(exp(x₁) + … + exp(xₙ)), one primitive at a time. */
export function logSumExp(...x: Tensor[]): Tensor {
  let total = exp(x[0]);
  for (let i = 1; i < x.length; i++) total = add(total, exp(x[i]));
  return log(total);
}
// #endregion

/** The point the page differentiates at: xᵢ = cos(i), rounded to two decimals. */
export function modesPoint(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(100 * Math.cos(i + 1)) / 100);
}

/** The unit tangent along input i of n. */
function unit(i: number, n: number): number[] {
  return Array.from({ length: n }, (_, j) => (j === i ? 1 : 0));
}

export interface ModeCounts {
  /** Passes over f: reverse records once and sweeps once; forward runs f once per input. */
  passes: number;
  /** Primitives evaluated (the tape's non-input entries, times the passes that evaluate f). */
  evaluations: number;
  /** Local derivative × tangent (forward) or × cotangent (reverse) products. */
  products: number;
  /** Partial derivatives each pass delivers. */
  partialsPerPass: number;
}

export interface ModesAnalysis {
  n: number;
  point: number[];
  value: number;
  tape: ScalarTape;
  /** ∂f/∂xᵢ by one grad (reverse), by n jvps (forward), and the closed form softmax(x)ᵢ. */
  reverse: number[];
  forward: number[];
  exact: number[];
  counts: { reverse: ModeCounts; forward: ModeCounts & { perInput: number[] } };
  /** Mean wall-clock time per call in this JavaScript engine (ms): one grad, the n jvps together, and linearize once + n applications of lin. */
  ms: { reverse: number; forward: number; linearized: number };
  /** ∂f/∂xᵢ by linearize once, then lin applied to each unit tangent. */
  linearized: number[];
}

/**
 * Counts both modes' work on a recorded tape of n inputs: reverse mode's
 * products are the sends of the library's own sweep; forward mode's pass along
 * xᵢ forms one product per operand that carries a tangent, i.e. that depends
 * on xᵢ (the others are symbolic zeros, never multiplied).
 */
export function countWork(trace: TapeTrace, n: number): ModesAnalysis["counts"] {
  const primitives = trace.entries.filter((e) => e.op !== "input").length;
  const reverseProducts = trace.sweep.reduce((s, step) => s + step.sent.length, 0);
  const perInput = Array.from({ length: n }, (_, i) => {
    const depends: boolean[] = [];
    let products = 0;
    for (const e of trace.entries) {
      const carrying = e.inputs.filter((src) => src !== null && depends[src]).length;
      products += carrying;
      depends.push(e.op === "input" ? e.argIndex === i : carrying > 0);
    }
    return products;
  });
  return {
    reverse: { passes: 1, evaluations: primitives, products: reverseProducts, partialsPerPass: n },
    forward: { passes: n, evaluations: n * primitives, products: perInput.reduce((s, v) => s + v, 0), partialsPerPass: 1, perInput },
  };
}


export function analyseModes(n: number, timingBudgetMs = 3): ModesAnalysis {
  if (!Number.isInteger(n) || n < 1 || n > MAX_INPUTS) throw new Error(`modes: n must be a whole number from 1 to ${MAX_INPUTS}, got ${n}`);
  const point = modesPoint(n);
  const argnums = point.map((_, i) => i);
  // #region snippet modes-calls
  const gradient = grad(logSumExp, { argnums })(...point); // reverse mode: one sweep, all n partials
  const columns = point.map((_, i) => jvp(logSumExp, point, unit(i, n))[1]); // forward mode: one pass per input
  const tape = traceTape(logSumExp, ...point); // the tape and the sweep drawn below
  // #endregion
  const scalar = scalarTape(tape);
  const top = Math.max(...point);
  const weights = point.map((v) => Math.exp(v - top));
  const total = weights.reduce((s, v) => s + v, 0);
  // #region snippet modes-linearize
  const [, lin] = linearize(logSumExp, ...point); // f runs once; lin is its linear part J·ẋ
  const linearized = point.map((_, i) => (lin(...unit(i, n)) as Tensor).item()); // n applications, f never re-run
  // #endregion
  const ms = {
    reverse: timePerCall(timingBudgetMs, () => grad(logSumExp, { argnums })(...point)),
    forward: timePerCall(timingBudgetMs, () => point.forEach((_, i) => jvp(logSumExp, point, unit(i, n)))),
    linearized: timePerCall(timingBudgetMs, () => {
      const [, l] = linearize(logSumExp, ...point);
      point.forEach((_, i) => l(...unit(i, n)));
    }),
  };
  return {
    n, point, value: scalarOf(tape.value), tape: scalar,
    reverse: gradient.map((g) => g.item()),
    forward: columns.map((c) => c.item()),
    exact: weights.map((w) => w / total),
    counts: countWork(tape, n),
    ms,
    linearized,
  };
}

// #region snippet modes-fanout
/** g(t) = exp(sin t)·(1, 2, …, m): one input, m outputs, so its Jacobian is one column of m entries. */
export function fanOut(m: number): (t: Tensor) => Tensor {
  const c = tensor(Array.from({ length: m }, (_, i) => i + 1));
  return (t: Tensor) => mul(exp(sin(t)), c);
}
// #endregion

export interface FanOutAnalysis {
  m: number;
  t: number;
  /** dg/dt by forward mode (one JVP), by reverse mode (m VJPs, one per output), and the closed form cᵢ·cos t·e^{sin t}. */
  forward: number[];
  reverse: number[];
  exact: number[];
  /** Passes each mode makes for the whole Jacobian: forward one per input (1), reverse one per output (m). */
  passes: { forward: number; reverse: number };
  ms: { forward: number; reverse: number };
}

/** The other shape: one input and m outputs, where forward mode needs one pass and reverse mode m. */
export function analyseFanOut(m: number, timingBudgetMs = 3): FanOutAnalysis {
  const g = fanOut(m);
  const t = 0.5;
  // #region snippet modes-fanout-calls
  const column = jacobian(g, { mode: "fwd" })(t); // one JVP: the whole column J·1
  const rows = jacobian(g, { mode: "rev" })(t); // m VJPs, one row eᵢᵀJ each
  // #endregion
  const slope = Math.cos(t) * Math.exp(Math.sin(t));
  return {
    m, t,
    forward: Array.from(column.toFloat64Array()),
    reverse: Array.from(rows.toFloat64Array()),
    exact: Array.from({ length: m }, (_, i) => (i + 1) * slope),
    passes: { forward: 1, reverse: m },
    ms: {
      forward: timePerCall(timingBudgetMs, () => jacobian(g, { mode: "fwd" })(t)),
      reverse: timePerCall(timingBudgetMs, () => jacobian(g, { mode: "rev" })(t)),
    },
  };
}

/** Both modes' counts for every n from 1 to `max`, for the plot. */
export function countsByInputs(max = MAX_INPUTS): { n: number; counts: ModesAnalysis["counts"] }[] {
  return Array.from({ length: max }, (_, k) => {
    const n = k + 1;
    const point = modesPoint(n);
    return { n, counts: countWork(traceTape(logSumExp, ...point), n) };
  });
}
