/**
 * `minimize(fn, x0, opts)`: a local minimiser of fn(x, ...args), with x
 * differentiable in args (and in the traced values fn captures) through the
 * stationarity conditions ∇ₓfn = 0, or with bounds the projected-gradient
 * fixed point x = P(x − ∇ₓfn), by the implicit function theorem.
 */
import { Tensor } from "../tensor/tensor.js";
import { shapeToString, describe } from "../tensor/shape.js";
import { concrete } from "../primitives/core.js";
import { operand, type Operand } from "../primitives/operands.js";
import { broadcastTo } from "../primitives/shape.js";
import { sub } from "../primitives/elementwise.js";
import { is, kind, readOptions, type OptionKind } from "../primitives/options.js";
import { callWith, type UserFunction } from "../primitives/util.js";
import { grad } from "../ad/reverse.js";
import { projectBox } from "../implicit/projections.js";
import { ScalarObjective, flatCopy } from "./objective.js";
import { COMMON_OPTIONS, conclude, type SolverOptions, type SolverResult } from "./result.js";
import { checkFunction, setup } from "./setup.js";
import { withDerivative } from "./implicit.js";
import { MINIMIZE_METHODS, MINIMIZE_METHOD_NAMES, checkSize, type MinimizeMethodName } from "./methods.js";
import type { Box } from "./problem.js";

export interface MinimizeOptions extends SolverOptions {
  /** "lbfgs" (default), "bfgs", "newton-cg" or "gradient-descent". */
  method?: MinimizeMethodName;
  /** [lower, upper]: each a number, a Tensor broadcasting to x0's shape, or ±Infinity ("lbfgs" and "gradient-descent"). */
  bounds?: [Operand, Operand];
  /** L-BFGS: correction pairs kept (default 10). */
  memory?: number;
}

const OPTIONS = {
  ...COMMON_OPTIONS,
  method: is.oneOf(MINIMIZE_METHOD_NAMES),
  bounds: kind<[Operand, Operand]>("a pair [lower, upper] (numbers or Tensors)", (v) => Array.isArray(v) && v.length === 2),
  memory: is.positiveInteger,
} satisfies Record<keyof MinimizeOptions, OptionKind<unknown>>;

/** One bound as a Tensor of x0's shape, or an Error naming minimize. */
function boundTensor(op: string, which: "lower" | "upper", b: unknown, x0: Tensor): Tensor {
  const t = operand(op, b, x0.dtype, `bounds ${which}`);
  if (t.dtype !== x0.dtype) throw new Error(`${op}: bounds ${which} is ${t.dtype} but x0 is ${x0.dtype}; convert one with astype()`);
  try {
    return t.size === x0.size && t.ndim === x0.ndim ? t : broadcastTo(t, x0.shape);
  } catch {
    throw new Error(`${op}: bounds ${which} has shape ${shapeToString(t.shape)}, which does not broadcast to x0's shape ${shapeToString(x0.shape)}`);
  }
}

/**
 * Minimises fn(x, ...args) from x0 (a warm start when it is a previous
 * solution). fn returns a scalar and is written with library ops: its gradient
 * comes from reverse mode. Returns { x, value, iterations, evaluations,
 * residualNorm, converged, status, message }, residualNorm = ‖∇ₓfn‖₂ (with
 * bounds, ‖x − P(x − ∇ₓfn)‖₂). x is differentiable in both modes, at every
 * order, w.r.t. args and the traced values fn captures; the iterations are
 * never recorded. Not converged: a ConvergenceError with the result (or, with
 * throw: false, the result, whose x then has no derivative).
 */
export function minimize(fn: UserFunction<Tensor | number>, x0: Operand, opts?: MinimizeOptions): SolverResult {
  const op = "minimize";
  checkFunction(op, "fn", fn);
  const o = readOptions(op, opts, OPTIONS);
  const methodName = o.method ?? "lbfgs";
  const method = MINIMIZE_METHODS[methodName];
  const s = setup(op, x0, o, method.maxIter);
  checkSize(op, methodName, method, s.start.length, "lbfgs");
  const x0T = s.toTensor(s.start.slice());
  let box: Box | null = null;
  let lowerT: Tensor | null = null;
  let upperT: Tensor | null = null;
  if (o.bounds !== undefined) {
    if (!method.bounds) throw new Error(`${op}: bounds work with method "lbfgs" and "gradient-descent", not "${methodName}"; drop bounds or choose one of those methods`);
    lowerT = boundTensor(op, "lower", o.bounds[0], x0T);
    upperT = boundTensor(op, "upper", o.bounds[1], x0T);
    box = { lower: flatCopy(concrete(lowerT)), upper: flatCopy(concrete(upperT)) };
    for (let i = 0; i < box.lower.length; i++) {
      if (!(box.lower[i] <= box.upper[i])) throw new Error(`${op}: bounds must satisfy lower ≤ upper, but at entry ${i} lower = ${describe(box.lower[i])} and upper = ${describe(box.upper[i])}`);
    }
  }
  const f = new ScalarObjective(op, fn, s.shape, s.dtype, s.plainArgs);
  const outcome = method.run({ f, x0: s.start, bounds: box, tol: s.tol, maxIter: s.maxIter, monitor: s.monitor, memory: o.memory ?? 10 });
  const result = conclude(op, methodName, outcome, s.toTensor(outcome.x), f.evaluations, s.tol, s.shouldThrow);
  const gradient = (inputs: Tensor[], x: Tensor): Tensor => grad((w: Tensor) => {
    const v: unknown = callWith(fn, [w, ...inputs]);
    if (typeof v === "number" || (v instanceof Tensor && v.ndim === 0)) return v;
    throw new Error(`${op}: fn must return a scalar (a rank-0 Tensor or a number), got ${v instanceof Tensor ? `shape ${shapeToString(v.shape)}` : describe(v)}`);
  })(x);
  const conditions = box === null
    ? (...all: Tensor[]): Tensor => gradient(all.slice(0, -1), all[all.length - 1])
    : (...all: Tensor[]): Tensor => {
      const x = all[all.length - 1];
      return sub(x, projectBox(sub(x, gradient(all.slice(0, -1), x)), lowerT!, upperT!));
    };
  result.x = withDerivative(op, conditions, s.args, result, { symmetric: box === null, implicit: s.implicit });
  return result;
}
