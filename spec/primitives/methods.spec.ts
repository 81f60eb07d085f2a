/**
 * The Tensor method forms beyond the per-op checks in the other specs:
 * chaining (`x.mul(y).sum()`), `.T`, `astype`, and that every method of
 * API.md's op list exists on Tensor and names itself in its errors.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Tensor, tensor, zeros } from "../../lib/index.js";
import { expectError } from "../helpers.js";
import { broadcastShapesArb, expectRef, operandOf, refMap, refOf, refReduce, refSum, refTranspose, runs } from "./reference.js";

describe("primitives/methods: Tensor method forms", () => {
  it("chains like the function forms: x.mul(y).add(1).exp().sum(-1, true)", () => {
    const arb = broadcastShapesArb(2, 3, 3, false).chain(([sa, sb]) => fc.tuple(operandOf(sa), operandOf(sb)));
    fc.assert(fc.property(arb, ([a, b]) => {
      const prod = refMap([a.ref, b.ref], (x, y) => Math.exp(x * y + 1));
      const n = prod.shape.length;
      const expected = n === 0 ? prod : refReduce(prod, [n - 1], true, refSum);
      const got = n === 0 ? a.t.mul(b.t).add(1).exp() : a.t.mul(b.t).add(1).exp().sum(-1, true);
      expectRef(got, expected, 1e-13, 1e-13, "chain");
    }), runs(50));
  });

  it(".T transposes a matrix and is an Error for other ranks", () => {
    const m = tensor([[1, 2, 3], [4, 5, 6]]);
    expectRef(m.T, refTranspose(refOf([2, 3], [1, 2, 3, 4, 5, 6]), [1, 0]), 0, 0, ".T");
    expectError(() => tensor([1, 2]).T, "T", "[2]");
    expectError(() => zeros([2, 2, 2]).T, "T", "[2,2,2]");
  });

  it("astype converts between float64 and float32 (a copy)", () => {
    const x = tensor([0.1, 0.2]);
    const y = x.astype("float32");
    expect(y.dtype).to.equal("float32");
    expect(y.toArray()).to.deep.equal([Math.fround(0.1), Math.fround(0.2)]);
    const z = y.astype("float64");
    expect(z.dtype).to.equal("float64");
    expect(z.toArray()).to.deep.equal([Math.fround(0.1), Math.fround(0.2)]);
    expect(x.astype("float64").toNdarray().data).not.to.equal(x.toNdarray().data);
    expectError(() => x.astype("int8" as never), "astype", "dtype");
  });

  it("every op of API.md's list that takes a tensor first has a method, and its errors carry the op's name", () => {
    const names = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "exp", "log", "sqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid",
      "softplus", "relu", "sum", "mean", "max", "min", "logsumexp", "softmax", "norm", "matmul", "dot", "transpose", "reshape", "broadcastTo", "slice", "stopGradient"];
    const x = tensor([[1, 2], [3, 4]]);
    for (const name of names) {
      const m = (x as unknown as Record<string, unknown>)[name];
      expect(typeof m, name).to.equal("function");
      const bad: unknown[] = name === "reshape" || name === "broadcastTo" ? [[5]] : name === "slice" ? [[3]] : name === "transpose" ? [[0]] : ["x"];
      let threw: Error | null = null;
      try {
        (m as (...a: unknown[]) => Tensor).apply(x, bad);
      } catch (e) {
        threw = e as Error;
      }
      if (threw !== null) expect(threw.message.startsWith(`${name}: `), `${name}: ${threw.message}`).to.equal(true);
    }
  });
});
