/**
 * ImplicitFunction: y(x) defined by a solver `forward` and optimality
 * conditions F(x, y) = 0, differentiated by the implicit function theorem
 * (Blondel et al. 2022, "Efficient and Modular Implicit Differentiation";
 * ImplicitDifferentiation.jl).
 *
 * A thin layer over the engine: `forward` runs with every transformation out of
 * sight (nothing is recorded, however many iterations it takes), and its output
 * becomes differentiable through `customRoot(conditions, inputs, y*, solve)`
 * (lib/ad/root.ts), which linearises the conditions once per call and hands the
 * linear systems of A = ∂F/∂y to `solve`: the method the options choose, with
 * diagnostics in `lastSolve` (lib/implicit/linear-solve.ts).
 */
import { Tensor, contiguousData, type DType } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { concrete, isTracing, untraced } from "../primitives/core.js";
import { operand, type Operand } from "../primitives/operands.js";
import { DtypeMismatchError, LinearSolveError, ResidualError } from "../errors.js";
import { described, is, isPlainObject, kind, readOptions, required, type OptionKind } from "../primitives/options.js";
import type { UserFunction } from "../primitives/util.js";
import { declaredParameters, parametersText, plural } from "../ad/arity.js";
import { customRoot, type LinearSystem, type RootSolver } from "../ad/root.js";
import { stagedCall, staging } from "../program/host.js";
import {
  CallSolves, ProbeScratch, SOLVER_NAMES, defaultTol, formatNumber, powerOfTenAbove, solveSystem, type SolveDiagnostics, type SolveSettings, type SolverName, type UserSolver,
} from "./linear-solve.js";

export type { SolveDiagnostics, SolveStatus, SolverName, UserSolver } from "./linear-solve.js";

/** An input of `call`: a Tensor, or anything `tensor()` accepts (it reaches `forward` and the conditions as a Tensor). */
export type ImplicitInput = Operand;

/**
 * What `forward` returns: y (a Tensor, a number, or tensor data such as nested
 * arrays, which are always read as y), or `{ y, byproduct }` to hand the
 * conditions something besides y.
 */
export type ForwardOutput = ImplicitInput | { y: ImplicitInput; byproduct?: unknown };

export interface ImplicitFunctionOptions {
  /**
   * The solver: any code, run on plain (untraced) values; its inputs arrive as
   * Tensors. Returns y, or `{ y, byproduct }` whose byproduct (an active set,
   * dual variables, …) is handed to the conditions and never differentiated.
   */
  forward: UserFunction<ForwardOutput>;
  /** F(...inputs, y[, byproduct]): zero at the solution; same size as y. Traced. */
  conditions: UserFunction<Tensor | number>;
  /** "auto" (default), a Krylov method, "direct", or a function (A, b) => x. */
  linearSolver?: SolverName | UserSolver;
  /** Relative tolerance of the linear solves (default by precision: 1e-10 for float64, 1e-5 for float32). */
  tol?: number;
  /** Iteration cap of the linear solves (default 1000). */
  maxIter?: number;
  /**
   * A preconditioner for ∂F/∂y (Krylov methods): v ↦ M⁻¹v, or "jacobi" for
   * M = diag(∂F/∂y), probed at each call's point (|diag| for cg and minres).
   */
  preconditioner?: ((v: Tensor) => Tensor) | "jacobi";
  /** Declares ∂F/∂y symmetric (e.g. stationarity conditions ∇_y f = 0); checked by a probe on every differentiated call. */
  symmetric?: boolean;
  /** Declares ∂F/∂y symmetric positive definite (then "auto" uses CG on large systems). */
  positiveDefinite?: boolean;
  /**
   * How far forward's y may be from a solution of the conditions before a
   * derivative is refused: ‖F(x, y)‖/g ≤ residualTol·max(1, ‖y‖), with g the
   * typical gain of ∂F/∂y (so ‖F‖/g estimates the Newton correction y still
   * needs). Default by precision: 1e-5 for float64, 5e-3 for float32, about
   * ε^{1/3}, the accuracy of central finite differences. Infinity turns it off.
   */
  residualTol?: number;
  /** Also check ‖F(x, y*)‖₂ ≤ strictTol (absolute) after every forward, differentiated or not (default false). */
  strict?: boolean;
  /** Tolerance of the strict check on ‖F‖₂ (default 1e-6). */
  strictTol?: number;
  /**
   * "auto" materialises ∂F/∂y and factorises it from the first solve up to this
   * many unknowns (default 16); above, it starts with a Krylov method and
   * switches to the dense LU once a call has spent n Krylov products.
   */
  directMaxSize?: number;
  /** A name for error messages (default "ImplicitFunction"). */
  name?: string;
  /** Pass forward's byproduct to the conditions as their last argument (default true; the stock conditions set false). */
  passByproduct?: boolean;
  /**
   * Absolute tolerance of the linear solves (default 0): a solve is accepted when
   * ‖b − K x‖ ≤ max(tol·‖b‖, atol). Set it when a right-hand side can be pure
   * rounding error, e.g. a derivative that is exactly zero on a singular system.
   */
  atol?: number;
}

/** The options, declared: the compiler keeps this list and ImplicitFunctionOptions in step; any other key is a misspelt option and an Error. */
const OPTIONS = {
  forward: required(is.function<ImplicitFunctionOptions["forward"]>()),
  conditions: required(is.function<ImplicitFunctionOptions["conditions"]>()),
  linearSolver: kind<SolverName | UserSolver>(`one of ${SOLVER_NAMES.map((s) => `"${s}"`).join(", ")} or a function (A, b) => x`, (v) => typeof v === "function" || (SOLVER_NAMES as readonly unknown[]).includes(v)),
  tol: is.positive,
  atol: is.nonNegative,
  maxIter: is.positiveInteger,
  preconditioner: kind<((v: Tensor) => Tensor) | "jacobi">('a function v => M⁻¹v or "jacobi"', (v) => typeof v === "function" || v === "jacobi"),
  symmetric: is.boolean,
  positiveDefinite: is.boolean,
  residualTol: described(is.positiveOrInfinity, "a positive number (Infinity turns the check off)"),
  strict: is.boolean,
  strictTol: is.positive,
  directMaxSize: is.positiveInteger,
  name: is.nonEmptyString,
  passByproduct: is.boolean,
} satisfies Record<keyof ImplicitFunctionOptions, OptionKind<unknown>>;

/**
 * The default directMaxSize, measured (bench/auto-solver.ts, four kinds of
 * conditions): for one right-hand side (a gradient) forming ∂F/∂y costs n
 * products while GMRES and CG converge in 8–20, so "direct" takes 0.9–1.05× the
 * Krylov time at 8 unknowns, 1.0–1.17× at 16, 1.3–1.7× at 24–32 and 2–7× at
 * 64–100. Many right-hand sides are served by autoSolverFor's switch to the LU.
 */
const DIRECT_MAX_SIZE = 16;

/** The default residualTol: about ε^{1/3} of the precision (6e-6 and 5e-3), rounded. */
function defaultResidualTol(precision: DType): number {
  return precision === "float32" ? 5e-3 : 1e-5;
}

/**
 * What forward returned, read by the one rule: `{ y, byproduct }` carries a
 * byproduct; anything else is y itself (a Tensor, a number or tensor data:
 * an array is never a tuple). Returns y as a plain Tensor and the byproduct.
 */
export function readForwardOutput(op: string, out: unknown): { y: Tensor; byproduct: unknown; hasByproduct: boolean } {
  if (isPlainObject(out)) {
    const keys = Object.keys(out);
    if (!keys.includes("y") || keys.some((k) => k !== "y" && k !== "byproduct")) {
      throw new Error(`${op}: forward returned an object with keys ${keys.length > 0 ? keys.join(", ") : "(none)"}; it must return y (a Tensor, a number or tensor data) or { y, byproduct }`);
    }
    return { y: concrete(operand(op, out.y, undefined, "forward's y")), byproduct: out.byproduct, hasByproduct: "byproduct" in out };
  }
  try {
    return { y: concrete(operand(op, out, undefined, "forward's return value")), byproduct: undefined, hasByproduct: false };
  } catch (e) {
    // Not tensor data: a pair [y, extra] (a byproduct or an iteration count, as
    // some solvers return), or Tensors in an array, are the likely intents.
    if (Array.isArray(out) && out.length === 2 && (out[0] instanceof Tensor || Array.isArray(out[0]) || typeof out[1] !== "number")) {
      throw new Error(`${op}: forward returned a pair (${describe(out[0])}, ${describe(out[1])}), which is not tensor data: an array forward returns is always y. To hand the conditions something besides y, return { y, byproduct } (here { y: ${out[0] instanceof Tensor ? "the Tensor" : "the first entry"}, byproduct: ${typeof out[1] === "number" ? out[1] : "the second"} }); to drop it, return y alone`, { cause: e });
    }
    if (Array.isArray(out) && out.some((v) => v instanceof Tensor)) {
      throw new Error(`${op}: forward returned an array of ${out.length} entries holding Tensors, which is not tensor data: y is one Tensor. Join the parts into one (stack or concat), or return { y, byproduct } to hand the conditions the rest`, { cause: e });
    }
    throw e;
  }
}

/** "F[0,1]" (or "F" for a scalar): the multi-index of flat entry k of a tensor of `shape`. */
function entryName(name: string, shape: readonly number[], k: number): string {
  if (shape.length === 0) return name;
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = k % shape[d];
    k = Math.floor(k / shape[d]);
  }
  return `${name}[${index.join(",")}]`;
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "∞";
  if (v === -Infinity) return "-∞";
  return String(Number(v.toPrecision(6)));
}

/** ‖t‖₂ over a tensor's values (read in place when contiguous float64); NaN or ∞ when an entry is. */
function normOf(t: Tensor): number {
  const v = contiguousData(t, "float64") as Float64Array;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

export class ImplicitFunction {
  /** The solver, as given (runs on plain values). */
  readonly forward: (...inputs: Tensor[]) => ForwardOutput;
  /** The optimality conditions, as given. */
  readonly conditions: (...args: unknown[]) => Tensor | number;
  readonly name: string;
  readonly strict: boolean;
  readonly strictTol: number;
  readonly passByproduct: boolean;
  /** ∂F/∂y declared symmetric (by `symmetric` or `positiveDefinite`). */
  readonly symmetric: boolean;
  /** ∂F/∂y declared symmetric positive definite. */
  readonly positiveDefinite: boolean;
  /** residualTol as given (undefined: the default of the call's precision). */
  private readonly residualTol: number | undefined;
  /** tol as given (undefined: the default of the call's precision). */
  private readonly tol: number | undefined;
  private readonly settings: Omit<SolveSettings, "tol" | "precision">;
  /** Work vectors of the probes of ∂F/∂y, reused from call to call. */
  private readonly scratch = new ProbeScratch();
  /** Diagnostics of the most recent linear solve, failed ones too (those a LinearSolveError carries): { solver, iterations, residualNorm, converged, status, system, tol }. */
  lastSolve: SolveDiagnostics | null = null;

  constructor(opts: ImplicitFunctionOptions) {
    const op = "ImplicitFunction";
    const o = readOptions(op, opts, OPTIONS, { required: true });
    this.forward = o.forward as ImplicitFunction["forward"];
    this.conditions = o.conditions as ImplicitFunction["conditions"];
    this.name = o.name ?? op;
    this.strict = o.strict ?? false;
    this.strictTol = o.strictTol ?? 1e-6;
    this.residualTol = o.residualTol;
    this.passByproduct = o.passByproduct ?? true;
    this.tol = o.tol;
    const positiveDefinite = o.positiveDefinite ?? false;
    this.positiveDefinite = positiveDefinite;
    this.symmetric = (o.symmetric ?? false) || positiveDefinite;
    this.settings = {
      solver: o.linearSolver ?? "auto",
      atol: o.atol ?? 0,
      maxIter: o.maxIter ?? 1000,
      preconditioner: o.preconditioner,
      symmetric: this.symmetric,
      positiveDefinite,
      directMaxSize: o.directMaxSize ?? DIRECT_MAX_SIZE,
    };
  }

  /**
   * y(inputs): runs `forward`, and returns y differentiable in every input and
   * in every traced value the conditions capture, in both modes and at any order
   * (by `customRoot`, lib/ad/root.ts).
   *
   * Checks, cheap because F(x, y*) is computed anyway: F must be finite
   * (always); when y is differentiated, y must be within residualTol of a
   * solution; with `strict`, ‖F‖ ≤ strictTol.
   */
  call(...inputs: ImplicitInput[]): Tensor {
    const op = this.name;
    const args = inputs.map((x, i) => operand(op, x, undefined, `input ${i}`));
    // Under jit the solve runs when the program runs, as a host step (its inputs are not known now).
    if (staging()) return stagedCall(op, (...xs) => this.call(...xs), args);
    const plainInputs = args.map(concrete);
    this.checkInputCount(args.length, null);
    const { y: yStar, byproduct, hasByproduct } = untraced(() => readForwardOutput(op, this.forward(...plainInputs)));
    this.checkInputCount(args.length, hasByproduct && this.passByproduct);

    const extra = hasByproduct && this.passByproduct ? [byproduct] : [];
    const conditionsAt = (...all: Tensor[]): Tensor => {
      let F: unknown;
      try {
        F = this.conditions(...all, ...extra);
      } catch (e) {
        throw this.dtypeCulprit(e, plainInputs, yStar) ?? e;
      }
      if (!(F instanceof Tensor) && typeof F !== "number") throw new Error(`${op}: conditions must return a Tensor or a number, got ${describe(F)}`);
      const t = operand(op, F);
      if (t.size !== yStar.size) {
        throw new Error(`${op}: conditions return ${t.size} value(s) (shape ${shapeToString(t.shape)}) but forward's y has ${yStar.size} (shape ${shapeToString(yStar.shape)}); the system must be square`);
      }
      return t;
    };
    if (!isTracing()) {
      // Nothing differentiates y: the conditions still run once, so that a y they
      // do not accept (of another size, where F is not finite) is an error at once.
      const F = untraced(() => conditionsAt(...plainInputs, yStar));
      const residualNorm = normOf(F);
      this.checkFinite(residualNorm, F, yStar, plainInputs);
      if (this.strict) this.checkStrict(residualNorm);
      return yStar;
    }
    let residual: { F: Tensor; norm: number } | null = null;
    let settings: SolveSettings | null = null;
    const state = new CallSolves(this.scratch);
    const solve: RootSolver = (K, b, system) => {
      if (settings === null) {
        // The first solve of the call: the precision is known (y's and F's dtypes), and
        // the residual check needs ∂F/∂y's gain, one product with the system.
        const precision: DType = yStar.dtype === "float32" || residual!.F.dtype === "float32" ? "float32" : "float64";
        settings = { ...this.settings, tol: this.tol ?? defaultTol(precision), precision };
        this.checkResidual(residual!.norm, yStar, K, precision, state);
      }
      try {
        const [x, diag] = solveSystem(op, K, b, system, settings, state);
        this.lastSolve = diag;
        return x;
      } catch (e) {
        if (e instanceof LinearSolveError) this.lastSolve = e.diagnostics; // a failed solve's, converged: false
        throw e;
      }
    };
    return customRoot(conditionsAt, args, yStar, solve, {
      symmetric: this.settings.symmetric,
      name: op,
      onResidual: (F) => {
        residual = { F, norm: normOf(F) };
        this.checkFinite(residual.norm, F, yStar, plainInputs);
        if (this.strict) this.checkStrict(residual.norm);
      },
    });
  }

  /**
   * The number of inputs against the parameters forward and the conditions
   * declare, where those are known for sure (lib/ad/arity.ts): forward takes
   * the inputs (it may leave trailing ones undeclared); the conditions take the
   * inputs, y and, when forward returned one and passByproduct is on, the
   * byproduct (which they may leave undeclared). Before forward runs
   * (`byproduct` null) only forward is checked, after it the conditions. An extra input would otherwise be read as y: a silent wrong
   * value, or a misleading ResidualError when differentiated.
   */
  private checkInputCount(count: number, byproduct: boolean | null): void {
    const got = `call got ${plural(count, "input")}`;
    const conditions = declaredParameters(this.conditions);
    if (byproduct === null) {
      // A forward may ignore trailing inputs (one that scales F but not its root); it may not lack one.
      const forward = declaredParameters(this.forward);
      if (forward === null || forward.count <= count || forward.mayTakeFewer) return;
      const also = conditions === null ? "" : ` (and the conditions declare ${parametersText(conditions)}: the inputs, then y)`;
      throw new Error(`${this.name}: ${got} but forward declares ${parametersText(forward)}${also}; call passes its inputs to forward and then to the conditions before y, so it takes ${plural(forward.count, "input")}`);
    }
    if (conditions === null || conditions.count === count + 1 || (byproduct && conditions.count === count + 2) || (conditions.mayTakeFewer && conditions.count > count + 1)) return;
    const layout = byproduct ? "the inputs, then y, then forward's byproduct (which they may leave out)" : "the inputs and then y";
    const expected = byproduct && conditions.count >= 2 ? `${plural(conditions.count - 2, "input")} (or ${conditions.count - 1} if they leave the byproduct out)` : plural(conditions.count - 1, "input");
    const byproductHint = !byproduct && conditions.count === count + 2 ? ", or forward must return { y, byproduct } to fill their last parameter" : "";
    throw new Error(`${this.name}: ${got} but the conditions declare ${parametersText(conditions)}: they take ${layout}, so call takes ${expected}${byproductHint}`);
  }

  /**
   * The conditions failed on mixed dtypes while forward's y has another dtype
   * than an input: forward is the culprit, and the Error says so.
   */
  private dtypeCulprit(e: unknown, inputs: Tensor[], y: Tensor): DtypeMismatchError | null {
    if (!(e instanceof DtypeMismatchError)) return null;
    const i = inputs.findIndex((x) => x.dtype !== y.dtype);
    if (i < 0) return null;
    const want = inputs[i].dtype;
    return new DtypeMismatchError(`${this.name}: forward returned a ${y.dtype} y but input ${i} is ${want}, and the conditions cannot mix them (${e.message}). Return y in the inputs' dtype from forward (tensor(values, { dtype: "${want}" }) or y.astype("${want}")), or pass ${y.dtype} inputs`, { cause: e });
  }

  /** F must be finite at forward's output, strict or not: a NaN or ∞ there means y does not satisfy the conditions. */
  private checkFinite(residualNorm: number, F: Tensor, y: Tensor, inputs: Tensor[]): void {
    if (Number.isFinite(residualNorm)) return; // a NaN or ∞ entry makes the norm one
    const values = contiguousData(F, "float64");
    const bad: number[] = [];
    let count = 0;
    for (let k = 0; k < values.length; k++) {
      if (Number.isFinite(values[k])) continue;
      count++;
      if (bad.length < 3) bad.push(k);
    }
    if (count === 0) return;
    const yValues = contiguousData(y, "float64");
    const shown = bad.map((k) => `${entryName("F", F.shape, k)} = ${valueText(values[k])} where ${entryName("y", y.shape, k)} = ${valueText(yValues[k])}`);
    let cause = "Check the conditions at forward's y (a log or sqrt outside its domain, a division by zero, an overflow) and that forward converged";
    for (let i = 0; i < inputs.length; i++) {
      const x = contiguousData(inputs[i], "float64");
      const k = x.findIndex((v) => !Number.isFinite(v));
      if (k >= 0) {
        cause = `Input ${i} is not finite itself (${inputs[i].ndim === 0 ? "it is" : `its entry ${entryName("", inputs[i].shape, k)} is`} ${valueText(x[k])}): there is no solution to differentiate`;
        break;
      }
    }
    throw new ResidualError(`${this.name}: forward's output does not satisfy the conditions: F(x, y) is not finite at ${count} of ${values.length} entries (${shown.join("; ")}${count > bad.length ? "; …" : ""}). ${cause}`, residualNorm);
  }

  /**
   * The default check, on every differentiated call: ‖F‖ divided by ∂F/∂y's
   * typical gain g estimates the Newton correction y still needs; a derivative
   * taken farther than residualTol·max(1, ‖y‖) from a solution is wrong by
   * about as much, so it is refused. Invariant to scaling F; absolute for
   * ‖y‖ < 1, so a y of 1e-13 instead of 0 passes. One product with ∂F/∂y.
   */
  private checkResidual(residualNorm: number, y: Tensor, K: LinearSystem, precision: DType, state: CallSolves): void {
    const tolerance = this.residualTol ?? defaultResidualTol(precision);
    if (tolerance === Infinity || residualNorm === 0) return;
    const scale = Math.max(1, normOf(y));
    const distance = residualNorm / state.gain(K) / scale;
    if (distance <= tolerance) return;
    const which = this.residualTol === undefined ? ` (the ${precision} default)` : "";
    throw new ResidualError(`${this.name}: forward's output does not satisfy the conditions closely enough for a derivative: ‖F(x, y)‖ = ${formatNumber(residualNorm)} puts y about ${formatNumber(distance)} from a solution (‖F‖/‖∂F/∂y‖, relative to max(1, ‖y‖)), above residualTol ${formatNumber(tolerance)}${which}; the derivative would be taken at the wrong point. Check that forward converged and that the conditions characterise its solution (verifyImplicit checks both). If forward is this inexact on purpose, loosen the check: residualTol: ${Number.isFinite(distance) ? powerOfTenAbove(distance) : "Infinity"} would accept it`, residualNorm);
  }

  private checkStrict(residual: number): void {
    if (!(residual <= this.strictTol)) {
      throw new ResidualError(`${this.name}: the conditions do not hold at forward's output: ‖F(x, y)‖ = ${residual} > strictTol ${formatNumber(this.strictTol)}. Check that forward converged and that the conditions characterise its solution`, residual);
    }
  }
}
