/**
 * Transposing user rules (lib/ad/transpose.ts): a customVjp rule under jvp and
 * a customJvp rule under grad and vjp are used transposed, exactly (matrix
 * rules with a non-symmetric M); a rule whose result does not depend on its
 * linear argument through library ops cannot be transposed and is an Error;
 * a backward rule's cotangents are checked (count and shapes).
 */
import fc from "fast-check";
import { Tensor, cos, customJvp, customVjp, exp, grad, jacobian, jvp, matmul, mul, sin, sum, tensor, transpose, valueAndGrad, vjp } from "../../lib/index.js";
import { expectClose, expectError, flat } from "../helpers.js";
import { flatRows, matvecJs, randomMatrix, runs, transposeJs, vec, vectorArb } from "./fixtures.js";
import { halfSin, tripleExp } from "./subjects.js";

describe("transpose: a customVjp rule under forward mode", () => {
  it("under jvp the library transposes bwd: ẏ = ½cos(x)·ẋ", () => {
    const xs = [0.3, -1, 2];
    const ts = [1, -2, 0.5];
    const [out, tangent] = jvp((t: Tensor) => halfSin(t), [vec(xs)], [vec(ts)]);
    expectClose(out, xs.map(Math.sin), 1e-15);
    expectClose(tangent, xs.map((v, i) => 0.5 * Math.cos(v) * ts[i]), 1e-14, 1e-15);
  });

  it("a matrix rule: bwd ȳ ↦ Mᵀȳ with a non-symmetric M gives J = M under jvp and jacobian (fwd and rev)", () => {
    const M = randomMatrix(3, 3, 41);
    const linear = customVjp(
      (x: Tensor) => matmul(tensor(M), x),
      (x: Tensor) => [matmul(tensor(M), x), null] as [Tensor, null],
      (_r: null, ct: Tensor) => [matmul(transpose(tensor(M)), ct)],
    );
    const v = [1, 2, -1];
    expectClose(jvp(linear, [vec([0, 0, 0])], [vec(v)])[1], matvecJs(M, v), 1e-14, 1e-15);
    expectClose(jacobian(linear, { mode: "fwd" })(vec([1, 1, 1])), flatRows(M), 1e-14, 1e-15);
    expectClose(jacobian(linear, { mode: "rev" })(vec([1, 1, 1])), flatRows(M), 1e-14, 1e-15);
    expectClose(vjp(linear, vec([1, 1, 1]))[1](vec(v))[0], matvecJs(transposeJs(M), v), 1e-14, 1e-15);
  });

  it("bwd returning values that do not depend on the cotangent cannot be transposed: Error under jvp", () => {
    const constantBwd = customVjp(
      (x: Tensor) => sin(x),
      (x: Tensor) => [sin(x), x] as [Tensor, Tensor],
      (x: Tensor, _ct: Tensor) => [cos(x)],
    );
    expectClose(grad(constantBwd)(0.5), Math.cos(0.5));
    expectError(() => jvp(constantBwd, [tensor(0.5)], [tensor(1)]), "customVjp:", "cotangent");
    // the same through plain arrays (not library ops) is an Error too
    const plainBwd = customVjp(
      (x: Tensor) => mul(x, 3),
      (x: Tensor) => [mul(x, 3), null] as [Tensor, null],
      (_r: null, ct: Tensor) => [tensor(flat(ct).map((v) => 3 * v))],
    );
    expectClose(grad((t: Tensor) => sum(plainBwd(t)))(vec([1, 2])), [3, 3]);
    expectError(() => jvp(plainBwd, [vec([1, 2])], [vec([1, 1])]), "customVjp:");
    // and the engine is usable afterwards
    expectClose(jvp(halfSin, [tensor(0)], [tensor(2)])[1], 1);
  });

  it("bwd with a wrong number or shape of cotangents is an Error naming customVjp", () => {
    const wrongCount = customVjp((x: Tensor) => x, (x: Tensor) => [x, null] as [Tensor, null], (_r: null, ct: Tensor) => [ct, ct]);
    expectError(() => grad((t: Tensor) => sum(wrongCount(t)))(vec([1])), "customVjp:");
    const wrongShape = customVjp((x: Tensor) => x, (x: Tensor) => [x, null] as [Tensor, null], (_r: null, _ct: Tensor) => [vec([1, 2, 3])]);
    expectError(() => grad((t: Tensor) => sum(wrongShape(t)))(vec([1, 2])), "customVjp:", "[3]", "[2]");
  });
});

describe("transpose: a customJvp rule under reverse mode", () => {
  it("under grad and vjp the rule is transposed: ∇ Σ w ⊙ tripleExp(x) = 3 w ⊙ eˣ", () => {
    fc.assert(
      fc.property(vectorArb(3), vectorArb(3), (x, w) => {
        const xs = flat(x);
        const ws = flat(w);
        expectClose(grad((v: Tensor) => sum(mul(w, tripleExp(v))))(x), xs.map((v, i) => 3 * ws[i] * Math.exp(v)), 1e-13, 1e-14);
        const [value, g] = valueAndGrad((v: Tensor) => sum(tripleExp(v)))(x);
        expectClose(value, xs.reduce((s, v) => s + Math.exp(v), 0), 1e-14);
        expectClose(g, xs.map((v) => 3 * Math.exp(v)), 1e-13);
      }),
      runs(10),
    );
  });

  it("a matrix rule ẋ ↦ Mẋ with a non-symmetric M transposes to ȳ ↦ Mᵀȳ", () => {
    const M = randomMatrix(2, 3, 42);
    const f = customJvp(
      (x: Tensor) => matmul(tensor(M), x),
      ([x]: Tensor[], [t]: Tensor[]) => [matmul(tensor(M), x), matmul(tensor(M), t)] as [Tensor, Tensor],
    );
    const ct = [2, -1];
    expectClose(vjp(f, vec([1, 2, 3]))[1](vec(ct))[0], matvecJs(transposeJs(M), ct), 1e-14, 1e-15);
    expectClose(jacobian(f, { mode: "rev" })(vec([1, 2, 3])), flatRows(M), 1e-14, 1e-15);
    expectClose(jacobian(f, { mode: "fwd" })(vec([1, 2, 3])), flatRows(M), 1e-14, 1e-15);
  });

  it("a tangent that does not depend on the input tangent cannot be transposed: Error under grad", () => {
    const bad = customJvp((x: Tensor) => exp(x), ([x]: Tensor[], _t: Tensor[]) => [exp(x), tensor(1)] as [Tensor, Tensor]);
    expectClose(jvp(bad, [tensor(0)], [tensor(5)])[1], 1);
    expectError(() => grad(bad)(0), "customJvp:");
    // a rule linear in ẋ but computed on plain numbers is an Error too, not a zero gradient
    const plain = customJvp(
      (x: Tensor) => mul(x, 3),
      ([x]: Tensor[], [t]: Tensor[]) => [mul(x, 3), tensor(flat(t).map((v) => 3 * v))] as [Tensor, Tensor],
    );
    expectClose(jvp(plain, [vec([1, 2])], [vec([1, -1])])[1], [3, -3]);
    expectError(() => grad((v: Tensor) => sum(plain(v)))(vec([1, 2])), "customJvp:");
    expectClose(grad(tripleExp)(0), 3);
  });
});
