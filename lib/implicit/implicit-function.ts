/**
 * ImplicitFunction: y(x) defined by a solver `forward` and optimality
 * conditions F(x, y) = 0, differentiated by the implicit function theorem
 * (Blondel et al. 2022, "Efficient and Modular Implicit Differentiation";
 * ImplicitDifferentiation.jl).
 *
 * A thin layer over the engine, in three places: the settings (settings.ts,
 * read once by the constructor, resolved per call for its precision), the
 * checks (checks.ts, plain functions of what the call computed), and one call
 * of the root construction (lib/program/root.ts): `forward` runs with every
 * transformation out of sight, the conditions are linearised once at its output
 * (`linearizeRoot`), and y* becomes differentiable by `differentiate`, whose
 * linear systems of A = ∂F/∂y go to the method the settings choose, with
 * diagnostics in `lastSolve` (lib/implicit/linear-solve.ts).
 */
import { Tensor } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { concrete, isTracing, untraced } from "../primitives/core.js";
import { operand } from "../primitives/operands.js";
import { LinearSolveError } from "../errors.js";
import { linearizeRoot, type RootSolver } from "../program/root.js";
import { stagedCall, staging } from "../program/host.js";
import { CallSolves, solveSystem, type SolveDiagnostics, type SolveSettings } from "./linear-solve.js";
import { ProbeScratch } from "./probes.js";
import { precisionOf, readImplicitOptions, solveSettings, type ForwardOutput, type ImplicitFunctionOptions, type ImplicitInput, type ImplicitSettings } from "./settings.js";
import { checkConditionsHold, checkInputCount, checkResidual, dtypeCulprit, readForwardOutput } from "./checks.js";

export type { SolveDiagnostics, SolveStatus, SolverName, UserSolver } from "./linear-solve.js";
export type { ForwardOutput, ImplicitFunctionOptions, ImplicitInput } from "./settings.js";
export { readForwardOutput } from "./checks.js";

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
  /** The options, read and checked once (settings.ts). */
  private readonly settings: ImplicitSettings;
  /** Work vectors of the probes of ∂F/∂y, reused from call to call. */
  private readonly scratch = new ProbeScratch();
  /** Diagnostics of the most recent linear solve, failed ones too (those a LinearSolveError carries): { solver, iterations, residualNorm, converged, status, system, tol }. */
  lastSolve: SolveDiagnostics | null = null;

  constructor(opts: ImplicitFunctionOptions) {
    const s = readImplicitOptions(opts);
    this.settings = s;
    this.forward = s.forward;
    this.conditions = s.conditions;
    this.name = s.name;
    this.strict = s.strict;
    this.strictTol = s.strictTol;
    this.passByproduct = s.passByproduct;
    this.symmetric = s.solve.symmetric;
    this.positiveDefinite = s.solve.positiveDefinite;
  }

  /**
   * y(inputs): runs `forward`, and returns y differentiable in every input and
   * in every traced value the conditions capture, in both modes and at any order
   * (by the root construction, lib/program/root.ts).
   *
   * Checks, cheap because F(x, y*) is computed anyway: F must be finite
   * (always); when y is differentiated, y must be within residualTol of a
   * solution; with `strict`, ‖F‖ ≤ strictTol.
   */
  call(...inputs: ImplicitInput[]): Tensor {
    const s = this.settings;
    const op = s.name;
    const args = inputs.map((x, i) => operand(op, x, undefined, `input ${i}`));
    // Under jit the solve runs when the program runs, as a host step (its inputs are not known now).
    if (staging()) return stagedCall(op, (...xs) => this.call(...xs), args);
    const plainInputs = args.map(concrete);
    checkInputCount(s, args.length, null);
    const { y: yStar, byproduct, hasByproduct } = untraced(() => readForwardOutput(op, s.forward(...plainInputs)));
    checkInputCount(s, args.length, hasByproduct && s.passByproduct);
    const conditions = this.conditionsAt(yStar, plainInputs, hasByproduct && s.passByproduct ? [byproduct] : []);

    if (!isTracing()) {
      // Nothing differentiates y: the conditions still run once, so that a y they
      // do not accept (of another size, where F is not finite) is an error at once.
      checkConditionsHold(s, untraced(() => conditions(...plainInputs, yStar)), yStar, plainInputs);
      return yStar;
    }
    // The conditions linearised once at (x, y*); the checks and the settings read F and ∂F/∂y there.
    const root = linearizeRoot(conditions, args, yStar, { symmetric: s.solve.symmetric, name: op });
    const residualNorm = checkConditionsHold(s, root.F, yStar, plainInputs);
    const settings = solveSettings(s, precisionOf(yStar, root.F));
    const state = new CallSolves(root.system, this.scratch);
    if (root.differentiated) checkResidual(s, residualNorm, yStar, settings.precision, state.probes);
    return root.differentiate(this.solver(settings, state));
  }

  /** The conditions as the root construction calls them: F(...inputs, y[, byproduct]), checked to be a tensor of y's size. */
  private conditionsAt(yStar: Tensor, plainInputs: Tensor[], extra: unknown[]): (...all: Tensor[]) => Tensor {
    const op = this.name;
    return (...all) => {
      let F: unknown;
      try {
        F = this.conditions(...all, ...extra);
      } catch (e) {
        throw dtypeCulprit(op, e, plainInputs, yStar) ?? e;
      }
      if (!(F instanceof Tensor) && typeof F !== "number") throw new Error(`${op}: conditions must return a Tensor or a number, got ${describe(F)}`);
      const t = operand(op, F);
      if (t.size !== yStar.size) {
        throw new Error(`${op}: conditions return ${t.size} value(s) (shape ${shapeToString(t.shape)}) but forward's y has ${yStar.size} (shape ${shapeToString(yStar.shape)}); the system must be square`);
      }
      return t;
    };
  }

  /** The call's solver: each system solved by the settings' method, its diagnostics kept in `lastSolve`. */
  private solver(settings: SolveSettings, state: CallSolves): RootSolver {
    return (K, b, system) => {
      try {
        const [x, diag] = solveSystem(this.name, K, b, system, settings, state);
        this.lastSolve = diag;
        return x;
      } catch (e) {
        if (e instanceof LinearSolveError) this.lastSolve = e.diagnostics; // a failed solve's, converged: false
        throw e;
      }
    };
  }
}
