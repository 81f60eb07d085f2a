/**
 * Nested transformations: no perturbation confusion in any combination of
 * grad / jvp / vjp, and higher derivatives against closed forms.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  Tensor, add, cos, exp, grad, hessian, jacobian, jvp, logsumexp, matmul, mul, sin, sum, tensor, vjp,
} from "../../lib/index.js";
import { expectClose, flat } from "../helpers.js";
import { flatRows, matvecJs, randomMatrix, runs, scalarArb, softmaxJs, vec, vectorArb } from "./fixtures.js";

type Kind = "grad" | "jvp" | "vjp";
const kinds: Kind[] = ["grad", "jvp", "vjp"];

/** d/dx f(x) at a scalar x, by the transformation `kind`. */
function derivative(kind: Kind, f: (x: Tensor) => Tensor, x: Tensor | number): Tensor {
  if (kind === "grad") return grad(f)(x);
  if (kind === "jvp") return jvp(f, [x], [1])[1];
  const [, pullback] = vjp(f, x);
  return pullback(1)[0];
}

/** The same, as a function of x (so that derivatives compose). */
const D = (kind: Kind) => (f: (x: Tensor) => Tensor) => (x: Tensor): Tensor => derivative(kind, f, x);

describe("nesting: no perturbation confusion", () => {
  for (const outer of kinds) {
    for (const inner of kinds) {
      it(`${outer} of ${inner}: d/dx [x · (d/dy (x + y))(1)] = 1 at any x`, () => {
        fc.assert(
          fc.property(scalarArb(-5, 5), (x0) => {
            const F = (x: Tensor): Tensor => mul(x, derivative(inner, (y) => add(x, y), 1));
            expectClose(derivative(outer, F, x0), 1, 0, 1e-15);
          }),
          runs(10),
        );
      });

      it(`${outer} of ${inner}: d/dx [x · (d/dy (x · y))(2)] = 2x`, () => {
        fc.assert(
          fc.property(scalarArb(-5, 5), (x0) => {
            const F = (x: Tensor): Tensor => mul(x, derivative(inner, (y) => mul(x, y), 2));
            expectClose(derivative(outer, F, x0), 2 * x0, 1e-15, 1e-15);
          }),
          runs(10),
        );
      });
    }
  }

  it("three levels: d/dx [x · d/dy [y · d/dz (x + y + z)]] = 1 for every mix of grad and jvp", () => {
    for (const a of kinds) for (const b of kinds) for (const c of kinds) {
      const F = (x: Tensor): Tensor =>
        mul(x, derivative(b, (y) => mul(y, derivative(c, (z) => add(add(x, y), z), 0.5)), -1.5));
      expectClose(derivative(a, F, 0.75), 1, 0, 1e-15, `${a}/${b}/${c}`);
    }
  });

  it("vector inner variable closing over a scalar outer one: d/dx Σ ∇_y (x·Σy²) = d/dx 2x·Σy = 2Σy", () => {
    const y0 = vec([0.5, -2, 1.25]);
    const F = (x: Tensor): Tensor => sum(grad((y: Tensor) => mul(x, sum(mul(y, y))))(y0));
    expectClose(grad(F)(3), 2 * (0.5 - 2 + 1.25), 1e-14);
    expectClose(jvp(F, [3], [1])[1], 2 * (0.5 - 2 + 1.25), 1e-14);
  });

  it("mixed partials by nesting over different arguments: ∂²(x²y³)/∂x∂y = 6xy²", () => {
    const f = (x: Tensor, y: Tensor): Tensor => mul(mul(x, x), mul(y, mul(y, y)));
    fc.assert(
      fc.property(scalarArb(), scalarArb(), (x, y) => {
        const dxdy = grad((xv: Tensor) => grad((yv: Tensor) => f(xv, yv))(y))(x);
        const dydx = grad((yv: Tensor) => grad((xv: Tensor) => f(xv, yv))(x))(y);
        expectClose(dxdy, 6 * x * y * y, 1e-12, 1e-12);
        expectClose(dydx, 6 * x * y * y, 1e-12, 1e-12);
        const viaArgnums = grad((xv: Tensor, yv: Tensor) => grad(f, { argnums: 1 })(xv, yv), { argnums: 0 })(x, y);
        expectClose(viaArgnums, 6 * x * y * y, 1e-12, 1e-12);
      }),
      runs(10),
    );
  });
});

describe("higher derivatives against closed forms", () => {
  const thirdOrderCases: [string, (x: Tensor) => Tensor, (x: number) => number][] = [
    ["sin", (x) => sin(x), (x) => -Math.cos(x)],
    ["exp·x³", (x) => mul(exp(x), mul(x, mul(x, x))), (x) => Math.exp(x) * (x ** 3 + 9 * x ** 2 + 18 * x + 6)],
  ];
  for (const [name, f, third] of thirdOrderCases) {
    it(`3rd derivative of ${name}, every composition of grad / jvp / vjp`, () => {
      for (const a of kinds) for (const b of kinds) for (const c of kinds) {
        for (const x of [-1.2, 0.3, 1.7]) {
          expectClose(D(a)(D(b)(D(c)(f)))(tensor(x)), third(x), 1e-12, 1e-12, `${a}∘${b}∘${c} at ${x}`);
        }
      }
    });
  }

  it("2nd derivative: grad(grad(sin)) = −sin, jvp(grad(sin)) = −sin, grad(jvp(cos)) = −cos", () => {
    fc.assert(
      fc.property(scalarArb(-4, 4), (x) => {
        expectClose(grad(grad(sin))(x), -Math.sin(x), 1e-13, 1e-14);
        expectClose(jvp(grad(sin), [x], [1])[1], -Math.sin(x), 1e-13, 1e-14);
        expectClose(grad((t: Tensor) => jvp(cos, [t], [1])[1])(x), -Math.cos(x), 1e-13, 1e-14);
      }),
      runs(15),
    );
  });

  it("4th and 5th derivatives: sin⁗ = sin, exp⁽⁵⁾ = exp", () => {
    const x = 0.9;
    expectClose(grad(grad(grad(grad(sin))))(x), Math.sin(x), 1e-13);
    expectClose(D("jvp")(D("grad")(D("jvp")(D("grad")(D("vjp")((t) => exp(t))))))(tensor(x)), Math.exp(x), 1e-13);
  });

  it("jvp(grad(f)) is H·v and grad of ⟨∇f, v⟩ via jvp is H·v, for f = logsumexp", () => {
    fc.assert(
      fc.property(vectorArb(4), vectorArb(4), (x, v) => {
        const p = softmaxJs(flat(x));
        const vs = flat(v);
        const pv = p.reduce((s, pi, i) => s + pi * vs[i], 0);
        const expected = p.map((pi, i) => pi * vs[i] - pi * pv);
        const f = (t: Tensor): Tensor => logsumexp(t);
        expectClose(jvp(grad(f), [x], [v])[1], expected, 1e-10, 1e-13, "jvp(grad)");
        expectClose(grad((t: Tensor) => jvp(f, [t], [v])[1])(x), expected, 1e-10, 1e-13, "grad(jvp)");
        expectClose(grad((t: Tensor) => sum(mul(grad(f)(t), v)))(x), expected, 1e-10, 1e-13, "grad(⟨grad, v⟩)");
      }),
      runs(10),
    );
  });

  it("jacobian(grad(f)) in both modes is the Hessian A + Aᵀ + diag(6x) of xᵀAx + Σx³", () => {
    const A = randomMatrix(3, 3, 31);
    const f = (t: Tensor): Tensor => add(sum(mul(t, matmul(tensor(A), t))), sum(mul(t, mul(t, t))));
    fc.assert(
      fc.property(vectorArb(3), (x) => {
        const xs = flat(x);
        const expected = flatRows(A.map((row, i) => row.map((v, j) => v + A[j][i] + (i === j ? 6 * xs[i] : 0))));
        expectClose(jacobian(grad(f), { mode: "rev" })(x), expected, 1e-12, 1e-13, "rev");
        expectClose(jacobian(grad(f), { mode: "fwd" })(x), expected, 1e-12, 1e-13, "fwd");
        expectClose(hessian(f)(x), expected, 1e-12, 1e-13, "hessian");
      }),
      runs(10),
    );
  });

  it("jacobian of jacobian: the third-order tensor of x ↦ x³ (elementwise) is 6xᵢ on the diagonal", () => {
    const xs = [0.5, -1, 2];
    const T = jacobian(jacobian((t: Tensor) => mul(t, mul(t, t)), { mode: "rev" }), { mode: "fwd" })(vec(xs));
    expect(T.shape).to.deep.equal([3, 3, 3]);
    const expected: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) expected.push(i === j && j === k ? 6 * xs[i] : 0);
    expectClose(T, expected, 1e-14, 1e-15);
  });

  it("a gradient penalty: ∇ ‖∇f‖² = 6x⁵ for f = Σ x⁴/4", () => {
    const f = (t: Tensor): Tensor => mul(0.25, sum(mul(mul(t, t), mul(t, t))));
    const penalty = (t: Tensor): Tensor => {
      const g = grad(f)(t);
      return sum(mul(g, g));
    };
    const xs = [0.5, -1.2, 0.9];
    expectClose(grad(penalty)(vec(xs)), xs.map((v) => 6 * v ** 5), 1e-12);
  });

  it("a pullback used inside grad: ∇ₓ Σ (vjp of sin at x)(c) = −c ⊙ sin x", () => {
    const c = [1, -2, 0.5];
    const xs = [0.3, 1.1, -0.7];
    const g = grad((x: Tensor) => sum(vjp((t: Tensor) => sin(t), x)[1](vec(c))[0]))(vec(xs));
    expectClose(g, xs.map((v, i) => -c[i] * Math.sin(v)), 1e-13);
  });

  it("jvp inside jvp with vector tangents: the second directional derivative uᵀ(A + Aᵀ)v of xᵀAx", () => {
    const A = randomMatrix(3, 3, 32);
    const u = [1, 0.5, -1];
    const v = [0.25, 2, 1];
    const f = (t: Tensor): Tensor => sum(mul(t, matmul(tensor(A), t)));
    const second = jvp((x: Tensor) => jvp(f, [x], [vec(v)])[1], [vec([0.3, 0.1, -0.2])], [vec(u)])[1];
    const Hv = matvecJs(A.map((row, i) => row.map((a, j) => a + A[j][i])), v);
    expectClose(second, u.reduce((s, ui, i) => s + ui * Hv[i], 0), 1e-13);
  });
});
