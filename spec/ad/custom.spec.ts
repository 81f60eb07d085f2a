/**
 * stopGradient, customVjp and customJvp (lib/ad/custom.ts): the user's rule is
 * used in its own mode and differentiable again when written with library ops.
 * The rules (./subjects.ts) are deliberately different from the true
 * derivative, so that a test can tell the user's rule was the one used. A rule
 * used in the other mode is transposed: transpose.spec.ts.
 */
import fc from "fast-check";
import { Tensor, add, customJvp, customVjp, grad, hessian, jvp, mul, neg, stopGradient, sum, tensor, vjp } from "../../lib/index.js";
import { expectClose, expectError, flat } from "../helpers.js";
import { runs, scalarArb, vec, vectorArb } from "./fixtures.js";
import { halfSin, tripleExp } from "./subjects.js";

describe("stopGradient", () => {
  it("keeps the value and blocks the derivative: d/dx x·sg(x) = x (not 2x), in both modes", () => {
    const xs = [0.5, -2, 3];
    const f = (x: Tensor): Tensor => sum(mul(x, stopGradient(x)));
    expectClose(stopGradient(vec(xs)), xs);
    expectClose(grad(f)(vec(xs)), xs);
    expectClose(jvp(f, [vec(xs)], [vec([1, 1, 1])])[1], xs.reduce((s, v) => s + v, 0));
    const [, pullback] = vjp((x: Tensor) => stopGradient(mul(x, x)), vec(xs));
    expectClose(pullback(vec([1, 1, 1]))[0], [0, 0, 0]);
  });

  it("second order: f = x²·sg(x) has f' = 2x·sg(x) = 2x² and f'' = 2·sg(x) = 2x (sg stops every level)", () => {
    const f = (x: Tensor): Tensor => mul(mul(x, x), stopGradient(x));
    fc.assert(
      fc.property(scalarArb(), (x) => {
        expectClose(grad(f)(x), 2 * x * x, 1e-14, 1e-15);
        expectClose(grad(grad(f))(x), 2 * x, 1e-14, 1e-15);
        expectClose(jvp(grad(f), [x], [1])[1], 2 * x, 1e-14, 1e-15);
      }),
      runs(10),
    );
  });

  it("only blocks the transformation it is applied under: inside an inner grad it stops the inner variable", () => {
    // d/dx [ d/dy ( sg(y)·x·y ) ](y=2) = d/dx (2x) = 2
    const F = (x: Tensor): Tensor => grad((y: Tensor) => mul(mul(stopGradient(y), x), y))(2);
    expectClose(grad(F)(1.5), 2);
  });
});

describe("customVjp", () => {
  it("evaluates f and uses bwd under grad and vjp", () => {
    fc.assert(
      fc.property(vectorArb(3), (x) => {
        const xs = flat(x);
        expectClose(halfSin(x), xs.map(Math.sin), 1e-15, 1e-15);
        expectClose(grad((t: Tensor) => sum(halfSin(t)))(x), xs.map((v) => 0.5 * Math.cos(v)), 1e-14, 1e-15);
        const [out, pullback] = vjp((t: Tensor) => halfSin(t), x);
        expectClose(out, xs.map(Math.sin), 1e-15, 1e-15);
        expectClose(pullback(vec([1, 2, 3]))[0], xs.map((v, i) => (i + 1) * 0.5 * Math.cos(v)), 1e-14, 1e-15);
      }),
      runs(10),
    );
  });

  it("several arguments, a null cotangent meaning zero, and number arguments", () => {
    // f(a, b) = a·b, with a rule that doubles ∂/∂a and ignores b.
    const f = customVjp(
      (a: Tensor, b: Tensor) => mul(a, b),
      (a: Tensor, b: Tensor) => [mul(a, b), [a, b]] as [Tensor, Tensor[]],
      ([, b]: Tensor[], ct: Tensor) => [mul(mul(ct, b), 2), null],
    );
    const [ga, gb] = grad((a: Tensor, b: Tensor) => sum(f(a, b)), { argnums: [0, 1] })(vec([1, 2]), vec([3, 4])) as Tensor[];
    expectClose(ga, [6, 8]);
    expectClose(gb, [0, 0]);
    expectClose(grad((a: Tensor) => f(a, 5))(2), 10);
    // jvp: ẏ = 2b·ȧ (the rule's transpose), whatever ḃ is
    expectClose(jvp(f, [vec([1, 2]), vec([3, 4])], [vec([1, 1]), vec([7, 7])])[1], [6, 8]);
  });

  it("second order through the custom rule: d²/dx² halfSin = −½ sin x (grad∘grad, jvp∘grad, grad∘jvp)", () => {
    fc.assert(
      fc.property(scalarArb(-3, 3), (x) => {
        const g = grad(halfSin);
        expectClose(grad(g)(x), -0.5 * Math.sin(x), 1e-13, 1e-15);
        expectClose(jvp(g, [x], [1])[1], -0.5 * Math.sin(x), 1e-13, 1e-15);
        expectClose(grad((t: Tensor) => jvp(halfSin, [t], [1])[1])(x), -0.5 * Math.sin(x), 1e-13, 1e-15);
        expectClose(hessian(halfSin)(x), -0.5 * Math.sin(x), 1e-13, 1e-15);
      }),
      runs(10),
    );
  });
});

describe("customJvp", () => {
  it("evaluates f and uses the rule under jvp", () => {
    const xs = [0.1, -0.5];
    const [out, t] = jvp((v: Tensor) => tripleExp(v), [vec(xs)], [vec([1, 2])]);
    expectClose(out, xs.map(Math.exp), 1e-15);
    expectClose(t, xs.map((v, i) => 3 * Math.exp(v) * (i + 1)), 1e-14);
  });

  it("several arguments: the rule receives zeros for unperturbed ones", () => {
    const f = customJvp(
      (a: Tensor, b: Tensor) => mul(a, b),
      ([a, b]: Tensor[], [ta, tb]: Tensor[]) => [mul(a, b), add(mul(ta, b), mul(mul(a, tb), 10))] as [Tensor, Tensor],
    );
    expectClose(jvp((a: Tensor) => f(a, vec([3, 4])), [vec([1, 2])], [vec([1, 1])])[1], [3, 4]);
    const [ga, gb] = grad((a: Tensor, b: Tensor) => sum(f(a, b)), { argnums: [0, 1] })(vec([1, 2]), vec([3, 4])) as Tensor[];
    expectClose(ga, [3, 4]);
    expectClose(gb, [10, 20]);
  });

  it("second order through the rule: d²/dx² tripleExp via grad∘grad, jvp∘jvp, jvp∘grad, grad∘jvp", () => {
    // The rule's tangent 3·exp(x)·ẋ is written with the library's exp, so every
    // second derivative is d/dx (3eˣ) = 3eˣ (the true (eˣ)'' would be eˣ).
    fc.assert(
      fc.property(scalarArb(-2, 2), (x) => {
        const expected = 3 * Math.exp(x);
        expectClose(grad(grad(tripleExp))(x), expected, 1e-13, 1e-15, "grad∘grad");
        expectClose(jvp((t: Tensor) => jvp(tripleExp, [t], [1])[1], [x], [1])[1], expected, 1e-13, 1e-15, "jvp∘jvp");
        expectClose(jvp(grad(tripleExp), [x], [1])[1], expected, 1e-13, 1e-15, "jvp∘grad");
        expectClose(grad((t: Tensor) => jvp(tripleExp, [t], [1])[1])(x), expected, 1e-13, 1e-15, "grad∘jvp");
      }),
      runs(10),
    );
  });

  it("nested use: a customJvp function inside another one's rule", () => {
    // g(x) = tripleExp(x)², rule written with tripleExp itself: ġ = 2·tripleExp(x)·tripleExp'(x)ẋ = 6e²ˣẋ.
    const g = customJvp(
      (x: Tensor) => mul(tripleExp(x), tripleExp(x)),
      ([x]: Tensor[], [t]: Tensor[]) => {
        const [y, dy] = jvp(tripleExp, [x], [t]);
        return [mul(y, y), mul(mul(y, dy), 2)] as [Tensor, Tensor];
      },
    );
    expectClose(jvp(g, [0.25], [1])[1], 6 * Math.exp(0.5), 1e-13);
    expectClose(grad(g)(0.25), 6 * Math.exp(0.5), 1e-13);
  });

  it("a rule whose tangent has the wrong shape is an Error naming both shapes", () => {
    const bad = customJvp((x: Tensor) => x, ([x]: Tensor[], _t: Tensor[]) => [x, vec([1, 2, 3])] as [Tensor, Tensor]);
    expectError(() => jvp(bad, [vec([1, 2])], [vec([1, 1])]), "customJvp:", "[3]", "[2]");
  });

  it("a custom function with neg inside grad of grad keeps the user's rule at every order", () => {
    // h(x) = −tripleExp(x): h' = −3eˣ, h'' = −3eˣ
    const h = (x: Tensor): Tensor => neg(tripleExp(x));
    expectClose(grad(h)(0.5), -3 * Math.exp(0.5), 1e-13);
    expectClose(grad(grad(h))(0.5), -3 * Math.exp(0.5), 1e-13);
  });
});

describe("custom rules that close over differentiated values", () => {
  it("are an Error naming the rule, not a silently lost derivative (both modes)", () => {
    const withClosure = (x: Tensor) => customVjp((y: Tensor) => mul(y, x), (y: Tensor) => [mul(y, x), null], (_: null, ct: Tensor) => [mul(ct, x)]);
    expectError(() => grad((x: Tensor, y: Tensor) => withClosure(x)(y), { argnums: [0, 1] })(2, 3), "customVjp:", "closure");
    const jvpClosure = (x: Tensor) => customJvp((y: Tensor) => mul(y, x), ([y]: Tensor[], [t]: Tensor[]) => [mul(y, x), mul(t, x)]);
    expectError(() => jvp((x: Tensor) => jvpClosure(x)(add(x, 1)), [tensor(2)], [tensor(1)]), "customJvp:", "closure");
    // With untraced arguments the rule is not used: f's own ops are differentiated, closure included.
    expectClose(jvp((x: Tensor) => jvpClosure(x)(tensor(3)), [tensor(2)], [tensor(1)])[1], 3);
    // A closure over a constant, or over a value of an outer transformation, is fine.
    expectClose(grad((y: Tensor) => withClosure(tensor(2))(y))(3), 2);
    expectClose(grad((x: Tensor) => grad((y: Tensor) => withClosure(x)(y))(tensor(3)))(2), 1);
  });
});
