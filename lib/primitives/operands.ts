/**
 * The one input rule: what every public function accepts where a Tensor is
 * expected, and how it becomes one, with the public name in every error.
 */
import { Tensor, isNdarray, toTensor, type DType, type TensorLike } from "../tensor/tensor.js";
import { DtypeMismatchError } from "../errors.js";

/** What an op accepts where a tensor is expected. */
export type Operand = Tensor | number | TensorLike;

/**
 * A value where a Tensor is expected, as the public function `op` received it.
 * Accepted: a Tensor (returned as it is) and everything `tensor()` accepts: a
 * number, nested arrays of numbers, a Float64Array/Float32Array (1-D), a scijs
 * ndarray view. Values that carry a dtype (Tensors, typed arrays, ndarrays over
 * one) keep it; numbers and nested arrays take `dtype` (default float64), the
 * dtype of the tensor they meet. Anything else (strings, booleans, null,
 * undefined, ragged or non-numeric arrays) is an Error beginning with `op` and
 * naming `what` when given ("argument 1", "tangent 0", "the cotangent").
 * Shapes are not checked here: callers say which shape they need.
 */
export function operand(op: string, x: unknown, dtype?: DType, what?: string): Tensor {
  if (x instanceof Tensor) return x;
  if (x === undefined) throw new Error(`${op}: ${what === undefined ? "a tensor argument" : what} is missing (got undefined)`);
  return toTensor(what === undefined ? op : `${op}: ${what}`, x, dtype === undefined || (typeof x !== "number" && ownDtype(x) !== undefined) ? {} : { dtype });
}

/**
 * True when `operand` would accept `x` by its kind (a Tensor, a number, an
 * array, a Float64Array/Float32Array or an ndarray); whether an array is
 * regular and numeric is checked when it is converted.
 */
export function isOperand(x: unknown): boolean {
  return x instanceof Tensor || typeof x === "number" || Array.isArray(x) || x instanceof Float64Array || x instanceof Float32Array ||
    (x !== null && typeof x === "object" && isNdarray(x));
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
      const parts = xs.flatMap((v, i) => {
        const d = ownDtype(v);
        return d === undefined ? [] : [`the ${ordinal(i, xs.length)} operand${shapeOf(v)} is ${d}`];
      });
      throw new DtypeMismatchError(`${op}: dtypes differ: ${parts.join(", ")}; convert one with astype(), e.g. the float32 one with .astype("float64")`);
    }
    dtype = own;
  }
  return xs.map((x) => operand(op, x, dtype));
}

/** "first", "second", … for the operands of an op (index i of n; "#7" beyond five). */
function ordinal(i: number, n: number): string {
  if (n === 2) return i === 0 ? "first" : "second";
  return i < 5 ? ["first", "second", "third", "fourth", "fifth"][i] : `#${i + 1}`;
}

/** " (shape [2,3])" for a value that has a shape, "" otherwise. */
function shapeOf(x: unknown): string {
  const shape = x instanceof Tensor ? x.shape : x instanceof Float64Array || x instanceof Float32Array ? [x.length] : (x as { shape?: unknown })?.shape;
  return Array.isArray(shape) ? ` (shape [${shape.join(",")}])` : "";
}
