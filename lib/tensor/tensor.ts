/**
 * The Tensor: an immutable n-dimensional float array laid out like a scijs
 * `ndarray` view (typed array + shape + strides + offset). `tensor(ndarray)` wraps
 * a view without copying, `t.toNdarray()` hands one back. Every op allocates its
 * result; no op ever writes into an existing tensor's storage, which is what
 * lets views (transpose, slice, broadcast) share data safely.
 */
import type ndarray from "ndarray";
import { ndarrayView } from "./ndarray-view.js";
import { copyStrided } from "./strided.js";
import { isOwned, markOwned } from "./owned.js";
import { checkShape, contiguousStrides, describe, isContiguous, shapeToString, sizeOf } from "./shape.js";

export type DType = "float64" | "float32";
export type FloatArray = Float64Array | Float32Array;
/** Nested JS arrays of numbers, or a number (rank 0). */
export type NestedArray = number | NestedArray[];
/** What `toArray(rank)` returns: a number for rank 0, number[] for 1, number[][] for 2, … */
export type ArrayOfRank<R extends number> = R extends 0 ? number : R extends 1 ? number[] : R extends 2 ? number[][] : R extends 3 ? number[][][] : R extends 4 ? number[][][][] : NestedArray;
/** Anything `tensor()` accepts. */
export type TensorLike = Tensor | number | NestedArray | FloatArray | ndarray.NdArray;

export interface TensorOptions {
  dtype?: DType;
  shape?: number[];
  /**
   * Copy the values into fresh storage the library owns (default false: typed
   * arrays and ndarray views are wrapped without copying). Later writes into
   * the original do not reach the tensor, and a large constant matrix on owned
   * storage may stay in the WebAssembly memory across calls.
   */
  copy?: boolean;
}

/**
 * The part of a tracer that the Tensor layer needs to know about: which
 * transformation (trace) owns it. The traces themselves are lib/primitives/core.ts's.
 */
export interface TraceTag {
  readonly level: number;
  active: boolean;
}

/**
 * @internal How the Tensor layer sees through tracers without depending on the
 * transformations (lib/primitives/core.ts installs both functions).
 */
export const tracing = {
  /**
   * Called when a traced value's numbers are read by a public accessor (`method`):
   * throws when a live transformation differentiates it, since the numbers would
   * leave the tape and its derivative would be silently lost.
   */
  checkRead: (_t: Tensor, _method: string): void => {},
  /** The concrete value under every tracer (reading it is not checked: engine use only). */
  concrete: (t: Tensor): Tensor => t,
};

export function allocate(dtype: DType, n: number): FloatArray {
  return dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
}

/**
 * `allocate` for a user-facing op: a size the engine cannot allocate is an Error
 * naming the op and the shape, not the engine's RangeError.
 */
export function allocateFor(op: string, dtype: DType, shape: readonly number[]): FloatArray {
  try {
    return allocate(dtype, sizeOf(shape));
  } catch (e) {
    if (e instanceof RangeError) throw new Error(`${op}: cannot allocate a ${dtype} tensor of shape ${shapeToString(shape)} (${sizeOf(shape)} elements)`);
    throw e;
  }
}

export function checkDtype(op: string, dtype: unknown): DType {
  if (dtype === undefined) return "float64";
  if (dtype !== "float64" && dtype !== "float32") throw new Error(`${op}: dtype must be "float64" or "float32", got ${describe(dtype)}`);
  return dtype;
}

export class Tensor {
  /** Dimensions, outermost first. Do not modify. */
  readonly shape: number[];
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /**
   * @internal Storage of the underlying concrete value. A tracer has none of its
   * own: reading it is checked like `item()` (lib/primitives/core.ts).
   */
  declare readonly data: FloatArray;
  /** @internal Element strides of the storage, one per dimension. */
  readonly strides: number[];
  /** @internal Index of element [0,…,0] in `data`. */
  readonly offset: number;
  /** @internal The transformation this value is traced by, or null for a plain value. */
  readonly _trace: TraceTag | null;

  /** @internal Use `tensor()` and the other constructors. */
  constructor(data: FloatArray, shape: number[], strides: number[], offset: number, trace: TraceTag | null = null) {
    if (trace === null) this.data = data;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.size = sizeOf(shape);
    this.dtype = data instanceof Float32Array ? "float32" : "float64";
    this._trace = trace;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** @internal True when the storage is row-major with no gaps. */
  get contiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /**
   * Nested JS arrays of numbers (a number for rank 0). Like every accessor that
   * reads the numbers out, it throws on a value a live grad/jvp differentiates:
   * read `stopGradient(x)` instead to use them as constants.
   */
  toArray(): NestedArray;
  /**
   * With the rank the caller expects, typed to match (`x.toArray(1)` is a
   * `number[]`, `toArray(2)` a `number[][]`, `toArray(0)` a number) and checked:
   * a tensor of another rank is an Error naming its shape, never a mistyped value.
   */
  toArray<R extends 0 | 1 | 2 | 3 | 4>(rank: R): ArrayOfRank<R>;
  toArray(rank: number): NestedArray;
  toArray(rank?: number): NestedArray {
    if (this._trace !== null) tracing.checkRead(this, "toArray");
    if (rank !== undefined && rank !== this.ndim) {
      if (typeof rank !== "number" || !Number.isInteger(rank) || rank < 0) throw new Error(`toArray: rank must be a non-negative integer (the number of dimensions expected), got ${describe(rank)}`);
      throw new Error(`toArray: rank ${rank} was expected but the tensor has shape ${shapeToString(this.shape)} (rank ${this.ndim})${this.size === 1 ? "; item() reads its one value" : rank < this.ndim ? "; reshape it first (reshape(x, [-1]) flattens)" : ""}`);
    }
    return nestedValues(this);
  }

  /** The single value of a rank-0 or size-1 tensor (checked like `toArray`). */
  item(): number {
    if (this._trace !== null) tracing.checkRead(this, "item");
    if (this.size !== 1) throw new Error(`item: tensor of shape ${shapeToString(this.shape)} has ${this.size} elements; item() needs exactly one`);
    return this.data[this.offset];
  }

  /**
   * A scijs ndarray view of the same storage (no copy; checked like `toArray`);
   * where code generation is refused, an equivalent view (see ./ndarray-view.ts).
   * A tensor made with `{ copy: true }` (or a view of one) gives a view of a
   * fresh copy instead: its storage belongs to the library.
   */
  toNdarray(): ndarray.NdArray<FloatArray> {
    if (this._trace !== null) tracing.checkRead(this, "toNdarray");
    // Storage the library owns (tensor(…, { copy: true })) is never handed out: a view of a copy.
    if (isOwned(this.data)) return ndarrayView(contiguousData(this).slice(), this.shape.slice(), contiguousStrides(this.shape), 0);
    return ndarrayView(this.data, this.shape.slice(), this.strides.slice(), this.offset);
  }

  /** The values as a fresh contiguous Float64Array (row-major; checked like `toArray`). */
  toFloat64Array(): Float64Array {
    if (this._trace !== null) tracing.checkRead(this, "toFloat64Array");
    const values = contiguousData(this, "float64") as Float64Array;
    return values === this.data ? values.slice() : values;
  }

  /** Printing shows a traced value's numbers (it loses no derivative: nothing computes with them). */
  toString(): string {
    const body = this.size > 100 ? "…" : formatNested(nestedValues(tracing.concrete(this)));
    return `Tensor(${this.dtype}, ${shapeToString(this.shape)}${this._trace ? ", traced" : ""}) ${body}`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** The values of a concrete tensor as nested arrays. */
function nestedValues(t: Tensor): NestedArray {
  const { data, shape, strides } = t;
  const build = (dim: number, pos: number): NestedArray => {
    if (dim === shape.length) return data[pos];
    const out: NestedArray[] = new Array(shape[dim]);
    for (let i = 0; i < shape[dim]; i++) out[i] = build(dim + 1, pos + i * strides[dim]);
    return out;
  };
  return build(0, t.offset);
}

/** Nested values as text; unlike JSON, NaN and ±Infinity print as themselves. */
function formatNested(v: NestedArray): string {
  return typeof v === "number" ? String(v) : `[${v.map(formatNested).join(",")}]`;
}

const zeroChunks = { float64: new Float64Array(1), float32: new Float32Array(1) };

/**
 * An all-zero tensor of any shape that has no storage of its own: one shared 0
 * read through stride-0 axes. The engine uses it where only a value's shape and
 * dtype matter (a linear program's symbols, values a backward rule never reads).
 */
export function shapeOnly(shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(zeroChunks[dtype], shape.slice(), shape.map(() => 0), 0);
}

/** Builds a tensor that owns fresh contiguous storage. */
export function fromData(data: FloatArray, shape: number[]): Tensor {
  return new Tensor(data, shape, contiguousStrides(shape), 0);
}

/**
 * The elements of `t` in row-major order as a contiguous typed array. Returns
 * the storage itself when it already is exactly that (callers must not write to it).
 */
export function contiguousData(t: Tensor, dtype: DType = t.dtype): FloatArray {
  const { data, shape, strides, offset, size } = t;
  if (t.dtype === dtype && offset === 0 && data.length === size && isContiguous(shape, strides)) return data;
  const out = allocate(dtype, size);
  copyInto(t, out);
  return out;
}

/** Writes the elements of `t` in row-major order into `out` (of at least t.size entries). */
export function copyInto(t: Tensor, out: FloatArray): void {
  const { data, shape, strides, offset, size } = t;
  if (isContiguous(shape, strides)) {
    if (out.constructor === data.constructor) out.set(data.subarray(offset, offset + size));
    else for (let i = 0; i < size; i++) out[i] = data[offset + i];
    return;
  }
  if (size === 0) return;
  // A strided view (transpose, slice, broadcast): plain loops, tiled where the source's short stride is not the last axis.
  copyStrided(data, shape, strides, offset, out);
}

/** @internal True for an object laid out like a scijs ndarray view (data, shape, stride, offset). */
export function isNdarray(v: object): v is ndarray.NdArray {
  const o = v as { data?: unknown; shape?: unknown; stride?: unknown; offset?: unknown };
  return "data" in o && Array.isArray(o.shape) && Array.isArray(o.stride) && typeof o.offset === "number";
}

/** The shape of nested arrays, read along their first entries; an array that contains itself is an Error, not an endless descent. */
function inferShape(op: string, value: NestedArray[]): number[] {
  const shape: number[] = [];
  const seen = new Set<unknown>();
  let level: unknown = value;
  while (Array.isArray(level)) {
    if (seen.has(level)) throw new Error(`${op}: the nested array contains itself (a cycle at depth ${shape.length}); pass nested arrays of numbers`);
    seen.add(level);
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

function fillNested(op: string, value: NestedArray[], shape: number[], out: FloatArray): void {
  let k = 0;
  const walk = (v: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v !== "number") throw new Error(`${op}: entry ${path || "[]"} is ${describe(v)}; only numbers are accepted`);
      out[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new Error(`${op}: ragged nested array: entry ${path || "[]"} is ${describe(v)} but shape ${shapeToString(shape)} was inferred from the first entries`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], dim + 1, `${path}[${i}]`);
  };
  walk(value, 0, "");
}

/**
 * Creates a Tensor from a number, nested arrays, a Float64Array/Float32Array
 * (with `opts.shape`, default 1-D) or a scijs ndarray view. Typed arrays and
 * ndarray views of the requested dtype are wrapped without copying; the library
 * never writes to them. With `opts.copy` the values are copied into fresh
 * storage the library owns (see TensorOptions.copy); a traced value is returned
 * as it is (its storage already is the library's).
 */
export function tensor(value: TensorLike, opts: TensorOptions = {}): Tensor {
  if (opts !== null && typeof opts === "object" && opts.copy !== undefined) {
    if (typeof opts.copy !== "boolean") throw new Error(`tensor: option copy must be a boolean, got ${describe(opts.copy)}`);
    if (opts.copy) return ownedCopy(toTensor("tensor", value, opts));
  }
  return toTensor("tensor", value, opts);
}

/** A tensor over a fresh contiguous copy of `t`'s values, marked library-owned (tracers pass through). */
function ownedCopy(t: Tensor): Tensor {
  if (t._trace !== null) return t;
  const data = allocate(t.dtype, t.size);
  copyInto(t, data);
  markOwned(data);
  return new Tensor(data, t.shape.slice(), contiguousStrides(t.shape), 0);
}

/** @internal `tensor()` with the public name of the calling op in its errors. */
export function toTensor(op: string, value: unknown, opts: TensorOptions = {}): Tensor {
  if (opts === null || typeof opts !== "object") throw new Error(`${op}: options must be an object, got ${describe(opts)}`);
  const wanted = opts.dtype === undefined ? undefined : checkDtype(op, opts.dtype);
  if (value instanceof Tensor) {
    checkGivenShape(op, opts.shape, value.shape);
    return wanted === undefined || wanted === value.dtype ? value : astype(value, wanted);
  }
  const dtype = wanted ?? "float64";
  if (typeof value === "number") {
    const shape = opts.shape === undefined ? [] : checkShape(op, opts.shape);
    if (sizeOf(shape) !== 1) throw new Error(`${op}: shape ${shapeToString(shape)} needs ${sizeOf(shape)} elements but a single number was given`);
    const data = allocate(dtype, 1);
    data[0] = value;
    return new Tensor(data, shape, contiguousStrides(shape), 0);
  }
  if (value instanceof Float64Array || value instanceof Float32Array) {
    const shape = opts.shape === undefined ? [value.length] : checkShape(op, opts.shape);
    if (sizeOf(shape) !== value.length) throw new Error(`${op}: shape ${shapeToString(shape)} needs ${sizeOf(shape)} elements but the typed array has ${value.length}`);
    // Without an explicit dtype the array keeps its own (and is wrapped, as an ndarray over it would be).
    const native: DType = value instanceof Float32Array ? "float32" : "float64";
    const data = native === (wanted ?? native) ? value : allocate(wanted ?? native, value.length);
    if (data !== value) data.set(value);
    return new Tensor(data, shape, contiguousStrides(shape), 0);
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    throw new Error(`${op}: ${describe(value)} is not supported; pass a Float64Array or Float32Array`);
  }
  if (Array.isArray(value)) {
    const shape = opts.shape !== undefined ? checkShape(op, opts.shape) : inferShape(op, value as NestedArray[]);
    const data = allocate(dtype, sizeOf(shape));
    if (opts.shape !== undefined) {
      const inferred = inferShape(op, value as NestedArray[]);
      if (sizeOf(inferred) !== sizeOf(shape)) throw new Error(`${op}: shape ${shapeToString(shape)} needs ${sizeOf(shape)} elements but the array has shape ${shapeToString(inferred)}`);
      fillNested(op, value as NestedArray[], inferred, data);
    } else fillNested(op, value as NestedArray[], shape, data);
    return new Tensor(data, shape, contiguousStrides(shape), 0);
  }
  if (value !== null && typeof value === "object" && isNdarray(value)) {
    const t = fromNdarray(op, value, dtype, wanted !== undefined);
    checkGivenShape(op, opts.shape, t.shape);
    return t;
  }
  throw new Error(`${op}: cannot make a tensor from ${describe(value)}; pass a number, nested arrays of numbers, a Float64Array/Float32Array or an ndarray`);
}

/** A Tensor or an ndarray already has a shape: `opts.shape`, if given, must agree with it. */
function checkGivenShape(op: string, given: unknown, actual: number[]): void {
  if (given === undefined) return;
  const shape = checkShape(op, given);
  if (shape.length !== actual.length || shape.some((d, i) => d !== actual[i])) throw new Error(`${op}: shape ${shapeToString(shape)} was given for a value of shape ${shapeToString(actual)}; use reshape to change it`);
}

function fromNdarray(op: string, nd: ndarray.NdArray, dtype: DType, dtypeGiven: boolean): Tensor {
  const shape = checkShape(op, nd.shape, "ndarray shape");
  const strides = nd.stride.slice();
  if (strides.length !== shape.length || strides.some((s) => typeof s !== "number" || !Number.isInteger(s))) {
    throw new Error(`${op}: ndarray strides ${shapeToString(strides)} do not match its shape ${shapeToString(shape)}`);
  }
  if (!Number.isInteger(nd.offset)) throw new Error(`${op}: ndarray offset must be an integer, got ${describe(nd.offset)}`);
  const src = nd.data as unknown;
  const native: DType | null = src instanceof Float64Array ? "float64" : src instanceof Float32Array ? "float32" : null;
  if (native !== null && (!dtypeGiven || native === dtype)) {
    checkBounds(op, (src as FloatArray).length, shape, strides, nd.offset);
    return new Tensor(src as FloatArray, shape, strides, nd.offset);
  }
  // Other storage (plain arrays, integer typed arrays): copy element by element.
  if (typeof nd.get !== "function") throw new Error(`${op}: ${describe(nd)} has ndarray fields but no get(); pass an ndarray built by the ndarray package`);
  const out = allocateFor(op, dtype, shape);
  const get = nd.get.bind(nd) as (...idx: number[]) => unknown;
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < out.length; k++) {
    const v = get(...idx);
    if (typeof v !== "number") throw new Error(`${op}: ndarray entry [${idx.join(",")}] is ${describe(v)}; only numbers are accepted`);
    out[k] = v;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return new Tensor(out, shape, contiguousStrides(shape), 0);
}

function checkBounds(op: string, length: number, shape: number[], strides: number[], offset: number): void {
  if (sizeOf(shape) === 0) return;
  let lo = offset;
  let hi = offset;
  for (let i = 0; i < shape.length; i++) {
    const span = (shape[i] - 1) * strides[i];
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= length) throw new Error(`${op}: ndarray view (shape ${shapeToString(shape)}, strides ${shapeToString(strides)}, offset ${offset}) reaches outside its data of length ${length}`);
}

/** A copy of `t` with another dtype. */
export function astype(t: Tensor, dtype: DType): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`astype: expects a Tensor, got ${describe(t)}`);
  const d = checkDtype("astype", dtype);
  return fromData(contiguousData(t, d) === t.data ? t.data.slice() : contiguousData(t, d), t.shape.slice());
}

function creationShape(op: string, shape: unknown): number[] {
  if (typeof shape === "number") return checkShape(op, [shape]);
  return checkShape(op, shape);
}

/** The dtype option of a constructor: `opts` must be an object (or absent). */
function creationDtype(op: string, opts: unknown): DType {
  if (opts === undefined) return "float64";
  if (opts === null || typeof opts !== "object") throw new Error(`${op}: options must be an object such as { dtype: "float32" }, got ${describe(opts)}`);
  return checkDtype(op, (opts as { dtype?: unknown }).dtype);
}

/** A tensor of the given shape filled with `value`. */
export function full(shape: number[] | number, value: number, opts: { dtype?: DType } = {}): Tensor {
  const s = creationShape("full", shape);
  if (typeof value !== "number") throw new Error(`full: fill value must be a number, got ${describe(value)}`);
  const data = allocateFor("full", creationDtype("full", opts), s);
  if (!Object.is(value, 0)) data.fill(value);
  return fromData(data, s);
}

/** A tensor of zeros. */
export function zeros(shape: number[] | number, opts: { dtype?: DType } = {}): Tensor {
  const s = creationShape("zeros", shape);
  return fromData(allocateFor("zeros", creationDtype("zeros", opts), s), s);
}

/** A tensor of ones. */
export function ones(shape: number[] | number, opts: { dtype?: DType } = {}): Tensor {
  const s = creationShape("ones", shape);
  const data = allocateFor("ones", creationDtype("ones", opts), s);
  data.fill(1);
  return fromData(data, s);
}

/** The n×n identity matrix. */
export function eye(n: number, opts: { dtype?: DType } = {}): Tensor {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new Error(`eye: n must be a non-negative integer, got ${describe(n)}`);
  const data = allocateFor("eye", creationDtype("eye", opts), [n, n]);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return fromData(data, [n, n]);
}

/**
 * Evenly spaced values in [start, stop) as NumPy's arange: `arange(stop)` or
 * `arange(start, stop, step = 1)`; length ceil((stop − start)/step).
 */
export function arange(startOrStop: number, stop?: number, step = 1, opts: { dtype?: DType } = {}): Tensor {
  if (typeof startOrStop !== "number" || !Number.isFinite(startOrStop)) throw new Error(`arange: ${stop === undefined ? "stop" : "start"} must be a finite number, got ${describe(startOrStop)}`);
  const named = stop === undefined ? [["stop", startOrStop], ["step", step]] as const : [["start", startOrStop], ["stop", stop], ["step", step]] as const;
  for (const [name, v] of named) {
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v))) throw new Error(`arange: ${name} must be a finite number, got ${describe(v)}`);
  }
  const start = stop === undefined ? 0 : startOrStop;
  const end = stop === undefined ? startOrStop : stop;
  if (step === 0) throw new Error("arange: step must not be zero");
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (n > 2 ** 31) throw new Error(`arange: ${n} elements are too many`);
  const data = allocateFor("arange", creationDtype("arange", opts), [n]);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return fromData(data, [n]);
}
