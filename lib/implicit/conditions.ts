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
import { describe, sameShape, shapeToString } from "../tensor/shape.js";
import { operand, type Operand } from "../primitives/operands.js";
import { add, mul, sub } from "../primitives/elementwise.js";
import { concat, reshape, slice } from "../primitives/shape.js";
import { grad, vjp } from "../ad/reverse.js";
import { softThreshold } from "./projections.js";
import { callWith, type UserFunction } from "../primitives/util.js";
import { is, readOptions, required, type OptionKind } from "../primitives/options.js";
import { DtypeMismatchError } from "../errors.js";

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

function checkStepSize(op: string, stepSize: unknown): void {
  if (typeof stepSize !== "number" || !(stepSize > 0) || !Number.isFinite(stepSize)) throw new Error(`${op}: stepSize must be a positive number, got ${describe(stepSize)}`);
}

/** A user objective's value, checked to be a scalar (errors name the builder, not the grad inside it). */
function scalarValue(op: string, what: string, v: unknown): Tensor | number {
  if (typeof v === "number") return v;
  if (!(v instanceof Tensor)) throw new Error(`${op}: the ${what} must return a scalar (a rank-0 Tensor or a number), got ${describe(v)}`);
  if (v.ndim !== 0) throw new Error(`${op}: the ${what} must return a scalar (a rank-0 Tensor or a number), got shape ${shapeToString(v.shape)}`);
  return v;
}

/** A user map's value (T, prox, projection), checked to be a point like y: same shape and dtype. */
function pointLike(op: string, what: string, v: unknown, y: Tensor): Tensor {
  const t = v instanceof Tensor ? v : typeof v === "number" ? operand(op, v, y.dtype) : null;
  if (t === null) throw new Error(`${op}: ${what} must return a Tensor of y's shape ${shapeToString(y.shape)}, got ${describe(v)}`);
  if (!sameShape(t.shape, y.shape)) throw new Error(`${op}: ${what} returned shape ${shapeToString(t.shape)} but y has shape ${shapeToString(y.shape)}`);
  if (t.dtype !== y.dtype) throw new DtypeMismatchError(`${op}: ${what} returned a ${t.dtype} tensor but y is ${y.dtype}`);
  return t;
}

/**
 * Stationarity ∇_y f(x, y) = 0 of an objective f(...inputs, y) (unconstrained
 * minimisation). ∂F/∂y is the Hessian: symmetric, and positive definite when f
 * is strongly convex in y (pass { positiveDefinite: true } to say so).
 */
export function stationarityConditions(objective: Objective, opts: { positiveDefinite?: boolean } = {}): ConditionsSpec {
  const op = "stationarityConditions";
  checkFunction(op, "objective", objective);
  const { positiveDefinite } = readOptions(op, opts, { positiveDefinite: is.boolean });
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [inputs, y] = splitLast(op, args);
      return grad((w: Tensor) => scalarValue(op, "objective", callWith(objective, [...inputs, w])))(y) as Tensor;
    },
    symmetric: true,
    positiveDefinite: positiveDefinite ?? false,
  };
}

/** Fixed point y = T(x, y): F = T(...inputs, y) − y. */
export function fixedPointConditions(T: UserFunction<Tensor | number>): ConditionsSpec {
  checkFunction("fixedPointConditions", "T", T);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [, y] = splitLast("fixedPointConditions", args);
      return sub(pointLike("fixedPointConditions", "T", callWith(T, args), y), y);
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
  return proximalGradient("proximalGradientConditions", smoothObjective, prox, stepSize);
}

/** proximalGradientConditions with the public name of the caller (it or lassoConditions) in its errors. */
function proximalGradient(op: string, smoothObjective: Objective, prox: (v: Tensor, stepSize: number, ...inputs: never[]) => Tensor, stepSize: number): ConditionsSpec {
  checkFunction(op, "smoothObjective", smoothObjective);
  checkFunction(op, "prox", prox);
  checkStepSize(op, stepSize);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [inputs, y] = splitLast(op, args);
      const g = grad((w: Tensor) => scalarValue(op, "smooth objective", callWith(smoothObjective, [...inputs, w])))(y) as Tensor;
      return sub(pointLike(op, "the prox", callWith(prox as UserFunction<Tensor>, [sub(y, mul(g, stepSize)), stepSize, ...inputs]), y), y);
    },
  };
}

/**
 * Lasso-type problems min f(x, w) + λ‖w‖₁ with λ = inputs[lambdaIndex]: the
 * proximal-gradient fixed point with soft thresholding at ηλ.
 */
export function lassoConditions(smoothObjective: Objective, stepSize: number, lambdaIndex = 0): ConditionsSpec {
  const op = "lassoConditions";
  if (typeof lambdaIndex !== "number" || !Number.isInteger(lambdaIndex) || lambdaIndex < 0) throw new Error(`${op}: lambdaIndex must be a non-negative integer, got ${describe(lambdaIndex)}`);
  const prox = (v: Tensor, eta: number, ...inputs: unknown[]): Tensor => {
    if (lambdaIndex >= inputs.length) throw new Error(`${op}: lambdaIndex ${lambdaIndex} is out of range: the conditions have ${inputs.length} input(s) besides y`);
    const lambda = operand(op, inputs[lambdaIndex], v.dtype);
    if (lambda.size !== 1) throw new Error(`${op}: λ (input ${lambdaIndex}) must be a scalar, got shape ${shapeToString(lambda.shape)}`);
    if (lambda.dtype !== v.dtype) throw new DtypeMismatchError(`${op}: λ (input ${lambdaIndex}) is ${lambda.dtype} but y is ${v.dtype}; convert one with astype()`);
    return softThreshold(v, mul(lambda, eta));
  };
  return proximalGradient(op, smoothObjective, prox as (v: Tensor, stepSize: number, ...inputs: never[]) => Tensor, stepSize);
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
  checkStepSize(op, stepSize);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [inputs, y] = splitLast(op, args);
      const g = grad((w: Tensor) => scalarValue(op, "objective", callWith(objective, [...inputs, w])))(y) as Tensor;
      return sub(pointLike(op, "the projection", callWith(projection as UserFunction<Tensor>, [sub(y, mul(g, stepSize)), ...inputs]), y), y);
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
  return unpackAs("unpackKKT", y, checkSizes("unpackKKT", sizes));
}

/** KKT sizes: primal a positive integer, equality and inequality non-negative integers when given. */
const SIZES = { primal: required(is.positiveInteger), equality: is.nonNegativeInteger, inequality: is.nonNegativeInteger } satisfies Record<keyof KKTProblem["sizes"], OptionKind<unknown>>;

function checkSizes(op: string, sizes: unknown): KKTProblem["sizes"] {
  return readOptions(op, sizes, SIZES, { what: "sizes", required: true });
}

function unpackAs(op: string, y: unknown, sizes: KKTProblem["sizes"]): { primal: Tensor; equality: Tensor | null; inequality: Tensor | null } {
  if (!(y instanceof Tensor)) throw new Error(`${op}: y must be a 1-D Tensor, got ${describe(y)}`);
  const p = sizes.equality ?? 0;
  const q = sizes.inequality ?? 0;
  if (y.ndim !== 1 || y.size !== sizes.primal + p + q) throw new Error(`${op}: y must be 1-D with ${sizes.primal + p + q} entries (primal ${sizes.primal} + equality ${p} + inequality ${q}), got shape ${shapeToString(y.shape)}`);
  return {
    primal: slice(y, [0], [sizes.primal]),
    equality: p > 0 ? slice(y, [sizes.primal], [p]) : null,
    inequality: q > 0 ? slice(y, [sizes.primal + p], [q]) : null,
  };
}

/** Packs primal and multipliers into the KKT unknown y = [z; ν; μ]. */
export function packKKT(primal: Operand, equality?: Operand | null, inequality?: Operand | null): Tensor {
  if (primal === undefined || primal === null) throw new Error(`packKKT: the primal part is missing (got ${describe(primal)})`);
  const parts = [primal, equality, inequality].filter((p) => p !== undefined && p !== null).map((p) => reshape(operand("packKKT", p), [-1]));
  if (parts.some((p) => p.dtype !== parts[0].dtype)) throw new DtypeMismatchError(`packKKT: the parts have different dtypes (${parts.map((p) => p.dtype).join(", ")}); convert them with astype()`);
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
  const sizes = checkSizes(op, problem.sizes);
  if ((problem.equality !== undefined) !== ((sizes.equality ?? 0) > 0)) throw new Error(`${op}: give sizes.equality > 0 exactly when equality constraints are given`);
  if ((problem.inequality !== undefined) !== ((sizes.inequality ?? 0) > 0)) throw new Error(`${op}: give sizes.inequality > 0 exactly when inequality constraints are given`);
  return {
    passByproduct: false,
    conditions: (...args) => {
      const [inputs, y] = splitLast(op, args);
      const { primal: z, equality: nu, inequality: mu } = unpackAs(op, y, sizes);
      let stationarity = grad((w: Tensor) => scalarValue(op, "objective", callWith(problem.objective, [...inputs, w])))(z) as Tensor;
      const parts: Tensor[] = [];
      /** A constraint's value: a 1-D Tensor of the declared number of entries. */
      const constraint = (what: "equality" | "inequality", v: unknown, count: number): Tensor => {
        if (!(v instanceof Tensor) || v.ndim !== 1 || v.size !== count) {
          throw new Error(`${op}: the ${what} constraints must return a 1-D Tensor of sizes.${what} = ${count} entries, got ${v instanceof Tensor ? `shape ${shapeToString(v.shape)}` : describe(v)}`);
        }
        return v;
      };
      if (nu !== null) {
        const [h, pullback] = vjp((w: Tensor) => constraint("equality", callWith(problem.equality!, [...inputs, w]), nu.size), z);
        stationarity = add(stationarity, pullback(nu)[0]);
        parts.push(h);
      }
      if (mu !== null) {
        const [g, pullback] = vjp((w: Tensor) => constraint("inequality", callWith(problem.inequality!, [...inputs, w]), mu.size), z);
        stationarity = add(stationarity, pullback(mu)[0]);
        parts.push(mul(mu, g));
      }
      return parts.length === 0 ? stationarity : concat([stationarity, ...parts]);
    },
  };
}
