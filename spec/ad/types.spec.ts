/**
 * The transformations keep the user's parameter types: `tsc` (part of `npm
 * test`) checks the lines below, and each `@ts-expect-error` must be an error
 * for the type check to pass. At run time they compute what their types say.
 */
import { expect } from "chai";
import { Tensor, grad, hessian, hvp, jacobian, linearize, mul, sin, sum, tensor, valueAndGrad, vjp, type LinearFunction, type Operand } from "../../lib/index.js";

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

  it("linearize of a one-output f gives a lin returning a Tensor; hvp of one primal a Tensor, of several an array (issue 25)", () => {
    const [y, lin] = linearize((x: Tensor) => sin(x), tensor([0, 1]));
    const tangent: Tensor = lin(tensor([1, 1]));
    expect(tangent.shape).to.deep.equal(y.shape);
    const [ys, linMany] = linearize((x: Tensor) => [sin(x), mul(x, 2)], tensor([0, 1]));
    const tangents: Tensor[] = linMany(tensor([1, 1]));
    expect(tangents).to.have.length(ys.length);
    // A LinearFunction of either kind is still a LinearFunction.
    const general: LinearFunction = lin;
    expect(general).to.equal(lin);

    const square = (x: Tensor): Tensor => sum(mul(x, x));
    const hv: Tensor = hvp(square, [tensor([1, 2])], [tensor([1, 0])]);
    expect(Array.from(hv.toFloat64Array())).to.deep.equal([2, 0]);
    const blocks: Tensor[] = hvp((a: Tensor, b: Tensor) => sum(mul(a, b)), [tensor([1]), tensor([2])], [tensor([1]), tensor([0])]);
    expect(blocks).to.have.length(2);
    // An array of unknown length gives the union, as before.
    const primals: Tensor[] = [tensor([1, 2])];
    const either: Tensor | Tensor[] = hvp(square, primals, [tensor([1, 0])]);
    expect(either).to.be.instanceOf(Tensor);
  });

  it("toArray(rank) is typed by the rank asked for and checked against the tensor's (issue 25)", () => {
    const v: number[] = tensor([1, 2]).toArray(1);
    const m: number[][] = tensor([[1, 2]]).toArray(2);
    const s: number = tensor(3).toArray(0);
    expect([v, m, s]).to.deep.equal([[1, 2], [[1, 2]], 3]);
    // @ts-expect-error without a rank the type is NestedArray, as before
    const unknownRank: number[] = tensor([1, 2]).toArray();
    expect(unknownRank).to.deep.equal([1, 2]);
    expect(() => tensor([1, 2]).toArray(2)).to.throw(/^toArray: rank 2 was expected but the tensor has shape \[2\] \(rank 1\)/);
    expect(() => tensor([[1, 2]]).toArray(1)).to.throw(/reshape\(x, \[-1\]\)/);
    expect(() => tensor([5]).toArray(0)).to.throw(/item\(\)/);
    expect(() => tensor([5]).toArray(-1 as 0)).to.throw(/^toArray: rank must be a non-negative integer/);
  });
});
