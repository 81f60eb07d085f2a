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

/**
 * The dtype a value carries by itself: a Tensor's, a Float32Array's or
 * Float64Array's, or that of an ndarray over one. Numbers and nested arrays
 * carry none and adopt their partners'.
 */
function ownDtype(x: unknown): DType | undefined {
  if (x instanceof Tensor) return x.dtype;
  const data = x !== null && typeof x === "object" && !ArrayBuffer.isView(x) ? (x as { data?: unknown }).data : x;
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  return undefined;
}

/** Several operands that must share one dtype; plain numbers and nested arrays adopt it. */
export function operands(op: string, xs: readonly unknown[]): Tensor[] {
  let dtype: DType | undefined;
  for (const x of xs) {
    const own = ownDtype(x);
    if (own === undefined) continue;
    if (dtype !== undefined && dtype !== own) {
      throw new Error(`${op}: dtypes differ (${xs.map((v) => ownDtype(v) ?? describe(v)).join(" vs ")}); convert one with astype()`);
    }
    dtype = own;
  }
  return xs.map((x) => operand(op, x, dtype));
}
