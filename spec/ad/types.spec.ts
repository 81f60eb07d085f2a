/**
 * The transformations keep the user's parameter types: `tsc` (part of `npm
 * test`) checks the lines below, and each `@ts-expect-error` must be an error
 * for the type check to pass. At run time they compute what their types say.
 */
import { expect } from "chai";
import { Tensor, grad, hessian, jacobian, mul, sum, tensor, valueAndGrad, vjp, type Operand } from "../../lib/index.js";

const scaled = (x: Tensor, k: number): Tensor => sum(mul(x, k));

describe("types: derived functions keep the user's parameter types", () => {
  it("grad, valueAndGrad, jacobian and hessian take f's parameters (a Tensor parameter accepts any operand)", () => {
    const g: (x: Operand, k: number) => Tensor = grad(scaled);
    expect(Array.from(g([1, 2], 3).toFloat64Array())).to.deep.equal([3, 3]);
    expect(Array.from(g(tensor([1, 2]), 2).toFloat64Array())).to.deep.equal([2, 2]);
    // @ts-expect-error k is a number, not a string
    expect(() => g(tensor([1]), "3")).to.throw();
    // @ts-expect-error k is missing
    expect(() => g(tensor([1]))).to.throw();

    const [value, gradient] = valueAndGrad(scaled)(tensor([1, 2]), 2);
    expect(value.item()).to.equal(6);
    expect(gradient.shape).to.deep.equal([2]);
    const several: Tensor[] = grad((a: Tensor, b: Tensor) => sum(mul(a, b)), { argnums: [0, 1] })(tensor([1]), tensor([2]));
    expect(several).to.have.length(2);
    expect(jacobian((x: Tensor) => mul(x, 2))([1, 2]).shape).to.deep.equal([2, 2]);
    expect(hessian((x: Tensor) => sum(mul(x, x)))(tensor([1, 2])).shape).to.deep.equal([2, 2]);
  });

  it("vjp takes f's parameters as its primals", () => {
    const [out, pullback] = vjp(scaled, tensor([1, 2]), 5);
    expect(out.item()).to.equal(15);
    expect(Array.from(pullback(1)[0].toFloat64Array())).to.deep.equal([5, 5]);
    // @ts-expect-error the second primal is a number
    expect(() => vjp(scaled, tensor([1, 2]), "5")).to.throw(/vjp: primal 1/);
  });
});
