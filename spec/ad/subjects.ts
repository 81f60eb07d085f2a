/**
 * Functions the AD specs differentiate (subjects, not references): programs
 * built from many primitives, and custom rules deliberately different from
 * the true derivative (scaled), so that a test can tell the user's rule was
 * the one used. Shared by reverse.spec.ts, forward.spec.ts, custom.spec.ts and
 * transpose.spec.ts.
 */
import {
  Tensor, abs, add, concat, cos, customJvp, customVjp, div, exp, greater, log, logsumexp, matmul, max, mean, mul, norm, pow, reshape,
  sigmoid, sin, slice, softmax, softplus, solve, sqrt, stack, sub, sum, tanh, tensor, transpose, where,
} from "../../lib/index.js";
import fc from "fast-check";
import { mat, randomMatrix, vec } from "./fixtures.js";

const A66 = randomMatrix(6, 6, 11).map((row, i) => row.map((v, j) => v + (i === j ? 4 : 0)));

/** Scalar test functions of a length-6 vector, built from many primitives. */
export const scalarFunctions: [string, (x: Tensor) => Tensor][] = [
  ["polynomial", (x) => sum(sub(mul(mul(x, x), x), mul(2, x)))],
  ["sin·exp", (x) => sum(mul(sin(x), exp(div(x, 2))))],
  ["logsumexp", (x) => logsumexp(x)],
  ["softplus·tanh", (x) => sum(mul(softplus(x), tanh(x)))],
  ["sqrt/div", (x) => sum(div(sqrt(add(mul(x, x), 1)), add(2, sin(x))))],
  ["pow of |x|+1", (x) => sum(pow(add(abs(x), 1), 1.5))],
  ["x^y both traced", (x) => sum(pow(add(sigmoid(x), 0.5), x))],
  ["log·cos", (x) => sum(mul(log(add(mul(x, x), 0.5)), cos(x)))],
  ["norm (shifted)", (x) => norm(add(x, 3))],
  ["mean of squares + max", (x) => add(mean(mul(x, x)), max(mul(x, x)))],
  ["axis logsumexp", (x) => sum(mul(logsumexp(reshape(x, [2, 3]), 1), vec([1, -2])))],
  ["transpose·matmul", (x) => {
    const X = reshape(x, [2, 3]);
    return sum(mul(matmul(X, transpose(X)), mat([[1, 2], [-1, 0.5]])));
  }],
  ["slice·concat·stack", (x) => sum(mul(stack([concat([slice(x, [3], [3]), slice(x, [0], [3])]), x]), mat([[1, 2, 3, 4, 5, 6], [-1, 0, 1, 0, -1, 2]])))],
  ["softmax weights", (x) => sum(mul(softmax(x), vec([1, -1, 2, 0, 3, -2])))],
  ["solve", (x) => sum(mul(solve(tensor(A66), x), x))],
  ["where", (x) => sum(where(greater(x, 0), mul(x, x), sin(x)))],
];

const A34 = randomMatrix(3, 4, 7);

/** Vector-valued test maps of a length-4 vector. */
export const vectorMaps: [string, (x: Tensor) => Tensor][] = [
  ["tanh(A x)", (x) => tanh(matmul(tensor(A34), x))],
  ["softmax", (x) => softmax(x)],
  ["x ⊗ sin x", (x) => reshape(mul(reshape(x, [4, 1]), reshape(sin(x), [1, 4])), [16])],
  ["cumulative via concat", (x) => concat([x, mul(slice(x, [1], [3]), slice(x, [0], [3]))])],
];

/** sin with a custom pullback that halves the true gradient, with residual cos(x). */
export const halfSin = customVjp(
  (x: Tensor) => sin(x),
  (x: Tensor) => [sin(x), cos(x)] as [Tensor, Tensor],
  (c: Tensor, ct: Tensor) => [mul(mul(ct, c), 0.5)],
);

/** exp with a custom pushforward that triples the true tangent. */
export const tripleExp = customJvp(
  (x: Tensor) => exp(x),
  ([x]: Tensor[], [t]: Tensor[]) => [exp(x), mul(mul(exp(x), t), 3)] as [Tensor, Tensor],
);

/** One step of a random program: an op applied to earlier values (by index). */
export type Step = [op: number, a: number, b: number];

/** An op of a random program: a function of two earlier values (a unary one ignores b). */
export type ProgramOp = (a: Tensor, b: Tensor) => Tensor;

/** The function of x that `steps` build from `ops`, each step applied to earlier values; the last is returned. */
export function programOf(ops: readonly ProgramOp[], steps: readonly Step[]): (x: Tensor) => Tensor {
  return (x) => {
    const values: Tensor[] = [x];
    for (const [op, ia, ib] of steps) values.push(ops[op % ops.length](values[ia % values.length], values[ib % values.length]));
    return values[values.length - 1];
  };
}

/** Random steps over `ops`: 1 to maxLength of them. */
export const stepsArb = (ops: readonly ProgramOp[], maxLength: number): fc.Arbitrary<Step[]> =>
  fc.array(fc.tuple(fc.nat(ops.length - 1), fc.nat(20), fc.nat(20)), { minLength: 1, maxLength });
