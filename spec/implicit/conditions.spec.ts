/**
 * The stock optimality conditions (lib/implicit/conditions.ts): each builder's
 * F(...inputs, y) against its formula computed on plain numbers, the flags it
 * declares, KKT packing, and that a stock spec takes y last (so forward's
 * byproduct is not passed to it). Solutions through them are checked in
 * reference-cases.spec.ts.
 */
import { expect } from "chai";
import {
  ImplicitFunction, Tensor, add, cos, fixedPointConditions, jvp, kktConditions, lassoConditions, matmul, mul, packKKT, pow,
  projectNonNegative, projectedGradientConditions, proximalGradientConditions, softThreshold, stationarityConditions, sub, sum, tensor,
  unpackKKT,
} from "../../lib/index.js";
import { expectClose } from "../helpers.js";
import { matvec, transposeOf } from "../krylov/helpers.js";
import { randomMatrix, randomVector } from "./fixtures.js";

const A = randomMatrix(5, 3, 1);
const x = randomVector(5, 2);
const y = randomVector(3, 3).map((v) => 2 * v);
const At = tensor(A);

/** f(x, y) = ½‖A y − x‖², whose gradient in y is Aᵀ(A y − x). */
const leastSquares = (xx: Tensor, yy: Tensor): Tensor => mul(0.5, sum(pow(sub(matmul(At, yy), xx), 2)));
const gradient = (yy: number[]): number[] => matvec(transposeOf(A), matvec(A, yy).map((v, i) => v - x[i]));
const softThresholdJs = (v: number, t: number): number => Math.sign(v) * Math.max(Math.abs(v) - t, 0);

/** F of a spec at (...inputs, y), as numbers. */
const F = (conditions: (...args: never[]) => Tensor, ...args: Tensor[]): number[] =>
  Array.from((conditions as (...all: Tensor[]) => Tensor)(...args).toFloat64Array());

describe("stock conditions", () => {
  it("stationarityConditions: F = ∇_y f, symmetric, positive definite when declared", () => {
    const spec = stationarityConditions(leastSquares);
    expectClose(F(spec.conditions, tensor(x), tensor(y)), gradient(y), 1e-13, 1e-14);
    expect([spec.symmetric, spec.positiveDefinite, spec.passByproduct]).to.deep.equal([true, false, false]);
    expect(stationarityConditions(leastSquares, { positiveDefinite: true }).positiveDefinite).to.equal(true);
  });

  it("fixedPointConditions: F = T(x, y) − y", () => {
    const spec = fixedPointConditions((xx: Tensor, yy: Tensor) => add(cos(yy), sum(xx)));
    const total = x.reduce((s, v) => s + v, 0);
    expectClose(F(spec.conditions, tensor(x), tensor(y)), y.map((v) => Math.cos(v) + total - v), 1e-14, 1e-15);
    expect(spec.passByproduct).to.equal(false);
  });

  it("proximalGradientConditions: F = prox(y − η∇f, η, ...inputs) − y, the prox given the step and the inputs", () => {
    const eta = 0.3;
    const seen: number[] = [];
    const spec = proximalGradientConditions(leastSquares, (v: Tensor, step: number, xx: Tensor) => {
      seen.push(step, xx.size);
      return softThreshold(v, mul(step, 0.5));
    }, eta);
    const g = gradient(y);
    expectClose(F(spec.conditions, tensor(x), tensor(y)), y.map((v, i) => softThresholdJs(v - eta * g[i], eta * 0.5) - v), 1e-13, 1e-14);
    expect(seen).to.deep.equal([eta, x.length]);
  });

  it("lassoConditions: soft thresholding at ηλ with λ the input at lambdaIndex", () => {
    const eta = 0.2;
    const lambda = 0.7;
    // f(x, λ, y) = ½‖A y − x‖²: λ is input 1, not read by f.
    const spec = lassoConditions((xx: Tensor, _l: Tensor, yy: Tensor) => leastSquares(xx, yy), eta, 1);
    const g = gradient(y);
    expectClose(F(spec.conditions, tensor(x), tensor(lambda), tensor(y)), y.map((v, i) => softThresholdJs(v - eta * g[i], eta * lambda) - v), 1e-13, 1e-14);
  });

  it("projectedGradientConditions: F = P(y − η∇f, ...inputs) − y", () => {
    const eta = 0.25;
    const spec = projectedGradientConditions(leastSquares, (v: Tensor) => projectNonNegative(v), eta);
    const g = gradient(y);
    expectClose(F(spec.conditions, tensor(x), tensor(y)), y.map((v, i) => Math.max(v - eta * g[i], 0) - v), 1e-13, 1e-14);
  });

  it("kktConditions: stationarity, primal feasibility and complementary slackness for y = [z; ν; μ]", () => {
    // min ½‖z‖² − cᵀz s.t. Σz = 1, −z ≤ 0 (the inputs: c).
    const c = [0.5, -0.25, 1.5];
    const spec = kktConditions({
      objective: (cc: Tensor, z: Tensor) => sub(mul(0.5, sum(mul(z, z))), sum(mul(cc, z))),
      equality: (_cc: Tensor, z: Tensor) => sub(sum(z), 1).reshape([1]),
      inequality: (_cc: Tensor, z: Tensor) => mul(z, -1),
      sizes: { primal: 3, equality: 1, inequality: 3 },
    });
    const z = [0.2, -0.1, 0.9];
    const nu = 0.4;
    const mu = [0.3, 0.7, 0];
    const got = F(spec.conditions, tensor(c), packKKT(z, [nu], mu));
    const stationarity = z.map((v, i) => v - c[i] + nu - mu[i]);
    const feasibility = [z.reduce((s, v) => s + v, 0) - 1];
    const slackness = z.map((v, i) => mu[i] * -v);
    expectClose(got, [...stationarity, ...feasibility, ...slackness], 1e-14, 1e-15);
  });

  it("packKKT and unpackKKT are inverse to each other, with absent parts", () => {
    const packed = packKKT(tensor([1, 2]), tensor([3]), [4, 5, 6]);
    expect(Array.from(packed.toFloat64Array())).to.deep.equal([1, 2, 3, 4, 5, 6]);
    const parts = unpackKKT(packed, { primal: 2, equality: 1, inequality: 3 });
    expect([parts.primal, parts.equality!, parts.inequality!].map((t) => Array.from(t.toFloat64Array()))).to.deep.equal([[1, 2], [3], [4, 5, 6]]);
    const primalOnly = unpackKKT(packKKT([[1, 2], [3, 4]], null), { primal: 4 });
    expect(Array.from(primalOnly.primal.toFloat64Array())).to.deep.equal([1, 2, 3, 4]);
    expect([primalOnly.equality, primalOnly.inequality]).to.deep.equal([null, null]);
  });

  it("take y last: forward's byproduct is not passed to them", () => {
    for (const byproduct of ["unused", tensor([7, 7])]) {
      const f = new ImplicitFunction({
        forward: (xx: Tensor) => ({ y: mul(xx, 0.5), byproduct }),
        ...stationarityConditions((xx: Tensor, yy: Tensor) => sum(pow(sub(mul(2, yy), xx), 2))),
      });
      expectClose(jvp((xx: Tensor) => f.call(xx), [tensor([1, 2])], [tensor([1, 0])])[1], [0.5, 0], 1e-12);
    }
  });
});
