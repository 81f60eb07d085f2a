/**
 * Linear operators for the Krylov solvers.
 *
 * A solver accepts `A` as a dense 2-D Tensor, a function `v => A v` on Tensors,
 * or a `LinearOperator` object. Internally every kind becomes a `LinearMap`: a
 * pair of products `out = A x` and `out = Aᵀ x` on plain Float64Arrays, so the
 * iteration itself never allocates a Tensor. A dense matrix is read straight
 * from its contiguous storage; a user function gets a fresh Tensor per call
 * (it may keep it: Tensors are immutable) and its result is copied out.
 *
 * The BLAS-1 helpers the solvers share (dot, norm, the residual b − A x) live
 * here too, next to the products they are used with.
 */
import { allocate, contiguousData, fromData, Tensor, toTensor, type DType, type NestedArray } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { dropDead, stagingTrace } from "../primitives/core.js";
import { matmulWasm, ResidentMatrix, type StridedMatrix } from "../tensor/wasm/dense.js";

/**
 * @internal The solvers work on plain numbers: a value that a live grad/jvp is
 * differentiating would come out with its derivative silently dropped, so it is
 * an Error instead.
 */
export function checkUntraced(op: string, what: string, t: Tensor): void {
  // Under jit nothing may be read now: traced values are unknown, and a captured array read now would go stale.
  if (stagingTrace() !== null) {
    throw new Error(`${op}: cannot run inside jit: it reads the values of ${what} while jit traces, when they are not known (or, for an array the function captured, would be read once and go stale), and its result reports iterations; call ${op} outside jit, or use solve(A, b) or an ImplicitFunction inside it`);
  }
  if (dropDead(t)._trace !== null) {
    throw new Error(`${op}: ${what} is being differentiated (a grad or jvp is tracing it), but ${op} is not differentiable and would drop its derivative; use solve(A, b), or an ImplicitFunction whose conditions are A y − b, to differentiate a linear solve`);
  }
}

/**
 * A matrix given only through its products. `matvec` maps a 1-D Tensor of
 * length n to one of length m; `rmatvec` (needed by lsqr) computes Aᵀ v.
 * `symmetric` and `positiveDefinite` are hints for callers choosing a method;
 * the solvers do not trust or check them.
 */
export interface LinearOperator {
  readonly shape: readonly [number, number];
  matvec: MatvecFunction;
  rmatvec?: MatvecFunction;
  symmetric?: boolean;
  positiveDefinite?: boolean;
}

/**
 * A function `v => A v` standing for a square matrix whose size is that of `b`.
 * It may carry an in-place form `into(x, out)` (Krylov.jl's `mul!`): out = A x
 * on flat Float64Arrays owned by the solver (x of the input's length, out of the
 * output's), keeping neither. Solvers then call `into` and allocate nothing per
 * product; the functions returned by `linearize` and `linearTranspose` have one.
 */
export type MatvecFunction = ((v: Tensor) => Tensor) & { into?: (x: Float64Array, out: Float64Array) => void };

/** Everything a solver accepts as `A` (or as a preconditioner `M`). */
export type OperatorLike = Tensor | NestedArray[] | MatvecFunction | LinearOperator;

/** @internal A matrix as products on Float64Arrays. Each returns false when `out` holds a NaN or ∞. */
export interface LinearMap {
  readonly rows: number;
  readonly cols: number;
  /** out (length rows) = A x (length cols). */
  apply(x: Float64Array, out: Float64Array): boolean;
  /** out (length cols) = Aᵀ x (length rows), or null when the operator has no transpose. */
  readonly applyTranspose: ((x: Float64Array, out: Float64Array) => boolean) | null;
  /** Where A came from, for error messages: "a dense matrix", "a function", "a LinearOperator". */
  readonly kind: string;
}

/**
 * out = A x for a row-major m×n matrix. Four partial sums per row break the
 * chain of dependent additions that limits a one-accumulator loop to one
 * multiply-add per FP-add latency (~1.4× faster on cached matrices and on ones
 * streamed from memory). The NaN/∞ test is one subtraction per row.
 */
export function denseMatvec(a: Float64Array, m: number, n: number, x: Float64Array, out: Float64Array): boolean {
  let finite = true;
  const n4 = n - (n & 3);
  for (let i = 0, row = 0; i < m; i++, row += n) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j < n4; j += 4) {
      const q = row + j;
      s0 += a[q] * x[j];
      s1 += a[q + 1] * x[j + 1];
      s2 += a[q + 2] * x[j + 2];
      s3 += a[q + 3] * x[j + 3];
    }
    for (; j < n; j++) s0 += a[row + j] * x[j];
    const s = s0 + s1 + (s2 + s3);
    out[i] = s;
    if (s - s !== 0) finite = false;
  }
  return finite;
}

/** out = Aᵀ x for a row-major m×n matrix, walking A by rows so that memory is read in order. */
export function denseRmatvec(a: Float64Array, m: number, n: number, x: Float64Array, out: Float64Array): boolean {
  out.fill(0);
  for (let i = 0, row = 0; i < m; i++, row += n) {
    const xi = x[i];
    for (let j = 0; j < n; j++) out[j] += xi * a[row + j];
  }
  return allFinite(out);
}

/** Dense operators made by `denseOperator`, so that solvers can take the Float64Array fast path. */
const denseStorage = new WeakMap<object, Tensor>();

/**
 * A dense matrix for one solve. Its products run in WebAssembly SIMD with the
 * matrix kept in the WebAssembly memory for the whole solve (copied in on the
 * first product; it cannot change while the solve runs), so each product copies
 * only two vectors; small matrices and hosts without WebAssembly SIMD use the
 * loops above. The end of the solve whose scope it is made for (see `guarded`)
 * frees the room; the next solve builds a new map and copies the matrix afresh.
 */
function denseMap(op: string, what: string, T: Tensor, scope: SolveScope | null): LinearMap {
  if (T.ndim !== 2) throw new Error(`${op}: ${what} must be a 2-D matrix, got a tensor of shape ${shapeToString(T.shape)}`);
  checkUntraced(op, what, T);
  const [m, n] = T.shape;
  // Read-only use: contiguousData hands back T's own storage when it already is row-major float64.
  const a = contiguousData(T, "float64") as Float64Array;
  const resident = new ResidentMatrix(a, m, n);
  scope?.keep(resident);
  return {
    rows: m,
    cols: n,
    apply: (x, out) => (resident.multiply(x, out, false) ? allFinite(out) : denseMatvec(a, m, n, x, out)),
    applyTranspose: (x, out) => (resident.multiply(x, out, true) ? allFinite(out) : denseRmatvec(a, m, n, x, out)),
    kind: "a dense matrix",
  };
}

/**
 * What user code run by a solver (a product, the preconditioner, the callback)
 * threw, on its way out of the solver: `guarded` unwraps it, so the caller gets
 * the thrown value itself, and the library's own RangeErrors are the only ones
 * left unwrapped.
 */
class UserThrow {
  constructor(readonly thrown: unknown) {}
}

/**
 * What one running solve owns, handed down explicitly from `guarded` to the
 * maps it makes: the dense matrices it keeps in the WebAssembly memory
 * (released when it ends), and the user code it runs, whose throws it carries
 * out unchanged.
 */
export class SolveScope {
  private readonly residents: ResidentMatrix[] = [];

  keep(matrix: ResidentMatrix): void {
    this.residents.push(matrix);
  }

  release(): void {
    for (const matrix of this.residents) matrix.release();
    this.residents.length = 0;
  }
}

/**
 * @internal Runs user code for a solver. For a solve's scope (see `guarded`)
 * what it throws leaves wrapped in a UserThrow; without one (a map made outside
 * any solve) it passes through as is.
 */
export function runUser<T>(scope: SolveScope | null, body: () => T): T {
  if (scope === null) return body();
  try {
    return body();
  } catch (e) {
    throw new UserThrow(e);
  }
}

/**
 * @internal Runs solver `op` with a scope of its own (`body` hands it to the
 * maps it makes). The only engine error the library itself can raise there is
 * a RangeError for a workspace too large to allocate (a huge broadcast view as
 * A or b): it reaches the user as an Error naming the solver. Whatever user
 * code threw passes through unchanged.
 */
export function guarded<T>(op: string, body: (scope: SolveScope) => T): T {
  const scope = new SolveScope();
  try {
    return body(scope);
  } catch (e) {
    if (e instanceof UserThrow) throw e.thrown;
    if (e instanceof RangeError) throw new Error(`${op}: the problem is too large to allocate its workspace (${e.message})`);
    throw e;
  } finally {
    scope.release();
  }
}

/**
 * Calls a user product on a copy of `x` wrapped as a Tensor of `dtype`, checks
 * that a Tensor of the expected length came back, and copies it into `out`.
 */
function tensorProduct(op: string, label: string, product: MatvecFunction, inLen: number, outLen: number, dtype: DType, scope: SolveScope | null): (x: Float64Array, out: Float64Array) => boolean {
  const into = product.into;
  if (typeof into === "function") {
    return (x, out) => {
      runUser(scope, () => into.call(product, x, out));
      return allFinite(out);
    };
  }
  return (x, out) => {
    const data = allocate(dtype, inLen);
    data.set(x);
    const y: unknown = runUser(scope, () => product(fromData(data, [inLen])));
    if (!(y instanceof Tensor)) throw new Error(`${op}: ${label} returned ${describe(y)}; it must return a Tensor of shape [${outLen}]`);
    if (y.ndim !== 1 || y.shape[0] !== outLen) throw new Error(`${op}: ${label} returned a tensor of shape ${shapeToString(y.shape)}; expected shape [${outLen}] for an input of shape [${inLen}]`);
    checkUntraced(op, `the result of ${label}`, y);
    const src = contiguousData(y, "float64");
    let finite = true;
    for (let i = 0; i < outLen; i++) {
      const v = src[i];
      out[i] = v;
      if (v - v !== 0) finite = false;
    }
    return finite;
  };
}

/** A method of an operator object called with the object as `this`, keeping its in-place form. */
function boundProduct(owner: LinearOperator, method: MatvecFunction): MatvecFunction {
  const bound: MatvecFunction = (v) => method.call(owner, v);
  if (typeof method.into === "function") bound.into = (x, out) => method.into!.call(method, x, out);
  return bound;
}

function isOperatorObject(A: unknown): A is LinearOperator {
  return A !== null && typeof A === "object" && !(A instanceof Tensor) && !Array.isArray(A) && "matvec" in A;
}

/** Checks a LinearOperator's fields, naming what is wrong. */
function checkOperator(op: string, what: string, A: LinearOperator): [number, number] {
  const shape: unknown = A.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || shape.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 0)) {
    throw new Error(`${op}: ${what}.shape must be [m, n] with non-negative integers, got ${Array.isArray(shape) ? `[${shape.map((d) => (typeof d === "number" ? String(d) : describe(d))).join(",")}]` : describe(shape)}`);
  }
  if (typeof A.matvec !== "function") throw new Error(`${op}: ${what}.matvec must be a function v => A v, got ${describe(A.matvec)}`);
  if (A.rmatvec !== undefined && typeof A.rmatvec !== "function") throw new Error(`${op}: ${what}.rmatvec must be a function v => Aᵀ v or absent, got ${describe(A.rmatvec)}`);
  for (const flag of ["symmetric", "positiveDefinite"] as const) {
    if (A[flag] !== undefined && typeof A[flag] !== "boolean") throw new Error(`${op}: ${what}.${flag} must be a boolean or absent, got ${describe(A[flag])}`);
  }
  return [shape[0] as number, shape[1] as number];
}

/**
 * @internal Turns any accepted operator into a LinearMap. `size` is the side of
 * the square matrix a bare function stands for; `dtype` is the dtype of the
 * Tensors handed to user code (that of `b`, so that JVP/VJP-based operators see
 * vectors of their own dtype).
 */
export function toLinearMap(op: string, what: string, A: unknown, size: number, dtype: DType, scope: SolveScope | null = null): LinearMap {
  if (A instanceof Tensor) return denseMap(op, what, A, scope);
  if (Array.isArray(A)) return denseMap(op, what, toTensor(`${op}: ${what}`, A), scope);
  if (typeof A === "function") {
    const f = A as MatvecFunction;
    return {
      rows: size,
      cols: size,
      apply: tensorProduct(op, `the function ${what}`, f, size, size, dtype, scope),
      applyTranspose: null,
      kind: "a function",
    };
  }
  if (isOperatorObject(A)) {
    const dense = denseStorage.get(A);
    if (dense !== undefined) return denseMap(op, what, dense, scope);
    const [m, n] = checkOperator(op, what, A);
    const rmatvec = A.rmatvec;
    return {
      rows: m,
      cols: n,
      apply: tensorProduct(op, `${what}.matvec`, boundProduct(A, A.matvec), n, m, dtype, scope),
      applyTranspose: rmatvec === undefined ? null : tensorProduct(op, `${what}.rmatvec`, boundProduct(A, rmatvec), m, n, dtype, scope),
      kind: "a LinearOperator",
    };
  }
  throw new Error(`${op}: ${what} must be a dense 2-D Tensor, a function v => ${what} v, or a LinearOperator { shape, matvec, rmatvec? }, got ${describe(A)}`);
}

/**
 * Wraps a dense m×n matrix as a LinearOperator. Its products (and the solvers,
 * which recognise it) run over the matrix's contiguous storage, in WebAssembly
 * SIMD above a size threshold. Cost per product: m·n multiply-adds.
 */
export function denseOperator(A: Tensor | NestedArray[], flags: { symmetric?: boolean; positiveDefinite?: boolean } = {}): LinearOperator {
  const T = A instanceof Tensor ? A : toTensor("denseOperator", A);
  if (T.ndim !== 2) throw new Error(`denseOperator: A must be a 2-D matrix, got a tensor of shape ${shapeToString(T.shape)}`);
  if (flags === null || typeof flags !== "object") throw new Error(`denseOperator: flags must be an object, got ${describe(flags)}`);
  const [m, n] = T.shape;
  const a = contiguousData(T, "float64") as Float64Array;
  // Each product reads the matrix afresh (the caller may change a wrapped array between calls).
  const stored: StridedMatrix = { data: a, offset: 0, rowStride: n, colStride: 1 };
  const transposed: StridedMatrix = { data: a, offset: 0, rowStride: 1, colStride: n };
  const product = (name: string, inLen: number, outLen: number, matrix: StridedMatrix, kernel: typeof denseMatvec) => (v: Tensor): Tensor => {
    if (!(v instanceof Tensor) || v.ndim !== 1 || v.shape[0] !== inLen) {
      throw new Error(`LinearOperator.${name}: expects a 1-D Tensor of shape [${inLen}] for a ${m}×${n} matrix, got ${v instanceof Tensor ? `shape ${shapeToString(v.shape)}` : describe(v)}`);
    }
    const out = new Float64Array(outLen);
    const vector: StridedMatrix = { data: v.data, offset: v.offset, rowStride: v.strides[0], colStride: 1 };
    if (!matmulWasm(matrix, [0], vector, [0], outLen, inLen, 1, out)) kernel(a, m, n, contiguousData(v, "float64") as Float64Array, out);
    return fromData(out, [outLen]);
  };
  const operator: LinearOperator = {
    shape: [m, n],
    matvec: product("matvec", n, m, stored, denseMatvec),
    rmatvec: product("rmatvec", m, n, transposed, denseRmatvec),
    ...flagFields("denseOperator", flags),
  };
  denseStorage.set(operator, T);
  return operator;
}

function flagFields(op: string, flags: { symmetric?: unknown; positiveDefinite?: unknown }): { symmetric?: boolean; positiveDefinite?: boolean } {
  const out: { symmetric?: boolean; positiveDefinite?: boolean } = {};
  for (const flag of ["symmetric", "positiveDefinite"] as const) {
    const v = flags[flag];
    if (v === undefined) continue;
    if (typeof v !== "boolean") throw new Error(`${op}: ${flag} must be a boolean, got ${describe(v)}`);
    out[flag] = v;
  }
  return out;
}

export interface LinearOperatorOptions {
  /** [m, n], or n for a square matrix; required for a function. */
  shape?: readonly [number, number] | number;
  /** v => Aᵀ v, for lsqr. */
  rmatvec?: MatvecFunction;
  symmetric?: boolean;
  positiveDefinite?: boolean;
}

/**
 * Any accepted `A` as a LinearOperator (SciPy's `aslinearoperator`): a dense
 * matrix becomes `denseOperator(A)`; a function needs `opts.shape`; an existing
 * operator is returned with the fields of `opts` overriding its own.
 */
export function linearOperator(A: OperatorLike, opts: LinearOperatorOptions = {}): LinearOperator {
  const op = "linearOperator";
  if (opts === null || typeof opts !== "object") throw new Error(`${op}: options must be an object, got ${describe(opts)}`);
  const flags = flagFields(op, opts);
  if (A instanceof Tensor || Array.isArray(A)) {
    if (opts.shape !== undefined || opts.rmatvec !== undefined) throw new Error(`${op}: shape and rmatvec come from the matrix itself; pass only symmetric/positiveDefinite with a dense matrix`);
    return denseOperator(A, flags);
  }
  if (opts.rmatvec !== undefined && typeof opts.rmatvec !== "function") throw new Error(`${op}: rmatvec must be a function v => Aᵀ v, got ${describe(opts.rmatvec)}`);
  const rmatvec = opts.rmatvec;
  if (typeof A === "function") {
    if (opts.shape === undefined) throw new Error(`${op}: a function operator needs opts.shape ([m, n], or n for n×n)`);
    const shape = typeof opts.shape === "number" ? [opts.shape, opts.shape] : opts.shape;
    const built: LinearOperator = { shape: shape as [number, number], matvec: A, ...(rmatvec ? { rmatvec } : {}), ...flags };
    checkOperator(op, "the operator", built);
    return built;
  }
  if (isOperatorObject(A)) {
    const [m, n] = checkOperator(op, "A", A);
    if (opts.shape !== undefined) throw new Error(`${op}: A already has shape ${shapeToString([m, n])}; opts.shape is only for functions`);
    const built: LinearOperator = {
      shape: [m, n],
      matvec: (v) => A.matvec(v),
      ...(rmatvec ? { rmatvec } : A.rmatvec ? { rmatvec: (v: Tensor) => A.rmatvec!(v) } : {}),
      ...(A.symmetric !== undefined ? { symmetric: A.symmetric } : {}),
      ...(A.positiveDefinite !== undefined ? { positiveDefinite: A.positiveDefinite } : {}),
      ...flags,
    };
    const dense = denseStorage.get(A);
    if (dense !== undefined && rmatvec === undefined) denseStorage.set(built, dense);
    return built;
  }
  throw new Error(`${op}: A must be a dense 2-D Tensor, a function v => A v, or a LinearOperator, got ${describe(A)}`);
}

/** Σ xᵢ yᵢ. */
export function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/**
 * ‖x‖₂. The plain sum of squares overflows for entries beyond ~1e154; only then
 * is the norm recomputed with scaling, so the common case stays one pass.
 */
export function norm2(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  if (s !== Infinity) return Math.sqrt(s);
  return scaledNorm(x);
}

/** ‖x‖₂ given the plain sum of squares `sumSquares` computed by a fused loop. */
export function normFromSquares(x: Float64Array, sumSquares: number): number {
  return sumSquares === Infinity ? scaledNorm(x) : Math.sqrt(sumSquares);
}

function scaledNorm(x: Float64Array): number {
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]);
    if (v !== v) return NaN;
    if (v > scale) scale = v;
  }
  if (scale === Infinity) return Infinity;
  if (scale === 0) return 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] / scale;
    s += v * v;
  }
  return scale * Math.sqrt(s);
}

export function allFinite(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] - x[i] !== 0) return false;
  return true;
}

/** r = b − A x; returns ‖r‖, or NaN when A x has a NaN or ∞. */
export function residualInto(A: LinearMap, b: Float64Array, x: Float64Array, r: Float64Array): number {
  if (!A.apply(x, r)) return NaN;
  let s = 0;
  for (let i = 0; i < r.length; i++) {
    const v = b[i] - r[i];
    r[i] = v;
    s += v * v;
  }
  return normFromSquares(r, s);
}
