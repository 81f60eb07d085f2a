/**
 * Stock optimality conditions. Each builder returns the `conditions` of an
 * ImplicitFunction (plus what it knows of ∂F/∂y, e.g. symmetry) to spread into
 * its options:
 *
 *   new ImplicitFunction({ forward: solveRidge, ...stationarityConditions(ridgeObjective) })
 *
 * Convention: the conditions receive (...inputs, y), y last. They are written
 * with library ops, so every input and captured value is differentiated.
 */
import { Tensor } from "../tensor/tensor.js";
import { describe, shapeToString } from "../tensor/shape.js";
import { operand, type Operand } from "../primitives/operands.js";
import { add, mul, sub } from "../primitives/elementwise.js";
import { concat, reshape, slice } from "../primitives/shape.js";
import { grad, vjp } from "../ad/reverse.js";
import { softThreshold } from "./projections.js";
import { callWith, type UserFunction } from "../primitives/util.js";

/** What a stock builder hands to the ImplicitFunction options. */
export interface ConditionsSpec {
  conditions: UserFunction<Tensor>;
  symmetric?: boolean;
  positiveDefinite?: boolean;
  /** Stock conditions take y last, so a byproduct of forward is not passed to them. */
  passByproduct: false;
}

type Objective = UserFunction<Tensor | number>;

function splitLast(op: string, args: unknown[]): [unknown[], Tensor] {
  if (args.length === 0) throw new Error(`${op}: the conditions need at least y`);
  const y = args[args.length - 1];
  if (!(y instanceof Tensor)) throw new Error(`${op}: the last argument of the conditions must be the Tensor y, got ${describe(y)}`);
  return [args.slice(0, -1), y];
}

function checkFunction(op: string, what: string, f: unknown): void {
  if (typeof f !== "function") throw new Error(`${op}: ${what} must be a function, got ${describe(f)}`);
}

/**
 * Stationarity ∇_y f(x, y) = 0 of an objective f(...inputs, y) (unconstrained
 * minimisation). ∂F/∂y is the Hessian: symmetric, and positive definite when f
 * is strongly convex in y (pass { positiveDefinite: true } to say so).
 */
export function stationarityConditions(objective: Objective, opts: { positiveDefinite?: boolean } = {}): ConditionsSpec {
  checkFunction("stationarityConditions", "objective", objective);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [inputs, y] = splitLast("stationarityConditions", args);
      return grad((w: Tensor) => callWith(objective, [...inputs, w]))(y) as Tensor;
    },
    symmetric: true,
    positiveDefinite: opts.positiveDefinite === true,
  };
}

/** Fixed point y = T(x, y): F = T(...inputs, y) − y. */
export function fixedPointConditions(T: UserFunction<Tensor | number>): ConditionsSpec {
  checkFunction("fixedPointConditions", "T", T);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [, y] = splitLast("fixedPointConditions", args);
      return sub(callWith(T, args), y);
    },
  };
}

/**
 * Proximal-gradient fixed point y = prox_{ηg}(y − η∇f(x, y)) for min f + g:
 * F = prox(y − η ∇_y f(...inputs, y), η, ...inputs) − y. The prox receives the
 * point, the step η and the inputs (so a regularisation strength can be one).
 */
export function proximalGradientConditions(
  smoothObjective: Objective,
  prox: (v: Tensor, stepSize: number, ...inputs: never[]) => Tensor,
  stepSize: number,
): ConditionsSpec {
  const op = "proximalGradientConditions";
  checkFunction(op, "smoothObjective", smoothObjective);
  checkFunction(op, "prox", prox);
  if (typeof stepSize !== "number" || !(stepSize > 0) || !Number.isFinite(stepSize)) throw new Error(`${op}: stepSize must be a positive number, got ${describe(stepSize)}`);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [inputs, y] = splitLast(op, args);
      const g = grad((w: Tensor) => callWith(smoothObjective, [...inputs, w]))(y) as Tensor;
      return sub(callWith(prox as UserFunction<Tensor>, [sub(y, mul(g, stepSize)), stepSize, ...inputs]), y);
    },
  };
}

/**
 * Lasso-type problems min f(x, w) + λ‖w‖₁ with λ = inputs[lambdaIndex]: the
 * proximal-gradient fixed point with soft thresholding at ηλ.
 */
export function lassoConditions(smoothObjective: Objective, stepSize: number, lambdaIndex = 0): ConditionsSpec {
  return proximalGradientConditions(smoothObjective, (v, eta, ...inputs) => softThreshold(v, mul((inputs as unknown[])[lambdaIndex] as Operand, eta)), stepSize);
}

/**
 * Projected-gradient fixed point y = P_C(y − η∇f(x, y)) for min f over a convex
 * set C: F = P_C(y − η ∇_y f(...inputs, y), ...inputs) − y. Use a projection from
 * lib/implicit/projections (simplex, box, non-negative orthant, ℓ2 ball).
 */
export function projectedGradientConditions(
  objective: Objective,
  projection: (v: Tensor, ...inputs: never[]) => Tensor,
  stepSize: number,
): ConditionsSpec {
  const op = "projectedGradientConditions";
  checkFunction(op, "objective", objective);
  checkFunction(op, "projection", projection);
  if (typeof stepSize !== "number" || !(stepSize > 0) || !Number.isFinite(stepSize)) throw new Error(`${op}: stepSize must be a positive number, got ${describe(stepSize)}`);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [inputs, y] = splitLast(op, args);
      const g = grad((w: Tensor) => callWith(objective, [...inputs, w]))(y) as Tensor;
      return sub(callWith(projection as UserFunction<Tensor>, [sub(y, mul(g, stepSize)), ...inputs]), y);
    },
  };
}

export interface KKTProblem {
  /** f(...inputs, z): the objective in the primal variable z (1-D). */
  objective: Objective;
  /** h(...inputs, z) = 0: equality constraints, a 1-D tensor of `sizes.equality` entries. */
  equality?: UserFunction<Tensor>;
  /** g(...inputs, z) ≤ 0: inequality constraints, a 1-D tensor of `sizes.inequality` entries. */
  inequality?: UserFunction<Tensor>;
  sizes: { primal: number; equality?: number; inequality?: number };
}

/** Splits the packed KKT unknown y = [z; ν; μ] into primal z, equality multipliers ν, inequality multipliers μ. */
export function unpackKKT(y: Tensor, sizes: KKTProblem["sizes"]): { primal: Tensor; equality: Tensor | null; inequality: Tensor | null } {
  const p = sizes.equality ?? 0;
  const q = sizes.inequality ?? 0;
  if (y.ndim !== 1 || y.size !== sizes.primal + p + q) throw new Error(`unpackKKT: y must be 1-D with ${sizes.primal + p + q} entries (primal ${sizes.primal} + equality ${p} + inequality ${q}), got shape ${shapeToString(y.shape)}`);
  return {
    primal: slice(y, [0], [sizes.primal]),
    equality: p > 0 ? slice(y, [sizes.primal], [p]) : null,
    inequality: q > 0 ? slice(y, [sizes.primal + p], [q]) : null,
  };
}

/** Packs primal and multipliers into the KKT unknown y = [z; ν; μ]. */
export function packKKT(primal: Operand, equality?: Operand | null, inequality?: Operand | null): Tensor {
  const parts = [primal, equality, inequality].filter((p) => p !== undefined && p !== null).map((p) => reshape(operand("packKKT", p), [-1]));
  return parts.length === 1 ? parts[0] : concat(parts);
}

/**
 * KKT conditions of min f(z) s.t. h(z) = 0, g(z) ≤ 0, for y = [z; ν; μ]:
 *   ∇f(z) + ∂h(z)ᵀν + ∂g(z)ᵀμ = 0,   h(z) = 0,   μ ⊙ g(z) = 0
 * (stationarity, primal feasibility, complementary slackness; Boyd &
 * Vandenberghe §5.5.3). At a strictly complementary solution ∂F/∂y is
 * nonsingular and the implicit derivative is that of the solution.
 */
export function kktConditions(problem: KKTProblem): ConditionsSpec {
  const op = "kktConditions";
  if (problem === null || typeof problem !== "object") throw new Error(`${op}: expects { objective, equality?, inequality?, sizes }, got ${describe(problem)}`);
  checkFunction(op, "objective", problem.objective);
  if (problem.equality !== undefined) checkFunction(op, "equality", problem.equality);
  if (problem.inequality !== undefined) checkFunction(op, "inequality", problem.inequality);
  const sizes = problem.sizes;
  if (!sizes || typeof sizes.primal !== "number" || !Number.isInteger(sizes.primal) || sizes.primal < 1) throw new Error(`${op}: sizes.primal must be a positive integer, got ${describe(sizes?.primal)}`);
  if ((problem.equality !== undefined) !== ((sizes.equality ?? 0) > 0)) throw new Error(`${op}: give sizes.equality > 0 exactly when equality constraints are given`);
  if ((problem.inequality !== undefined) !== ((sizes.inequality ?? 0) > 0)) throw new Error(`${op}: give sizes.inequality > 0 exactly when inequality constraints are given`);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [inputs, y] = splitLast(op, args);
      const { primal: z, equality: nu, inequality: mu } = unpackKKT(y, sizes);
      let stationarity = grad((w: Tensor) => callWith(problem.objective, [...inputs, w]))(z) as Tensor;
      const parts: Tensor[] = [];
      if (nu !== null) {
        const [h, pullback] = vjp((w: Tensor) => callWith(problem.equality!, [...inputs, w]), z);
        stationarity = add(stationarity, pullback(nu)[0]);
        parts.push(h);
      }
      if (mu !== null) {
        const [g, pullback] = vjp((w: Tensor) => callWith(problem.inequality!, [...inputs, w]), z);
        stationarity = add(stationarity, pullback(mu)[0]);
        parts.push(mul(mu, g));
      }
      return parts.length === 0 ? stationarity : concat([stationarity, ...parts]);
    },
  };
}
