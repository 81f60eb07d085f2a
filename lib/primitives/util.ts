/** Small helpers: constructors the rules need, and calling user functions of any signature. */
import { allocateFor, fromData, Tensor } from "../tensor/tensor.js";

/** Zeros with the shape and dtype of `x` (a constant, never traced). */
export function zerosLike(x: Tensor, op = "zerosLike"): Tensor {
  return fromData(allocateFor(op, x.dtype, x.shape), x.shape.slice());
}

/** Ones with the shape and dtype of `x`. */
export function onesLike(x: Tensor, op = "onesLike"): Tensor {
  const data = allocateFor(op, x.dtype, x.shape);
  data.fill(1);
  return fromData(data, x.shape.slice());
}

/**
 * A user function of any signature. Public signatures take `(...args: never[]) => R`
 * so that any function is accepted without `any`; the library calls it through here.
 */
export type UserFunction<R> = (...args: never[]) => R;

export function callWith<R>(f: UserFunction<R>, args: readonly unknown[]): R {
  return (f as (...all: unknown[]) => R)(...args);
}
