/**
 * What every Krylov solver shares: its options, its result (the stats object of
 * Krylov.jl: iterations, residual, a solved flag and a status string), and the
 * checks that turn `(A, b, opts)` into a validated problem on Float64Arrays.
 *
 * The stopping rule is the same for every solver: ‖b − A x‖ ≤ max(tol·‖b‖, atol),
 * on the unpreconditioned system. Solvers watch a cheap estimate of that norm
 * and confirm with a true residual before they report `converged`.
 */
import { allocate, contiguousData, fromData, Tensor, type DType } from "../tensor/tensor.js";
import { shapeToString } from "../tensor/shape.js";
import type { KrylovStatus } from "../errors.js";
import { operand } from "../primitives/operands.js";
import { is, readOptions, type OptionKind, type OptionValues } from "../primitives/options.js";
import { checkUntraced, guarded, norm2, residualInto, runUser, toLinearMap, type LinearMap, type OperatorLike, type SolveScope } from "./operator.js";

export type { KrylovStatus, SolveStatus } from "../errors.js";

/** What `callback` sees after each iteration. */
export interface IterationInfo {
  iteration: number;
  /** The solver's running estimate of ‖b − A x‖ (unpreconditioned). */
  residualNorm: number;
}

/** A vector argument (b, x0): a 1-D Tensor, an array of numbers or a Float64Array. */
export type VectorLike = Tensor | number[] | Float64Array;

/** A preconditioner: an operator applying M⁻¹ (a function v => M⁻¹ v, a LinearOperator or a dense matrix of M⁻¹). */
export type Preconditioner = OperatorLike;

export interface KrylovOptions {
  /** Initial guess (default zeros). */
  x0?: VectorLike;
  /** Relative tolerance on ‖b − A x‖ / ‖b‖ (default 1e-8). */
  tol?: number;
  /** Absolute tolerance on ‖b − A x‖ (default 0). */
  atol?: number;
  /** Iteration limit (default 10·n). */
  maxIter?: number;
  /** Preconditioner, applied as v => M⁻¹ v. */
  M?: Preconditioner;
  /** Record the running residual norm of every iteration in `residualHistory`. */
  history?: boolean;
  /** Called after every iteration; an Error it throws reaches the caller unchanged. */
  callback?: (info: IterationInfo) => void;
}

export interface GmresOptions extends KrylovOptions {
  /** Inner iterations per restart cycle (default min(n, 20)). */
  restart?: number;
}

/** lsqr takes no preconditioner. */
export type LsqrOptions = Omit<KrylovOptions, "M">;

export interface KrylovResult {
  x: Tensor;
  iterations: number;
  /** ‖b − A x‖ of the returned x, computed afresh (NaN when status is "nonFinite"). */
  residualNorm: number;
  converged: boolean;
  status: KrylovStatus;
  /** Running residual norms, entry k after iteration k (entry 0: the initial residual); with `history: true`. */
  residualHistory?: number[];
}

export interface LsqrResult extends KrylovResult {
  /** ‖Aᵀ(b − A x)‖ of the returned x. */
  normalResidualNorm: number;
}

/** What a solver needs besides `A` and `b`, so that option checks are shared. */
export interface SolverTraits {
  /** The method needs m = n. */
  square: boolean;
  /** The method needs Aᵀ products (lsqr). */
  transpose: boolean;
  preconditioner: boolean;
  restart: boolean;
}

/** A validated problem: products on Float64Arrays, options with their defaults. */
export interface KrylovProblem {
  readonly op: string;
  readonly A: LinearMap;
  readonly M: LinearMap | null;
  /** b, read-only (may be the caller's storage). */
  readonly b: Float64Array;
  readonly bNorm: number;
  /** Rows (length of b) and columns (length of x) of A. */
  readonly m: number;
  readonly n: number;
  /** The initial guess, a fresh array the solver may overwrite. */
  readonly x: Float64Array;
  readonly x0Given: boolean;
  readonly tol: number;
  /** max(tol·‖b‖, atol). */
  readonly threshold: number;
  readonly maxIter: number;
  readonly restart: number;
  readonly dtype: DType;
  readonly history: number[] | null;
  readonly callback: ((info: IterationInfo) => void) | null;
  /** The scope of the solve (lib/krylov/operator.ts): its resident matrices, its user code. */
  readonly scope: SolveScope;
}

/** Every solver's options; x0 and M are checked against A and b by prepare. */
const COMMON = { x0: is.given<VectorLike>("a 1-D vector"), tol: is.nonNegative, atol: is.nonNegative, maxIter: is.nonNegativeInteger, history: is.boolean, callback: is.function<(info: IterationInfo) => void>() } satisfies Record<keyof LsqrOptions, OptionKind<unknown>>;
const PRECONDITIONED = { ...COMMON, M: is.given<Preconditioner>("a preconditioner: a function v => M⁻¹v, a LinearOperator or a dense matrix of M⁻¹") } satisfies Record<keyof KrylovOptions, OptionKind<unknown>>;
const RESTARTED = { ...PRECONDITIONED, restart: is.positiveInteger } satisfies Record<keyof GmresOptions, OptionKind<unknown>>;

/** A 1-D vector argument (Tensor, number array or typed array) as a Tensor, errors prefixed `op: what`. */
function vectorArg(op: string, what: string, value: unknown): Tensor {
  if (value === undefined) throw new Error(`${op}: ${what} is missing`);
  const t = operand(op, value, undefined, what);
  if (t.ndim !== 1) throw new Error(`${op}: ${what} must be a 1-D vector, got shape ${shapeToString(t.shape)}`);
  checkUntraced(op, what, t);
  return t;
}

/**
 * Validates `(A, b, opts)` for solver `op`: shapes of A against b, the options
 * (declared above: unknown keys, types, ranges; never coerced),
 * the preconditioner's shape and x0's length. Throws Errors beginning with `op`.
 */
export function prepare(op: string, A: unknown, b: unknown, opts: unknown, traits: SolverTraits, scope: SolveScope): KrylovProblem {
  const o: OptionValues<typeof RESTARTED> = readOptions(op, opts, traits.restart ? RESTARTED : traits.preconditioner ? PRECONDITIONED : COMMON, {
    misplaced: (key) => (key === "M" ? `option M (a preconditioner) is not supported by ${op}` : key === "restart" ? `option restart belongs to gmres; ${op} does not restart` : undefined),
  });

  const bT = vectorArg(op, "b", b);
  const dtype = bT.dtype;
  const m = bT.shape[0];
  const map = toLinearMap(op, "A", A, m, dtype, scope);
  if (map.rows !== m) throw new Error(`${op}: A has shape ${shapeToString([map.rows, map.cols])} but b has shape ${shapeToString(bT.shape)}; A needs ${m} rows`);
  if (traits.square && map.cols !== map.rows) throw new Error(`${op}: A must be square, got shape ${shapeToString([map.rows, map.cols])}; use lsqr for rectangular systems`);
  if (traits.transpose && map.applyTranspose === null) {
    throw new Error(`${op}: A is ${map.kind} without a transpose product; ${op} needs Aᵀ v: pass a LinearOperator { shape, matvec, rmatvec } or a dense matrix`);
  }
  const n = map.cols;

  const tol = o.tol ?? 1e-8;
  const atol = o.atol ?? 0;
  const maxIter = o.maxIter ?? 10 * n;
  const restart = traits.restart ? (o.restart ?? Math.max(1, Math.min(n, 20))) : 0;

  let M: LinearMap | null = null;
  if (o.M !== undefined) {
    M = toLinearMap(op, "M", o.M, n, dtype, scope);
    if (M.rows !== n || M.cols !== n) throw new Error(`${op}: the preconditioner M has shape ${shapeToString([M.rows, M.cols])}; it must be ${n}×${n} to match A ${shapeToString([m, n])}`);
  }

  const x = new Float64Array(n);
  const x0Given = o.x0 !== undefined;
  if (x0Given) {
    const x0 = vectorArg(op, "x0", o.x0);
    if (x0.shape[0] !== n) throw new Error(`${op}: x0 has shape ${shapeToString(x0.shape)} but A ${shapeToString([m, n])} needs an x of shape [${n}]`);
    x.set(x0.toFloat64Array());
  }

  // Read-only from here on, so b's own storage is used when it is contiguous float64.
  const bData = contiguousData(bT, "float64") as Float64Array;
  const bNorm = norm2(bData);
  return {
    op, A: map, M, b: bData, bNorm, m, n, x, x0Given, tol,
    threshold: Math.max(tol * bNorm, atol),
    maxIter, restart, dtype,
    history: o.history === true ? [] : null,
    callback: o.callback ?? null,
    scope,
  };
}

/**
 * θ for deciding that A is singular on the Krylov space (gmres, minres): a
 * quantity bounded below by σ_min(A) for nonsingular A falls under θ·‖A‖. It
 * follows tol, so a loose solve does not chase noise, within [10⁶ε, √ε]: the
 * floor sits above the rounding noise of the recurrences on singular systems
 * (measured), and only matrices with cond(A) ≳ 1/θ can trip it.
 */
export function singularityTolerance(tol: number): number {
  return Math.max(Math.min(tol, Math.sqrt(Number.EPSILON)), 1e6 * Number.EPSILON);
}

/** Reports one iteration's residual estimate to the history and the callback (iteration 0, the start, only to the history). */
export function reportIteration(p: KrylovProblem, iteration: number, residualNorm: number): void {
  if (p.history !== null) p.history.push(residualNorm);
  const callback = p.callback;
  if (callback !== null && iteration > 0) runUser(p.scope, () => callback({ iteration, residualNorm }));
}

/** A method's iteration: from r = b − A x₀ (finite, ‖r‖ = rnorm above the threshold) to its result. */
export type Iteration<R> = (p: KrylovProblem, r: Float64Array, rnorm: number) => R;

/** How a method states its result for the x it returns (`finish`, or lsqr's, which adds ‖Aᵀr‖). */
export type Finish<R> = (p: KrylovProblem, x: Float64Array, iterations: number, status: KrylovStatus, residualNorm?: number) => R;

/**
 * The setup every solver shares, then its iteration. Validates `(A, b, opts)`
 * (`prepare`); settles what b alone settles: a NaN or ∞ in b stops at once,
 * b = 0 has the solution x = 0 (whatever x₀ was); computes iteration 0,
 * r = b − A x₀ (just b without a warm start), records it, and stops when it is
 * not finite or already meets the stopping rule. Otherwise `iterate` takes over
 * from r. Runs `guarded`, so that user errors pass through unchanged.
 */
export function solveKrylov<R>(op: string, traits: SolverTraits, A: unknown, b: unknown, opts: unknown, iterate: Iteration<R>, end: Finish<R>): R {
  return guarded(op, (scope) => {
    const p = prepare(op, A, b, opts, traits, scope);
    if (!Number.isFinite(p.bNorm)) return end(p, p.x, 0, "nonFinite");
    if (p.bNorm === 0) {
      p.x.fill(0);
      if (p.history !== null) p.history.push(0);
      return end(p, p.x, 0, "converged", 0);
    }
    const r = new Float64Array(p.m);
    let rnorm: number;
    if (p.x0Given) rnorm = residualInto(p.A, p.b, p.x, r);
    else {
      r.set(p.b);
      rnorm = p.bNorm;
    }
    if (!Number.isFinite(rnorm)) return end(p, p.x, 0, "nonFinite");
    reportIteration(p, 0, rnorm);
    if (rnorm <= p.threshold) return end(p, p.x, 0, "converged", rnorm);
    return iterate(p, r, rnorm);
  });
}

/**
 * The end of iteration k, for methods that carry the residual r of their x:
 * records the running estimate ‖r‖ and, when it meets the stopping rule,
 * confirms it on the true residual b − A x, which replaces r (the updated
 * residual drifts from b − A x in floating point: residual replacement).
 * Returns the finished result (converged, or a NaN or ∞), or else the norm of
 * r to carry on with: the estimate, or the true residual that did not confirm it.
 */
export function confirm(p: KrylovProblem, k: number, x: Float64Array, r: Float64Array, estimate: number): number | KrylovResult {
  if (!Number.isFinite(estimate)) return finish(p, x, k, "nonFinite");
  reportIteration(p, k, estimate);
  if (estimate > p.threshold) return estimate;
  const rnorm = residualInto(p.A, p.b, x, r);
  if (!Number.isFinite(rnorm)) return finish(p, x, k, "nonFinite");
  if (rnorm <= p.threshold) return finish(p, x, k, "converged", rnorm);
  return rnorm;
}

/**
 * Builds the result for the returned x. Unless the solver already confirmed it
 * (`residualNorm` given with "converged"), the true residual ‖b − A x‖ is
 * computed here, so that `residualNorm` always describes x and `converged`
 * holds exactly when the stopping rule does.
 */
export function finish(p: KrylovProblem, x: Float64Array, iterations: number, status: KrylovStatus, residualNorm?: number): KrylovResult {
  let rn = NaN;
  if (status !== "nonFinite") {
    rn = residualNorm ?? residualInto(p.A, p.b, x, new Float64Array(p.m));
    if (!Number.isFinite(rn)) {
      status = "nonFinite";
      rn = NaN;
    } else if (rn <= p.threshold) status = "converged";
    else if (status === "converged") status = "maxIter";
  }
  const result: KrylovResult = { x: toOutput(x, p.dtype), iterations, residualNorm: rn, converged: status === "converged", status };
  if (p.history !== null) result.residualHistory = p.history;
  return result;
}

/** The solution as a Tensor of b's dtype (the Float64Array is handed over, not copied, for float64). */
export function toOutput(x: Float64Array, dtype: DType): Tensor {
  if (dtype === "float64") return fromData(x, [x.length]);
  const out = allocate(dtype, x.length);
  out.set(x);
  return fromData(out, [x.length]);
}
