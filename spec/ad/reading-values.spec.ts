/**
 * Values that leave the tape (issue 15, item 1). Reading a differentiated value
 * as plain numbers (item, toArray, toFloat64Array, toNdarray, data) would drop
 * its derivative without a word: it is an Error naming the accessor and the way
 * out. Values with no derivative (comparisons, sign, stopGradient) stay
 * readable, so control flow on values works under every transformation.
 */
import { expect } from "chai";
import {
  ImplicitFunction, Tensor, customJvp, customVjp, equal, exp, grad, greater, hessian, jvp, less, mul, neg, sign, sin, stopGradient,
  sub, sum, tensor, valueAndGrad, vjp, where,
} from "../../lib/index.js";
import { expectClose, expectError } from "../helpers.js";
import { vec } from "./fixtures.js";

const accessors: [string, (x: Tensor) => unknown][] = [
  ["item", (x) => x.item()],
  ["toArray", (x) => x.toArray()],
  ["toFloat64Array", (x) => x.toFloat64Array()],
  ["toNdarray", (x) => x.toNdarray()],
  ["data", (x) => x.data],
];

describe("values that leave the tape", () => {
  it("a differentiated value read as plain numbers is an Error naming the accessor and stopGradient, in every mode", () => {
    for (const [name, read] of accessors) {
      const call = name === "data" ? "data" : `${name}()`;
      const leaks = (x: Tensor): Tensor => mul(x, (read(x) === undefined ? 0 : 1));
      expectError(() => grad(leaks)(tensor(2)), `${name}:`, "differentiated", `stopGradient(x).${call}`);
      expectError(() => valueAndGrad(leaks)(tensor(2)), `${name}:`);
      expectError(() => vjp(leaks, tensor(2)), `${name}:`);
      expectError(() => jvp(leaks, [tensor(2)], [tensor(1)]), `${name}:`, "differentiated");
      // one level down from an outer transformation as well
      expectError(() => grad((x: Tensor) => jvp((z: Tensor) => mul(z, x.item()), [tensor(1)], [tensor(1)])[1])(tensor(2)), "item:");
    }
  });

  it("the issue's cases: a derivative that used to come back 0 is now an Error", () => {
    // Math.exp(θ.item()) returned a constant: grad was 0, the truth is e^θ.
    expectError(() => grad((theta: Tensor) => Math.exp(theta.item()))(tensor(0.5)), "item:", "stopGradient(x).item()");
    expectError(() => grad((x: Tensor) => tensor((x.toArray() as number[]).map((v) => v * v)).sum())(vec([1, 2])), "toArray:");
    // In the conditions of an implicit function, sub(mul(y, y), x.item()) gave grad = 0 for √x.
    const sqrt = new ImplicitFunction({
      forward: (x: Tensor) => tensor(Math.sqrt(x.item())),
      conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x.item()),
    });
    expect(sqrt.call(tensor(4)).item()).to.equal(2);
    expectError(() => grad((x: Tensor) => sqrt.call(x))(tensor(4)), "item:");
    expectError(() => jvp((x: Tensor) => sqrt.call(x), [tensor(4)], [tensor(1)]), "item:");
  });

  it("stopGradient(x) reads as a constant, with the derivative that implies", () => {
    // f(x) = x · c with c = x held constant: f'(x) = c.
    expectClose(grad((x: Tensor) => mul(x, stopGradient(x).item()))(tensor(3)), 3, 0, 0);
    expectClose(jvp((x: Tensor) => mul(x, stopGradient(x).item()), [tensor(3)], [tensor(1)])[1], 3, 0, 0);
    expectClose(grad((x: Tensor) => grad((z: Tensor) => mul(mul(z, z), stopGradient(x).item()))(x))(tensor(3)), 6, 0, 0);
    expect(grad((x: Tensor) => sum(mul(x, tensor(stopGradient(x).toArray()))))(vec([1, 2])).toArray()).to.deep.equal([1, 2]);
  });

  it("comparisons and sign are plain values under every transformation: control flow on values works", () => {
    // f(x) = x³ for x > 0, −x otherwise: f'(3) = 27, f''(3) = 18, f'(−2) = −1.
    const f = (z: Tensor): Tensor => (greater(z, 0).item() === 1 ? mul(mul(z, z), z) : neg(z));
    expectClose(grad(f)(tensor(3)), 27, 0, 0);
    expectClose(grad(f)(tensor(-2)), -1, 0, 0);
    expectClose(jvp(f, [tensor(3)], [tensor(1)])[1], 27, 0, 0);
    expectClose(grad(grad(f))(tensor(3)), 18, 0, 0);
    expectClose(jvp((x: Tensor) => grad(f)(x), [tensor(3)], [tensor(1)])[1], 18, 0, 0);
    expectClose(hessian((v: Tensor) => (sign(sum(v)).item() > 0 ? sum(mul(v, v)) : sum(v)))(vec([1, 2])), [2, 0, 0, 2], 0, 0);
    // A mask read out and used again is fine: it has no derivative to lose.
    const clipped = (v: Tensor): Tensor => sum(mul(tensor(less(v, 1).toArray()), exp(v)));
    expectClose(grad(clipped)(vec([0, 2])), [1, 0], 0, 0);
    expect(grad((x: Tensor) => { expect(equal(x, 2)._trace).to.equal(null); return where(equal(x, 2), x, 0); })(tensor(2)).item()).to.equal(1);
  });

  it("values nobody differentiates stay readable: constants, finished transformations, forward of an implicit function", () => {
    const c = tensor([1, 2]);
    expectClose(grad((x: Tensor) => mul(x, (c.toArray() as number[])[1]))(tensor(1)), 2, 0, 0);
    let leaked: Tensor | null = null;
    grad((x: Tensor) => (leaked = mul(x, 2)))(tensor(1.5));
    expect(leaked!.item()).to.equal(3);
    expect(Array.from(leaked!.data)).to.deep.equal([3]);
    // forward runs on plain values even when call is differentiated (the README's x.item() pattern)
    const sqrt = new ImplicitFunction({
      forward: (x: Tensor) => tensor(Math.sqrt(x.item())),
      conditions: (x: Tensor, y: Tensor) => sub(mul(y, y), x),
    });
    expectClose(grad((x: Tensor) => sqrt.call(x))(tensor(4)), 0.25, 1e-12, 0);
  });

  it("printing a traced value shows its numbers without reading them off the tape", () => {
    const seen: string[] = [];
    grad((x: Tensor) => { seen.push(String(mul(x, 2))); return sum(x); })(vec([1, 2]));
    expect(seen[0]).to.contain("traced").and.to.contain("[2,4]");
  });

  it("a custom rule reading a differentiated closure as numbers is caught as a closure", () => {
    const scaleBy = (a: Tensor) => customVjp(
      (x: Tensor) => mul(x, a.item()),
      (x: Tensor) => [mul(x, a.item()), null] as [Tensor, null],
      (_r: null, ct: Tensor) => [mul(ct, a.item())],
    );
    expectError(() => grad((a: Tensor, x: Tensor) => sum(scaleBy(a)(x)), { argnums: [0, 1] })(tensor(2), tensor(3)), "customVjp:", "closure");
    // a rule that reads its tangent as numbers cannot be transposed, and says so
    const plain = customJvp((x: Tensor) => sin(x), ([x]: Tensor[], [t]: Tensor[]) => [sin(x), tensor(t.item() * Math.cos(x.item()))] as [Tensor, Tensor]);
    expectClose(jvp(plain, [tensor(0.5)], [tensor(1)])[1], Math.cos(0.5), 1e-15, 0);
    expectError(() => grad(plain)(tensor(0.5)), "customJvp:", "cannot transpose", "item");
  });
});
