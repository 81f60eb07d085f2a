/**
 * Turning user arguments into Tensors for an op, with the op's public name in
 * every error. Plain numbers take the dtype of the tensor they meet.
 */
import { Tensor, toTensor, type DType, type TensorLike } from "../tensor/tensor.js";
import { describe } from "../tensor/shape.js";

/** What an op accepts where a tensor is expected. */
export type Operand = Tensor | number | TensorLike;

/** One operand; numbers and nested arrays become tensors of `dtype` (default float64). */
export function operand(op: string, x: unknown, dtype?: DType): Tensor {
  if (x instanceof Tensor) return x;
  if (x === undefined) throw new Error(`${op}: a tensor argument is missing (got undefined)`);
  return toTensor(op, x, dtype === undefined ? {} : { dtype });
}

/** Several operands that must share one dtype; plain numbers adopt it. */
export function operands(op: string, xs: readonly unknown[]): Tensor[] {
  let dtype: DType | undefined;
  for (const x of xs) {
    if (x instanceof Tensor) {
      if (dtype !== undefined && dtype !== x.dtype) {
        throw new Error(`${op}: dtypes differ (${xs.map((v) => (v instanceof Tensor ? v.dtype : describe(v))).join(" vs ")}); convert one with astype()`);
      }
      dtype = x.dtype;
    }
  }
  return xs.map((x) => operand(op, x, dtype));
}
