/**
 * How a solver's iterations evaluate the user's function: the one place that
 * calls the engine (`valueAndGrad`, `linearize`, `linearTranspose`) on the
 * iterates. Everything runs `untraced`: nothing is recorded on a surrounding
 * transformation, and traced values fn captures are read as constants (their
 * derivatives come afterwards, from the optimality conditions). Swapping these
 * evaluations for compiled ones is a change here only.
 *
 * Iterates are flat float64 vectors; fn sees Tensors of the initial point's
 * shape and dtype.
 */
import { Tensor, contiguousData, type DType } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { concrete, untraced } from "../primitives/core.js";
import { valueAndGrad, grad } from "../ad/reverse.js";
import { linearize, linearTranspose } from "../ad/linearize.js";
import { callWith, type UserFunction } from "../primitives/util.js";
import { shapedLike } from "./result.js";

/** A copy of a tensor's values as float64 (never aliasing engine storage). */
export function flatCopy(t: Tensor): Float64Array {
  const c = concrete(t);
  const values = contiguousData(c, "float64");
  return values === c.data ? (values as Float64Array).slice() : (values as Float64Array);
}

/** fn's scalar value, checked: a rank-0 Tensor or a number, else an Error naming op. */
function scalarOf(op: string, out: unknown): Tensor | number {
  if (typeof out === "number") return out;
  if (out instanceof Tensor && out.ndim === 0) return out;
  throw new Error(`${op}: fn must return a scalar (a rank-0 Tensor or a number), got ${out instanceof Tensor ? `shape ${shapeToString(out.shape)}` : describe(out)}`);
}

/** fn's vector value, checked to be a Tensor (or number) of the expected size when given. */
function vectorOf(op: string, out: unknown, size: number | null, what: string): Tensor {
  if (typeof out === "number") out = new Tensor(Float64Array.of(out), [], [], 0);
  if (!(out instanceof Tensor)) throw new Error(`${op}: fn must return a Tensor${size === null ? "" : ` of ${size} entries (${what})`}, got ${describe(out)}`);
  if (size !== null && out.size !== size) throw new Error(`${op}: fn returned shape ${shapeToString(out.shape)} (${out.size} entries) but must return ${size} entries (${what})`);
  return out;
}

/** Shared by both evaluators: the point as a Tensor and the count. */
abstract class Evaluator {
  evaluations = 0;
  readonly toTensor: (x: Float64Array) => Tensor;
  constructor(readonly op: string, readonly fn: UserFunction<unknown>, readonly shape: number[], readonly dtype: DType, readonly args: Tensor[]) {
    this.toTensor = shapedLike(shape, dtype);
  }
  /** fn(x, ...args) with x a fresh tensor over a copy of x. */
  protected call(w: Tensor): unknown {
    return callWith(this.fn, [w, ...this.args]);
  }
  protected point(x: Float64Array): Tensor {
    return this.toTensor(x.slice());
  }
}

/** A scalar objective f(x): values, gradients and Hessian products on flat vectors. */
export class ScalarObjective extends Evaluator {
  /**
   * x ↦ [f(x), ∇f(x)], built once per solve: the one line to change to run the
   * iterations compiled (`jit(valueAndGrad(...))`) once `jit` is available.
   */
  private readonly valueAndGradFn: (x: Tensor) => [Tensor, Tensor];
  private readonly scalar: (x: Tensor) => Tensor | number;

  constructor(op: string, fn: UserFunction<unknown>, shape: number[], dtype: DType, args: Tensor[]) {
    super(op, fn, shape, dtype, args);
    this.scalar = (w) => scalarOf(this.op, this.call(w));
    this.valueAndGradFn = valueAndGrad(this.scalar);
  }

  /** f(x). */
  value(x: Float64Array): number {
    this.evaluations++;
    return untraced(() => {
      const v = this.scalar(this.point(x));
      return typeof v === "number" ? v : concrete(v).item();
    });
  }

  /** [f(x), ∇f(x)] in one pass (reverse mode). */
  valueAndGradient(x: Float64Array): [number, Float64Array] {
    this.evaluations++;
    return untraced(() => {
      const [v, g] = this.valueAndGradFn(this.point(x));
      return [concrete(v).item(), flatCopy(g)];
    });
  }

  /**
   * The Hessian at x as a product v ↦ ∇²f(x) v (forward over reverse, linearised
   * once: each product replays only the linear part).
   */
  hessianAt(x: Float64Array): (v: Float64Array, out: Float64Array) => void {
    this.evaluations++;
    const gradient = grad(this.scalar);
    const lin = untraced(() => linearize((w: Tensor) => gradient(w), this.point(x))[1]);
    return (v, out) => untraced(() => lin.into(v, out));
  }
}

/** A vector function F(y) (root, fixed point, residuals): values and linearisations on flat vectors. */
export class VectorFunction extends Evaluator {
  /** Entries of F (null: not yet known; set by the first evaluation). */
  outSize: number | null;
  constructor(op: string, fn: UserFunction<unknown>, shape: number[], dtype: DType, args: Tensor[], private readonly what: string, outSize: number | null) {
    super(op, fn, shape, dtype, args);
    this.outSize = outSize;
  }

  private checked(out: unknown): Tensor {
    const t = vectorOf(this.op, out, this.outSize, this.what);
    this.outSize ??= t.size;
    return t;
  }

  /** F(y). */
  value(y: Float64Array): Float64Array {
    this.evaluations++;
    return untraced(() => flatCopy(this.checked(this.call(this.point(y)))));
  }

  /**
   * F(y) and its linearisation at y: J v and Jᵀ u as in-place products on flat
   * vectors (`rmatvec` built on first use).
   */
  linearizeAt(y: Float64Array): { value: Float64Array; matvec: (v: Float64Array, out: Float64Array) => void; rmatvec: (u: Float64Array, out: Float64Array) => void } {
    this.evaluations++;
    return untraced(() => {
      const [out, lin] = linearize((w: Tensor) => this.checked(this.call(w)), this.point(y));
      let transposed: ReturnType<typeof linearTranspose> | null = null;
      return {
        value: flatCopy(out),
        matvec: (v, o) => untraced(() => lin.into(v, o)),
        rmatvec: (u, o) => untraced(() => (transposed ??= linearTranspose(lin)).into(u, o)),
      };
    });
  }

  /** F(y) and the dense Jacobian (m×n, row-major) from n products (or m transposed ones when m < n). */
  jacobianAt(y: Float64Array): { value: Float64Array; J: Float64Array; m: number } {
    const { value, matvec, rmatvec } = this.linearizeAt(y);
    const m = value.length;
    const n = y.length;
    const J = new Float64Array(m * n);
    if (m < n) {
      const e = new Float64Array(m);
      const row = new Float64Array(n);
      for (let i = 0; i < m; i++) {
        e.fill(0);
        e[i] = 1;
        rmatvec(e, row);
        J.set(row, i * n);
      }
    } else {
      const e = new Float64Array(n);
      const col = new Float64Array(m);
      for (let j = 0; j < n; j++) {
        e.fill(0);
        e[j] = 1;
        matvec(e, col);
        for (let i = 0; i < m; i++) J[i * n + j] = col[i];
      }
    }
    return { value, J, m };
  }
}
