/**
 * The one input rule (lib/primitives/operands.ts; issue 15, item 5): wherever a
 * Tensor is expected, every public function accepts what tensor() accepts (a
 * Tensor, a number, nested arrays, a Float64Array/Float32Array, an ndarray view)
 * and gives the same result; values that carry a dtype keep it; anything else is
 * an Error naming the public function and the argument.
 */
import { expect } from "chai";
import ndarray from "ndarray";
import {
  Tensor, cg, checkGrad, customJvp, customVjp, exp, grad, hessian, hvp, jacobian, jvp, mul, sin, sum, tensor, traceTape,
  valueAndGrad, verifyImplicit, vjp, ImplicitFunction, sub,
} from "../../lib/index.js";
import fc from "fast-check";
import { expectClose, expectError } from "../helpers.js";

/** The vector [1, 2] in every form the rule accepts (the ndarray is a strided view into padding). */
const forms: [string, () => unknown][] = [
  ["a Tensor", () => tensor([1, 2])],
  ["nested arrays", () => [1, 2]],
  ["a Float64Array", () => new Float64Array([1, 2])],
  ["a strided ndarray view", () => ndarray(new Float64Array([1, -7, 2, -7]), [2], [2], 0)],
  ["an ndarray over a plain array", () => ndarray([1, 2], [2])],
];

const sq = (x: Tensor): Tensor => sum(mul(x, x));
const cube = (x: Tensor): Tensor => mul(mul(x, x), x);

describe("the one input rule", () => {
  for (const [name, make] of forms) {
    it(`${name} is accepted by every transformation with the same result`, () => {
      expectClose(grad(sq)(make() as never), [2, 4], 0, 0, "grad");
      expectClose(valueAndGrad(sq)(make() as never)[1] as Tensor, [2, 4], 0, 0, "valueAndGrad");
      const [out, pullback] = vjp(cube, make() as never);
      expectClose(out, [1, 8], 0, 0);
      expectClose(pullback(make() as Tensor)[0], [3, 24], 0, 0, "vjp cotangent");
      const [o, t] = jvp(cube, [make()], [make()]);
      expectClose(o, [1, 8], 0, 0);
      expectClose(t, [3, 24], 0, 0, "jvp tangent");
      expectClose(jacobian(cube)(make() as never), [3, 0, 0, 12], 0, 0, "jacobian");
      expectClose(jacobian(cube, { mode: "rev" })(make() as never), [3, 0, 0, 12], 0, 0, "jacobian rev");
      expectClose(hessian((x: Tensor) => sum(cube(x)))(make() as never), [6, 0, 0, 12], 0, 0, "hessian");
      expectClose(hvp((x: Tensor) => sum(cube(x)), [make()], [make()]) as Tensor, [6, 24], 0, 0, "hvp");
      expectClose(traceTape(sq, make() as Tensor).gradients[0] as number[], [2, 4], 0, 0, "traceTape");
      const result = checkGrad(cube, [make()]);
      expect(result.ok, result.report).to.equal(true);
      expect(result.checked).to.be.greaterThan(0);
      expectClose(cg(tensor([[2, 0], [0, 4]]), make() as Tensor).x, [0.5, 0.5], 1e-12, 0, "cg right-hand side");
    });
  }

  it("custom rules take data as arguments, cotangents and tangents", () => {
    const twice = customVjp((x: Tensor) => mul(x, 2), (x: Tensor) => [mul(x, 2), null], () => [[2, 2]]);
    expectClose(grad((x: Tensor) => sum(twice(x)))([1, 2]), [2, 2], 0, 0);
    expectClose(twice(new Float64Array([1, 2])), [2, 4], 0, 0);
    const expRule = customJvp((x: Tensor) => exp(x), ([x]: Tensor[], [t]: Tensor[]) => [exp(x), mul(exp(x), t)]);
    expectClose(jvp(expRule, [[0, 1]], [[1, 1]])[1], [1, Math.E], 1e-15, 0);
    const fixedTangent = customJvp((x: Tensor) => sin(x), ([x]: Tensor[]) => [sin(x), new Float64Array([5, 6])]);
    expectClose(jvp(fixedTangent, [[0, 1]], [[1, 1]])[1], [5, 6], 0, 0);
  });

  it("dtypes: data with a dtype keeps it, numbers and nested arrays adopt their partner's", () => {
    const g = grad(sq)(new Float32Array([1, 2]));
    expect(g.dtype).to.equal("float32");
    expectClose(g, [2, 4], 0, 0);
    const [, t] = jvp(cube, [tensor([1, 2], { dtype: "float32" })], [[1, 1]]);
    expect(t.dtype).to.equal("float32");
    expectError(() => jvp(cube, [[1, 2]], [new Float32Array([1, 1])]), "jvp:", "tangent 0", "float32", "float64");
    const [, pullback] = vjp(cube, tensor([1, 2], { dtype: "float32" }));
    expect(pullback([1, 1])[0].dtype).to.equal("float32");
  });

  it("shapes are still exact: a tangent or cotangent of another shape names both", () => {
    expectError(() => jvp(cube, [[1, 2]], [[1, 2, 3]]), "jvp:", "tangent 0", "[3]", "[2]");
    expectError(() => jvp(cube, [[1, 2]], [3]), "jvp:", "tangent 0", "[]", "[2]");
    const [, pullback] = vjp(cube, [1, 2]);
    expectError(() => pullback([[1, 2]] as never), "vjp:", "[1,2]", "[2]");
  });

  it("anything else is an Error naming the public function and the argument (no false 'only Tensors and numbers')", () => {
    const e = expectError(() => grad(sq)("1" as never), "grad:", "argument 0", "tensor() accepts");
    expect(e.message).not.to.contain("only Tensors and numbers");
    expectError(() => grad(sq)([[1], [1, 2]] as never), "grad: argument 0:", "ragged");
    expectError(() => vjp(cube, [1, "2"] as never), "vjp: primal 0:", "string");
    expectError(() => jvp(cube, [[1, 2]], [["1", 2]]), "jvp: tangent 0", "string");
    expectError(() => vjp(cube, [1, 2])[1](null as never), "vjp:", "cotangent", "[2]");
    expectError(() => checkGrad(cube, [[1, 2], "x"], { argnums: [1] }), "checkGrad:", "argument 1");
    // checkGrad picks tensor data by itself and leaves other arguments alone
    const scaled = (x: Tensor, opts: { k: number }): Tensor => mul(x, opts.k);
    const result = checkGrad(scaled as never, [[1, 2], { k: 3 }]);
    expect(result.ok, result.report).to.equal(true);
    expect(result.report).to.contain("argument 0 [2]");
  });

  it("verifyImplicit takes arbitraries producing tensor data", () => {
    const sqrt = new ImplicitFunction({
      forward: (x: Tensor) => tensor(Math.sqrt(x.item())),
      conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x),
    });
    const summary = verifyImplicit(sqrt, [fc.double({ min: 1, max: 4, noNaN: true }).map((v) => [v])], { numRuns: 5 });
    expect(summary.ok).to.equal(true);
  });
});
