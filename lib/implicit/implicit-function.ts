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
import { Tensor } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { concrete, isTracing, untraced } from "../primitives/core.js";
import { operand, type Operand } from "../primitives/operands.js";
import type { UserFunction } from "../primitives/util.js";
import { customRoot, type RootSolver } from "../ad/root.js";
import { DenseJacobian, failedSolve, solveSystem, type SolveDiagnostics, type SolveSettings, type SolverName, type UserSolver } from "./linear-solve.js";

export type { SolveDiagnostics, SolverName, UserSolver } from "./linear-solve.js";

/** An input of `call`: a Tensor, or anything `tensor()` accepts (it reaches `forward` and the conditions as a Tensor). */
export type ImplicitInput = Operand;

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
   * in every traced value the conditions capture, in both modes and at any order
   * (by `customRoot`, lib/ad/root.ts).
   */
  call(...inputs: ImplicitInput[]): Tensor {
    const op = this.name;
    const args = inputs.map((x, i) => operand(op, x, undefined, `input ${i}`));
    const plainInputs = args.map(concrete);
    const [yStar, byproduct, hasByproduct] = untraced(() => this.runForward(plainInputs));

    const extra = hasByproduct && this.passByproduct ? [byproduct] : [];
    const conditionsAt = (...all: Tensor[]): Tensor => {
      const F = this.conditions(...all, ...extra);
      if (!(F instanceof Tensor) && typeof F !== "number") throw new Error(`${op}: conditions must return a Tensor or a number, got ${describe(F)}`);
      const t = operand(op, F);
      if (t.size !== yStar.size) {
        throw new Error(`${op}: conditions return ${t.size} value(s) (shape ${shapeToString(t.shape)}) but forward's y has ${yStar.size} (shape ${shapeToString(yStar.shape)}); the system must be square`);
      }
      return t;
    };
    if (!isTracing()) {
      // Nothing differentiates y: the conditions still run once, so that a y they
      // do not accept (or of another size) is an error at once.
      const F = untraced(() => conditionsAt(...plainInputs, yStar));
      if (this.strict) this.checkConditions(F);
      return yStar;
    }
    const dense = new DenseJacobian();
    const solve: RootSolver = (K, b, system) => {
      try {
        const [x, diag] = solveSystem(op, K, b, system, this.settings, dense);
        this.lastSolve = diag;
        return x;
      } catch (e) {
        const failed = failedSolve(e);
        if (failed) this.lastSolve = failed; // a failed solve's diagnostics, converged: false
        throw e;
      }
    };
    return customRoot(conditionsAt, args, yStar, solve, {
      symmetric: this.settings.symmetric,
      name: op,
      onResidual: (F) => {
        if (this.strict) this.checkConditions(F);
      },
    });
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
}
