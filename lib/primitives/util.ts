/** Small helpers: constructors the rules need, and calling user functions of any signature. */
import { allocate, fromData, Tensor } from "../tensor/tensor.js";

/** Zeros with the shape and dtype of `x` (a constant, never traced). */
export function zerosLike(x: Tensor): Tensor {
  return fromData(allocate(x.dtype, x.size), x.shape.slice());
}

/** Ones with the shape and dtype of `x`. */
export function onesLike(x: Tensor): Tensor {
  const data = allocate(x.dtype, x.size);
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
