/**
 * The solvers' methods, one row each, per problem: the function that runs it
 * (in its own file, with its citation), whether it takes bounds, and its
 * default iteration limit. The public functions dispatch through these tables
 * and the specs enumerate them. A new method is its file and one row.
 */
import type { MinimizeProblem } from "./problem.js";
import type { Outcome } from "./result.js";
import { lbfgs } from "./lbfgs.js";
import { bfgs } from "./bfgs.js";
import { newtonCG } from "./newton-cg.js";
import { gradientDescent } from "./gradient-descent.js";

export interface MinimizeMethod {
  run: (problem: MinimizeProblem) => Outcome;
  /** Accepts `bounds` (by projection). */
  bounds: boolean;
  maxIter: number;
}

/** `minimize`'s methods; the first is the default. */
export const MINIMIZE_METHODS = {
  lbfgs: { run: lbfgs, bounds: true, maxIter: 1000 },
  bfgs: { run: bfgs, bounds: false, maxIter: 1000 },
  "newton-cg": { run: newtonCG, bounds: false, maxIter: 200 },
  "gradient-descent": { run: gradientDescent, bounds: true, maxIter: 10000 },
} satisfies Record<string, MinimizeMethod>;

export type MinimizeMethodName = keyof typeof MINIMIZE_METHODS;
export const MINIMIZE_METHOD_NAMES = Object.keys(MINIMIZE_METHODS) as MinimizeMethodName[];
