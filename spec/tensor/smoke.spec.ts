import { expect } from "chai";
import { tensor, matmul, sum, grad, mul } from "../../lib/index.js";
import { expectClose, nonContiguous } from "../helpers.js";

describe("smoke", () => {
  it("matmul and sum on a non-contiguous view", () => {
    const a = tensor([[1, 2], [3, 4]]);
    for (const kind of ["padded", "transposed", "reversed"] as const) {
      const v = nonContiguous(a, kind);
      expect(v.toArray()).to.deep.equal([[1, 2], [3, 4]]);
      expectClose(matmul(v, v), [7, 10, 15, 22]);
      expectClose(sum(v), 10);
    }
  });
  it("grad of sum(x*x)", () => {
    expectClose(grad((x) => sum(mul(x, x)))(tensor([1, 2])), [2, 4]);
  });
});
