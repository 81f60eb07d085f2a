/**
 * Small helpers shared by the rules and the transformations: constant
 * constructors, calling user functions of any signature, and checking what a
 * user function returned.
 */
import { allocateFor, fromData, Tensor } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";
import { operand } from "./operands.js";

/**
 * Zeros with the shape and dtype of `x` (a constant, never traced). `x` may be a
 * broadcast view far larger than its storage: a size that cannot be allocated is
 * an Error naming `op` and the shape, not the engine's RangeError.
 */
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

/**
 * Checks a function's result: a Tensor or a number, or (where allowed) an array
 * of them, one per output. Arrays of numbers are never read as tensor data here:
 * under jvp they would be a list of outputs, and a function being differentiated
 * computes its result with library ops anyway.
 */
export function checkOutput(op: string, out: unknown, allowArray: boolean): Tensor | Tensor[] {
  if (out instanceof Tensor) return out;
  if (typeof out === "number") return operand(op, out);
  if (allowArray && Array.isArray(out) && out.length > 0 && out.every((o) => o instanceof Tensor || typeof o === "number")) {
    return out.map((o) => operand(op, o));
  }
  throw new Error(`${op}: the function must return a Tensor or a number${allowArray ? " (or an array of them, one per output)" : ""}, got ${describe(out)}`);
}
