/**
 * Forward mode (lib/ad/forward.ts): jvp against closed forms and central
 * finite differences, symbolic zero tangents, broadcast tangents, and one
 * pass with no tape.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Tensor, add, div, exp, grad, jvp, mul, pow, sin, sum, tensor } from "../../lib/index.js";
import { expectClose, fdDirectional, fdGrad, flat, inner, shapeArb, tensorOf } from "../helpers.js";
import { fdJacobian, genericVectorArb, runs, vec, vectorArb } from "./fixtures.js";
import { scalarFunctions, vectorMaps } from "./subjects.js";

describe("jvp: closed forms", () => {
  it("jvp pushes a tangent: J ẋ = ẋ ⊙ eˣ(x + 1) for f = eˣ x", () => {
    const xs = [0.3, -1, 2];
    const ts = [1, 0.5, -2];
    const [out, tangent] = jvp((x: Tensor) => mul(exp(x), x), [vec(xs)], [vec(ts)]);
    expectClose(out, xs.map((v) => Math.exp(v) * v));
    expectClose(tangent, xs.map((v, i) => ts[i] * Math.exp(v) * (v + 1)), 1e-12);
  });

  it("jvp with several primals sums their contributions", () => {
    const [, t] = jvp((a: Tensor, b: Tensor) => mul(a, sin(b)), [vec([2, 3]), vec([0.5, 1])], [vec([1, 0]), vec([0, 1])]);
    expectClose(t, [Math.sin(0.5), 3 * Math.cos(1)]);
  });

  it("jvp of a function returning several outputs gives arrays", () => {
    const [outs, tangents] = jvp((x: Tensor) => [mul(x, x), sin(x)] as unknown as Tensor, [vec([2])], [vec([3])]) as unknown as [Tensor[], Tensor[]];
    expect(outs).to.have.length(2);
    expectClose(outs[0], [4]);
    expectClose(tangents[0], [12]);
    expectClose(tangents[1], [3 * Math.cos(2)]);
  });

  it("jvp on number primals and tangents gives rank-0 tensors", () => {
    const [out, t] = jvp((x: Tensor) => mul(x, mul(x, x)), [2], [1]);
    expect(out.shape).to.deep.equal([]);
    expect(t.shape).to.deep.equal([]);
    expectClose(out, 8);
    expectClose(t, 12);
  });

  it("a zero tangent is a symbolic zero: an unperturbed input cannot turn a finite derivative into NaN", () => {
    // ∂(xʸ)/∂x at (−1.5, 2) is 2·(−1.5) = −3; the y-rule's factor log(−1.5)·xʸ is NaN there.
    const [, alongX] = jvp((x: Tensor, y: Tensor) => pow(x, y), [tensor(-1.5), tensor(2)], [tensor(1), tensor(0)]);
    expect(alongX.item()).to.equal(-3);
    // ∂(1/x + y)/∂y = 1 at x = 0, where the x-rule's factor −1/x² is infinite.
    const [, alongY] = jvp((x: Tensor, y: Tensor) => add(div(1, x), y), [tensor(0), tensor(2)], [tensor(0), tensor(1)]);
    expect(alongY.item()).to.equal(1);
  });

  it("a zero tangent that an outer grad differentiates is kept (its derivative is not lost)", () => {
    const g = grad((t: Tensor) => sum(jvp((x: Tensor) => sin(x), [vec([1, 2])], [t])[1]))(vec([0, 0]));
    expectClose(g, [Math.cos(1), Math.cos(2)], 1e-15);
  });

  it("an output that does not depend on the input has a zero tangent of its own shape", () => {
    const [, t] = jvp((_x: Tensor) => tensor([[1, 2, 3]]), [vec([1])], [vec([1])]);
    expect(t.shape).to.deep.equal([1, 3]);
    expectClose(t, [0, 0, 0]);
  });
});

describe("jvp against finite differences (random inputs)", () => {
  for (const [name, f] of scalarFunctions) {
    it(name, () => {
      fc.assert(
        fc.property(genericVectorArb(6), vectorArb(6), (x, v) => {
          const [out, tangent] = jvp(f, [x], [v]);
          expectClose(out, f(x).item(), 1e-12, 1e-12, `${name} jvp value`);
          expectClose(tangent, inner(tensor(fdGrad((t) => f(t).item(), x)), v), 1e-5, 1e-6, `${name} jvp`);
        }),
        runs(8),
      );
    });
  }

  it("vector-valued functions: jvp is the finite-difference Jacobian times the tangent", () => {
    for (const [name, f] of vectorMaps) {
      fc.assert(
        fc.property(vectorArb(4), vectorArb(4), (x, v) => {
          const J = fdJacobian(f, x);
          const [, tangent] = jvp(f, [x], [v]);
          expectClose(tangent, J.map((row) => row.reduce((s, a, j) => s + a * flat(v)[j], 0)), 1e-5, 1e-6, `${name} jvp`);
        }),
        runs(8),
      );
    }
  });

  it("random shapes of rank 0–3", () => {
    fc.assert(
      fc.property(shapeArb(3, 1, 3).chain((s) => fc.tuple(tensorOf(s), tensorOf(s))), ([x, v]) => {
        const [, tangent] = jvp((t: Tensor) => mul(t, sin(t)), [x], [v]);
        expectClose(tangent, fdDirectional((t) => mul(t, sin(t)), x, v), 1e-5, 1e-6);
      }),
      runs(20),
    );
  });
});

describe("forward mode: tangents travel with the values", () => {
  const X = [[1, 2, 3], [4, 5, 6]];

  it("jvp of a broadcast operand: the tangent is broadcast forward", () => {
    const [, t] = jvp((b: Tensor) => mul(tensor(X), b), [vec([1, 2, 3])], [vec([1, 0, -1])]);
    expect(t.shape).to.deep.equal([2, 3]);
    expectClose(t, [1, 0, -3, 4, 0, -6]);
  });

  it("one pass, no tape: f runs once, its tangent computed alongside, however many ops it applies", () => {
    let calls = 0;
    const f = (x: Tensor): Tensor => {
      calls++;
      let y = x;
      for (let i = 0; i < 200; i++) y = add(mul(y, 0.99), 0.01);
      return y;
    };
    const [out, tangent] = jvp(f, [vec([1, 2])], [vec([1, -1])]);
    expect(calls).to.equal(1);
    expectClose(tangent, [0.99 ** 200, -(0.99 ** 200)], 1e-12);
    expectClose(out, [1, 2].map((v) => 0.99 ** 200 * (v - 1) + 1), 1e-12);
  });
});
