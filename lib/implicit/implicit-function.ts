/**
 * ImplicitFunction: y(x) defined by a solver `forward` and optimality
 * conditions F(x, y) = 0, differentiated by the implicit function theorem
 * (Blondel et al. 2022, "Efficient and Modular Implicit Differentiation";
 * ImplicitDifferentiation.jl).
 *
 * How `call` works, in one mechanism for explicit inputs and captured values:
 *   1. y* = forward(x), run with every transformation out of sight (nothing is
 *      recorded, however many iterations it takes);
 *   2. F = conditions(x, y*) is evaluated on the surrounding trace, y* held constant;
 *   3. the result is y = y* + N(F), where the node N has value 0, pushforward
 *      Ḟ ↦ −A⁻¹Ḟ and pullback ȳ ↦ −A⁻ᵀȳ, with A = ∂F/∂y applied lazily.
 * The chain rule through F then yields dy = −A⁻¹ (∂F/∂x dx) for whatever F
 * depends on: explicit arguments and values the conditions close over alike.
 */
import { Tensor, type DType } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { bindCustom, concrete, dropDead, hiddenAbove, isTracing, liveTraces, untraced, type CustomRule } from "../primitives/core.js";
import { operand } from "../primitives/operands.js";
import { add, neg, sub } from "../primitives/elementwise.js";
import { jvp } from "../ad/forward.js";
import { vjp } from "../ad/reverse.js";
import { reshape } from "../primitives/shape.js";
import { zerosLike, type UserFunction } from "../primitives/util.js";
import { ConditionsJacobian, failedSolve, solveSystem, withDtype, type SolveDiagnostics, type SolveSettings, type SolverName, type UserSolver } from "./linear-solve.js";

export type { SolveDiagnostics, SolverName, UserSolver } from "./linear-solve.js";

/** An input of `call`: a Tensor or a plain number. */
export type ImplicitInput = Tensor | number;

export interface ImplicitFunctionOptions {
  /**
   * The solver: any code, run on plain (untraced) values. Returns y, or a pair
   * [y, byproduct] whose byproduct (an active set, dual variables, …) is handed
   * to the conditions and never differentiated.
   */
  forward: UserFunction<Tensor | number | [Tensor | number, unknown]>;
  /** F(...inputs, y[, byproduct]): zero at the solution; same size as y. Traced. */
  conditions: UserFunction<Tensor | number>;
  /** "auto" (default), a Krylov method, "direct", or a function (A, b) => x. */
  linearSolver?: SolverName | UserSolver;
  /** Relative tolerance of the linear solves (default 1e-10). */
  tol?: number;
  /** Iteration cap of the linear solves (default 1000). */
  maxIter?: number;
  /** v ↦ M⁻¹v, a preconditioner for ∂F/∂y (Krylov methods). */
  preconditioner?: (v: Tensor) => Tensor;
  /** Declares ∂F/∂y symmetric (e.g. stationarity conditions ∇_y f = 0). */
  symmetric?: boolean;
  /** Declares ∂F/∂y symmetric positive definite (then "auto" uses CG on large systems). */
  positiveDefinite?: boolean;
  /** Check ‖F(x, y*)‖ ≤ strictTol after every forward and throw otherwise (default false). */
  strict?: boolean;
  /** Tolerance of the strict check on ‖F‖₂ (default 1e-6). */
  strictTol?: number;
  /** "auto" materialises ∂F/∂y and factorises it up to this many unknowns (default 100). */
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

const SOLVERS: readonly string[] = ["auto", "cg", "gmres", "bicgstab", "minres", "lsqr", "direct"];

/** Every key of ImplicitFunctionOptions (keep in sync): any other key is a misspelt option and an Error. */
const OPTION_KEYS: readonly string[] = [
  "forward", "conditions", "linearSolver", "tol", "atol", "maxIter", "preconditioner", "symmetric", "positiveDefinite",
  "strict", "strictTol", "directMaxSize", "name", "passByproduct",
];

function positiveNumber(op: string, what: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new Error(`${op}: ${what} must be a positive finite number, got ${describe(v)}`);
  return v;
}

function positiveInteger(op: string, what: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new Error(`${op}: ${what} must be a positive integer, got ${describe(v)}`);
  return v;
}

function flag(op: string, what: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new Error(`${op}: ${what} must be a boolean, got ${describe(v)}`);
  return v;
}

function isLiveTracer(x: Tensor): boolean {
  return dropDead(x)._trace !== null;
}

export class ImplicitFunction {
  /** The solver, as given (runs on plain values). */
  readonly forward: (...inputs: unknown[]) => Tensor | number | [Tensor | number, unknown];
  /** The optimality conditions, as given. */
  readonly conditions: (...args: unknown[]) => Tensor | number;
  readonly name: string;
  readonly strict: boolean;
  readonly strictTol: number;
  readonly passByproduct: boolean;
  private readonly settings: SolveSettings;
  /** Diagnostics of the most recent linear solve: { solver, iterations, residualNorm, converged, status, system, tol }. */
  lastSolve: SolveDiagnostics | null = null;

  constructor(opts: ImplicitFunctionOptions) {
    const op = "ImplicitFunction";
    const proto = opts !== null && typeof opts === "object" ? Object.getPrototypeOf(opts) : undefined;
    if (proto !== Object.prototype && proto !== null) throw new Error(`${op}: expects an options object { forward, conditions, ... }, got ${describe(opts)}`);
    for (const key of Object.keys(opts)) {
      if (!OPTION_KEYS.includes(key)) throw new Error(`${op}: unknown option "${key}" (the options are ${OPTION_KEYS.join(", ")})`);
    }
    if (typeof opts.forward !== "function") throw new Error(`${op}: forward must be a function, got ${describe(opts.forward)}`);
    if (typeof opts.conditions !== "function") throw new Error(`${op}: conditions must be a function, got ${describe(opts.conditions)}`);
    const solver: unknown = opts.linearSolver === undefined ? "auto" : opts.linearSolver;
    if (typeof solver !== "function" && (typeof solver !== "string" || !SOLVERS.includes(solver))) {
      throw new Error(`${op}: linearSolver must be one of ${SOLVERS.map((s) => `"${s}"`).join(", ")} or a function (A, b) => x, got ${describe(solver)}`);
    }
    if (opts.name !== undefined && (typeof opts.name !== "string" || opts.name.trim() === "")) throw new Error(`${op}: name must be a non-empty string, got ${describe(opts.name)}`);
    if (opts.preconditioner !== undefined && typeof opts.preconditioner !== "function") throw new Error(`${op}: preconditioner must be a function v => M⁻¹v, got ${describe(opts.preconditioner)}`);
    this.forward = opts.forward as ImplicitFunction["forward"];
    this.conditions = opts.conditions as ImplicitFunction["conditions"];
    this.name = opts.name ?? op;
    this.strict = flag(op, "strict", opts.strict);
    this.strictTol = positiveNumber(op, "strictTol", opts.strictTol, 1e-6);
    this.passByproduct = opts.passByproduct === undefined ? true : flag(op, "passByproduct", opts.passByproduct);
    if (opts.atol !== undefined && (typeof opts.atol !== "number" || !(opts.atol >= 0) || !Number.isFinite(opts.atol))) throw new Error(`${op}: atol must be a non-negative finite number, got ${describe(opts.atol)}`);
    const positiveDefinite = flag(op, "positiveDefinite", opts.positiveDefinite);
    this.settings = {
      solver: solver as SolverName | UserSolver,
      tol: positiveNumber(op, "tol", opts.tol, 1e-10),
      atol: opts.atol ?? 0,
      maxIter: positiveInteger(op, "maxIter", opts.maxIter, 1000),
      preconditioner: opts.preconditioner,
      symmetric: flag(op, "symmetric", opts.symmetric) || positiveDefinite,
      positiveDefinite,
      directMaxSize: opts.directMaxSize === undefined ? 100 : positiveInteger(op, "directMaxSize", opts.directMaxSize, 100),
    };
  }

  /**
   * y(inputs): runs `forward`, and returns y differentiable in every input and
   * in every traced value the conditions capture, in both modes.
   */
  call(...inputs: ImplicitInput[]): Tensor {
    const op = this.name;
    inputs.forEach((x, i) => {
      if (!(x instanceof Tensor) && typeof x !== "number") throw new Error(`${op}: input ${i} must be a Tensor or a number, got ${describe(x)}`);
    });
    const plainInputs = inputs.map((x) => (x instanceof Tensor ? concrete(x) : x));
    const [yStar, byproduct, hasByproduct] = untraced(() => this.runForward(plainInputs));

    const extra = hasByproduct && this.passByproduct ? [byproduct] : [];
    const conditionsAt = (args: ImplicitInput[], y: Tensor): Tensor => {
      const F = this.conditions(...args, y, ...extra);
      if (!(F instanceof Tensor) && typeof F !== "number") throw new Error(`${op}: conditions must return a Tensor or a number, got ${describe(F)}`);
      const t = operand(op, F);
      if (t.size !== yStar.size) {
        throw new Error(`${op}: conditions return ${t.size} value(s) (shape ${shapeToString(t.shape)}) but forward's y has ${yStar.size} (shape ${shapeToString(yStar.shape)}); the system must be square`);
      }
      return t;
    };
    // The conditions run once even when nothing is differentiated, so that a y
    // they do not accept (or of another size) is an error at once. Under a
    // transformation the traced evaluations below do that check themselves.
    if (this.strict || !isTracing()) {
      const plainF = untraced(() => conditionsAt(plainInputs, yStar));
      if (this.strict) this.checkConditions(plainF);
      if (!isTracing()) return yStar;
    }
    return this.differentiable(conditionsAt, inputs, yStar, plainInputs);
  }

  private runForward(plainInputs: ImplicitInput[]): [Tensor, unknown, boolean] {
    const op = this.name;
    const out = this.forward(...plainInputs);
    let y: unknown = out;
    let byproduct: unknown;
    let hasByproduct = false;
    if (Array.isArray(out)) {
      if (out.length !== 2 || !(out[0] instanceof Tensor || typeof out[0] === "number")) {
        throw new Error(`${op}: forward returned ${describe(out)}; it must return y (a Tensor or number) or a pair [y, byproduct]. Wrap array data with tensor()`);
      }
      [y, byproduct] = out;
      hasByproduct = true;
    }
    if (!(y instanceof Tensor) && typeof y !== "number") throw new Error(`${op}: forward must return a Tensor or a number (or [y, byproduct]), got ${describe(y)}`);
    return [concrete(operand(op, y)), byproduct, hasByproduct];
  }

  private checkConditions(F: Tensor): void {
    const values = F.toFloat64Array();
    let s = 0;
    for (let i = 0; i < values.length; i++) s += values[i] * values[i];
    const residual = Math.sqrt(s);
    if (!(residual <= this.strictTol)) {
      throw new Error(`${this.name}: the conditions do not hold at forward's output: ‖F(x, y)‖ = ${residual} > strictTol ${this.strictTol}. Check that forward converged and that the conditions characterise its solution`);
    }
  }

  /**
   * y as a differentiable function: y = y* + N(F), with N of value 0,
   * pushforward Ḟ ↦ −A⁻¹Ḟ and pullback ȳ ↦ −A⁻ᵀȳ, A = ∂F/∂y applied lazily.
   *
   * Nested transformations: y is built from the innermost level out. For each
   * live transformation T, from the outermost up, F_T = conditions(x, y_{<T}) is
   * evaluated with the transformations above T out of sight and y_{<T} (y as the
   * levels below T see it) held constant at T; then y_T = y_{<T} + N_T(F_T). The
   * rules of N_T solve their linear systems at y_{<T}, and those solves are
   * differentiable by the same construction (the solution of K x = b is an
   * implicit function with residual K x − b). So grad(grad(·)), jvp(grad(·)) and
   * hessian work through the implicit function, with the same solver at every order.
   * A = ∂F/∂y at (x, y*) is the same matrix at every level: "direct" materialises
   * and factorises it once per call.
   */
  private differentiable(conditions: (args: ImplicitInput[], y: Tensor) => Tensor, inputs: ImplicitInput[], yStar: Tensor, plainInputs: ImplicitInput[]): Tensor {
    const op = this.name;
    let fShape: number[] = yStar.shape;
    let fDtype: DType = yStar.dtype;
    const conditionsAt = (args: ImplicitInput[], y: Tensor): Tensor => {
      const F = conditions(args, y);
      fShape = F.shape;
      fDtype = F.dtype;
      return F;
    };
    let J: ConditionsJacobian | null = null;
    const plainJacobian = (): ConditionsJacobian => (J ??= new ConditionsJacobian((y) => conditionsAt(plainInputs, y), yStar, fShape, fDtype));

    /** K⁻¹ rhs on plain values, K = A (transpose false) or Aᵀ, shaped (and typed) as the unknown. */
    const plainSolve = (rhs: Tensor, transpose: boolean): Tensor => {
      let solved: [Tensor, SolveDiagnostics];
      try {
        solved = untraced(() => solveSystem(op, plainJacobian(), rhs, transpose, this.settings));
      } catch (e) {
        const failed = failedSolve(e);
        if (failed) this.lastSolve = failed; // a failed solve's diagnostics, converged: false
        throw e;
      }
      const [x, diag] = solved;
      this.lastSolve = diag;
      return withDtype(reshape(x, transpose ? fShape : yStar.shape), transpose ? fDtype : yStar.dtype);
    };

    /** K x with K = ∂F/∂y (or its transpose) at the traced point (inputs, y). */
    const applyAt = (x: Tensor, y: Tensor, transpose: boolean): Tensor => {
      const condOfY = (w: Tensor): Tensor => conditionsAt(inputs, w);
      if (!transpose) return jvp(condOfY, [y], [x])[1];
      return vjp(condOfY, y)[1](x)[0];
    };

    /** x = K(y)⁻¹ b, differentiable in b, in the inputs and in y: the residual is K(y) x − b. */
    const solveAt = (b: Tensor, y: Tensor, transpose: boolean): Tensor =>
      lift(plainSolve(b, transpose), (x) => sub(applyAt(x, y, transpose), b), () => y, transpose);

    /**
     * z = z* + Σ_T N_T(residual_T) over the live transformations T, innermost
     * level first. ∂residual/∂z is K = A (or Aᵀ when `transpose`) at `point(z_{<T})`.
     */
    const lift = (zStar: Tensor, residual: (z: Tensor) => Tensor, point: (zBelow: Tensor) => Tensor, transpose: boolean): Tensor => {
      let z = zStar;
      for (const trace of liveTraces()) {
        const R = hiddenAbove(trace, () => residual(z));
        if (dropDead(R)._trace !== trace) continue;
        const at = point(z);
        const zero = zerosLike(zStar);
        const node: CustomRule = {
          name: op,
          closures: true,
          call: () => zero,
          jvp: (_, [dR]) => [zero, neg(solveAt(dR, at, transpose))],
          vjp: () => [zero, (ct) => [neg(solveAt(ct, at, !transpose))]],
        };
        z = add(z, bindCustom(node, [R]));
      }
      return z;
    };

    return lift(yStar, (y) => conditionsAt(inputs, y), (yBelow) => yBelow, false);
  }
}
