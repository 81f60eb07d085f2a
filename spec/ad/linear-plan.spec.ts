/**
 * A linear program planned once for repeated application (lib/ad/linear-plan.ts):
 * each planned product agrees with jvp and vjp of the function it linearises,
 * results are the caller's own (a later application does not overwrite them),
 * and the flat in-place form agrees with the tensor form.
 */
import { expect } from "chai";
import { jvp, mul, sin, sum, tensor, vjp, type Tensor } from "../../lib/index.js";
import { linearProgram } from "../../lib/ad/linearize.js";
import { planLinear } from "../../lib/ad/linear-plan.js";
import { expectClose } from "../helpers.js";

describe("ad/linear-plan: products planned once", () => {
  // f(x, y) = sin(x)·y + Σx (elementwise, broadcasting the sum): a program with two inputs.
  const f = (x: Tensor, y: Tensor): Tensor => mul(sin(x), y).add(sum(x));
  const x0 = tensor([0.3, -1.2, 2]);
  const y0 = tensor([1.5, 0.5, -2]);

  it("applies each product as jvp and vjp do, and its results stay the caller's", () => {
    const [, program] = linearProgram("plan", f as never, [x0, y0]);
    const plan = planLinear(program, [
      { transposed: false, active: [false, true], wanted: [true] },
      { transposed: false, active: [true, true], wanted: [true] },
      { transposed: true, active: [true], wanted: [true, true] },
    ]);
    const v = tensor([1, 2, 3]);
    const w = tensor([-1, 0.5, 2]);
    const onlyY = plan.apply(0, [null, v])[0]!;
    expectClose(onlyY, jvp(f, [x0, y0], [tensor([0, 0, 0]), v])[1] as Tensor, 1e-15);
    const both = plan.apply(1, [w, v])[0]!;
    // A second application must not overwrite the first result.
    plan.apply(0, [null, w]);
    expectClose(onlyY, jvp(f, [x0, y0], [tensor([0, 0, 0]), v])[1] as Tensor, 1e-15);
    expectClose(both, jvp(f, [x0, y0], [w, v])[1] as Tensor, 1e-15);
    const [xBar, yBar] = plan.apply(2, [v]);
    const [, pullback] = vjp(f, x0, y0);
    const expected = pullback(v) as Tensor[];
    expectClose(xBar!, expected[0], 1e-14);
    expectClose(yBar!, expected[1], 1e-14);
    // An active input given no tangent is a zero.
    expectClose(plan.apply(1, [null, v])[0]!, onlyY, 1e-15);
  });

  it("applies a product in place on flat vectors, as the tensor form", () => {
    const [, program] = linearProgram("plan", f as never, [x0, y0]);
    const plan = planLinear(program, [{ transposed: true, active: [true], wanted: [false, true] }]);
    const out = new Float64Array(3);
    plan.into(0, 0, Float64Array.from([1, 2, 3]), 1, out);
    expect(Array.from(out)).to.deep.equal(Array.from((plan.apply(0, [tensor([1, 2, 3])])[1]!).toFloat64Array()));
  });
});
