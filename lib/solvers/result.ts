/**
 * What every solver shares: its result (SciPy's fields under the names of the
 * contract, a status string as in Krylov.jl and Optimistix), the common options
 * (`args`, `tol`, `maxIter`, `callback`, `throw`), the per-iteration monitor that
 * runs the callback, and `conclude`, which turns a method's raw outcome into the
 * result or a ConvergenceError.
 *
 * Methods work on flat float64 vectors (`Float64Array`): the public functions
 * convert at the boundary, so a method is plain numerical code.
 */
import { Tensor, fromData, type DType } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { is, isPlainObject, kind, type OptionKind } from "../primitives/options.js";
import { SOLVER_NAMES, type SolverName } from "../implicit/linear-solve.js";
import type { Operand } from "../primitives/operands.js";
import { ConvergenceError } from "../errors.js";

/**
 * Why a solver stopped. Only "converged" means `residualNorm ≤ tol`.
 * - "maxIter": the iteration limit came first;
 * - "lineSearchFailed": no step along the search direction met the line search's conditions;
 * - "nonFinite": fn returned a NaN or ∞ at the start, or everywhere the solver tried;
 * - "stalled": the iterates stopped moving (steps at the rounding level of x or of fn) above tol;
 * - "stopped": the callback returned false.
 */
export type SolverStatus = "converged" | "maxIter" | "lineSearchFailed" | "nonFinite" | "stalled" | "stopped";

/** A solver's result. `x` is differentiable w.r.t. `opts.args` and every traced value fn captures. */
export interface SolverResult {
  /** The solution, shaped and typed like the initial point. */
  x: Tensor;
  /** fn(x) (minimize and proximalGradient: the smooth part's value; leastSquares: ½‖r‖²). */
  value?: number;
  iterations: number;
  /** Evaluations of fn (a value with its gradient counts once). */
  evaluations: number;
  /** The 2-norm of the optimality residual at x (see each solver). */
  residualNorm: number;
  converged: boolean;
  status: SolverStatus;
  /** A sentence saying why the solver stopped. */
  message: string;
}

/** What `callback` receives once per iteration. */
export interface IterationInfo {
  iteration: number;
  /** The current iterate (a fresh Tensor, shaped like the initial point). */
  x: Tensor;
  residualNorm: number;
  value?: number;
}

/** The options every solver takes. */
export interface SolverOptions {
  /** Extra arguments: fn(x, ...args). x is differentiable w.r.t. each of them. */
  args?: Operand[];
  /** Converged when residualNorm ≤ tol (default by dtype: 1e-8 for float64, 1e-4 for float32). */
  tol?: number;
  /** Iteration limit (default per method). */
  maxIter?: number;
  /** Called once per iteration; returning false stops the solver (status "stopped"). */
  callback?: (info: IterationInfo) => boolean | void;
  /** Throw a ConvergenceError when not converged (default true). */
  throw?: boolean;
  /** How the derivative's linear systems (with ∂F/∂x of the conditions) are solved. */
  implicit?: ImplicitOptions;
}

/** The linear solves of x's derivative, as ImplicitFunction's options of the same names. */
export interface ImplicitOptions {
  /** "auto" (default: dense LU up to 16 unknowns, then MINRES for symmetric conditions, GMRES otherwise), a Krylov method or "direct". */
  linearSolver?: SolverName;
  /** Relative tolerance (default 1e-10 for float64, 1e-5 for float32). */
  tol?: number;
  /** Iteration cap (default max(1000, 10·n)). */
  maxIter?: number;
  /** Declares ∂F/∂x positive definite (a strict minimum): "auto" then uses CG. */
  positiveDefinite?: boolean;
}

/** The declared `implicit` options. */
export const IMPLICIT_OPTIONS = {
  linearSolver: is.oneOf(SOLVER_NAMES),
  tol: is.positive,
  maxIter: is.positiveInteger,
  positiveDefinite: is.boolean,
} satisfies Record<keyof ImplicitOptions, OptionKind<unknown>>;

/** The declared common options (each public function adds its own). */
export const COMMON_OPTIONS = {
  args: { expects: "an array of operands (Tensors or numbers)", accepts: (v: unknown): v is Operand[] => Array.isArray(v) },
  tol: is.positive,
  maxIter: is.nonNegativeInteger,
  callback: is.function<(info: IterationInfo) => boolean | void>("a function (info) => boolean | void"),
  throw: is.boolean,
  implicit: kind<ImplicitOptions>("an object { linearSolver, tol, maxIter, positiveDefinite }", isPlainObject),
} satisfies Record<keyof SolverOptions, OptionKind<unknown>>;

/** The default tolerance on the residual norm for a dtype. */
export function defaultSolverTol(dtype: DType): number {
  return dtype === "float32" ? 1e-4 : 1e-8;
}

/** The raw outcome of a method, on flat vectors. */
export interface Outcome {
  x: Float64Array;
  value?: number;
  iterations: number;
  residualNorm: number;
  status: SolverStatus;
  /** Why it stopped, when there is more to say than the status. */
  detail?: string;
}

/**
 * The per-iteration bookkeeping a method calls: `step(k, x, residualNorm, value)`
 * after each iteration runs the user's callback and says whether to stop.
 */
export class Monitor {
  constructor(private readonly callback: ((info: IterationInfo) => boolean | void) | undefined, private readonly toTensor: (x: Float64Array) => Tensor) {}

  /** True when the callback asked to stop. */
  step(iteration: number, x: Float64Array, residualNorm: number, value?: number): boolean {
    if (this.callback === undefined) return false;
    const info: IterationInfo = value === undefined ? { iteration, x: this.toTensor(x.slice()), residualNorm } : { iteration, x: this.toTensor(x.slice()), residualNorm, value };
    return this.callback(info) === false;
  }
}

/** Flat values → a Tensor of `shape` and `dtype` (owning `x`: pass a copy when x is reused). */
export function shapedLike(shape: number[], dtype: DType): (x: Float64Array) => Tensor {
  return (x) => fromData(dtype === "float32" ? Float32Array.from(x) : x, shape.slice());
}

const STATUS_TEXT: Record<SolverStatus, string> = {
  converged: "converged",
  maxIter: "reached maxIter",
  lineSearchFailed: "the line search failed",
  nonFinite: "met a NaN or ∞",
  stalled: "stalled",
  stopped: "stopped by the callback",
};

/** The sentence for a result. */
export function messageFor(op: string, method: string, o: Outcome, tol: number): string {
  const head = `${op} (${method}) ${STATUS_TEXT[o.status]} after ${o.iterations} iteration(s): residual norm ${fmt(o.residualNorm)} ${o.status === "converged" ? "≤" : "vs"} tol ${fmt(tol)}`;
  return o.detail === undefined ? head : `${head}. ${o.detail}`;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x === 0 ? "0" : x.toExponential(3);
}

/** Advice per failure, for the ConvergenceError's message. */
const ADVICE: Record<SolverStatus, string> = {
  converged: "",
  maxIter: "Raise maxIter, loosen tol, or start closer (warm start with the result's x)",
  lineSearchFailed: "fn's value and gradient may disagree (a non-smooth fn, or a gradient inaccurate at this scale), or tol is below what the precision allows: loosen tol or rescale the problem",
  nonFinite: "Check fn at the initial point and for the region the solver explored (a log or sqrt outside its domain, an overflow); bounds may keep the iterates inside the domain",
  stalled: "The residual cannot decrease further in this precision: loosen tol, or rescale the problem",
  stopped: "",
};

/**
 * The result of a run, or (when not converged, `throw` on, and not stopped by
 * the callback) a ConvergenceError carrying it.
 */
export function conclude(op: string, method: string, o: Outcome, x: Tensor, evaluations: number, tol: number, shouldThrow: boolean): SolverResult {
  const converged = o.status === "converged";
  const result: SolverResult = {
    x,
    ...(o.value === undefined ? {} : { value: o.value }),
    iterations: o.iterations,
    evaluations,
    residualNorm: o.residualNorm,
    converged,
    status: o.status,
    message: messageFor(op, method, o, tol),
  };
  if (!converged && o.status !== "stopped" && shouldThrow) {
    throw new ConvergenceError<SolverResult>(`${result.message}. ${ADVICE[o.status]}; or pass throw: false to get the result (its x then has no derivative)`, {
      solver: method, iterations: o.iterations, residualNorm: o.residualNorm, converged: false, status: "notConverged", system: "solver", tol,
    }, result);
  }
  return result;
}

/** `what` as a finite flat Float64Array of `n` entries, or an Error naming op. */
export function checkFiniteVector(op: string, what: string, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${op}: ${what} has a NaN or ∞ (entry ${i} is ${describe(values[i])}); start from finite values`);
  }
}
