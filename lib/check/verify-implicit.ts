/**
 * verifyImplicit: property-based checks (fast-check) that an ImplicitFunction's
 * conditions really characterise its forward solver, so that its derivatives
 * can be trusted. A wrong condition (a sign error, a missing term) gives wrong
 * derivatives silently in other libraries; here it fails a named property with
 * a shrunk counterexample.
 *
 * Properties, for inputs x drawn from the user's arbitraries:
 *   (1) conditions hold:      ‖F(x, forward(x))‖ ≤ conditionsTol
 *   (2) pushforward matches:  jvp of f.call ≈ central differences of forward
 *   (3) pullback is adjoint:  ⟨ȳ, J ẋ⟩ = ⟨Jᵀȳ, ẋ⟩
 *   (4) linear solves converge (and ∂F/∂y is invertible where it should be).
 *   (5) ∂F/∂y has the properties the flags declare: symmetric, positive definite.
 */
import fc from "fast-check";
import { LinearSolveError, ResidualError } from "../errors.js";
import { Tensor, allocate, fromData, type DType } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { concrete, untraced } from "../primitives/core.js";
import { isOperand, operand } from "../primitives/operands.js";
import { described, is, kind, readOptions, type OptionKind } from "../primitives/options.js";
import { jvp } from "../ad/forward.js";
import { vjp } from "../ad/reverse.js";
import { ImplicitFunction, readForwardOutput, type ImplicitInput } from "../implicit/implicit-function.js";
import { directionalDerivative } from "./finite-diff.js";
import { seededRandom } from "./check-grad.js";

/**
 * What verifyImplicit accepts: any fast-check `Arbitrary<T>` (`fc.double()`,
 * `fc.tuple(…)`, …). fast-check is bundled into this package, not a dependency,
 * so the published declarations describe it structurally instead of importing it.
 */
export interface ArbitraryLike<T> {
  generate(random: never, biasFactor: number | undefined): { readonly value: T };
  canShrinkWithoutContext(value: unknown): value is T;
}

/**
 * What tensorArbitrary and scalarArbitrary return: a real fast-check Arbitrary,
 * declared structurally (see ArbitraryLike) yet assignable to fast-check's
 * `Arbitrary<T>`, so it works in `fc.property`, `fc.tuple`, `.map`, `.filter`.
 * Its internals (`generate`, `shrink`) are fast-check's own, typed `never` here.
 */
export interface FastCheckArbitrary<T> extends ArbitraryLike<T> {
  generate(random: never, biasFactor: number | undefined): never;
  shrink(value: T, context: unknown): never;
  filter<U extends T>(refinement: (value: T) => value is U): FastCheckArbitrary<U>;
  filter(predicate: (value: T) => boolean): FastCheckArbitrary<T>;
  map<U>(mapper: (value: T) => U, unmapper?: (possiblyU: unknown) => T): FastCheckArbitrary<U>;
  chain<U>(chainer: (value: T) => ArbitraryLike<U>): FastCheckArbitrary<U>;
}

export interface VerifyOptions {
  /** Number of random inputs (default 25). */
  numRuns?: number;
  /** Seed: the same seed reproduces the same runs (default 42). */
  seed?: number;
  /** Tolerance of property (1) on ‖F‖₂, relative to max(1, ‖y‖₂) (default 1e-6). */
  conditionsTol?: number;
  /** Relative tolerance of property (2), pushforward vs finite differences (default 1e-4). */
  fdTol?: number;
  /** Relative tolerance of property (3), the adjoint identity (default 1e-8). */
  adjointTol?: number;
  /** Finite-difference relative step (default ε^{1/3}). */
  step?: number;
  /** Use Richardson extrapolation in the finite differences (default true). */
  richardson?: boolean;
}

export interface VerifySummary {
  ok: true;
  runs: number;
  seed: number;
  /** The worst value seen of each measured discrepancy. */
  worst: { conditions: number; pushforward: number; adjoint: number };
}

const PROPERTY = {
  conditions: "(1) the conditions hold at forward's output",
  pushforward: "(2) the pushforward matches finite differences of forward",
  adjoint: "(3) the pullback is the adjoint of the pushforward",
  solve: "(4) ∂F/∂y is nonsingular and the linear solves converge",
  flags: "(5) ∂F/∂y is what its flags declare (symmetric, positiveDefinite)",
} as const;

/**
 * A failed property, carried out of the fast-check predicate: which property,
 * the discrepancy measured and its tolerance (absent for a failed solve), and
 * for a property that fails in several ways, which (`kind`): shrinking keeps
 * to one way, so a shrunk report explains the same fault as the first.
 */
class PropertyFailure extends Error {
  constructor(readonly property: string, readonly detail: string, readonly measured?: number, readonly tol?: number, readonly kind = "") {
    super(`${property}: ${detail}`);
  }
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function formatInput(x: unknown): string {
  if (x instanceof Tensor) return x.size <= 24 ? `tensor(${JSON.stringify(x.toArray())})` : `Tensor ${shapeToString(x.shape)}`;
  return String(x);
}

function toInputs(op: string, values: unknown[]): ImplicitInput[] {
  return values.map((v, i) => {
    if (v instanceof Tensor || typeof v === "number") return v;
    if (isOperand(v)) return operand(op, v, undefined, `arbitrary ${i}`);
    throw new Error(`${op}: arbitrary ${i} produced ${describe(v)}; each must produce a Tensor, a number or other tensor data (nested arrays of numbers, a Float64Array/Float32Array, an ndarray)`);
  });
}

/**
 * forward's y at `inputs` and the extra arguments its conditions receive (the
 * byproduct, unless passByproduct is false), on plain values: forward receives
 * Tensors and its output is read as ImplicitFunction.call reads it.
 */
function solveAt(f: ImplicitFunction, inputs: unknown[]): { y: Tensor; extra: unknown[] } {
  return untraced(() => {
    const tensors = inputs.map((x, i) => concrete(operand(f.name, x, undefined, `input ${i}`)));
    const { y, byproduct, hasByproduct } = readForwardOutput(f.name, f.forward(...tensors));
    return { y, extra: hasByproduct && f.passByproduct ? [byproduct] : [] };
  });
}

/** The conditions at (inputs, w), with forward's byproduct at inputs (traced in w when w is). */
function conditionsAt(f: ImplicitFunction, inputs: unknown[], w: Tensor, extra: unknown[]): Tensor {
  const tensors = inputs.map((x, i) => concrete(operand(f.name, x, undefined, `input ${i}`)));
  return operand("verifyImplicit", f.conditions(...tensors, w, ...extra));
}

function runOnce(f: ImplicitFunction, inputs: ImplicitInput[], opts: Required<Omit<VerifyOptions, "numRuns" | "seed">>, worst: VerifySummary["worst"], seed: number): void {
  const op = "verifyImplicit";
  // (1) conditions at forward's output, on plain values.
  const { y, extra } = solveAt(f, inputs);
  const F = untraced(() => concrete(conditionsAt(f, inputs, y, extra)));
  const yFlat = y.toFloat64Array();
  const residual = norm(F.toFloat64Array()) / Math.max(1, norm(yFlat));
  worst.conditions = Math.max(worst.conditions, residual);
  if (!(residual <= opts.conditionsTol)) {
    throw new PropertyFailure(PROPERTY.conditions, `‖F(x, y)‖/max(1, ‖y‖) = ${residual.toExponential(3)} > ${opts.conditionsTol.toExponential()}`, residual, opts.conditionsTol);
  }

  const rand = seededRandom(seed);
  checkNonsingular(f, inputs, y, extra, rand);
  checkFlags(f, inputs, y, extra, rand);
  const primals = inputs.map((x) => concrete(operand(op, x)));
  const directions = primals.map((p) => new Float64Array(p.size).map(() => 2 * rand() - 1));
  const tangents = directions.map((d, i) => typed(d, primals[i].shape, primals[i].dtype));
  const call = (...xs: Tensor[]): Tensor => f.call(...xs);

  // (2) pushforward against central differences of forward (plain code, never differentiated).
  let pushforward: Float64Array;
  try {
    pushforward = concrete(jvp(call, primals, tangents)[1]).toFloat64Array();
  } catch (e) {
    throw solveFailure(e);
  }
  const forwardY = (...xs: unknown[]): Tensor => solveAt(f, xs).y;
  const fd = directionalDerivative(op, forwardY, inputs, directions, { step: opts.step, richardson: opts.richardson });
  const scale = Math.max(norm(fd), norm(pushforward), 1e-12);
  let diff = 0;
  for (let i = 0; i < fd.length; i++) diff += (fd[i] - pushforward[i]) ** 2;
  const pushError = Math.sqrt(diff) / Math.max(scale, 1);
  worst.pushforward = Math.max(worst.pushforward, pushError);
  if (!(pushError <= opts.fdTol)) {
    throw new PropertyFailure(PROPERTY.pushforward, `‖J ẋ − FD‖/max(1, ‖J ẋ‖) = ${pushError.toExponential(3)} > ${opts.fdTol.toExponential()} (J ẋ = [${head(pushforward)}], FD = [${head(fd)}])`, pushError, opts.fdTol);
  }

  // (3) ⟨ȳ, J ẋ⟩ = ⟨Jᵀȳ, ẋ⟩.
  const cotangent = new Float64Array(yFlat.length).map(() => 2 * rand() - 1);
  let pulled: Tensor[];
  try {
    const [out, pullback] = vjp(call, ...primals);
    pulled = pullback(typed(cotangent, out.shape, out.dtype));
  } catch (e) {
    throw solveFailure(e);
  }
  let lhs = 0;
  for (let i = 0; i < cotangent.length; i++) lhs += cotangent[i] * pushforward[i];
  let rhs = 0;
  pulled.forEach((c, m) => {
    const v = concrete(c).toFloat64Array();
    for (let i = 0; i < v.length; i++) rhs += v[i] * directions[m][i];
  });
  const adjointError = Math.abs(lhs - rhs) / Math.max(1, Math.abs(lhs), Math.abs(rhs));
  worst.adjoint = Math.max(worst.adjoint, adjointError);
  if (!(adjointError <= opts.adjointTol)) {
    throw new PropertyFailure(PROPERTY.adjoint, `⟨ȳ, J ẋ⟩ = ${lhs} but ⟨Jᵀȳ, ẋ⟩ = ${rhs} (relative difference ${adjointError.toExponential(3)} > ${opts.adjointTol.toExponential()})`, adjointError, opts.adjointTol);
  }
}

/**
 * Property (4), first part: F must be locally linear in y with a nonsingular
 * A = ∂F/∂y, or the implicit function theorem does not apply. A one-sided step
 * F(y + δ) − F(y) = Aδ + O(δ²) must be dominated by Aδ; when A is (numerically)
 * singular along δ the O(δ²) remainder dominates instead.
 */
function checkNonsingular(f: ImplicitFunction, inputs: ImplicitInput[], y: Tensor, extra: unknown[], rand: () => number): void {
  const yv = y.toFloat64Array();
  const h = 1e-6 * Math.max(1, norm(yv));
  const direction = new Float64Array(yv.length).map(() => 2 * rand() - 1);
  const scale = norm(direction);
  const delta = typed(direction.map((v) => (v / scale) * h), y.shape, y.dtype);
  const evaluate = (w: Tensor): Float64Array => untraced(() => concrete(conditionsAt(f, inputs, w, extra)).toFloat64Array());
  const F0 = evaluate(y);
  const F1 = evaluate(typed(yv.map((v, i) => v + delta.data[i]), y.shape, y.dtype));
  const Adelta = untraced(() => concrete(jvp((w: Tensor) => conditionsAt(f, inputs, w, extra), [y], [delta])[1]).toFloat64Array());
  const change = norm(F1.map((v, i) => v - F0[i]));
  const remainder = norm(F1.map((v, i) => v - F0[i] - Adelta[i]));
  const linear = norm(Adelta);
  // Aδ = 0 for a random δ: A is singular (F may not depend on y at all).
  if (linear > 0 && remainder <= 0.5 * linear) return;
  if (linear <= 1e-3 * change || linear === 0) {
    throw new PropertyFailure(PROPERTY.solve, `∂F/∂y is singular at the solution: along a step δ of size ${h.toExponential(2)}, ‖Aδ‖ = ${linear.toExponential(3)} while F changes by ${change.toExponential(3)}, so the derivative is not defined by these conditions`, undefined, undefined, "singular");
  }
  throw new PropertyFailure(PROPERTY.solve, `∂F/∂y computed by differentiation disagrees with how the conditions change: along a step δ of size ${h.toExponential(2)}, ‖F(y + δ) − F(y)‖ = ${change.toExponential(3)} but ‖Aδ‖ = ${linear.toExponential(3)} (difference ${remainder.toExponential(3)}). Is part of the conditions hidden from differentiation (stopGradient, values computed outside the library)?`, undefined, undefined, "hidden");
}

/** Up to this many unknowns, property (5) forms ∂F/∂y (one JVP per column) and checks it entry by entry. */
const DENSE_FLAG_CHECK = 64;

/**
 * Property (5): when f declares ∂F/∂y symmetric (or positive definite), it must
 * be, at forward's output: a wrong flag makes the adjoint solve use A for Aᵀ, or
 * CG run on an indefinite matrix. Up to DENSE_FLAG_CHECK unknowns A is formed
 * and the counterexample is exact: the most asymmetric pair of entries, or a
 * direction v with vᵀAv ≤ 0 from an LDLᵀ factorisation of (A + Aᵀ)/2 without
 * pivoting (Golub & Van Loan, "Matrix Computations", §4.1: a symmetric matrix
 * is positive definite iff every pivot is positive). Above, random probes:
 * ⟨u, A v⟩ against ⟨A u, v⟩, and vᵀAv. Tolerance √ε of y's precision, as the
 * library's own symmetry check.
 */
function checkFlags(f: ImplicitFunction, inputs: ImplicitInput[], y: Tensor, extra: unknown[], rand: () => number): void {
  if (!f.symmetric) return;
  const flag = f.positiveDefinite ? "positiveDefinite: true" : "symmetric: true";
  const n = y.size;
  const apply = (v: Float64Array): Float64Array => untraced(() => concrete(jvp((w: Tensor) => conditionsAt(f, inputs, w, extra), [y], [typed(v, y.shape, y.dtype)])[1]).toFloat64Array());
  const tol = Math.sqrt(y.dtype === "float32" ? 2 ** -23 : Number.EPSILON);
  const dot = (a: Float64Array, b: Float64Array): number => a.reduce((t, v, i) => t + v * b[i], 0);
  const notSymmetric = (evidence: string, relative: number): PropertyFailure =>
    new PropertyFailure(PROPERTY.flags, `${flag} declares ∂F/∂y symmetric, but at forward's output it is not: ${evidence}, ${relative.toExponential(3)} > ${tol.toExponential(2)}. Remove the flag, or fix the conditions if ∂F/∂y should be symmetric (stationarity conditions ∇_y f = 0 have a symmetric Hessian)`, relative, tol, "symmetric");
  const notDefinite = (v: Float64Array, vAv: number): PropertyFailure =>
    new PropertyFailure(PROPERTY.flags, `positiveDefinite: true declares ∂F/∂y positive definite, but at forward's output the direction v = [${head(v)}] gives vᵀ(∂F/∂y)v = ${vAv.toExponential(3)} ≤ 0 (a saddle point or a maximum rather than a minimum?). Drop positiveDefinite and keep symmetric: true`, undefined, undefined, "positiveDefinite");
  if (n <= DENSE_FLAG_CHECK) {
    const A = new Float64Array(n * n);
    const e = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      e.fill(0);
      e[j] = 1;
      const column = apply(e);
      for (let i = 0; i < n; i++) A[i * n + j] = column[i];
    }
    let asymmetry = 0;
    let worst = [0, 0];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = Math.abs(A[i * n + j] - A[j * n + i]);
        asymmetry += 2 * d * d;
        if (d > Math.abs(A[worst[0] * n + worst[1]] - A[worst[1] * n + worst[0]])) worst = [i, j];
      }
    }
    const normA = norm(A);
    const relative = normA > 0 ? Math.sqrt(asymmetry) / normA : 0;
    if (relative > tol) {
      const [i, j] = worst;
      throw notSymmetric(`A[${i}][${j}] = ${A[i * n + j].toPrecision(6)} but A[${j}][${i}] = ${A[j * n + i].toPrecision(6)} for A = ∂F/∂y (formed by ${n} JVPs), and ‖A − Aᵀ‖/‖A‖ =`, relative);
    }
    if (!f.positiveDefinite) return;
    const v = indefiniteDirection(A, n, n * Number.EPSILON * normA);
    if (v !== null) throw notDefinite(v, dot(v, apply(v)));
    return;
  }
  const random = (): Float64Array => new Float64Array(n).map(() => 2 * rand() - 1);
  for (let probe = 0; probe < 3; probe++) {
    const u = random();
    const v = random();
    const Au = apply(u);
    const Av = apply(v);
    const uAv = dot(u, Av);
    const Auv = dot(Au, v);
    const scale = norm(u) * norm(Av) + norm(Au) * norm(v);
    const relative = scale > 0 ? Math.abs(uAv - Auv) / scale : 0;
    if (relative > tol) throw notSymmetric(`for A = ∂F/∂y and pseudo-random u, v, ⟨u, A v⟩ = ${uAv.toPrecision(6)} but ⟨A u, v⟩ = ${Auv.toPrecision(6)}, a relative difference of`, relative);
    if (f.positiveDefinite) {
      const vAv = dot(v, Av);
      if (!(vAv > 0)) throw notDefinite(v, vAv);
    }
  }
}

/**
 * A direction v with vᵀSv ≤ `floor` for S = (A + Aᵀ)/2, or null when every
 * pivot of S's LDLᵀ factorisation (no pivoting) exceeds it. With the first
 * failing pivot d_k of the leading (k+1)×(k+1) block, v = L⁻ᵀe_k (zero below
 * k) gives vᵀSv = d_k.
 */
function indefiniteDirection(A: Float64Array, n: number, floor: number): Float64Array | null {
  const L = new Float64Array(n * n);
  const d = new Float64Array(n);
  const S = (i: number, j: number): number => 0.5 * (A[i * n + j] + A[j * n + i]);
  for (let k = 0; k < n; k++) {
    let dk = S(k, k);
    for (let m = 0; m < k; m++) dk -= L[k * n + m] * L[k * n + m] * d[m];
    if (!(dk > floor)) {
      // Solve Lᵀ v = e_k on the leading block (L unit lower triangular).
      const v = new Float64Array(n);
      v[k] = 1;
      for (let i = k - 1; i >= 0; i--) {
        let t = 0;
        for (let m = i + 1; m <= k; m++) t += L[m * n + i] * v[m];
        v[i] = -t;
      }
      return v;
    }
    d[k] = dk;
    L[k * n + k] = 1;
    for (let i = k + 1; i < n; i++) {
      let t = S(i, k);
      for (let m = 0; m < k; m++) t -= L[i * n + m] * L[k * n + m] * d[m];
      L[i * n + k] = t / dk;
    }
  }
  return null;
}

function head(v: Float64Array): string {
  const shown = Array.from(v.slice(0, 6), (x) => x.toPrecision(6)).join(", ");
  return v.length > 6 ? `${shown}, …` : shown;
}

/** Values as a Tensor of `dtype` (tangents and cotangents must have their primal's or output's dtype). */
function typed(values: Float64Array, shape: number[], dtype: DType): Tensor {
  if (dtype === "float64") return fromData(values, shape.slice());
  const data = allocate(dtype, values.length);
  data.set(values);
  return fromData(data, shape.slice());
}

/**
 * The ImplicitFunction's own refusals become properties: y not close enough to
 * a solution (a ResidualError: with a conditionsTol looser than the call's
 * residualTol or strictTol), (1); a failed linear solve (a LinearSolveError), (4).
 * Anything else, user code's errors included, is rethrown unchanged.
 */
function solveFailure(e: unknown): unknown {
  if (e instanceof ResidualError) return new PropertyFailure(PROPERTY.conditions, e.message);
  if (e instanceof LinearSolveError) return new PropertyFailure(PROPERTY.solve, e.message);
  // The call's own refusal of a wrong symmetric/positiveDefinite flag (lib/implicit/linear-solve.ts),
  // where property (5)'s probes passed: the same property.
  if (e instanceof Error && e.constructor === Error && / declares ∂F\/∂y symmetric, but /.test(e.message)) return new PropertyFailure(PROPERTY.flags, e.message, undefined, undefined, "symmetric");
  return e;
}

/** verifyImplicit's options. */
const OPTIONS = {
  numRuns: kind<number>("a positive integer", (v) => Number.isSafeInteger(v) && (v as number) >= 1),
  seed: is.integer,
  conditionsTol: is.positive,
  fdTol: is.positive,
  adjointTol: is.positive,
  step: is.positive,
  richardson: is.boolean,
} satisfies Record<keyof VerifyOptions, OptionKind<unknown>>;

/**
 * Property-based verification of an ImplicitFunction over inputs drawn from
 * `arbitraries` (one fast-check Arbitrary per input of f.call, each producing a
 * Tensor or a number). Throws an Error naming the failed property, the shrunk
 * counterexample and the measured discrepancy; returns a summary otherwise.
 */
export function verifyImplicit(f: ImplicitFunction, arbitraries: readonly ArbitraryLike<unknown>[], opts: VerifyOptions = {}): VerifySummary {
  const op = "verifyImplicit";
  if (!(f instanceof ImplicitFunction)) throw new Error(`${op}: f must be an ImplicitFunction, got ${describe(f)}`);
  if (!Array.isArray(arbitraries) || arbitraries.length === 0) throw new Error(`${op}: arbitraries must be a non-empty array with one fast-check Arbitrary per input, got ${describe(arbitraries)}`);
  arbitraries.forEach((a, i) => {
    if (a === null || typeof a !== "object" || typeof (a as { generate?: unknown }).generate !== "function") throw new Error(`${op}: arbitraries[${i}] is ${describe(a)}, not a fast-check Arbitrary`);
  });
  const o = readOptions(op, opts, OPTIONS);
  const numRuns = o.numRuns ?? 25;
  const seed = o.seed ?? 42;
  const settings = {
    conditionsTol: o.conditionsTol ?? 1e-6,
    fdTol: o.fdTol ?? 1e-4,
    adjointTol: o.adjointTol ?? 1e-8,
    step: o.step ?? Math.cbrt(Number.EPSILON),
    richardson: o.richardson ?? true,
  };
  const worst = { conditions: 0, pushforward: 0, adjoint: 0 };
  // The failure fast-check finds first, as found. Shrinking then keeps only
  // candidates that fail the same way: an input where another property fails
  // (or user code throws) is not a smaller example of this failure.
  let first: { error: unknown; values: unknown[] } | null = null;
  const property = fc.property(fc.tuple(...(arbitraries as readonly fc.Arbitrary<unknown>[])), fc.integer({ min: 1, max: 2 ** 30 }), (values, directionSeed) => {
    try {
      runOnce(f, toInputs(op, values), settings, worst, directionSeed);
    } catch (e) {
      if (first === null) first = { error: e, values };
      else if (!sameFailure(first.error, e)) return true;
      throw e;
    }
    return true;
  });
  const details = fc.check(property, { numRuns, seed });
  if (details.failed) {
    const [values] = (details.counterexample ?? [[]]) as [unknown[], number];
    const err = details.errorInstance;
    // Whatever user code threw (forward, conditions, an arbitrary) reaches the caller unchanged.
    if (!(err instanceof PropertyFailure)) throw err;
    const found = first as { error: unknown; values: unknown[] } | null;
    const firstFailure = found !== null && found.error instanceof PropertyFailure ? found.error : err;
    const lines = [`${op}: property ${err.property} failed after ${details.numRuns} run(s) (seed ${seed}).`];
    lines.push(`  first counterexample: inputs = [${(found?.values ?? values).map(formatInput).join(", ")}]`, `    ${firstFailure.detail}`);
    if (details.numShrinks > 0) {
      lines.push(`  shrunk counterexample (${details.numShrinks} shrink(s), the same property failing): inputs = [${values.map(formatInput).join(", ")}]`, `    ${err.detail}`);
      if (err.measured !== undefined && err.tol !== undefined && err.measured < 10 * err.tol && firstFailure.measured !== undefined && firstFailure.measured >= 10 * err.tol) {
        lines.push("    (shrinking stops where the discrepancy meets the tolerance: the first counterexample shows its size)");
      }
    }
    throw new Error(lines.join("\n"));
  }
  return { ok: true, runs: details.numRuns, seed, worst };
}

/** Two failures of the same kind: the same property, or two errors of user code of the same class. */
function sameFailure(a: unknown, b: unknown): boolean {
  if (a instanceof PropertyFailure || b instanceof PropertyFailure) return a instanceof PropertyFailure && b instanceof PropertyFailure && a.property === b.property && a.kind === b.kind;
  return a instanceof Error && b instanceof Error && a.constructor === b.constructor;
}

/** tensorArbitrary's options. */
const BOUNDS = { min: described(is.finite, "a finite number, with min ≤ max"), max: described(is.finite, "a finite number, with min ≤ max") };

/** A fast-check arbitrary of Tensors of a fixed shape with entries in [min, max] (float64). */
export function tensorArbitrary(shape: number[], opts: { min?: number; max?: number } = {}): FastCheckArbitrary<Tensor> {
  const o = readOptions("tensorArbitrary", opts, BOUNDS);
  const min = o.min ?? -1;
  const max = o.max ?? 1;
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 0)) throw new Error(`tensorArbitrary: shape must be an array of non-negative integers, got ${describe(shape)}`);
  if (!(min <= max)) throw new Error(`tensorArbitrary: min and max must be finite numbers with min ≤ max, got ${describe(min)} and ${describe(max)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > 2 ** 20) throw new Error(`tensorArbitrary: shape ${shapeToString(shape)} has ${n} entries, too many to generate for property tests (at most ${2 ** 20})`);
  return fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
    .map((values) => fromData(Float64Array.from(values), shape.slice())) as unknown as FastCheckArbitrary<Tensor>;
}

/** A fast-check arbitrary of plain numbers in [min, max]. */
export function scalarArbitrary(min: number, max: number): FastCheckArbitrary<number> {
  if (typeof min !== "number" || typeof max !== "number" || !(min <= max) || !Number.isFinite(min) || !Number.isFinite(max)) throw new Error(`scalarArbitrary: min and max must be finite numbers with min ≤ max, got ${describe(min)} and ${describe(max)}`);
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }) as unknown as FastCheckArbitrary<number>;
}
