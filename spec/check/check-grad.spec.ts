import { expect } from "chai";
import { checkGrad, customVjp, tensor, mul, sum, exp, sin, matmul, Tensor, logsumexp, softmax } from "../../lib/index.js";

describe("checkGrad", () => {
  it("passes correct derivatives of scalar and tensor-valued functions", () => {
    const r1 = checkGrad((x: Tensor) => sum(exp(x)), [tensor([0.1, 0.2, -0.3])]);
    expect(r1.ok, r1.report).to.equal(true);
    expect(r1.maxError).to.be.below(1e-6);
    const A = tensor([[1, 2], [3, 4], [0.5, -1]]);
    const r2 = checkGrad((M: Tensor, x: Tensor) => softmax(matmul(M, sin(x))), [A, tensor([0.3, -0.7])]);
    expect(r2.ok, r2.report).to.equal(true);
    expect(r2.checked).to.be.greaterThan(10);
    const r3 = checkGrad((x: Tensor, s: number) => mul(logsumexp(x), s), [tensor([1, 2, 3]), 2.5], { richardson: true });
    expect(r3.ok, r3.report).to.equal(true);
  });

  it("catches a deliberately wrong customVjp rule and says where", () => {
    // f(x) = x³ with a pullback that forgets the factor 3.
    const cube = customVjp(
      (x: Tensor) => mul(x, mul(x, x)),
      (x: Tensor) => [mul(x, mul(x, x)), x],
      (x: Tensor, ct: Tensor) => [mul(ct, mul(x, x))],
    );
    const r = checkGrad((x: Tensor) => sum(cube(x)), [tensor([0.5, 2])], { modes: ["rev"] });
    expect(r.ok).to.equal(false);
    expect(r.failures.length).to.equal(2);
    expect(r.report).to.match(/reverse mode: argument 0, entry 1: expected 12\.0+\d* \(finite differences\), got 4\.0+/);
    expect(r.maxError).to.be.greaterThan(0.5);
  });

  it("catches a wrong rule in forward mode too (customVjp transposed under jvp)", () => {
    const cube = customVjp(
      (x: Tensor) => mul(x, mul(x, x)),
      (x: Tensor) => [mul(x, mul(x, x)), x],
      (x: Tensor, ct: Tensor) => [mul(ct, mul(2, mul(x, x)))],
    );
    const r = checkGrad((x: Tensor) => cube(x), [tensor([1.5])]);
    expect(r.ok).to.equal(false);
    expect(r.failures.map((m) => m.mode)).to.include.members(["rev", "fwd"]);
  });

  it("rejects misuse with errors that begin with checkGrad", () => {
    expect(() => checkGrad(3 as never, [])).to.throw(/^checkGrad: f must be a function/);
    expect(() => checkGrad((x: Tensor) => x, tensor(1) as never)).to.throw(/^checkGrad: args must be an array/);
    expect(() => checkGrad((x: Tensor) => x, [tensor(1)], { rtol: "big" as never })).to.throw(/^checkGrad: rtol/);
    expect(() => checkGrad((x: Tensor) => x, [tensor(1)], { argnums: [3] })).to.throw(/^checkGrad: argnums/);
  });
});
