/**
 * The settings of an ImplicitFunction: its options declared (one line each,
 * checked by readOptions), their defaults, and the settings of one call's
 * linear solves, resolved once the call's precision is known. Plain data and
 * plain functions: nothing here runs a product or a solve.
 */
import type { DType, Tensor } from "../tensor/tensor.js";
import type { Operand } from "../primitives/operands.js";
import { described, is, kind, readOptions, required, type OptionKind } from "../primitives/options.js";
import type { UserFunction } from "../primitives/util.js";
import type { KrylovResult, LinearOperator } from "../krylov/index.js";
import { KRYLOV_SOLVER_NAMES, type KrylovSolverName } from "../krylov/solvers.js";

/** `linearSolver`'s names: "auto", every Krylov solver of the table (lib/krylov/solvers.ts), "direct". */
export type SolverName = "auto" | KrylovSolverName | "direct";

/** Every SolverName, in the order messages list them. */
export const SOLVER_NAMES: readonly SolverName[] = ["auto", ...KRYLOV_SOLVER_NAMES, "direct"];

/** A user-supplied solver: solves `A x = b` for the operator given, returns x or a Krylov-style result. */
export type UserSolver = (A: LinearOperator, b: Tensor) => Tensor | KrylovResult;

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

/** The default relative tolerance of the linear solves: what each precision can reach on a reasonably conditioned system. */
export function defaultTol(precision: DType): number {
  return precision === "float32" ? 1e-5 : 1e-10;
}

/** The default residualTol: about ε^{1/3} of the precision (6e-6 and 5e-3), rounded. */
export function defaultResidualTol(precision: DType): number {
  return precision === "float32" ? 5e-3 : 1e-5;
}

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

/** An ImplicitFunction's options, read and checked, with the defaults that do not depend on a call. */
export interface ImplicitSettings {
  forward: (...inputs: Tensor[]) => ForwardOutput;
  conditions: (...args: unknown[]) => Tensor | number;
  name: string;
  strict: boolean;
  strictTol: number;
  passByproduct: boolean;
  /** residualTol as given (undefined: the default of the call's precision). */
  residualTol: number | undefined;
  /** tol as given (undefined: the default of the call's precision). */
  tol: number | undefined;
  /** The solve settings but tol and precision, which a call resolves (solveSettings). */
  solve: Omit<SolveSettings, "tol" | "precision">;
}

/** Reads and checks the options of `new ImplicitFunction(opts)`. */
export function readImplicitOptions(opts: ImplicitFunctionOptions): ImplicitSettings {
  const op = "ImplicitFunction";
  const o = readOptions(op, opts, OPTIONS, { required: true });
  const positiveDefinite = o.positiveDefinite ?? false;
  return {
    forward: o.forward as ImplicitSettings["forward"],
    conditions: o.conditions as ImplicitSettings["conditions"],
    name: o.name ?? op,
    strict: o.strict ?? false,
    strictTol: o.strictTol ?? 1e-6,
    passByproduct: o.passByproduct ?? true,
    residualTol: o.residualTol,
    tol: o.tol,
    solve: {
      solver: o.linearSolver ?? "auto",
      atol: o.atol ?? 0,
      maxIter: o.maxIter ?? 1000,
      preconditioner: o.preconditioner,
      symmetric: (o.symmetric ?? false) || positiveDefinite,
      positiveDefinite,
      directMaxSize: o.directMaxSize ?? DIRECT_MAX_SIZE,
    },
  };
}

/** The precision of a call's products: float32 when y or F is float32 (the linearisation then stores float32 values). */
export function precisionOf(y: Tensor, F: Tensor): DType {
  return y.dtype === "float32" || F.dtype === "float32" ? "float32" : "float64";
}

/** One call's solve settings: tol resolved for its precision. */
export function solveSettings(settings: ImplicitSettings, precision: DType): SolveSettings {
  return { ...settings.solve, tol: settings.tol ?? defaultTol(precision), precision };
}
