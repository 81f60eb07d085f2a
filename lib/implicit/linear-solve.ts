/**
 * The linear systems of implicit differentiation, matrix-free.
 *
 * With A = ∂F/∂y at the solution, the pushforward solves A ẏ = −Ḟ and the
 * pullback solves Aᵀ u = ȳ. `customRoot` (lib/ad/root.ts) hands each system over
 * as products of the conditions' linearisation; here they are solved by the
 * method the options name, with diagnostics and honest failures. A is never
 * formed unless "direct" is asked for (then n products, once per call).
 */
import { Tensor, contiguousData, fromData, type DType } from "../tensor/tensor.js";
import { luFactor, luSolveInPlace, type LUFactors } from "../tensor/kernels.js";
import { describe, shapeToString } from "../tensor/shape.js";
import type { LinearSystem } from "../ad/root.js";
import { lsqr, type LinearOperator, type KrylovOptions, type KrylovResult } from "../krylov/index.js";
import { jacobiPreconditioner, probeDiagonal, type ProbedDiagonal } from "../krylov/jacobi.js";
import { allFinite, norm2 } from "../krylov/operator.js";
import { ConvergenceError, LinearSolveError, type SolveDiagnostics, type SolveStatus } from "../errors.js";
import { KRYLOV_SOLVER_NAMES, SOLVERS, type KrylovSolverName } from "../krylov/solvers.js";

export type { SolveDiagnostics, SolveStatus } from "../errors.js";

/** `linearSolver`'s names: "auto", every Krylov solver of the table (lib/krylov/solvers.ts), "direct". */
export type SolverName = "auto" | KrylovSolverName | "direct";

/** Every SolverName, in the order messages list them. */
export const SOLVER_NAMES: readonly SolverName[] = ["auto", ...KRYLOV_SOLVER_NAMES, "direct"];

/** A user-supplied solver: solves `A x = b` for the operator given, returns x or a Krylov-style result. */
export type UserSolver = (A: LinearOperator, b: Tensor) => Tensor | KrylovResult;

/** The settings of one call's solves (`tol` already resolved for `precision`). */
export interface SolveSettings {
  solver: SolverName | UserSolver;
  tol: number;
  atol: number;
  maxIter: number;
  /** v ↦ M⁻¹v, or "jacobi": M = diag(∂F/∂y), probed once per call (see CallSolves.diagonal). */
  preconditioner?: ((v: Tensor) => Tensor) | "jacobi";
  symmetric: boolean;
  positiveDefinite: boolean;
  /** Systems with at most this many unknowns are solved densely under "auto". */
  directMaxSize: number;
  /**
   * The precision the products of ∂F/∂y are computed in: float32 when y or F
   * is float32 (the linearisation stores float32 values), which sets the
   * rounding level a solve can reach.
   */
  precision: DType;
}

/** The default relative tolerance of the linear solves: what each precision can reach on a reasonably conditioned system. */
export function defaultTol(precision: DType): number {
  return precision === "float32" ? 1e-5 : 1e-10;
}

/** Machine epsilon of a dtype. */
export function epsilonOf(precision: DType): number {
  return precision === "float32" ? 2 ** -23 : Number.EPSILON;
}

/** A number for messages: 1e-10 rather than 0.0000000001, 0.25 rather than 2.5e-1. */
export function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(4)));
  const shortest = x.toExponential();
  return shortest.length <= 6 ? shortest : x.toExponential(3);
}

/** The smallest power of ten ≥ x, as a literal ("1e-3", "1"). */
export function powerOfTenAbove(x: number): string {
  const k = Math.ceil(Math.log10(x) - 1e-12);
  return k === 0 ? "1" : `1e${k}`;
}

/** A flat, untraced float64 copy of a tensor's values. */
function plainFlat(t: Tensor): Tensor {
  return fromData(t.toFloat64Array(), [t.size]);
}

/** A dense ∂F/∂y with its LU factors and how far it is from symmetric. */
interface DenseFactors {
  A: Float64Array;
  lu: LUFactors | null;
  rank: "full" | "deficient";
  /** ‖A‖_F (NaN or ∞ when an entry is). */
  norm: number;
  /** The entry (i, j) where |A_ij − A_ji| is largest, and ‖A − Aᵀ‖_F/‖A‖_F. */
  asymmetry: { i: number; j: number; relative: number };
}

/**
 * The dense ∂F/∂y of one call (n in-place products with unit vectors) and its
 * LU factors: made on the first direct solve of the call, kept for every later
 * one (both systems, every right-hand side, every order).
 */
export class DenseJacobian {
  private dense: DenseFactors | null = null;

  /** Whether this call has formed (and factorised) ∂F/∂y already. */
  get formed(): boolean {
    return this.dense !== null;
  }

  /** The dense A, from the system's products (A is K for "tangent", Kᵀ for "adjoint"). */
  factor(K: LinearSystem, system: "tangent" | "adjoint"): DenseFactors {
    if (this.dense !== null) return this.dense;
    const n = K.shape[0];
    const product = system === "tangent" ? K.matvec : K.rmatvec;
    const A = new Float64Array(n * n);
    const e = new Float64Array(n);
    const col = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      e.fill(0);
      e[j] = 1;
      product.into(e, col);
      for (let i = 0; i < n; i++) A[i * n + j] = col[i];
    }
    const lu = luFactor(fromData(A, [n, n]));
    this.dense = { A, lu, rank: lu !== null && wellConditioned(lu) ? "full" : "deficient", norm: norm2(A), asymmetry: asymmetryOf(A, n) };
    return this.dense;
  }
}

function asymmetryOf(A: Float64Array, n: number): DenseFactors["asymmetry"] {
  let worst = { i: 0, j: 0, relative: 0 };
  let largest = -1;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const d = Math.abs(A[i * n + j] - A[j * n + i]);
      squares += 2 * d * d;
      if (d > largest) {
        largest = d;
        worst = { i, j, relative: 0 };
      }
    }
  }
  const norm = norm2(A);
  worst.relative = norm > 0 ? Math.sqrt(squares) / norm : 0;
  return worst;
}

/** Pivot growth check: the smallest |pivot| relative to the largest, against n·ε. */
function wellConditioned(f: LUFactors): boolean {
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < f.n; i++) {
    const p = Math.abs(f.lu[i * f.n + i]);
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
  }
  return hi > 0 && lo > hi * f.n * 1e3 * Number.EPSILON;
}

/**
 * The largest ∂F/∂y "auto" materialises after Krylov solves (n² doubles, 8 MB,
 * and its LU factors): between solves of a call, and within a solve that stalls.
 */
export const AUTO_DENSE_LIMIT = 1000;

/** What "auto" runs next, and why. */
export interface AutoChoice {
  method: Exclude<SolverName, "auto">;
  /** The Krylov method was chosen because the symmetry probe found ∂F/∂y symmetric (no flag declared it). */
  probedSymmetric: boolean;
}

/**
 * Which method "auto" uses for the next solve of a call with n unknowns
 * (measured in bench/auto-solver.ts, documented in the README): "direct" up
 * to directMaxSize unknowns, where forming ∂F/∂y (n products) costs no more
 * than a Krylov solve; above, a Krylov method (see autoKrylov) until the
 * Krylov solves of this call have spent n products, what forming ∂F/∂y costs;
 * then "direct" serves every further right-hand side of the call (a jacobian,
 * a Hessian) from one LU, up to AUTO_DENSE_LIMIT unknowns. Like renting skis
 * until the rent reaches the price of buying, this spends at most about twice
 * the products of the better of the two choices. An LU solve still costs about
 * two products (its residual check and the triangular solves), so the switch
 * waits while Krylov solves take fewer than three products each (a diagonal
 * ∂F/∂y and unit right-hand sides). A Krylov solve that stalls switches to
 * "direct" itself (see solveWith).
 */
export function autoSolverFor(n: number, s: SolveSettings, state?: CallSolves, K?: LinearSystem): AutoChoice {
  if (n <= s.directMaxSize) return { method: "direct", probedSymmetric: false };
  if (state !== undefined && n <= AUTO_DENSE_LIMIT && (state.dense.formed || (state.krylovProducts >= n && state.krylovProducts > 3 * state.krylovSolves))) {
    return { method: "direct", probedSymmetric: false };
  }
  return autoKrylov(s, state, K);
}

/**
 * The Krylov method "auto" takes: the one the flags declare (cg for
 * positiveDefinite, minres for symmetric); without flags, minres when the
 * symmetry probe (CallSolves.symmetryProbe: ⟨u, A v⟩ against ⟨A u, v⟩ for
 * pseudo-random u, v; one or two products, once per call) finds ∂F/∂y
 * symmetric, gmres otherwise. The probe only picks the method: the adjoint
 * system is still solved with Aᵀ's own products, and every solve is accepted
 * on its true residual, so a probe fooled by rounding costs iterations, never
 * a wrong derivative. MINRES rather than CG, because a symmetric ∂F/∂y need not
 * be positive definite (a saddle point, or u'' = a·eᵘ, whose ∂F/∂y is negative
 * definite): MINRES takes CG's number of products on a definite system.
 */
function autoKrylov(s: SolveSettings, state?: CallSolves, K?: LinearSystem): AutoChoice {
  if (s.symmetric || state === undefined || K === undefined) return { method: krylovFor(s.symmetric, s.positiveDefinite), probedSymmetric: false };
  const symmetric = state.symmetryProbe(K, s.precision).symmetric;
  return { method: krylovFor(symmetric, false), probedSymmetric: symmetric };
}

/**
 * The Krylov method of the table for a square ∂F/∂y with the declared flags:
 * among the methods that need only products with A, the most specialised one
 * whose assumptions the flags declare (cg for positiveDefinite, minres for
 * symmetric), the first general one of the table (gmres) otherwise.
 */
export function krylovFor(symmetric: boolean, positiveDefinite: boolean): KrylovSolverName {
  let best: KrylovSolverName | null = null;
  let bestScore = -1;
  for (const name of KRYLOV_SOLVER_NAMES) {
    const row = SOLVERS[name];
    if (!row.square || row.transpose || (row.symmetric && !symmetric) || (row.positiveDefinite && !positiveDefinite)) continue;
    const score = Number(row.symmetric) + Number(row.positiveDefinite);
    if (score > bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best!;
}

/**
 * The probe vectors: pseudo-random entries in [−1, 1) from a fixed seed (the
 * same probe on every run), regenerated rather than stored.
 */
function fillProbe(x: Float64Array, seed: number): void {
  let state = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    x[i] = state / 2 ** 31 - 1;
  }
}

/** Σᵢ vᵢ yᵢ with v the probe vector of `seed`, without storing v. */
function probeDot(seed: number, y: Float64Array): number {
  let state = seed >>> 0;
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    s += (state / 2 ** 31 - 1) * y[i];
  }
  return s;
}

/**
 * Work vectors for the probes, kept by an ImplicitFunction from one call to
 * the next: a fresh large Float64Array costs page faults on first touch, a
 * reused one does not. A call takes them for its probes and gives them back.
 */
export class ProbeScratch {
  private kept: [Float64Array, Float64Array] | null = null;

  take(n: number): [Float64Array, Float64Array] {
    const kept = this.kept;
    this.kept = null;
    if (kept !== null && kept[0].length === n) return kept;
    return [new Float64Array(n), new Float64Array(n)];
  }

  give(vectors: [Float64Array, Float64Array]): void {
    this.kept = vectors;
  }
}

/**
 * What the solves of one call share: the dense ∂F/∂y and its factors (when
 * "direct" runs), the probes of ∂F/∂y with pseudo-random vectors (its gain,
 * its symmetry), and whether a declared symmetry has been confirmed.
 */
export class CallSolves {
  readonly dense = new DenseJacobian();
  /** A declared symmetry was confirmed on this call (by a solve or the dense matrix). */
  symmetryConfirmed = false;
  /** Krylov solves of this call and the products they spent (for "auto"). */
  krylovSolves = 0;
  krylovProducts = 0;
  /** Two work vectors while a probe needs them; K v (v of seed 1) stays in the second until the symmetry is confirmed. */
  private work: [Float64Array, Float64Array] | null = null;
  /** ‖v‖, ‖K v‖ and ⟨u, K v⟩ for the probe vectors v (seed 1) and u (seed 2). */
  private first: { vNorm: number; KvNorm: number; uKv: number } | null = null;
  private symmetry: { uKv: number; Kuv: number; relative: number } | null = null;
  /** diag(∂F/∂y), probed for the Jacobi preconditioner on the first solve that needs it. */
  private probedDiagonal: ProbedDiagonal | null = null;

  constructor(private readonly scratch: ProbeScratch = new ProbeScratch()) {}

  /** Writes the probe vector of `seed` into the first work vector and K times it into the second. */
  private product(K: LinearSystem, seed: number): [Float64Array, Float64Array] {
    this.work ??= this.scratch.take(K.shape[0]);
    const [x, Kx] = this.work;
    fillProbe(x, seed);
    K.matvec.into(x, Kx);
    return this.work;
  }

  /** Hands the work vectors back (K v is no longer needed). */
  release(): void {
    if (this.work === null) return;
    this.scratch.give(this.work);
    this.work = null;
  }

  private probeV(K: LinearSystem): { vNorm: number; KvNorm: number; uKv: number } {
    if (this.first === null) {
      const [v, Kv] = this.product(K, 1);
      this.first = { vNorm: norm2(v), KvNorm: norm2(Kv), uKv: probeDot(2, Kv) };
    }
    return this.first;
  }

  /**
   * ‖K v‖/‖v‖ for the probe v: an estimate of ∂F/∂y's typical gain (its RMS
   * singular value ‖A‖_F/√n, the same for A and Aᵀ). One product per call.
   */
  gain(K: LinearSystem): number {
    const { vNorm, KvNorm } = this.probeV(K);
    return KvNorm / vNorm;
  }

  /**
   * diag(∂F/∂y) at this call's point, for `preconditioner: "jacobi"`: probed
   * once (lib/krylov/jacobi.ts: about 4w products for a band of half-width w,
   * at most about 3n) and shared by both systems, as A and Aᵀ have one diagonal.
   */
  diagonal(K: LinearSystem, precision: DType): ProbedDiagonal {
    this.probedDiagonal ??= probeDiagonal((x, out) => K.matvec.into(x, out), K.shape[0], epsilonOf(precision));
    return this.probedDiagonal;
  }

  /**
   * Symmetry checked for free after a solve K x ≈ b with true residual `res`:
   * when K = Kᵀ, ⟨K v, x⟩ = ⟨v, K x⟩ = ⟨v, b⟩ + O(‖v‖·res), with K v the gain
   * probe's product, still in a work vector. For a nonsymmetric K the two
   * differ by ⟨v, (Kᵀ − K) x⟩. Null when x = 0 (nothing to compare).
   */
  symmetryAfterSolve(K: LinearSystem, x: Float64Array, b: Float64Array, res: number, precision: DType): { KvX: number; vB: number; symmetric: boolean } | null {
    const { vNorm, KvNorm } = this.probeV(K);
    const xNorm = norm2(x);
    if (xNorm === 0 || this.work === null) return null;
    const Kv = this.work[1];
    let KvX = 0;
    for (let i = 0; i < x.length; i++) KvX += Kv[i] * x[i];
    const vB = probeDot(1, b);
    const allowed = vNorm * res + symmetryTolerance(precision) * (KvNorm * xNorm + vNorm * norm2(b));
    return { KvX, vB, symmetric: Math.abs(KvX - vB) <= allowed };
  }

  /**
   * The symmetry probe: ⟨u, K v⟩ against ⟨K u, v⟩ for pseudo-random u, v (one
   * product besides the gain's). For symmetric K they agree to rounding; for a
   * nonsymmetric one they differ by uᵀ(K − Kᵀ)v, which random vectors see.
   */
  symmetryProbe(K: LinearSystem, precision: DType): { uKv: number; Kuv: number; relative: number; symmetric: boolean } {
    if (this.symmetry === null) {
      const { vNorm, KvNorm, uKv } = this.probeV(K);
      const [u, Ku] = this.product(K, 2);
      const Kuv = probeDot(1, Ku);
      const scale = norm2(u) * KvNorm + norm2(Ku) * vNorm;
      this.symmetry = { uKv, Kuv, relative: scale > 0 ? Math.abs(uKv - Kuv) / scale : 0 };
    }
    return { ...this.symmetry, symmetric: this.symmetry.relative <= symmetryTolerance(precision) };
  }
}

/** How far from symmetric (relative) rounding can take the products of a symmetric ∂F/∂y: √ε. */
function symmetryTolerance(precision: DType): number {
  return Math.sqrt(epsilonOf(precision));
}

/** The flag that declared symmetry, as the user wrote it. */
function symmetryFlag(s: SolveSettings): string {
  return s.positiveDefinite ? "positiveDefinite: true (which implies symmetric: true)" : "symmetric: true";
}

/**
 * A declared symmetry, confirmed on the first solve of each call that has a
 * nonzero solution: with `symmetric` the adjoint system is solved with A's
 * products in place of Aᵀ's, so a nonsymmetric A would give a silently wrong
 * derivative. Costs no product (see CallSolves.symmetryAfterSolve); "direct"
 * checks its dense A entry by entry instead.
 */
function confirmSymmetry(op: string, K: LinearSystem, x: Tensor, b: Float64Array, res: number, system: "tangent" | "adjoint", s: SolveSettings, state: CallSolves): void {
  if (!s.symmetric || state.symmetryConfirmed) return;
  const check = state.symmetryAfterSolve(K, contiguousData(x, "float64") as Float64Array, b, res, s.precision);
  if (check === null) return;
  if (check.symmetric) {
    state.symmetryConfirmed = true;
    return;
  }
  throw new Error(`${op}: ${symmetryFlag(s)} declares ∂F/∂y symmetric, but ∂F/∂y is not symmetric at forward's output: with x the solution of the ${system} system A x = b and a pseudo-random v, ⟨A v, x⟩ = ${formatNumber(check.KvX)} but ⟨v, A x⟩ = ⟨v, b⟩ = ${formatNumber(check.vB)}. The adjoint system would be solved with A in place of Aᵀ and the derivative would be wrong. Remove the flag (then "auto" uses gmres on large systems), or fix the conditions if ∂F/∂y should be symmetric (stationarity conditions ∇_y f = 0 have a symmetric Hessian)`);
}

/** The Error for a right-hand side with a NaN or ∞: where such a vector comes from, per system. */
function nonFiniteRightHandSide(op: string, diag: SolveDiagnostics): LinearSolveError {
  return new LinearSolveError(diag.system === "tangent"
    ? `${op}: the tangent system's right-hand side ∂F/∂x·ẋ has a NaN or ∞: a tangent is not finite, or ∂F/∂x (the conditions' derivative in an input or a captured value) is not finite at forward's output, so no derivative can be computed`
    : `${op}: the adjoint system's right-hand side, the cotangent of forward's y, has a NaN or ∞ (the computation after the call produced it), so no derivative can be computed`, diag);
}

/**
 * Solves K x = b for the implicit layer (K = A for the tangent system, Aᵀ for
 * the adjoint one), throwing a LinearSolveError (a ConvergenceError when the
 * solve stopped above tol) naming the solver, the iterations and the residual,
 * and carrying the diagnostics, when it fails. Returns the solution and the diagnostics.
 */
export function solveSystem(op: string, K: LinearSystem, b: Tensor, system: "tangent" | "adjoint", s: SolveSettings, state: CallSolves): [Tensor, SolveDiagnostics] {
  let solved = false;
  try {
    const out = solveWith(op, K, b, system, s, state);
    solved = true;
    return out;
  } finally {
    // The probes' work vectors go back unless a declared symmetry still waits for a solve to confirm it.
    if (!solved || !s.symmetric || state.symmetryConfirmed) state.release();
  }
}

function solveWith(op: string, K: LinearSystem, b: Tensor, system: "tangent" | "adjoint", s: SolveSettings, state: CallSolves): [Tensor, SolveDiagnostics] {
  const bValues = contiguousData(b, "float64") as Float64Array; // read only
  const bNorm = norm2(bValues);
  const n = K.shape[0];
  const auto = s.solver === "auto";
  if (!Number.isFinite(bNorm) && !allFinite(bValues)) {
    const method = typeof s.solver === "function" ? "user" : auto ? autoSolverFor(n, s).method : s.solver;
    const label = s.solver === "auto" ? `auto(${method})` : method;
    throw nonFiniteRightHandSide(op, { solver: label, iterations: 0, residualNorm: NaN, converged: false, status: "nonFinite", system, tol: s.tol });
  }
  const choice: AutoChoice | null = auto ? autoSolverFor(n, s, state, K) : null;
  const method = typeof s.solver === "function" ? "user" : choice !== null ? choice.method : s.solver;
  if (typeof s.solver === "function") {
    const out = s.solver(K as LinearOperator, b);
    const x = out instanceof Tensor ? out : (out as KrylovResult)?.x;
    if (!(x instanceof Tensor) || x.size !== n) {
      throw new LinearSolveError(`${op}: the user linear solver must return a Tensor of ${n} entries or a result { x, ... }, got ${describe(out)}`, { solver: "user", iterations: 0, residualNorm: NaN, converged: false, status: "invalid", system, tol: s.tol });
    }
    const res = residual(K, x, b);
    const converged = res <= Math.max(s.tol * bNorm, s.atol) || res === 0;
    const diag: SolveDiagnostics = { solver: "user", iterations: out instanceof Tensor ? 0 : (out as KrylovResult).iterations, residualNorm: res, converged, status: converged ? "converged" : "notConverged", system, tol: s.tol };
    if (!diag.converged) throw notConverged(op, diag, roundingNote(K, x, res, bNorm, s, state) || flagNote("user", "user", diag.status, K, s, state));
    confirmSymmetry(op, K, x, bValues, res, system, s, state);
    return [plainFlat(x), diag];
  }
  if (method === "direct") return solveDirect(op, K, b, bNorm, system, s, auto, state);
  // "auto" gives a Krylov solve about n products (what forming ∂F/∂y costs) when it could factorise instead.
  const canSwitch = auto && n <= AUTO_DENSE_LIMIT;
  const result = runKrylov(op, method as KrylovSolverName, K, b, s, state, canSwitch ? Math.min(s.maxIter, n) : s.maxIter);
  state.krylovSolves += 1;
  state.krylovProducts += result.iterations + 1;
  const label = auto ? `auto(${method})` : method;
  const diag: SolveDiagnostics = { solver: method, iterations: result.iterations, residualNorm: result.residualNorm, converged: result.converged, status: result.status, system, tol: s.tol, residualHistory: result.residualHistory };
  if (!result.converged) {
    // A CG breakdown under a declared positiveDefinite says the flag is wrong: reported, not papered over.
    const flagRefuted = result.status === "breakdown" && s.positiveDefinite;
    if (canSwitch && result.status !== "nonFinite" && !flagRefuted) {
      // Stalled (PDE-like conditioning, a restarted GMRES on a symmetric indefinite A, …): the LU of ∂F/∂y solves it within this solve.
      const [x, direct] = solveDirect(op, K, b, bNorm, system, s, true, state);
      return [x, { ...direct, solver: `${method}→${direct.solver}`, iterations: result.iterations + direct.iterations }];
    }
    const note = roundingNote(K, result.x, result.residualNorm, bNorm, s, state) || flagNote(label, method, result.status, K, s, state, choice?.probedSymmetric ?? false);
    throw notConverged(op, diag, note);
  }
  // A method for rectangular systems (lsqr) also stops at a least-squares solution; on a
  // singular A whose system is inconsistent that x does not solve it, and the derivative is not defined.
  if (!SOLVERS[method as KrylovSolverName].square && !(result.residualNorm <= Math.max(s.tol * bNorm, 1e-9 * bNorm, s.atol))) {
    diag.converged = false;
    diag.status = "inconsistent";
    const note = roundingNote(K, result.x, result.residualNorm, bNorm, s, state);
    if (note) throw notConverged(op, diag, note);
    throw new LinearSolveError(`${op}: ∂F/∂y is singular and the ${system} system is inconsistent (lsqr's least-squares residual ${result.residualNorm.toExponential(3)} vs ‖b‖ ${bNorm.toExponential(3)}, tol ${formatNumber(s.tol)}): the derivative is not defined here`, diag);
  }
  confirmSymmetry(op, K, result.x, bValues, result.residualNorm, system, s, state);
  return [result.x, diag];
}

/** The user's preconditioner, checked: a Tensor of its input's shape, or an Error naming the implicit function. */
function checkedPreconditioner(op: string, M: (v: Tensor) => Tensor): (v: Tensor) => Tensor {
  return (v) => {
    const out: unknown = M(v);
    if (!(out instanceof Tensor) || out.ndim !== 1 || out.shape[0] !== v.shape[0]) {
      throw new Error(`${op}: the preconditioner must return a Tensor of shape ${shapeToString(v.shape)} (that of its input), got ${out instanceof Tensor ? `shape ${shapeToString(out.shape)}` : describe(out)}`);
    }
    return out;
  };
}

/**
 * Runs the Krylov solver `method` of the table for at most `maxIter`
 * iterations, with the preconditioner when the method takes one: the user's,
 * or Jacobi's from the call's probed diagonal (by |dᵢ| for the symmetric
 * methods, whose M must be positive definite).
 */
function runKrylov(op: string, method: KrylovSolverName, K: LinearSystem, b: Tensor, s: SolveSettings, state: CallSolves, maxIter: number): KrylovResult {
  const row = SOLVERS[method];
  let M: KrylovOptions["M"] | undefined;
  if (row.preconditioner && s.preconditioner !== undefined) {
    M = s.preconditioner === "jacobi" ? jacobiPreconditioner(state.diagonal(K, s.precision).diagonal, row.symmetric) : checkedPreconditioner(op, s.preconditioner);
  }
  const opts = { tol: s.tol, atol: s.atol, maxIter, history: true, ...(M !== undefined ? { M } : {}) };
  return (row.solve as (A: LinearOperator, b: Tensor, opts: KrylovOptions) => KrylovResult)(K as LinearOperator, b, opts);
}

/** ‖b − K x‖ computed independently of the solver. */
function residual(K: LinearSystem, x: Tensor, b: Tensor): number {
  const Kx = new Float64Array(K.shape[0]);
  K.matvec.into(x.toFloat64Array(), Kx);
  const bv = b.toFloat64Array();
  let s = 0;
  for (let i = 0; i < Kx.length; i++) s += (bv[i] - Kx[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * The residual that rounding alone leaves in ‖b − K x‖ when K's products are
 * computed in `precision`: each entry of K x carries an error of about
 * ε·Σⱼ|Kᵢⱼ xⱼ|, at most ε·‖K‖_F‖x‖ in norm, plus ε·‖b‖ for b.
 */
function productRounding(normK: number, xNorm: number, bNorm: number, precision: DType): number {
  return epsilonOf(precision) * (normK * xNorm + bNorm);
}

/**
 * The residual a backward-stable LU solve may leave: O(n·ε·‖K‖‖x‖) from the
 * factorisation in float64 (Higham, "Accuracy and Stability of Numerical
 * Algorithms", 2nd ed., §9.3) plus the rounding of the products it is checked with.
 */
function luRounding(n: number, normK: number, xNorm: number, bNorm: number, precision: DType): number {
  return 1e3 * n * Number.EPSILON * (normK * xNorm + bNorm) + 10 * productRounding(normK, xNorm, bNorm, precision);
}

/**
 * When a solve stopped above its tolerance because that tolerance lies below
 * the rounding level of the products, a sentence saying so and naming a tol
 * the precision allows; "" otherwise (one product, the call's probe).
 */
function roundingNote(K: LinearSystem, x: Tensor, res: number, bNorm: number, s: SolveSettings, state: CallSolves): string {
  const values = x.toFloat64Array();
  if (!allFinite(values) || !Number.isFinite(res) || !(bNorm > 0)) return "";
  const n = K.shape[0];
  const normK = state.gain(K) * Math.sqrt(n); // ≈ ‖K‖_F
  const level = productRounding(normK, norm2(values), bNorm, s.precision);
  // A tolerance below the rounding level, and a solve that stalled near it (Krylov
  // recurrences lose up to a hundred times that level before they stall).
  if (!(Math.max(s.tol * bNorm, s.atol) < 10 * level && res <= 100 * level)) return "";
  return ` The residual is at the level of ${s.precision} rounding in the products of ∂F/∂y (about ${formatNumber(level)} here): tol ${formatNumber(s.tol)} cannot be reached in ${s.precision}, and ∂F/∂y is not the problem. Use tol: ${powerOfTenAbove(Math.max(10 * res, level) / bNorm)} or larger (the ${s.precision} default is ${formatNumber(defaultTol(s.precision))})${s.precision === "float32" ? ", or float64 values" : ""}.`;
}

/**
 * What a failure says about `symmetric`/`positiveDefinite`, when they were
 * declared or the method assumes what they declare (cg, minres: the table's
 * flags): the symmetry probe (two products, on failure only, unless a solve of
 * this call already confirmed symmetry) and CG's breakdown (pᵀAp ≤ 0) for
 * positive definiteness.
 */
function flagNote(label: string, method: string, status: SolveStatus, K: LinearSystem, s: SolveSettings, state: CallSolves, probedSymmetric = false): string {
  const row = Object.hasOwn(SOLVERS, method) ? SOLVERS[method as KrylovSolverName] : null;
  // "auto" chose minres from its own probe: no flag to blame, the general advice applies.
  if (probedSymmetric || (!s.symmetric && !row?.symmetric)) return "";
  const auto = label.startsWith("auto");
  const why = auto
    ? `${method} was chosen because of ${row?.positiveDefinite ? "positiveDefinite" : "symmetric"}: true`
    : `linearSolver "${method}" needs ∂F/∂y ${row?.positiveDefinite ? "symmetric positive definite" : "symmetric"}`;
  if (!state.symmetryConfirmed) {
    const probe = state.symmetryProbe(K, s.precision);
    if (!probe.symmetric) {
      const evidence = `for pseudo-random u, v, ⟨u, A v⟩ = ${formatNumber(probe.uKv)} but ⟨A u, v⟩ = ${formatNumber(probe.Kuv)}`;
      if (s.symmetric) return ` ${symmetryFlag(s)} declares ∂F/∂y symmetric, but ∂F/∂y is not symmetric (${evidence}): remove the flag (then "auto" uses gmres on large systems).`;
      return ` ${why}, but ∂F/∂y is not symmetric (${evidence}): use linearSolver "gmres" (or "auto", which picks it).`;
    }
  }
  if (row?.positiveDefinite) {
    // Advice about a flag only when the user set it; an explicit "cg" gets the methods for other matrices.
    const instead = s.positiveDefinite ? `drop positiveDefinite and keep symmetric: true (then "auto" uses minres)` : `use linearSolver "minres" (symmetric ∂F/∂y) or "gmres"`;
    if (method === "cg" && status === "breakdown") {
      return ` ${why}, but CG met a direction p with pᵀAp ≤ 0: ∂F/∂y is not positive definite (a saddle point or a maximum rather than a minimum?). ${instead[0].toUpperCase()}${instead.slice(1)}.`;
    }
    if (status === "maxIter") return limitNote(s, ` (${why}; ∂F/∂y passed a symmetry probe. Only if it is not positive definite, ${instead}.)`);
    return ` ${why}; ∂F/∂y passed a symmetry probe, but if it is not positive definite, ${instead}.`;
  }
  if (row?.symmetric) return status === "maxIter" ? limitNote(s, ` (${why}; ∂F/∂y passed a symmetry probe, so the flag is not the problem.)`) : ` ${why}; ∂F/∂y passed a symmetry probe, so the flag is not the problem.`;
  return "";
}

/** A solve that stopped at its iteration limit: the limit, named with the ways past it (then `more`). */
function limitNote(s: SolveSettings, more: string): string {
  return ` It stopped at the iteration limit maxIter: ${s.maxIter}${s.maxIter === 1000 ? " (the default)" : ""}: raise maxIter, add a preconditioner, or use linearSolver "direct" (an LU of ∂F/∂y, for systems small enough to factorise).${more}`;
}

/**
 * Dense solve with the LU factors of the materialised ∂F/∂y. A singular matrix
 * falls back to LSQR's minimum-norm solution, accepted only when the system is
 * consistent (its residual meets tol): a derivative is never silently wrong.
 */
function solveDirect(op: string, K: LinearSystem, b: Tensor, bNorm: number, system: "tangent" | "adjoint", s: SolveSettings, auto: boolean, state: CallSolves): [Tensor, SolveDiagnostics] {
  const n = K.shape[0];
  const nonFinite: SolveDiagnostics = { solver: auto ? "auto(direct)" : "direct", iterations: 0, residualNorm: NaN, converged: false, status: "nonFinite", system, tol: s.tol };
  const { A, lu, rank, norm, asymmetry } = state.dense.factor(K, system);
  if (!Number.isFinite(norm) && !allFinite(A)) {
    throw new LinearSolveError(`${op}: ∂F/∂y has a NaN or ∞ entry at forward's output (check forward's y and the conditions there), so the ${system} system cannot be solved`, nonFinite);
  }
  if (s.symmetric && asymmetry.relative > symmetryTolerance(s.precision)) {
    const { i, j } = asymmetry;
    throw new Error(`${op}: ${symmetryFlag(s)} declares ∂F/∂y symmetric, but ∂F/∂y is not symmetric at forward's output: A[${i}][${j}] = ${formatNumber(A[i * n + j])} but A[${j}][${i}] = ${formatNumber(A[j * n + i])} (‖A − Aᵀ‖/‖A‖ = ${formatNumber(asymmetry.relative)}). Its higher derivatives would use A in place of Aᵀ and be wrong. Remove the flag, or fix the conditions if ∂F/∂y should be symmetric (stationarity conditions ∇_y f = 0 have a symmetric Hessian)`);
  }
  if (s.symmetric) state.symmetryConfirmed = true;
  if (rank === "full" && lu !== null) {
    const x = Float64Array.from(b.toFloat64Array());
    luSolveInPlace(lu, x, 1, system === "adjoint");
    const sol = fromData(x, [n]);
    const res = residual(K, sol, b);
    // LU with partial pivoting is backward stable: its residual is at the rounding level.
    const ok = res <= Math.max(s.tol * bNorm, s.atol, luRounding(n, norm, norm2(x), bNorm, s.precision)) && Number.isFinite(res);
    const diag: SolveDiagnostics = { solver: "direct", iterations: 0, residualNorm: res, converged: ok, status: ok ? "converged" : "notConverged", system, tol: s.tol };
    if (ok) return [sol, diag];
  }
  // Singular or ill-conditioned ∂F/∂y: the minimum-norm solution of a consistent system.
  const result = lsqr(K as LinearOperator, b, { tol: Math.min(s.tol, 1e-12), atol: 0, maxIter: Math.max(s.maxIter, 10 * n) });
  const res = residual(K, result.x, b);
  const level = luRounding(n, norm, norm2(result.x.toFloat64Array()), bNorm, s.precision);
  const ok = res <= Math.max(s.tol * bNorm, 1e-9 * bNorm, s.atol, level) && Number.isFinite(res);
  const diag: SolveDiagnostics = { solver: auto ? "auto(direct→lsqr)" : "direct→lsqr", iterations: result.iterations, residualNorm: res, converged: ok, status: ok ? "converged" : "singular", system, tol: s.tol };
  if (!ok) {
    throw new LinearSolveError(`${op}: ∂F/∂y is singular and the ${system} system is inconsistent (least-squares residual ${res.toExponential(3)} vs ‖b‖ ${bNorm.toExponential(3)}): the derivative is not defined here`, diag);
  }
  return [result.x, diag];
}

function notConverged(op: string, d: SolveDiagnostics, note = ""): ConvergenceError {
  const limit = d.status === "maxIter" ? ` It stopped at its iteration limit (maxIter, here ${d.iterations}).` : "";
  const advice = note !== "" ? note : `${limit} Try linearSolver "direct" or "lsqr", a preconditioner (preconditioner: "jacobi" when the diagonal of ∂F/∂y varies widely), a larger maxIter, or check that the conditions determine y.`;
  return new ConvergenceError(`${op}: the ${d.system} linear solve with ${d.solver} did not converge: ${d.iterations} iterations, residual ${d.residualNorm.toExponential(3)} (tol ${formatNumber(d.tol)}, status ${d.status}).${advice}`, d);
}
