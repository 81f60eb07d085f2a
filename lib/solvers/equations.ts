/**
 * `root`, `fixedPoint` and `leastSquares`: solutions of equations in y, each
 * differentiable w.r.t. args (and the traced values fn captures) through its
 * conditions by the implicit function theorem:
 *   root          fn(y) = 0
 *   fixedPoint    fn(y) − y = 0
 *   leastSquares  Jᵀr = ∇_y ½‖fn(y)‖² = 0 (symmetric: MINRES, never JᵀJ)
 */
import { Tensor, tensor, type NestedArray } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { operand, type Operand } from "../primitives/operands.js";
import { mul, sub } from "../primitives/elementwise.js";
import { sum } from "../primitives/reduce.js";
import { is, kind, readOptions, type OptionKind } from "../primitives/options.js";
import { callWith, type UserFunction } from "../primitives/util.js";
import { grad } from "../ad/reverse.js";
import { VectorFunction } from "./objective.js";
import { COMMON_OPTIONS, conclude, type SolverOptions, type SolverResult } from "./result.js";
import { checkFunction, setup, type Setup } from "./setup.js";
import { withDerivative } from "./implicit.js";
import {
  checkSize, FIXED_POINT_METHODS, FIXED_POINT_METHOD_NAMES, LEAST_SQUARES_METHODS, LEAST_SQUARES_METHOD_NAMES, ROOT_METHODS, ROOT_METHOD_NAMES,
  type FixedPointMethodName, type LeastSquaresMethodName, type RootMethodName, type VectorMethod,
} from "./methods.js";

export interface RootOptions extends SolverOptions {
  /** "newton" (default), "broyden" or "bisection". */
  method?: RootMethodName;
  /** Bisection: [a, b] with fn(a)·fn(b) ≤ 0. */
  bracket?: [number, number];
}

export interface FixedPointOptions extends SolverOptions {
  /** "anderson" (default) or "iterate". */
  method?: FixedPointMethodName;
  /** Anderson: how many past residuals are combined (default 5). */
  memory?: number;
}

export interface LeastSquaresOptions extends SolverOptions {
  /** "levenberg-marquardt" (default) or "gauss-newton". */
  method?: LeastSquaresMethodName;
}

const ROOT_OPTIONS = {
  ...COMMON_OPTIONS,
  method: is.oneOf(ROOT_METHOD_NAMES),
  bracket: kind<[number, number]>("a pair [a, b] of finite numbers with a < b", (v) => Array.isArray(v) && v.length === 2 && v.every((e) => typeof e === "number" && Number.isFinite(e)) && v[0] < v[1]),
} satisfies Record<keyof RootOptions, OptionKind<unknown>>;

const FIXED_POINT_OPTIONS = { ...COMMON_OPTIONS, method: is.oneOf(FIXED_POINT_METHOD_NAMES), memory: is.positiveInteger } satisfies Record<keyof FixedPointOptions, OptionKind<unknown>>;

const LEAST_SQUARES_OPTIONS = { ...COMMON_OPTIONS, method: is.oneOf(LEAST_SQUARES_METHOD_NAMES) } satisfies Record<keyof LeastSquaresOptions, OptionKind<unknown>>;

/** fn's value in the conditions, checked: a Tensor (or number) of `size` entries when given. */
function vectorValue(op: string, v: unknown, size: number | null, what: string): Tensor {
  const t = typeof v === "number" ? operand(op, v) : v;
  if (!(t instanceof Tensor)) throw new Error(`${op}: fn must return a Tensor, got ${describe(v)}`);
  if (size !== null && t.size !== size) throw new Error(`${op}: fn returned shape ${shapeToString(t.shape)} (${t.size} entries) but must return ${size} entries (${what})`);
  return t;
}

/** Runs a vector method and attaches the derivative. */
function solveEquation(op: string, methodName: string, method: VectorMethod, s: Setup, F: VectorFunction, extra: { bracket?: [number, number] | null; memory?: number },
  conditions: (inputs: Tensor[], y: Tensor) => Tensor, symmetric: boolean): SolverResult {
  const outcome = method.run({ F, y0: s.start, tol: s.tol, maxIter: s.maxIter, monitor: s.monitor, bracket: extra.bracket ?? null, memory: extra.memory ?? 5 });
  const result = conclude(op, methodName, outcome, s.toTensor(outcome.x), F.evaluations, s.tol, s.shouldThrow);
  result.x = withDerivative(op, (...all) => conditions(all.slice(0, -1), all[all.length - 1]), s.args, result, { symmetric, implicit: s.implicit });
  return result;
}

/**
 * A root of fn(y, ...args) = 0 (fn returns a Tensor of y's size), from y0.
 * "newton": dense Jacobian and LU up to 100 unknowns, matrix-free GMRES on
 * J's products above; "broyden": secant updates of J⁻¹; "bisection": a scalar
 * y on `opts.bracket` (y0 ignored, may be omitted). residualNorm = ‖fn(y)‖₂.
 * y is differentiable w.r.t. args and fn's captured traced values.
 */
export function root(fn: UserFunction<Tensor | number>, y0?: Operand, opts?: RootOptions): SolverResult {
  const op = "root";
  checkFunction(op, "fn", fn);
  const o = readOptions(op, opts, ROOT_OPTIONS);
  const methodName = o.method ?? "newton";
  const method = ROOT_METHODS[methodName];
  let start: Operand | undefined = y0;
  if (methodName === "bisection") {
    if (o.bracket === undefined) throw new Error(`${op}: method "bisection" needs opts.bracket: [a, b] with fn(a) and fn(b) of opposite signs`);
    // y0's value is ignored; a given y0 still sets the shape ([] or [1]) and dtype of y.
    const given = y0 === undefined ? null : operand(op, y0, undefined, "y0");
    if (given !== null && given.size !== 1) throw new Error(`${op}: bisection solves a scalar equation, but y0 has shape ${shapeToString(given.shape)}`);
    const middle = (o.bracket[0] + o.bracket[1]) / 2;
    start = given === null ? middle : tensor(given.ndim === 0 ? middle : new Array(given.ndim).fill(0).reduce<NestedArray>((v) => [v], middle), { dtype: given.dtype });
  } else if (o.bracket !== undefined) throw new Error(`${op}: opts.bracket is for method "bisection", not "${methodName}"`);
  if (start === undefined) throw new Error(`${op}: y0 is missing (got undefined); pass the initial point`);
  const s = setup(op, start, o, method.maxIter, "y0");
  const n = s.start.length;
  checkSize(op, methodName, method, n, "newton");
  const F = new VectorFunction(op, fn, s.shape, s.dtype, s.plainArgs, "one per entry of y", n);
  return solveEquation(op, methodName, method, s, F, { bracket: o.bracket ?? null }, (inputs, y) => vectorValue(op, callWith(fn, [y, ...inputs]), n, "one per entry of y"), false);
}

/**
 * A fixed point y = fn(y, ...args) from y0 (fn returns a Tensor of y's size):
 * "anderson" (default; Walker & Ni 2011) or "iterate". residualNorm =
 * ‖fn(y) − y‖₂. y is differentiable w.r.t. args and fn's captured traced values.
 */
export function fixedPoint(fn: UserFunction<Tensor | number>, y0: Operand, opts?: FixedPointOptions): SolverResult {
  const op = "fixedPoint";
  checkFunction(op, "fn", fn);
  const o = readOptions(op, opts, FIXED_POINT_OPTIONS);
  const methodName = o.method ?? "anderson";
  const method = FIXED_POINT_METHODS[methodName];
  const s = setup(op, y0, o, method.maxIter, "y0");
  const n = s.start.length;
  const F = new VectorFunction(op, fn, s.shape, s.dtype, s.plainArgs, "the next y, one per entry of y", n);
  return solveEquation(op, methodName, method, s, F, { memory: o.memory }, (inputs, y) => sub(vectorValue(op, callWith(fn, [y, ...inputs]), n, "the next y, one per entry of y").reshape(y.shape), y), false);
}

/**
 * A local minimiser of ½‖fn(y, ...args)‖² (fn returns the residual vector, of
 * any length) from y0: "levenberg-marquardt" (default; Moré 1978) or
 * "gauss-newton". residualNorm = ‖Jᵀr‖₂, value = ½‖r‖². y is differentiable
 * w.r.t. args and fn's captured traced values, through Jᵀr = 0.
 */
export function leastSquares(fn: UserFunction<Tensor | number>, y0: Operand, opts?: LeastSquaresOptions): SolverResult {
  const op = "leastSquares";
  checkFunction(op, "fn", fn);
  const o = readOptions(op, opts, LEAST_SQUARES_OPTIONS);
  const methodName = o.method ?? "levenberg-marquardt";
  const method = LEAST_SQUARES_METHODS[methodName];
  const s = setup(op, y0, o, method.maxIter, "y0");
  const F = new VectorFunction(op, fn, s.shape, s.dtype, s.plainArgs, "the residuals", null);
  const halfSquares = (inputs: Tensor[]) => (w: Tensor): Tensor => {
    const r = vectorValue(op, callWith(fn, [w, ...inputs]), null, "the residuals");
    return mul(sum(mul(r, r)), 0.5);
  };
  return solveEquation(op, methodName, method, s, F, {}, (inputs, y) => grad(halfSquares(inputs))(y), true);
}
