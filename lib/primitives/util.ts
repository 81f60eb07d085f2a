/** Small constructors the rules need. */
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
