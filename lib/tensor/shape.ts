/**
 * Shapes, strides, broadcasting and axis handling. Everything here is pure
 * arithmetic on small integer arrays; no data is touched.
 */

export type Shape = readonly number[];

/** Number of elements of a shape (1 for rank 0). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides of a contiguous array of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** True when `strides` describe a row-major layout of `shape` (dimensions of size 1 are free). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i];
  }
  return true;
}

/** `[2,3]`; also used on user-given arrays, so any entry is shown without throwing. */
export function shapeToString(shape: readonly unknown[]): string {
  return `[${shape.map(formatEntry).join(",")}]`;
}

function formatEntry(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  return describe(v);
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Describes a value for an error message without dumping large data. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + "…" : value)}`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "function") return "a function";
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}` : "an object";
}

/** Validates a user-supplied shape: an array of non-negative integers. */
export function checkShape(op: string, shape: unknown, what = "shape"): number[] {
  if (!Array.isArray(shape)) throw new Error(`${op}: ${what} must be an array of non-negative integers, got ${describe(shape)}`);
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: ${what} must be an array of non-negative integers, got ${shapeToString(shape)}`);
    }
  }
  return shape.slice() as number[];
}

/** Validates an integer option (axis, count, ...). */
export function checkInteger(op: string, value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) throw new Error(`${op}: ${what} must be an integer, got ${describe(value)}`);
  return value;
}

/** NumPy broadcasting of two shapes; throws naming both shapes when they are incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else throw new Error(`${op}: shapes ${shapeToString(a)} and ${shapeToString(b)} cannot be broadcast together (dimension ${i} of the result: ${da} vs ${db})`);
  }
  return out;
}

/**
 * Strides that read an array of shape `shape` (with `strides`) as if it had the
 * larger broadcast shape `target`: stride 0 along broadcast dimensions.
 */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const offset = target.length - shape.length;
  const out = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) out[i + offset] = shape[i] === 1 && target[i + offset] !== 1 ? 0 : strides[i];
  return out;
}

/**
 * Normalises an `axis` argument against a rank: undefined/null = all axes,
 * a number or array of numbers, negatives from the end. Returns sorted, distinct axes.
 */
export function normalizeAxes(op: string, axis: unknown, ndim: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const seen = new Set<number>();
  for (const a of list) {
    if (typeof a !== "number" || !Number.isInteger(a)) throw new Error(`${op}: axis must be an integer or an array of integers, got ${describe(a)}`);
    if (a < -ndim || a >= ndim) throw new Error(`${op}: axis ${a} is out of range for a tensor of rank ${ndim}`);
    const k = a < 0 ? a + ndim : a;
    if (seen.has(k)) throw new Error(`${op}: axis ${a} is repeated in ${shapeToString(list)}`);
    seen.add(k);
  }
  return [...seen].sort((x, y) => x - y);
}

/** Normalises a single axis (used by softmax, concat, stack). */
export function normalizeAxis(op: string, axis: unknown, ndim: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) throw new Error(`${op}: axis must be an integer, got ${describe(axis)}`);
  if (axis < -ndim || axis >= ndim) throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${ndim}`);
  return axis < 0 ? axis + ndim : axis;
}

/** Shape after reducing `axes` (kept as size-1 dimensions when keepdims). */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepdims) out.push(1);
    } else out.push(shape[i]);
  }
  return out;
}
