/**
 * Derivative rules on float32 tensors: every primitive's gradient, tangent and
 * cotangents stay float32 (no rule slips a float64 constant in, which would be
 * a dtype-mix Error), and the gradient agrees, to float32 accuracy, with
 * central finite differences of the float64 computation at the same points.
 */
import { expect } from "chai";
import fc from "fast-check";
import * as lib from "../../lib/index.js";
import { Tensor, tensor, grad, jvp, vjp, sum, mul } from "../../lib/index.js";
import { fdGrad } from "../helpers.js";
import { flatten, mapValues, unitValues, type ValueKind, runs } from "./reference.js";

type Case = [string, (...xs: Tensor[]) => Tensor, number[][], ValueKind[]];
const F = lib as unknown as Record<string, (...args: unknown[]) => Tensor>;

const CASES: Case[] = [
  ...(["neg", "exp", "sin", "cos", "tanh", "sigmoid", "softplus"].map((n) => [n, (x: Tensor) => F[n](x), [[2, 3]], ["any"]]) as Case[]),
  ["log", (x) => lib.log(x), [[2, 3]], ["positive"]],
  ["sqrt", (x) => lib.sqrt(x), [[2, 3]], ["positive"]],
  ["abs", (x) => lib.abs(x), [[2, 3]], ["awayFromZero"]],
  ["relu", (x) => lib.relu(x), [[2, 3]], ["awayFromZero"]],
  ...(["add", "sub", "mul"].map((n) => [n, (a: Tensor, b: Tensor) => F[n](a, b), [[2, 3], [3]], ["any", "any"]]) as Case[]),
  ["div", (a, b) => lib.div(a, b), [[2, 3], [3]], ["any", "awayFromZero"]],
  ["pow", (a, b) => lib.pow(a, b), [[2, 3], [2, 1]], ["positive", "any"]],
  ["maximum", (a, b) => lib.maximum(a, b), [[2, 3], [3]], ["gridOdd", "gridEven"]],
  ["minimum", (a, b) => lib.minimum(a, b), [[2, 3], [3]], ["gridOdd", "gridEven"]],
  ["where", (a, b) => lib.where(lib.greater(a, 0), a, b), [[2, 3], [2, 3]], ["awayFromZero", "any"]],
  ["sum", (x) => lib.sum(x, 1), [[2, 3]], ["any"]],
  ["mean", (x) => lib.mean(x, 0, true), [[2, 3]], ["any"]],
  ["max", (x) => lib.max(x, 1), [[2, 3]], ["distinct"]],
  ["min", (x) => lib.min(x), [[2, 3]], ["distinct"]],
  ["logsumexp", (x) => lib.logsumexp(x, -1), [[2, 3]], ["any"]],
  ["softmax", (x) => lib.softmax(x, 0), [[2, 3]], ["any"]],
  ["norm 2", (x) => lib.norm(x), [[2, 3]], ["awayFromZero"]],
  ["norm 3", (x) => lib.norm(x, 3, 1), [[2, 3]], ["awayFromZero"]],
  ["norm ∞", (x) => lib.norm(x, Infinity), [[2, 3]], ["distinctAbs"]],
  ["matmul", (a, b) => lib.matmul(a, b), [[2, 2, 3], [3, 2]], ["any", "any"]],
  ["dot", (a, b) => lib.dot(a, b), [[3], [3]], ["any", "any"]],
  ["outer", (a, b) => lib.outer(a, b), [[3], [2]], ["any", "any"]],
  ["diag of a vector", (x) => lib.diag(x), [[3]], ["any"]],
  ["diag of a matrix", (x) => lib.diag(x), [[2, 3]], ["any"]],
  ["solve", (A, b) => lib.solve(lib.add(A, lib.mul(lib.eye(3, { dtype: A.dtype }), 4)), b), [[3, 3], [3, 2]], ["any", "any"]],
  ["transpose", (x) => lib.transpose(x), [[2, 3]], ["any"]],
  ["reshape", (x) => lib.reshape(x, [3, 2]), [[2, 3]], ["any"]],
  ["broadcastTo", (x) => lib.broadcastTo(x, [2, 2, 3]), [[2, 3]], ["any"]],
  ["slice", (x) => lib.slice(x, [0, 1], [2, 2]), [[2, 3]], ["any"]],
  ["concat", (a, b) => lib.concat([a, b], 1), [[2, 3], [2, 1]], ["any", "any"]],
  ["stack", (a, b) => lib.stack([a, b], -1), [[2, 3], [2, 3]], ["any", "any"]],
];

describe("primitives: derivative rules on float32", () => {
  for (const [name, f, shapes, kinds] of CASES) {
    it(`${name}: float32 in, float32 derivatives out, ≈ finite differences`, () => {
      const arb = fc.tuple(...shapes.map((s, i) => unitValues(s.reduce((a, b) => a * b, 1)).map((u) => mapValues(u, kinds[i]).map(Math.fround))));
      fc.assert(fc.property(arb, (vals) => {
        const x32 = vals.map((v, i) => tensor(Float32Array.from(v), { shape: shapes[i], dtype: "float32" }));
        const x64 = vals.map((v, i) => tensor(Float64Array.from(v), { shape: shapes[i] }));
        const out = f(...x32);
        expect(out.dtype).to.equal("float32");
        const w32 = lib.full(out.shape, 0.75, { dtype: "float32" });
        const grads = grad((...xs: Tensor[]) => sum(mul(f(...xs), w32)), { argnums: x32.map((_, i) => i) })(...x32) as Tensor[];
        grads.forEach((g, i) => {
          expect(g.dtype, `grad ${i}`).to.equal("float32");
          const fd = fdGrad((t) => 0.75 * flatten(f(...x64.map((a, j) => (j === i ? t : a))).toArray()).reduce((s, v) => s + v, 0), x64[i], 1e-6);
          flatten(g.toArray()).forEach((v, k) => {
            if (!(Math.abs(v - fd[k]) <= 2e-4 + 1e-4 * Math.abs(fd[k]))) throw new Error(`${name} grad ${i}[${k}]: ${v} vs FD ${fd[k]}`);
          });
        });
        const [, tangent] = jvp(f, x32, x32.map((a) => lib.ones(a.shape, { dtype: "float32" })));
        expect(tangent.dtype).to.equal("float32");
        const [, pullback] = vjp(f, ...x32);
        for (const ct of pullback(w32)) expect(ct.dtype).to.equal("float32");
      }), runs(20));
    });
  }
});
