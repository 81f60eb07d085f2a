/**
 * The solvers' methods, one row each, per problem: the function that runs it
 * (in its own file, with its citation), whether it takes bounds, and its
 * default iteration limit. The public functions dispatch through these tables
 * and the specs enumerate them. A new method is its file and one row.
 */
import type { MinimizeProblem, VectorProblem } from "./problem.js";
import type { Outcome } from "./result.js";
import { lbfgs } from "./lbfgs.js";
import { bfgs } from "./bfgs.js";
import { newtonCG } from "./newton-cg.js";
import { gradientDescent } from "./gradient-descent.js";
import { newton } from "./newton.js";
import { broyden } from "./broyden.js";
import { bisection } from "./bisection.js";
import { anderson } from "./anderson.js";
import { iterate } from "./iterate.js";
import { levenbergMarquardt } from "./levenberg-marquardt.js";
import { gaussNewton } from "./gauss-newton.js";

/** The dense methods (BFGS, Broyden) keep an n×n matrix: 4000 unknowns is 128 MB of it. */
export const DENSE_METHOD_MAX = 4000;

export interface MinimizeMethod {
  run: (problem: MinimizeProblem) => Outcome;
  /** Accepts `bounds` (by projection). */
  bounds: boolean;
  maxIter: number;
  /** The most unknowns the method takes (dense n×n storage), when limited. */
  maxSize?: number;
}

/** `minimize`'s methods; the first is the default. */
export const MINIMIZE_METHODS = {
  lbfgs: { run: lbfgs, bounds: true, maxIter: 1000 },
  bfgs: { run: bfgs, bounds: false, maxIter: 1000, maxSize: DENSE_METHOD_MAX },
  "newton-cg": { run: newtonCG, bounds: false, maxIter: 200 },
  "gradient-descent": { run: gradientDescent, bounds: true, maxIter: 10000 },
} satisfies Record<string, MinimizeMethod>;

export type MinimizeMethodName = keyof typeof MINIMIZE_METHODS;
export const MINIMIZE_METHOD_NAMES = Object.keys(MINIMIZE_METHODS) as MinimizeMethodName[];

export interface VectorMethod {
  run: (problem: VectorProblem) => Outcome;
  maxIter: number;
  /** The most unknowns the method takes (dense n×n storage), when limited. */
  maxSize?: number;
}

/** `root`'s methods; the first is the default. */
export const ROOT_METHODS = {
  newton: { run: newton, maxIter: 100 },
  broyden: { run: broyden, maxIter: 200, maxSize: DENSE_METHOD_MAX },
  bisection: { run: bisection, maxIter: 200 },
} satisfies Record<string, VectorMethod>;

/** `fixedPoint`'s methods; the first is the default. */
export const FIXED_POINT_METHODS = {
  anderson: { run: anderson, maxIter: 1000 },
  iterate: { run: iterate, maxIter: 10000 },
} satisfies Record<string, VectorMethod>;

/** `leastSquares`' methods; the first is the default. */
export const LEAST_SQUARES_METHODS = {
  "levenberg-marquardt": { run: levenbergMarquardt, maxIter: 500 },
  "gauss-newton": { run: gaussNewton, maxIter: 200 },
} satisfies Record<string, VectorMethod>;

export type RootMethodName = keyof typeof ROOT_METHODS;
export type FixedPointMethodName = keyof typeof FIXED_POINT_METHODS;
export type LeastSquaresMethodName = keyof typeof LEAST_SQUARES_METHODS;
export const ROOT_METHOD_NAMES = Object.keys(ROOT_METHODS) as RootMethodName[];
export const FIXED_POINT_METHOD_NAMES = Object.keys(FIXED_POINT_METHODS) as FixedPointMethodName[];
export const LEAST_SQUARES_METHOD_NAMES = Object.keys(LEAST_SQUARES_METHODS) as LeastSquaresMethodName[];

/** The Error for a dense method on too many unknowns, naming the public function and the alternative. */
export function checkSize(op: string, method: string, row: { maxIter: number; maxSize?: number }, n: number, instead: string): void {
  if (row.maxSize !== undefined && n > row.maxSize) {
    throw new Error(`${op}: method "${method}" keeps a dense ${n}×${n} matrix (${((8 * n * n) / 1e6).toFixed(0)} MB) and takes at most ${row.maxSize} unknowns; the initial point has ${n}. Use "${instead}"`);
  }
}
