/**
 * The checks every public solver runs before its method: fn is a function, the
 * initial point is a finite tensor (read as a constant: the solution does not
 * depend on where the solver started), args are operands of its dtype, and the
 * common options get their defaults.
 */
import { Tensor, type DType } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { concrete } from "../primitives/core.js";
import { operand } from "../primitives/operands.js";
import { DtypeMismatchError } from "../errors.js";
import { flatCopy } from "./objective.js";
import { readOptions } from "../primitives/options.js";
import { IMPLICIT_OPTIONS, Monitor, checkFiniteVector, defaultSolverTol, shapedLike, type ImplicitOptions, type SolverOptions } from "./result.js";

export interface Setup {
  shape: number[];
  dtype: DType;
  /** The initial point, flat (a fresh copy). */
  start: Float64Array;
  /** args as given (possibly traced): the inputs the solution is differentiated in. */
  args: Tensor[];
  /** args as constants, for the iterations. */
  plainArgs: Tensor[];
  tol: number;
  maxIter: number;
  shouldThrow: boolean;
  monitor: Monitor;
  toTensor: (x: Float64Array) => Tensor;
  implicit: ImplicitOptions;
}

export function checkFunction(op: string, what: string, f: unknown): void {
  if (typeof f !== "function") throw new Error(`${op}: ${what} must be a function, got ${describe(f)}`);
}

/** Validated common inputs of solver `op` (the options already read against its schema). */
export function setup(op: string, x0: unknown, o: SolverOptions, defaultMaxIter: number, what = "x0"): Setup {
  const start = concrete(operand(op, x0, undefined, what));
  const args = (o.args ?? []).map((a, i) => operand(op, a, start.dtype, `args[${i}]`));
  args.forEach((a, i) => {
    if (a.dtype !== start.dtype) throw new DtypeMismatchError(`${op}: args[${i}] is ${a.dtype} but ${what} is ${start.dtype}; convert one with astype()`);
  });
  const flat = flatCopy(start);
  checkFiniteVector(op, what, flat);
  const toTensor = shapedLike(start.shape, start.dtype);
  return {
    shape: start.shape.slice(),
    dtype: start.dtype,
    start: flat,
    args,
    plainArgs: args.map(concrete),
    tol: o.tol ?? defaultSolverTol(start.dtype),
    maxIter: o.maxIter ?? defaultMaxIter,
    shouldThrow: o.throw ?? true,
    monitor: new Monitor(o.callback, toTensor),
    toTensor,
    implicit: readOptions(op, o.implicit, IMPLICIT_OPTIONS, { what: "implicit" }),
  };
}
