/**
 * scijs ndarray views of a tensor's storage, for `toNdarray()`. The ndarray
 * package compiles a view class per dtype and rank from strings (`new Function`)
 * the first time it meets them, which a content security policy without
 * 'unsafe-eval' (or Node's --disallow-code-generation-from-strings) refuses.
 * Where it is refused (found out once, on the first view asked for), the views
 * are `StridedView`s: the same fields and methods as ndarray's (data, shape,
 * stride, offset, dtype, size, order, dimension, get/set/index, lo/hi/step/
 * transpose/pick), written as plain methods over loops, so the ndarray-ops
 * functions and any code that reads a view accept them.
 */
import ndarray from "ndarray";
import type { FloatArray } from "./tensor.js";

type View = ndarray.NdArray<FloatArray>;

/** undefined: no view made yet; true: ndarray's generated constructors are refused here. */
let refused: boolean | undefined;

/** A view of `data` with the given shape, strides and offset (taken, not copied). */
export function ndarrayView(data: FloatArray, shape: number[], stride: number[], offset: number): View {
  if (refused !== true) {
    try {
      const view = ndarray(data, shape, stride, offset);
      refused = false;
      return view;
    } catch (e) {
      if (!(e instanceof EvalError) || refused === false) throw e;
      refused = true;
    }
  }
  return new StridedView(data, shape, stride, offset);
}

/** @internal For specs: whether views come from ndarray's generated constructors (undefined before the first view). */
export function ndarrayCodeGeneration(): boolean | undefined {
  return refused === undefined ? undefined : !refused;
}

/** True when `i` selects an entry (ndarray's convention: a non-negative number; anything else keeps the axis). */
const selects = (i: unknown): i is number => typeof i === "number" && i >= 0;

/**
 * An ndarray view without generated code: position of (i₀, …) is
 * offset + Σ iₖ·strideₖ. Same semantics as ndarray 1.1's views, as plain methods.
 */
export class StridedView implements View {
  data: FloatArray;
  shape: number[];
  stride: number[];
  offset: number;

  constructor(data: FloatArray, shape: number[], stride: number[], offset: number) {
    this.data = data;
    this.shape = shape;
    this.stride = stride;
    this.offset = offset | 0;
  }

  get dtype(): "float64" | "float32" {
    return this.data instanceof Float32Array ? "float32" : "float64";
  }

  get dimension(): number {
    return this.shape.length;
  }

  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }

  /** The axes from the smallest |stride| to the largest, ties broken as ndarray breaks them. */
  get order(): number[] {
    if (this.stride.length === 3) {
      // ndarray's 3-d views decide by these comparisons, which settle ties their own way.
      const [s0, s1, s2] = this.stride.map(Math.abs);
      if (s0 > s1) return s1 > s2 ? [2, 1, 0] : s0 > s2 ? [1, 2, 0] : [1, 0, 2];
      return s0 > s2 ? [2, 0, 1] : s2 > s1 ? [0, 1, 2] : [0, 2, 1];
    }
    return this.stride.map((s, axis) => [Math.abs(s), axis]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, axis]) => axis);
  }

  index(...i: number[]): number {
    let at = this.offset;
    for (let d = 0; d < this.stride.length; d++) at += this.stride[d] * i[d];
    return at;
  }

  get(...i: number[]): number {
    return this.data[this.index(...i)];
  }

  /** set(i₀, …, v): writes v and returns it. */
  set(...args: number[]): number {
    const v = args[this.shape.length];
    this.data[this.index(...args)] = v;
    return v;
  }

  /** For rank 0, the value (as ndarray's 0-d views). */
  valueOf(): number | this {
    return this.shape.length === 0 ? this.data[this.offset] : this;
  }

  /** The view cut to shape iₖ along each axis where iₖ selects. */
  hi(...i: number[]): View {
    return new StridedView(this.data, this.shape.map((n, d) => (selects(i[d]) ? i[d] | 0 : n)), this.stride.slice(), this.offset);
  }

  /** The view starting at iₖ along each axis where iₖ selects. */
  lo(...i: number[]): View {
    let offset = this.offset;
    const shape = this.shape.slice();
    for (let d = 0; d < shape.length; d++) {
      if (!selects(i[d])) continue;
      const k = i[d] | 0;
      offset += this.stride[d] * k;
      shape[d] -= k;
    }
    return new StridedView(this.data, shape, this.stride.slice(), offset);
  }

  /** Every iₖ-th entry along each axis where iₖ is a number (negative: backwards from the end). */
  step(...i: number[]): View {
    let offset = this.offset;
    const shape = this.shape.slice();
    const stride = this.stride.slice();
    for (let d = 0; d < shape.length; d++) {
      if (typeof i[d] !== "number") continue;
      const k = i[d] | 0;
      if (k < 0) {
        offset += stride[d] * (shape[d] - 1);
        shape[d] = Math.ceil(-shape[d] / k);
      } else {
        shape[d] = Math.ceil(shape[d] / k);
      }
      stride[d] *= k;
    }
    return new StridedView(this.data, shape, stride, offset);
  }

  /** Axis d of the result is axis iₐ of this view (default: the same axis). */
  transpose(...i: number[]): View {
    const axes = this.shape.map((_, d) => (i[d] === undefined ? d : i[d] | 0));
    return new StridedView(this.data, axes.map((a) => this.shape[a]), axes.map((a) => this.stride[a]), this.offset);
  }

  /** The reversed transpose. */
  get T(): View {
    return this.transpose(...this.shape.map((_, d) => this.shape.length - 1 - d));
  }

  /** Fixes axis d at iₐ where iₐ selects and keeps the other axes. */
  pick(...i: Array<number | null>): View {
    let offset = this.offset;
    const shape: number[] = [];
    const stride: number[] = [];
    for (let d = 0; d < this.shape.length; d++) {
      const k = i[d];
      if (selects(k)) {
        offset = (offset + this.stride[d] * k) | 0;
      } else {
        shape.push(this.shape[d]);
        stride.push(this.stride[d]);
      }
    }
    return new StridedView(this.data, shape, stride, offset);
  }
}
